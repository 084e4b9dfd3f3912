"""The measures of one run, step by step, as the engine's ``_Tally`` keeps them for a batch.

The engine's tally is array code over thousands of runs; on the one run of a Mesa model its
per-call overhead outweighs the work many times over, so the counting is done here in plain
Python over the run's few cells. The outcome rules are the engine's own (``step_outcome``).
The replay tests hold the two to the same numbers, run by run.
"""

from __future__ import annotations

import numpy as np

from ..core.engine import Curve, step_outcome
from ..core.plan import CEASEFIRE, ONGOING, WAR, Plan


class RunTally:
    """Outcome, peak, hostile steps, retaliations and per-cell counts of one run.

    Parameters
    ----------
    plan : Plan
    n_steps : int
        The horizon: an ongoing run ends at step ``n_steps - 1``.
    """

    def __init__(self, plan: Plan, n_steps: int):
        self.plan = plan
        self.outcome, self.end_step = ONGOING, n_steps - 1
        self.peak_level = self.peak_step = self.hostile_steps = self.retaliations = 0
        self.ended = False
        self._started = np.zeros(1, dtype=bool)  # step_outcome's state, for a batch of one run
        self._quiet_run = np.zeros(1, dtype=np.int32)
        # Steps each cell spent at each hostile level: [level - 1][pair], as the engine counts.
        self.occupancy = np.zeros((plan.top, plan.n_pairs), dtype=np.int64)
        self.curve = Curve(plan, 1)  # the escalation measures, by the engine's own code

    def add(self, t: int, levels: list[int], stimulus: list[int]) -> None:
        """Count step ``t``: the executed ``levels`` and the ``stimulus`` of every pair (lists,
        pair order of the plan)."""
        top = max(levels)
        if top > self.peak_level:
            self.peak_level, self.peak_step = top, t
        self.hostile_steps += top > 0
        for pair, level in enumerate(levels):
            if level:
                self.occupancy[level - 1, pair] += 1
                self.retaliations += stimulus[pair] > 0
        self.curve.add(t, np.array([top], dtype=np.int8), np.array([not self.ended]))
        self._outcomes(t, top)

    def escalation(self) -> dict:
        """The escalation measures of the run (``core.engine.ESCALATION_COLUMNS``), as Python
        numbers (float32 values as floats)."""
        cols = self.curve.result(np.array([self.end_step]), self.occupancy[:, :, None])
        return {k: v[0].item() for k, v in cols.items()}

    def _outcomes(self, t: int, top: int) -> None:
        war, calm = step_outcome(self.plan, t, np.array([top]), np.array([not self.ended]),
                                 self._started, self._quiet_run)
        war, calm = (which is not None and bool(which[0]) for which in (war, calm))
        if war or calm:
            self.outcome, self.end_step, self.ended = (WAR if war else CEASEFIRE), t, True

    def expected_deaths(self) -> float:
        """Expected fatalities of the run's acts: the ladder's per-act means over the counts."""
        occupancy = self.occupancy[:, :, None].astype(np.float64)  # the engine's (level, pair, run)
        return float(np.einsum("l,lpr->r", self.plan.fatalities[1:], occupancy)[0])
