"""The file formats ``read_timeline`` knows: their columns, and how each becomes the common
table of raw fields (all text) that ``readers`` turns into a timeline.

Column layouts are those of the GDELT event codebooks (GDELT-Data_Format_Codebook.pdf for 1.0,
GDELT-Event_Codebook-V2.0.pdf for 2.0, http://data.gdeltproject.org/documentation/) and of the
ICEWS coded event data files (Boschee et al., Harvard Dataverse, doi:10.7910/DVN/28075).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import pandas as pd

_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code",
          "Religion2Code", "Type1Code", "Type2Code", "Type3Code")
_EVENT = ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass", "GoldsteinScale",
          "NumMentions", "NumSources", "NumArticles", "AvgTone")


def _geo(prefix: str, adm2: bool) -> list[str]:
    parts = ["Type", "FullName", "CountryCode", "ADM1Code"] + (["ADM2Code"] if adm2 else []) + ["Lat", "Long", "FeatureID"]
    return [f"{prefix}Geo_{p}" for p in parts]


_HEAD = ["GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate",
         *(f"Actor1{p}" for p in _ACTOR), *(f"Actor2{p}" for p in _ACTOR), *_EVENT]
#: GDELT 2.0 event table (``*.export.CSV``): 61 tab-separated columns, no header.
GDELT2_COLUMNS = tuple(_HEAD + _geo("Actor1", True) + _geo("Actor2", True) + _geo("Action", True)
                       + ["DATEADDED", "SOURCEURL"])
#: GDELT 1.0 event table: 57 tab-separated columns, no header (58 with SOURCEURL, from April 2013).
GDELT1_COLUMNS = tuple(_HEAD + _geo("Actor1", False) + _geo("Actor2", False) + _geo("Action", False)
                       + ["DATEADDED", "SOURCEURL"])
#: ICEWS coded event data: tab-separated with these named columns (the first row is the header).
ICEWS_COLUMNS = ("Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country",
                 "Event Text", "CAMEO Code", "Intensity", "Target Name", "Target Sectors",
                 "Target Country", "Story ID", "Sentence Number", "Publisher", "City", "District",
                 "Province", "Country", "Latitude", "Longitude")
#: The plain CSV: these columns by name, in any order; others are ignored.
CSV_COLUMNS = ("date", "step", "actor", "target", "level", "cameo", "goldstein", "source", "note")
FORMATS = ("csv", "gdelt2", "gdelt1", "icews")
RAW = ("line", "date", "step", "actor", "target", "level", "cameo", "goldstein", "source", "note", "text")


@dataclass(frozen=True)
class Raw:
    """One file's rows as text in the common columns ``RAW``, with ``fields``: the file's own
    name for each common column (for error messages) and ``date_format`` for its dates."""

    rows: pd.DataFrame
    fields: dict[str, str]
    date_format: str
    malformed: pd.Series  # per row: why the line itself is unusable, or ""


EXTRA = "_extra"


def _bad_line(width: int):
    # pandas calls this for a line with more fields than the table is wide; keep the row (so
    # rows stay lines), marked in its first field with how many fields it had.
    return lambda fields: [f"\x00{len(fields)}"] + [""] * (width - 1)


def read_table(path, *, sep: str, names=None, header: bool, quoting=csv.QUOTE_NONE) -> pd.DataFrame:
    """The file as text: one row per line (blank lines too), missing trailing fields as NaN.

    Columns past ``names`` (or the header) are named ``_extra1``, ``_extra2``, ...: at least one,
    and as many as the first line needs, so that a line with too many fields shows as such
    (pandas would otherwise take a wide first line's leading fields as an index).
    """
    options = dict(sep=sep, header=None, dtype=str, keep_default_na=False, quoting=quoting, engine="python")
    if names is None:
        try:
            names = list(pd.read_csv(path, nrows=0, **{**options, "header": 0}).columns)
        except pd.errors.EmptyDataError:
            from .errors import TimelineError

            raise TimelineError(str(path), 1, "line", "the file is empty; expected a header line") from None
    try:
        first = pd.read_csv(path, nrows=1, skiprows=1 if header else 0, **options).shape[1]
    except pd.errors.EmptyDataError:  # no lines after the header
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in [*names, f"{EXTRA}1"]})
    names = list(names) + [f"{EXTRA}{k}" for k in range(1, max(first - len(names), 1) + 1)]
    return pd.read_csv(path, names=names, skiprows=1 if header else 0, skip_blank_lines=False,
                       on_bad_lines=_bad_line(len(names)), **options)


def _malformed(table: pd.DataFrame, what: str) -> pd.Series:
    """Why each row's line is malformed: blank, too many or too few fields; else ""."""
    extra = [c for c in table if str(c).startswith(EXTRA)]
    fields = table.drop(columns=extra)
    expected = fields.shape[1]
    first = fields.iloc[:, 0].fillna("")
    marked = first.str.startswith("\x00")
    missing = fields.isna().sum(axis=1)
    n_extra = table[extra].notna().sum(axis=1)
    out = pd.Series("", index=table.index, dtype=object)
    out[missing > 0] = [f"truncated line: {expected - m} of {expected} {what}" for m in missing[missing > 0]]
    out[missing == expected] = "blank line"
    out[marked] = [f"{f[1:]} fields where {expected} {what} were expected" for f in first[marked]]
    wide = (n_extra > 0) & ~marked
    out[wide] = [f"{expected + n} fields where {expected} {what} were expected" for n in n_extra[wide]]
    return out


def _text(table: pd.DataFrame, sep: str) -> pd.Series:
    if not len(table):
        return pd.Series([], index=table.index, dtype=object)
    table = table.drop(columns=[c for c in table if str(c).startswith(EXTRA)]).fillna("").astype(str)
    joined = table.iloc[:, 0].str.cat([table[c] for c in table.columns[1:]], sep=sep)
    return joined.str.replace("\x00", "", regex=False)


def gdelt(path, version: int) -> Raw:
    names = GDELT2_COLUMNS if version == 2 else GDELT1_COLUMNS
    table = read_table(path, sep="\t", names=list(names), header=False)
    malformed = _malformed(table, "tab-separated fields")
    if version == 1:  # files before April 2013 have 57 columns: no SOURCEURL
        short = table["SOURCEURL"].isna() & table["DATEADDED"].notna()
        malformed[short & ~table.iloc[:, 0].fillna("").str.startswith("\x00")] = ""
    t = table.fillna("")
    rows = pd.DataFrame({
        "line": table.index + 1, "date": t["SQLDATE"], "step": "", "actor": t["Actor1Code"],
        "target": t["Actor2Code"], "level": "", "cameo": t["EventCode"], "goldstein": t["GoldsteinScale"],
        "source": t["SOURCEURL"],
        "note": "GDELT event " + t["GLOBALEVENTID"] + ": " + t["Actor1Name"] + " -> " + t["Actor2Name"],
        "text": _text(table, "\t")})
    fields = {"date": "SQLDATE", "actor": "Actor1Code", "target": "Actor2Code", "cameo": "EventCode",
              "goldstein": "GoldsteinScale"}
    return Raw(rows, fields, "%Y%m%d", malformed)


def icews(path) -> Raw:
    table = read_table(path, sep="\t", header=True)
    missing = [c for c in ("Event Date", "Source Name", "Target Name", "CAMEO Code") if c not in table]
    if missing:
        from .errors import TimelineError

        raise TimelineError(str(path), 1, missing[0], f"missing column (an ICEWS file has {', '.join(ICEWS_COLUMNS[:11])}, ...)")
    malformed = _malformed(table, "tab-separated fields")
    t = table.fillna("")

    get = lambda c: t[c] if c in t else pd.Series("", index=t.index)  # noqa: E731
    rows = pd.DataFrame({
        "line": table.index + 2, "date": t["Event Date"], "step": "", "actor": t["Source Name"],
        "target": t["Target Name"], "level": "", "cameo": t["CAMEO Code"], "goldstein": get("Intensity"),
        "source": get("Publisher"), "note": "ICEWS event " + get("Event ID") + ": " + get("Event Text"),
        "text": _text(table, "\t")})
    rows["actor_alt"], rows["target_alt"] = get("Source Country"), get("Target Country")
    fields = {"date": "Event Date", "actor": "Source Name", "target": "Target Name", "cameo": "CAMEO Code",
              "goldstein": "Intensity"}
    return Raw(rows, fields, "%Y-%m-%d", malformed)


def plain_csv(path) -> Raw:
    table = read_table(path, sep=",", header=True, quoting=csv.QUOTE_MINIMAL)
    from .errors import TimelineError

    cols = set(table.columns)
    for need, options in (("date or step", ("date", "step")), ("actor", ("actor",)), ("target", ("target",)),
                          ("level, cameo or goldstein", ("level", "cameo", "goldstein"))):
        if not cols & set(options):
            raise TimelineError(str(path), 1, need, f"missing column (a timeline CSV has {', '.join(CSV_COLUMNS)})")
    malformed = _malformed(table, "comma-separated fields")
    t = table.fillna("")
    rows = pd.DataFrame({c: t[c].str.strip() if c in t else "" for c in CSV_COLUMNS})
    rows.insert(0, "line", table.index + 2)
    rows["text"] = _text(table, ",")
    return Raw(rows, {c: c for c in CSV_COLUMNS}, "ISO8601", malformed)


def sniff(path) -> str:
    """The format of a file, from its first line: a tab-separated header naming ICEWS columns,
    61 tab-separated fields (GDELT 2.0), 57 or 58 (GDELT 1.0), else a plain CSV."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline().rstrip("\r\n")
    fields = first.split("\t")
    if "Event Date" in fields and "CAMEO Code" in fields:
        return "icews"
    if len(fields) == len(GDELT2_COLUMNS):
        return "gdelt2"
    if len(fields) in (len(GDELT1_COLUMNS) - 1, len(GDELT1_COLUMNS)):
        return "gdelt1"
    return "csv"
