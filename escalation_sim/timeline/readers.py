"""``read_timeline``: a file of acts (plain CSV, GDELT 1.0 or 2.0, ICEWS) onto a scenario's
steps, actors and ladder. Rows that cannot be used are never dropped silently."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..scenario import as_scenario
from . import formats
from .calendar import calendar_unit, date_to_step, dates_to_steps, step_to_date, why_no_calendar
from .errors import TimelineError
from .mapping import LevelMap, actor_codes, goldstein_of, is_cameo
from .model import SKIPPED_COLUMNS, Timeline
from .._text import show


def read_timeline(path, scenario, *, format=None, codes=None, errors="raise", window=None,
                  actors=None) -> Timeline:
    """Read the acts between a scenario's actors from a file.

    Parameters
    ----------
    path : str or os.PathLike
        A plain CSV (columns ``date`` or ``step``, ``actor``, ``target`` and one of ``level``,
        ``cameo``, ``goldstein``; optional ``source``, ``note``), a GDELT 2.0 or 1.0 event table
        (tab-separated, no header) or an ICEWS event file (tab-separated, named columns).
    scenario : Scenario, or a bundled name or path for ``load_scenario``
        Gives the actors (and their event-data ``codes``), the ladder and the calendar.
    format : {"csv", "gdelt2", "gdelt1", "icews"}, optional
        By default, told from the first line of the file.
    codes : dict of str to list of str, optional
        More actor codes, ``{actor id: [code, ...]}``, added to those in the scenario.
    errors : {"raise", "report"}
        ``"raise"``: the first unusable row raises. ``"report"``: unusable rows are skipped and
        listed, with the reason, in the returned timeline's ``skipped``.
    window : (int, int) or (date, date), optional
        The steps observed, ``(first, stop)`` with stop exclusive, or the first and last day
        observed as dates. By default from step 0 to the step of the last act.
    actors : sequence of str, optional
        The actors observed (all pairs among them that no row names are quiet); by default all
        the scenario's actors.

    Returns
    -------
    Timeline
        One event per step and ordered pair, with the highest level of the rows that fall there.

    Raises
    ------
    TypeError
        If ``scenario`` is not a Scenario, a name or a path.
    TimelineError
        Naming the file, the line and the field: a malformed line (blank fields are fine,
        missing ones are not), an actor code that maps to no actor of the scenario, a date that
        is not a date or falls outside the window, a code that is not CAMEO or that the ladder
        cannot map, a level that is not on the ladder.
    """
    if errors not in ("raise", "report"):
        raise ValueError(f"errors={show(errors)}: expected 'raise' or 'report'")
    scenario = as_scenario(scenario)
    file = os.fspath(path)
    fmt = format or formats.sniff(file)
    if fmt not in formats.FORMATS:
        raise TimelineError(file, None, "format", f"{show(fmt)} is not a format (known: {', '.join(formats.FORMATS)})")
    raw = {"csv": formats.plain_csv, "icews": formats.icews,
           "gdelt2": lambda p: formats.gdelt(p, 2), "gdelt1": lambda p: formats.gdelt(p, 1)}[fmt](file)
    rows = _Rows(file, raw, scenario, codes)
    rows.resolve(window)
    skipped = rows.skipped()
    if errors == "raise" and len(skipped):
        first = skipped.iloc[0]
        raise TimelineError(file, int(first["line"]), first["field"], first["reason"])
    events, window = rows.events(window)
    return Timeline.build(scenario, events, actors=scenario.actor_ids if actors is None else actors,
                          window=window, path=file, skipped=skipped, where=file)


_DATE_SHAPES = {
    "ISO8601": r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?",
    "%Y%m%d": r"\d{8}",
    "%Y-%m-%d": r"\d{4}-\d{2}-\d{2}",
}


class _Rows:
    """The rows of one file on their way to events, with the first problem of each row."""

    def __init__(self, file, raw: formats.Raw, scenario, codes):
        self.file, self.raw, self.scenario = file, raw, scenario
        self.t = raw.rows
        self.fields = raw.fields
        self.reason = pd.Series("", index=self.t.index, dtype=object)
        self.field = pd.Series("", index=self.t.index, dtype=object)
        self.codes = _codes(file, scenario, codes)
        self.ladder = LevelMap(scenario.ladder)
        self.blank = raw.malformed == "blank line"

    def fail(self, mask, field, reasons) -> None:
        """Record a problem on the rows of ``mask`` that have none yet."""
        new = np.asarray(mask, dtype=bool) & (self.reason == "").to_numpy()
        if new.any():
            self.field[new] = field
            self.reason[new] = reasons(self.t[new]) if callable(reasons) else reasons

    def resolve(self, window) -> None:
        bad = self.raw.malformed
        self.fail((bad != "") & ~self.blank, "line", lambda r: bad[r.index].tolist())
        self.actor = self._actor("actor")
        self.target = self._actor("target")
        self.fail(self.actor.notna() & (self.actor == self.target), self.fields["target"],
                  lambda r: [f"actor and target are both {a} (an actor does not act toward itself)" for a in self.actor[r.index]])
        self.date = self._dates()
        self.step = self._steps()
        self._window(window)
        self.level, self.goldstein = self._levels()

    def _actor(self, key) -> pd.Series:
        name = self.fields[key]
        found = self.t[key].map(self.codes)
        if f"{key}_alt" in self.t:  # ICEWS: a name not listed may be listed by its country
            found = found.fillna(self.t[f"{key}_alt"].map(self.codes))
        known = ", ".join(self.scenario.actor_ids)
        self.fail(self.t[key] == "", name, "missing actor code")
        self.fail(found.isna(), name, lambda r: [
            f"{show(c)} is not an actor of scenario {show(self.scenario.name)} ({known}) nor one of their codes" for c in r[key]])
        return found

    def _dates(self) -> pd.Series:
        text = self.t["date"]
        fmt = self.raw.date_format
        # strptime takes "2019123" for %Y%m%d (as 3 December): check the shape first.
        shaped = text.str.fullmatch(_DATE_SHAPES[fmt])
        dates = pd.to_datetime(text.where(shaped), format=fmt, errors="coerce")
        example = "2020-01-03" if fmt == "ISO8601" else pd.Timestamp("2020-01-03").strftime(fmt)
        self.fail((text != "") & dates.isna(), self.fields["date"],
                  lambda r: [f"{show(d)} is not a date (expected {example})" for d in r["date"]])
        return dates

    def _steps(self) -> pd.Series:
        text = self.t["step"]
        given = text != ""
        steps = pd.to_numeric(text.where(given), errors="coerce")
        self.fail(given & (steps.isna() | (steps % 1 != 0)), "step",
                  lambda r: [f"{show(s)} is not a whole number" for s in r["step"]])
        from_date = ~given & self.date.notna()
        time = self.scenario.time
        if from_date.any() and calendar_unit(time) is None:
            self.fail(from_date, self.fields["date"], why_no_calendar(time))
        elif from_date.any():
            steps[from_date] = dates_to_steps(self.date[from_date], time)
        self.fail(steps.isna(), self.fields["date"], "missing: give a date or a step" if "step" in self.fields
                  else "missing date")
        return steps

    def _window(self, window) -> None:
        n = self.scenario.n_steps
        first, stop = (0, n) if window is None else _window_steps(window, self.scenario)
        if not 0 <= first <= stop <= n:
            raise TimelineError(self.file, None, "window", f"steps {first}..{stop - 1} are not within the "
                                f"scenario's horizon (steps 0..{n - 1})")
        self.window = (first, stop)
        outside = self.step.notna() & ((self.step < first) | (self.step >= stop))
        span = _describe_window(first, stop, self.scenario.time)
        given = self.t["step"] != ""
        for mask, field in ((given, "step"), (~given, self.fields["date"])):
            self.fail(outside & mask, field, lambda r: [f"{self._when(i)} is outside the window ({span})" for i in r.index])

    def _when(self, i) -> str:
        if self.t.at[i, "step"]:
            return f"step {self.t.at[i, 'step']}"
        return f"{self.t.at[i, 'date']} (step {int(self.step[i])})"

    def _levels(self):
        t, lm = self.t, self.ladder
        level = pd.Series(np.nan, index=t.index)
        g_text = t["goldstein"]
        goldstein = pd.to_numeric(g_text.where(g_text != ""), errors="coerce")
        self.fail((g_text != "") & (goldstein.isna() | (goldstein.abs() > 10)), self.fields.get("goldstein", "goldstein"),
                  lambda r: [f"{show(g)} is not a Goldstein value (a number in [-10, 10])" for g in r["goldstein"]])
        named = t["level"] != ""
        level[named] = _each(t["level"][named], lm.by_name)
        self.fail(named & level.isna(), "level", lambda r: [
            f"{show(x)} is not a level (known: {', '.join(lm.names)}, or 0..{len(lm.names) - 1})" for x in r["level"]])
        coded = ~named & (t["cameo"] != "")
        cameo_field = self.fields.get("cameo", "cameo")
        self.fail(coded & ~_each(t["cameo"], is_cameo).astype(bool), cameo_field,
                  lambda r: [f"{show(c)} is not a CAMEO event code (a root 01..20 and up to two more digits)" for c in r["cameo"]])
        level[coded] = _each(t["cameo"][coded], lm.by_cameo)
        table = _each(t["cameo"], goldstein_of)
        goldstein = goldstein.fillna(table)
        by_value = ~named & level.isna() & goldstein.notna()
        level[by_value] = _each(goldstein[by_value], lm.by_goldstein)
        self.fail(~named & level.isna() & ((t["cameo"] != "") | (g_text != "")), cameo_field,
                  "the ladder maps neither this CAMEO code nor Goldstein values (give its levels `cameo` or `goldstein`)")
        self.fail(level.isna(), "level", "missing: give a level, a CAMEO code or a Goldstein value")
        return level, goldstein

    def skipped(self) -> pd.DataFrame:
        bad = (self.reason != "") & ~self.blank
        return pd.DataFrame({
            "file": self.file, "line": self.t["line"][bad].astype("int64"), "field": self.field[bad],
            "reason": self.reason[bad], "text": self.t["text"][bad]}, columns=list(SKIPPED_COLUMNS)).reset_index(drop=True)

    def events(self, window):
        ok = (self.reason == "") & ~self.blank
        t = self.t[ok]
        events = pd.DataFrame({
            "step": self.step[ok].astype("int64"), "actor": self.actor[ok], "target": self.target[ok],
            "level": self.level[ok].astype("int64"), "date": self.date[ok],
            "cameo": t["cameo"].where(t["cameo"] != ""), "goldstein": self.goldstein[ok],
            "source": t["source"].where(t["source"] != ""), "note": t["note"].where(t["note"] != "")})
        # Several acts in one step and pair: the executed level is the highest of them.
        events = (events.sort_values("level", ascending=False, kind="stable")
                  .drop_duplicates(["step", "actor", "target"]))
        if window is None:
            window = (0, int(events["step"].max()) + 1 if len(events) else 0)
        else:
            window = self.window
        return events, window


def _each(values: pd.Series, fn) -> pd.Series:
    """``fn`` of each value, computed once per distinct value (``None`` becomes NaN)."""
    results = {v: fn(v) for v in values.unique()}
    return values.map({v: np.nan if r is None else float(r) for v, r in results.items()}).astype(float)


def _codes(file, scenario, codes) -> dict[str, str]:
    for actor_id in (codes or {}):
        if actor_id not in scenario.actor_ids:
            raise TimelineError(file, None, "codes", f"{show(actor_id)} is not an actor of scenario "
                                f"{show(scenario.name)} (known: {', '.join(scenario.actor_ids)})")
    return actor_codes(scenario, codes)


def _window_steps(window, scenario) -> tuple[int, int]:
    first, last = window
    if isinstance(first, (int, np.integer)) and isinstance(last, (int, np.integer)):
        return int(first), int(last)
    time = scenario.time
    if calendar_unit(time) is None:
        raise TimelineError(None, None, "window", why_no_calendar(time))
    return date_to_step(pd.Timestamp(first), time), date_to_step(pd.Timestamp(last), time) + 1


def _describe_window(first, stop, time) -> str:
    steps = f"steps {first}..{stop - 1}"
    start, end = step_to_date(first, time), step_to_date(stop, time)
    if start is None or end is None:
        return steps
    return f"{start:%Y-%m-%d} to {end - pd.Timedelta(days=1):%Y-%m-%d}, {steps}" if calendar_unit(time) != "hour" else steps
