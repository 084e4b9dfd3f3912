"""``Timeline``: the acts observed between a scenario's actors, one row per step and ordered
pair, with every cell of the listed actors that no row names quiet in the window."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..scenario import as_scenario
from .errors import TimelineError
from .._text import show

#: Columns of ``Timeline.events``, in order: the key, the level, then what is known of the act.
COLUMNS = ("step", "actor", "target", "level", "date", "cameo", "goldstein", "source", "note")
#: Columns of ``Timeline.skipped``: where the unusable row was and why it was skipped.
SKIPPED_COLUMNS = ("file", "line", "field", "reason", "text")
UNOBSERVED = -1


def empty_events() -> pd.DataFrame:
    """An events table with no rows and the columns and dtypes of ``Timeline.events``."""
    return normalise_events(pd.DataFrame({c: [] for c in COLUMNS}))


def empty_skipped() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "line" else object) for c in SKIPPED_COLUMNS})


def normalise_events(events: pd.DataFrame) -> pd.DataFrame:
    """Give an events table the columns and dtypes of ``Timeline.events``, sorted by step,
    actor and target; missing optional columns are added as missing values."""
    out = events.copy()
    for name in COLUMNS:
        if name not in out:
            out[name] = pd.NA
    out = out[list(COLUMNS)]
    out["step"] = out["step"].astype("int64")
    out["level"] = out["level"].astype("int64")
    out["actor"] = out["actor"].astype(object)
    out["target"] = out["target"].astype(object)
    out["date"] = pd.to_datetime(out["date"])
    out["goldstein"] = pd.to_numeric(out["goldstein"]).astype("float64")
    for name in ("cameo", "source", "note"):
        out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out.sort_values(["step", "actor", "target"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Timeline:
    """The acts observed between some of a scenario's actors over a window of its steps.

    Parameters
    ----------
    scenario_name : str
        Name of the scenario whose actors and steps the timeline uses.
    actors : tuple of str
        The actors observed. Every ordered pair ``(actor, target)`` of them that ``events`` does
        not name is quiet (level 0) in every step of the window; pairs with another actor are
        unobserved.
    window : (int, int)
        ``(first_step, stop_step)``, stop exclusive, in the scenario's steps.
    events : pandas.DataFrame
        One row per ``(step, actor, target)``: ``step`` (int64), ``actor``, ``target`` (str),
        ``level`` (int64: the executed level, the highest of that step and pair), and ``date``
        (datetime64), ``cameo`` (str), ``goldstein`` (float), ``source``, ``note`` (str), each
        missing where unknown.
    level_names : tuple of str
        Names of the ladder's levels, for display only.
    path : str or None
        The file the timeline was read from.
    skipped : pandas.DataFrame
        Rows of the file that could not be used, with ``file``, ``line``, ``field``, ``reason``
        and ``text`` (filled only by ``read_timeline(..., errors="report")``).

    Equality is identity (a timeline holds DataFrames); compare with ``equals``.
    """

    scenario_name: str
    actors: tuple[str, ...]
    window: tuple[int, int]
    events: pd.DataFrame
    level_names: tuple[str, ...] = ()
    path: str | None = None
    skipped: pd.DataFrame = field(default_factory=empty_skipped, repr=False)

    # -- the array view ---------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        """Number of steps in the window."""
        return self.window[1] - self.window[0]

    def levels(self, scenario) -> np.ndarray:
        """Observed executed levels in the scenario's actor order.

        Returns
        -------
        numpy.ndarray of int16, shape (n_steps, n_actors, n_actors)
            ``[step - first_step, i, j]``: the level actor ``i`` executed toward actor ``j``
            (``i, j`` in ``scenario.actor_ids`` order); ``-1`` where unobserved (``i`` or
            ``j`` not in ``self.actors``, or ``i == j``).

        Raises
        ------
        TimelineError
            If the timeline names an actor the scenario lacks, reaches past its horizon, or has
            a level above the top of its ladder.
        """
        scenario = as_scenario(scenario)
        self._check_fits(scenario)
        ids = list(scenario.actor_ids)
        first, stop = self.window
        out = np.full((stop - first, len(ids), len(ids)), UNOBSERVED, dtype=np.int16)
        seen = np.array([i for i, a in enumerate(ids) if a in self.actors], dtype=np.intp)
        out[:, seen[:, None], seen[None, :]] = 0
        out[:, np.arange(len(ids)), np.arange(len(ids))] = UNOBSERVED
        ev = self.events
        if len(ev):
            index = {a: i for i, a in enumerate(ids)}
            rows = ev["step"].to_numpy() - first
            i = ev["actor"].map(index).to_numpy()
            j = ev["target"].map(index).to_numpy()
            out[rows, i, j] = ev["level"].to_numpy()
        return out

    def _check_fits(self, scenario) -> None:
        where = self.path or f"timeline {show(self.scenario_name)}"
        missing = [a for a in self.actors if a not in scenario.actor_ids]
        if missing:
            raise TimelineError(where, None, "actors", f"{show(missing[0])} is not an actor of scenario "
                                f"{show(scenario.name)} (known: {', '.join(scenario.actor_ids)})")
        if self.window[1] > scenario.n_steps:
            raise TimelineError(where, None, "window", f"steps {self.window[0]}..{self.window[1] - 1} "
                                f"reach past the horizon of {show(scenario.name)} (steps 0..{scenario.n_steps - 1})")
        if len(self.events) and self.events["level"].max() > scenario.top:
            raise TimelineError(where, None, "level", f"{self.events['level'].max()} is above the top "
                                f"of the ladder of {show(scenario.name)} (levels 0..{scenario.top})")

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, scenario, *, actors=None, window=None) -> Timeline:
        """The scenario's scripted events as a timeline.

        By default every actor of the scenario is observed and the window runs from step 0 to
        the last scripted step (inclusive; an empty window if nothing is scripted), so that
        every pair the script leaves out is quiet until its last act.
        """
        actors = tuple(scenario.actor_ids if actors is None else actors)
        if window is None:
            window = (0, max((e.step for e in scenario.events), default=-1) + 1)
        from .calendar import step_to_date

        notes = {a.path: a for a in scenario.annotations}
        rows = []
        for k, e in enumerate(scenario.events):
            if e.actor in actors and e.target in actors:
                note = notes.get(f"events.{k}")
                rows.append({"step": e.step, "actor": e.actor, "target": e.target, "level": e.level,
                             "date": step_to_date(e.step, scenario.time),
                             "source": " ".join(note.source) if note and note.source else None,
                             "note": note.note if note else None})
        events = normalise_events(pd.DataFrame(rows, columns=["step", "actor", "target", "level", "date", "source", "note"]))
        return cls.build(scenario, events, actors=actors, window=window,
                         where=f"scenario {show(scenario.name)}")

    @classmethod
    def from_levels(cls, scenario, levels, *, first_step: int = 0, actors=None) -> Timeline:
        """The inverse of ``levels()``: a timeline from an array of observed levels.

        Parameters
        ----------
        scenario : Scenario
        levels : array_like of int, shape (n_steps, n_actors, n_actors)
            ``[step - first_step, i, j]`` in ``scenario.actor_ids`` order; ``-1`` marks an
            unobserved cell (the diagonal is ignored).
        first_step : int
            The scenario step of ``levels[0]``.
        actors : sequence of str, optional
            The observed actors; by default those with an observed cell.

        Returns
        -------
        Timeline
            One event per observed cell above quiet; quiet cells are implied by ``actors``.

        Raises
        ------
        TimelineError
            If the shape does not fit the scenario, a cell between observed actors is
            unobserved, a cell with an unobserved actor is observed, or a level is off the
            ladder.
        """
        arr = np.asarray(levels)
        ids = scenario.actor_ids
        n = len(ids)
        if arr.ndim != 3 or arr.shape[1:] != (n, n) or not np.issubdtype(arr.dtype, np.integer):
            raise TimelineError(None, None, "levels", f"expected integers of shape (n_steps, {n}, {n}), "
                                f"got {arr.dtype} of shape {arr.shape}")
        off = ~np.eye(n, dtype=bool)
        observed = (arr >= 0) & off
        if actors is None:
            mask = observed.any(axis=(0, 2)) | observed.any(axis=(0, 1))
            actors = tuple(a for a, m in zip(ids, mask) if m)
        actors = tuple(actors)
        inside = np.isin(ids, actors)
        pair = inside[:, None] & inside[None, :] & off
        if (arr[:, pair] < 0).any():
            raise TimelineError(None, None, "levels", "a cell between observed actors is unobserved (-1)")
        if observed[:, ~pair].any():
            raise TimelineError(None, None, "levels", "a cell with an actor outside `actors` is observed")
        if (arr > scenario.top).any() or (arr < UNOBSERVED).any():
            raise TimelineError(None, None, "levels", f"levels must be -1 (unobserved) or in 0..{scenario.top}")
        t, i, j = np.nonzero((arr > 0) & pair)
        events = normalise_events(pd.DataFrame({
            "step": t + first_step, "actor": np.asarray(ids, dtype=object)[i],
            "target": np.asarray(ids, dtype=object)[j], "level": arr[t, i, j]}))
        return cls.build(scenario, events, actors=actors, window=(first_step, first_step + len(arr)),
                         where="levels")

    @classmethod
    def build(cls, scenario, events: pd.DataFrame, *, actors, window, path=None, skipped=None,
              where=None) -> Timeline:
        """A checked timeline of ``scenario`` from an events table (one row per step and pair)."""
        timeline = cls(scenario_name=scenario.name, actors=tuple(actors),
                       window=(int(window[0]), int(window[1])), events=normalise_events(events),
                       level_names=tuple(scenario.level_names()), path=path,
                       skipped=empty_skipped() if skipped is None else skipped)
        timeline.check(scenario, where=where)
        return timeline

    def check(self, scenario, *, where=None) -> None:
        """Raise ``TimelineError`` unless the timeline fits the scenario and its own rules."""
        scenario = as_scenario(scenario)
        where = where or self.path or f"timeline {show(self.scenario_name)}"
        first, stop = self.window
        if not 0 <= first <= stop:
            raise TimelineError(where, None, "window", f"{self.window} is not (first, stop) with 0 <= first <= stop")
        self._check_fits(scenario)
        ev = self.events
        for key in ("actor", "target"):
            outside = ~ev[key].isin(self.actors)
            if outside.any():
                raise TimelineError(where, None, key, f"{show(ev[key][outside].iloc[0])} is not among the "
                                    f"timeline's actors ({', '.join(self.actors)})")
        if (ev["actor"] == ev["target"]).any():
            raise TimelineError(where, None, "target", "an actor does not act toward itself")
        if ((ev["step"] < first) | (ev["step"] >= stop)).any():
            raise TimelineError(where, None, "step", f"a step outside the window {first}..{stop - 1}")
        if (ev["level"] < 0).any():
            raise TimelineError(where, None, "level", "levels must be 0 or above")
        if ev.duplicated(["step", "actor", "target"]).any():
            raise TimelineError(where, None, "step", "two rows for one step, actor and target")

    def to_csv(self, path) -> None:
        """Write the events as a plain timeline CSV (``step``, ``date``, ``actor``, ``target``,
        ``level`` by name, ``cameo``, ``goldstein``, ``source``, ``note``).

        ``read_timeline(path, scenario, window=self.window, actors=self.actors)`` reads back a
        timeline that ``equals`` this one.
        """
        out = self.events[["step", "date", "actor", "target", "level", "cameo", "goldstein", "source", "note"]].copy()
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
        if self.level_names:
            out["level"] = [self.level_names[k] for k in out["level"]]
        out.to_csv(path, index=False, lineterminator="\n")

    # -- comparison and display -------------------------------------------------------------
    def equals(self, other: Timeline) -> bool:
        """Same scenario name, actors, window and events (the events compared as tables)."""
        return (isinstance(other, Timeline) and self.scenario_name == other.scenario_name
                and self.actors == other.actors and self.window == other.window
                and self.events.equals(other.events))

    def _level(self, level: int) -> str:
        names = self.level_names
        return f"{level} {names[level]}" if 0 <= level < len(names) else str(level)

    def _heading(self) -> str:
        first, stop = self.window
        dates = self.events["date"].dropna()
        span = f" ({dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d})" if len(dates) else ""
        skipped = f"; {len(self.skipped)} rows skipped" if len(self.skipped) else ""
        return (f"Timeline of {show(self.scenario_name)}: {len(self.events)} acts among "
                f"{', '.join(self.actors)}; steps {first}..{stop - 1}{span}{skipped}")

    def _shown(self) -> pd.DataFrame:
        ev = self.events
        about = "source" if ev["source"].notna().any() else "note"
        shown = pd.DataFrame({
            "step": ev["step"], "date": ev["date"].dt.strftime("%Y-%m-%d").fillna(""),
            "actor": ev["actor"], "target": ev["target"], "level": ev["level"].map(self._level),
            "cameo": ev["cameo"].fillna(""), about: ev[about].fillna("").map(_short)})
        # Columns with nothing in them say nothing: leave them out.
        return shown[[c for c in shown if c in ("step", "actor", "target", "level") or (shown[c] != "").any()]]

    def __repr__(self) -> str:
        shown = self._shown()
        if not len(shown):
            return self._heading() + "\n(no acts: every observed pair is quiet)"
        if len(shown) > 20:
            shown = pd.concat([shown.head(10), shown.tail(10)])
        body = shown.to_string(index=False)
        more = f"\n... {len(self.events) - 20} more acts in the middle" if len(self.events) > 20 else ""
        return f"{self._heading()}\n{body}{more}"

    def _repr_html_(self) -> str:
        shown = self._shown()
        table = shown.to_html(index=False, max_rows=20) if len(shown) else "<p>No acts: every observed pair is quiet.</p>"
        return f"<p><b>{html.escape(self._heading())}</b></p>{table}"


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
