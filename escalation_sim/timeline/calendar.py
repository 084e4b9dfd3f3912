"""Calendar dates to scenario steps, by the scenario's ``time.start``, ``step_unit`` and
``step_length``.

A date falls in the step whose span holds it: step ``k`` covers the elapsed time
``[k * step_length, (k + 1) * step_length)`` units after ``time.start``. Hours, days and weeks
are fixed lengths; months and years count calendar months: month ``m`` after the start begins at
``start + m months`` (the same day of the month, or the month's last day if it is shorter).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._text import show

_FIXED = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(weeks=1)}
_MONTHS = {"month": 1, "year": 12}
UNITS = tuple(_FIXED) + tuple(_MONTHS)


def calendar_unit(time) -> str | None:
    """The calendar unit of a scenario's steps (``hour``, ``day``, ``week``, ``month`` or
    ``year``), or ``None`` if its steps have no start date or no calendar unit (``turn``)."""
    unit = time.step_unit.lower().removesuffix("s")
    return unit if time.start is not None and unit in UNITS else None


def why_no_calendar(time) -> str:
    if time.start is None:
        return "the scenario has no time.start, so dates cannot become steps; give `step` instead"
    return (f"the scenario's step_unit {show(time.step_unit)} is not a calendar unit "
            f"({', '.join(UNITS)}), so dates cannot become steps; give `step` instead")


def date_to_step(date: pd.Timestamp, time) -> int:
    """The step holding ``date`` (negative before ``time.start``); the calendar must exist."""
    unit = calendar_unit(time)
    start = pd.Timestamp(time.start)
    if unit in _FIXED:
        elapsed = (date - start) / _FIXED[unit]
    else:
        months = (date.year - start.year) * 12 + (date.month - start.month)
        if date < start + pd.DateOffset(months=months):
            months -= 1  # the month is not complete yet (a month from 31 January ends 28 or 29 February)
        elapsed = months / _MONTHS[unit]
    return math.floor(elapsed / time.step_length + 1e-9)


def dates_to_steps(dates: pd.Series, time) -> pd.Series:
    """``date_to_step`` over a Series of timestamps (vectorised for hours, days and weeks)."""
    unit = calendar_unit(time)
    if unit in _FIXED and len(dates):
        elapsed = (dates - pd.Timestamp(time.start)) / _FIXED[unit]
        return np.floor(elapsed / time.step_length + 1e-9)
    return pd.Series([date_to_step(d, time) for d in dates], index=dates.index, dtype=float)


def step_to_date(step: int, time) -> pd.Timestamp | None:
    """The first moment of a step, or ``None`` without a calendar."""
    unit = calendar_unit(time)
    if unit is None:
        return None
    start = pd.Timestamp(time.start)
    elapsed = step * time.step_length
    if unit in _FIXED:
        return start + elapsed * _FIXED[unit]
    months = elapsed * _MONTHS[unit]
    return start + pd.DateOffset(months=int(months)) if float(months).is_integer() else None
