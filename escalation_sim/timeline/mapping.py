"""Events onto the ladder: CAMEO codes and Goldstein values to levels, actor codes to actors.

The rules, in order (docs/timelines.md states them for users):

1. A CAMEO code maps to the level whose ``cameo`` list holds the longest prefix of it (most
   specific wins: a level listing ``"19"`` takes ``"190"``, another listing ``"195"`` takes
   ``"195"`` and ``"1951"``); a code listed on two levels goes to the higher.
2. Otherwise the event's Goldstein value (the row's own, or the standard table's value for its
   CAMEO code) maps to the level whose ``goldstein`` is nearest; when several levels are equally
   near, the lowest of them. Ladders often give several levels one value (the default ladder
   gives -10 to state_strike, direct_strike and war), and a Goldstein value alone cannot tell
   them apart: the rule takes the least act consistent with it rather than inventing a war.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

_CAMEO = re.compile(r"^(0[1-9]|1[0-9]|20)[0-9]{0,2}$")


@lru_cache(maxsize=1)
def cameo_goldstein() -> pd.Series:
    """The standard CAMEO-to-Goldstein table shipped with the package.

    Returns
    -------
    pandas.Series of float, indexed by CAMEO event code (str)
        Goldstein-scale weight in [-10, 10] of each of the 311 codes of GDELT's table
        (``CAMEO.goldsteinscale.txt``, http://data.gdeltproject.org/documentation/; the weights
        of Goldstein 1992, J. Conflict Resolution 36(2), extended to CAMEO).
    """
    with files(__package__).joinpath("cameo_goldstein.csv").open() as fh:
        table = pd.read_csv(fh, comment="#", dtype={"cameo": str, "goldstein": float})
    return table.set_index("cameo")["goldstein"]


def is_cameo(code: str) -> bool:
    """Whether ``code`` has the form of a CAMEO event code: a root 01..20 and up to two more
    digits, as text (``"010"`` is make a statement, ``"10"`` is demand)."""
    return bool(_CAMEO.match(code))


def goldstein_of(code: str) -> float | None:
    """The table's Goldstein value of a CAMEO code, by its longest prefix in the table (the
    table lists most four-digit codes, not all); ``None`` if the code is not CAMEO."""
    if not is_cameo(code):
        return None
    table = cameo_goldstein()
    for n in range(len(code), 1, -1):
        if code[:n] in table.index:
            return float(table[code[:n]])
    return None


class LevelMap:
    """A scenario ladder's rules for turning CAMEO codes and Goldstein values into levels."""

    def __init__(self, ladder):
        self.names = [lv.name for lv in ladder]
        self.prefixes: dict[str, int] = {}
        for k, lv in enumerate(ladder):
            for code in lv.cameo:
                self.prefixes[str(code)] = k  # later (higher) levels win a shared code
        scored = [(k, lv.goldstein) for k, lv in enumerate(ladder) if lv.goldstein is not None]
        self.g_levels = np.array([k for k, _ in scored], dtype=np.int64)
        self.g_values = np.array([g for _, g in scored], dtype=float)

    def by_cameo(self, code: str) -> int | None:
        for n in range(len(code), 0, -1):
            if code[:n] in self.prefixes:
                return self.prefixes[code[:n]]
        return None

    def by_goldstein(self, value: float) -> int | None:
        if not len(self.g_values):
            return None
        distance = np.abs(self.g_values - value)
        nearest = distance <= distance.min() + 1e-9
        return int(self.g_levels[nearest].min())

    def by_name(self, text: str) -> int | None:
        """A level from its name or number, as written in a file."""
        if text in self.names:
            return self.names.index(text)
        if re.fullmatch(r"[0-9]+", text) and int(text) < len(self.names):
            return int(text)
        return None


def actor_codes(scenario, codes=None) -> dict[str, str]:
    """Event-data actor codes to scenario actor ids.

    From each actor's ``codes`` in the scenario, then ``codes`` (``{actor id: [code, ...]}``),
    which adds to and overrides them. A scenario actor's own id always maps to itself.
    """
    out: dict[str, str] = {}
    for actor in scenario.actors:
        out[actor.id] = actor.id
        for code in actor.codes:
            out[code] = actor.id
    for actor_id, extra in (codes or {}).items():
        for code in [extra] if isinstance(extra, str) else extra:
            out[code] = actor_id
    return out
