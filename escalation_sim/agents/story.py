"""The story of a replayed run: its acts as a table, and as text in the scenario's own words
(actor names, ladder names, the step's length and unit, the start date)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.step import ACCIDENT, CONTROLLED, DECIDED, MISPERCEIVED, WHY

#: How an act at a level of the bundled ladders reads; other ladders' levels read generically.
VERBS = {
    "quiet": "stands down toward", "verbal": "condemns", "coercive": "takes coercive steps against",
    "harassment": "harasses", "lethal_proxy": "attacks", "state_strike": "strikes",
    "direct_strike": "strikes directly at", "war": "goes to war with",
    "cooperate": "cooperates with", "defect": "defects against",
}

#: Units whose steps can be turned into dates from ``time.start``.
_CLOCK = {"hour": "hours", "day": "days", "week": "weeks"}
_CALENDAR = {"month": "months", "year": "years"}


def timeline(model) -> pd.DataFrame:
    """The acts of a run so far, one row per act, in step and pair order.

    An act is a cell with a hostile level, or one whose level is not what its actor's policy
    decided (scripted, restrained, an accident), so a militia held back to 0 appears too.

    Returns
    -------
    DataFrame with columns
        step, actor, target (ids), level, level_name, fatalities (expected deaths of the act,
        from the ladder), why (one of ``core.step.WHY``: scripted, decided, accident,
        misperceived, spontaneous, restrained), intended (the level the policy decided).
    """
    end = model.t + 1
    levels = model._levels[:end]
    why, intended = model._why[:end], model._intended[:end]
    step, pair = np.nonzero((levels > 0) | (why != DECIDED))
    ids = np.array(model.scenario.actor_ids, dtype=object)
    names = np.array(model.scenario.level_names(), dtype=object)
    level = levels[step, pair].astype(np.int64)
    return pd.DataFrame({
        "step": step.astype(np.int64),
        "actor": ids[model.plan.actor_of_pair[pair]],
        "target": ids[model.plan.target_of_pair[pair]],
        "level": level,
        "level_name": names[level],
        "fatalities": model.plan.fatalities[level],
        "why": pd.Categorical(np.array(WHY, dtype=object)[why[step, pair]], categories=list(WHY)),
        "intended": intended[step, pair].astype(np.int64),
    })


def narrate(model) -> str:
    """The run as readable text: a heading, one line per act, stretches of quiet, the ending.

    ``"Day 1 (2020-01-04): United States strikes Kata'ib Hezbollah (state_strike; scripted)"``:
    the step's time counts from 0 in the scenario's unit and step length, with the date when
    the scenario gives a start date and a clock or calendar unit.
    """
    scenario, acts = model.scenario, timeline(model)
    names = {a.id: a.name for a in scenario.actors}
    lines = [f"{scenario.title}", f"run {model.run} of seed {model.seed_sequence.entropy}"
             + (f" (spawn key {tuple(model.seed_sequence.spawn_key)})" if model.seed_sequence.spawn_key else "")]
    shown = -1
    for row in acts.itertuples(index=False):
        if row.step > shown + 1:
            lines.append(_quiet(model, shown + 1, row.step - 1))
        shown = row.step
        lines.append(f"{when(model, row.step)}: {_act(model, row, names)}")
    if model.t > shown:
        lines.append(_quiet(model, shown + 1, model.t))
    lines.append(_ending(model))
    return "\n".join(lines)


def when(model, step: int) -> str:
    """``"Day 3"``, or ``"Day 3 (2020-01-06)"`` with a start date: the time of a step."""
    time = model.scenario.time
    elapsed = step * time.step_length
    label = f"{time.step_unit.capitalize()} {elapsed:g}"
    date = _date(time.start, time.step_unit, elapsed)
    return label if date is None else f"{label} ({date})"


def _act(model, row, names) -> str:
    level_names = model.scenario.level_names()
    verb = VERBS.get(row.level_name)
    text = (f"{names[row.actor]} {verb} {names[row.target]}" if verb else
            f"{names[row.actor]} acts toward {names[row.target]} at level {row.level}")
    detail = [row.level_name] + ([_reason(model, row, names, level_names)] if row.why != "decided" else [])
    return f"{text} ({'; '.join(detail)})"


def _reason(model, row, names, level_names) -> str:
    meant = level_names[row.intended]
    if row.why == WHY[CONTROLLED]:
        patron = model.scenario.actor(row.actor).patron
        return f"held back by {names.get(patron, patron)}; it meant {meant}"
    if row.why == WHY[ACCIDENT]:
        return f"an accident (execution noise); it meant {meant}"
    if row.why == WHY[MISPERCEIVED]:
        return f"after misreading {names[row.target]}: noise"
    if row.why == "attributed":
        militias = [a.name for a in model.scenario.actors if a.patron == row.target]
        return f"blaming {names[row.target]} for an act of {' or '.join(militias)}"
    return {"scripted": "as scripted", "spontaneous": "on its own: a spark"}[row.why]


def _quiet(model, first: int, last: int) -> str:
    if first == last:
        return f"{when(model, first)}: quiet"
    return f"{when(model, first)} to {when(model, last)}: quiet"


def _ending(model) -> str:
    if model.running:
        return f"{when(model, model.t)}: the run goes on" if model.t >= 0 else "not played yet"
    outcome, end = model.outcome, model.end_step
    if outcome == "war":
        return f"{when(model, end)}: war"
    if outcome == "ceasefire":
        quiet = "quiet" if not model.plan.quiet_level else f"acts at most {model.scenario.level_names()[model.plan.quiet_level]}"
        return f"{when(model, end)}: ceasefire, after {_span(model, model.plan.quiet_steps)} of {quiet}"
    return f"{when(model, end)}: the horizon, with the crisis still ongoing"


def _span(model, n_steps: int) -> str:
    """``"14 days"``: a number of steps in the scenario's time."""
    time = model.scenario.time
    amount = n_steps * time.step_length
    unit = time.step_unit if amount == 1 or time.step_unit.endswith("s") else time.step_unit + "s"
    return f"{amount:g} {unit}"


def _date(start: str | None, unit: str, elapsed: float) -> str | None:
    if start is None:
        return None
    base = unit.lower().removesuffix("s")
    try:
        origin = pd.Timestamp(start)
    except ValueError:
        return None
    if base in _CLOCK:
        moment = origin + pd.Timedelta(**{_CLOCK[base]: elapsed})
        return moment.strftime("%Y-%m-%d %H:%M") if base == "hour" else moment.date().isoformat()
    if base in _CALENDAR and float(elapsed).is_integer():
        return (origin + pd.DateOffset(**{_CALENDAR[base]: int(elapsed)})).date().isoformat()
    return None
