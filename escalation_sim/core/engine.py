"""The vectorized Monte Carlo core: a chunk of runs advanced together, step by step.

A chunk is a whole number of stream blocks (``STREAM_BLOCK`` runs each, the last one possibly
short). Block ``b`` of a batch draws from its own streams, spawned from the batch's
``SeedSequence``, and its random words are drawn for a full block at every step whether or not
its runs have ended, so a run's numbers depend only on (seed, run index): never on the chunk
size, the executor, or the other runs.
"""

from __future__ import annotations

import numpy as np

from .draws import STREAM_BLOCK, BlockWords
from .horizon import last_steps
from .plan import CEASEFIRE, WAR, Plan
from .step import advance

#: Per-run columns of a chunk's result, with their dtypes.
RUN_COLUMNS = {
    "outcome": np.int8,
    "end_step": np.int32,
    "peak_level": np.int8,
    "peak_step": np.int32,
    "hostile_steps": np.int32,
    "retaliations": np.int64,  # up to n_steps x n_pairs: past int32 at the largest scenarios
    "fatalities": np.int64,  # Poisson counts of up to about 1e16 (docs/scenario-format.md)
}
#: The escalation measures (docs/model.md, "Escalation measures"), computed from each run's
#: highest level per step and from its acts per level, so they cost the step loop a few
#: operations on arrays of one value per run.
ESCALATION_COLUMNS = {
    "peak_after_script": np.int8,  # highest level after the last scripted step
    "threshold_step": np.int32,  # first step at or above outcomes.threshold_level, -1: never
    "escalation_velocity": np.float32,  # mean change of the highest level per step
    "escalation_score": np.float32,  # Rivera et al. (2024) class weights summed over acts
}
RUN_COLUMNS.update(ESCALATION_COLUMNS)

#: Rivera et al. (FAccT 2024) class weights: status quo, posturing, non-violent escalation,
#: violent escalation, and (the top class, nuclear there) the ladder's war.
RIVERA_WEIGHTS = {"status_quo": 0.0, "posturing": 4.0, "non_violent": 12.0, "violent": 28.0, "top": 60.0}


def rivera_classes(severity, fatalities, war_level) -> list[str]:
    """Each level's Rivera et al. class, by severity: 0 is the status quo; a level at or above
    the war level (or the top rung without one) is the top class; a level with expected
    fatalities is violent escalation; of the rest, the lowest hostile rung is posturing and the
    others non-violent escalation. On the default ladder: quiet 0, verbal 4, coercive and
    harassment 12, lethal_proxy to direct_strike 28, war 60."""
    n = len(severity)
    top = n - 1 if war_level is None else war_level
    out = []
    for k in range(n):
        if k == 0:
            out.append("status_quo")
        elif k >= top and n > 2:
            out.append("top")
        elif fatalities[k] > 0:
            out.append("violent")
        elif k == 1:
            out.append("posturing")
        else:
            out.append("non_violent")
    return out


def rivera_weights(plan) -> np.ndarray:
    """Per level, the Rivera et al. weight of its class (``rivera_classes``), float64."""
    classes = rivera_classes(plan.severity, plan.fatalities, plan.war_level)
    return np.array([RIVERA_WEIGHTS[c] for c in classes])


def step_outcome(plan: Plan, t: int, top: np.ndarray, active: np.ndarray, started: np.ndarray,
                 quiet_run: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The outcome rules of MODEL.md after step ``t``, for runs whose highest executed level in
    that step is ``top`` (shape ``(n_runs,)``); the engine and the Mesa model both call this.

    ``started`` (a hostile act has happened) and ``quiet_run`` (consecutive quiet steps) are
    updated in place. Returns which of the ``active`` runs end in war and which in a ceasefire
    at step ``t`` (``None`` for a rule the scenario does not have, or that cannot apply yet);
    war is checked first, so no run ends in both.
    """
    war = active & (top >= plan.war_level) if plan.war_level is not None else None
    calm = None
    if plan.quiet_steps is not None:
        quiet = top <= plan.quiet_level
        started |= ~quiet
        quiet_run += 1
        quiet_run *= quiet
        if t >= plan.last_event_step:
            calm = active & started & (quiet_run >= plan.quiet_steps)
            if war is not None:
                calm &= ~war
    return war, calm


def count_rows(cells: np.ndarray) -> np.ndarray:
    """Number of True cells in each row of a 2-D bool array.

    Rows are read as 64-bit words, each holding eight cells of 0 or 1; 128 words summed
    bytewise stay below 256 in every byte, so one integer sum and a byte sum count them.
    """
    rows, n = cells.shape
    whole = n // 1024 * 1024
    counts = cells[:, whole:].sum(axis=1, dtype=np.int64)
    if whole:
        lanes = np.add.reduce(cells[:, :whole].view(np.uint64).reshape(rows, -1, 128), axis=2)
        counts += lanes.view(np.uint8).reshape(rows, -1).sum(axis=1, dtype=np.int64)
    return counts


def _as_slice(index: np.ndarray):
    """An index array as a slice when it is a run of consecutive indices (a view, not a copy)."""
    if len(index) and np.array_equal(index, np.arange(index[0], index[0] + len(index))):
        return slice(int(index[0]), int(index[0]) + len(index))
    return index


def _sum_rows(values: np.ndarray, owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Rows of ``values`` summed by their owner, float64, shape ``(n_owners, n_runs)``.

    Not a matrix product: in worker processes the BLAS thread pool it would wake keeps spinning
    after the call and takes the CPU of the other workers."""
    out = np.zeros((n_owners, values.shape[1]), dtype=np.float64)
    for k in range(n_owners):
        rows = np.flatnonzero(owner == k)
        out[k] = values[rows[0]] if len(rows) == 1 else values[rows].sum(axis=0)
    return out


def run_chunk(plan: Plan, seq: np.random.SeedSequence, first_run: int, n_runs: int,
              n_steps: int, trajectories: bool = False) -> dict[str, np.ndarray]:
    """Simulate runs ``first_run .. first_run + n_runs - 1`` of a batch.

    ``first_run`` must be a multiple of ``STREAM_BLOCK``. Returns the per-run columns
    (``RUN_COLUMNS``, plus ``harm_inflicted``, ``harm_received``, ``payoff`` of shape
    ``(n_actors, n_runs)``), the per-step level counts ``counts`` of shape
    ``(n_steps, n_pairs, n_levels)``, and with ``trajectories`` the executed levels
    ``levels`` of shape ``(n_steps, n_pairs, n_runs)``.
    """
    if first_run % STREAM_BLOCK:
        raise ValueError(f"first_run must be a multiple of {STREAM_BLOCK}, got {first_run}")
    P = plan.n_pairs
    words = BlockWords(seq, first_run // STREAM_BLOCK, n_runs, plan.n_policy_draws, plan.n_noise_draws)
    states = [g.kernel.initial_state((g.pairs.stop - g.pairs.start, n_runs)) for g in plan.groups]
    tally = _Tally(plan, n_runs, n_steps, trajectories)
    prob_end = plan.scenario.time.prob_end
    last = last_steps(seq, first_run, n_runs, prob_end, n_steps) if prob_end > 0 else None
    prev = np.zeros((P, n_runs), dtype=np.int8)
    for t in range(n_steps):
        executed, stimulus = advance(plan, t, prev, states, words.next())
        if tally.n_ended:
            executed *= tally.active
        tally.add(t, executed, stimulus)
        if last is not None:
            tally.end_at_horizon(t, last, executed)
        if tally.n_ended == n_runs:
            tally.finish_early(t)
            break
        prev = executed
    return tally.result(words)


class Curve:
    """The escalation measures of ``ESCALATION_COLUMNS`` for a set of runs, from each step's
    highest executed level per run (``top``); the engine and the Mesa tally both use it."""

    def __init__(self, plan: Plan, n_runs: int):
        self.plan = plan
        self.first_top = np.zeros(n_runs, dtype=np.int8)
        self.last_top = np.zeros(n_runs, dtype=np.int8)
        self.after = np.zeros(n_runs, dtype=np.int8)
        self.reached = np.full(n_runs, -1, dtype=np.int32)
        self.threshold = threshold_level(plan)
        self.unreached = True

    def add(self, t: int, top: np.ndarray, active: np.ndarray) -> None:
        """Step ``t``: ``top`` (int8, ``(n_runs,)``) of the runs ``active`` before this step's
        outcomes (an ended run's levels are 0 from the next step on)."""
        if t == 0:
            self.first_top[...] = top
        np.copyto(self.last_top, top, where=active)
        if t > self.plan.last_event_step:
            np.maximum(self.after, top, out=self.after)
        if self.unreached:
            new = (top >= self.threshold) & (self.reached < 0)
            if new.any():
                self.reached[new] = t
                self.unreached = bool((self.reached < 0).any())

    def result(self, end_step: np.ndarray, occupancy: np.ndarray) -> dict:
        """The columns, given each run's end step and its acts per hostile level and cell
        (``occupancy``, shape ``(n_levels - 1, n_pairs, n_runs)``)."""
        change = self.last_top.astype(np.float64) - self.first_top
        velocity = np.divide(change, end_step, out=np.zeros(len(change)), where=end_step > 0)
        acts = occupancy.sum(axis=1, dtype=np.float64)  # (n_levels - 1, n_runs)
        score = rivera_weights(self.plan)[1:] @ acts
        return {"peak_after_script": self.after.copy(), "threshold_step": self.reached.copy(),
                "escalation_velocity": velocity.astype(np.float32), "escalation_score": score.astype(np.float32)}


def threshold_level(plan: Plan) -> int:
    """``outcomes.threshold_level``, or by default the rung below the war level (the top rung
    without a war level, and on two levels)."""
    chosen = plan.scenario.outcomes.threshold_level
    if chosen is not None:
        return chosen
    if plan.war_level is None or plan.war_level <= 1:
        return plan.top
    return plan.war_level - 1


class _Tally:
    """Streams a chunk's measures: per-run counters and per-step level counts.

    Per cell it counts the steps spent at each hostile level (``occupancy``); harm, expected
    fatalities and payoffs are derived from those counts at the end, so the step loop does no
    floating-point work and no table look-ups. Counters that grow by at most one per step
    (per cell, or per pair of a run) run in small integers in ``recent`` arrays flushed into
    int32 every 255 steps, which keeps the per-step additions to one or two bytes per cell.
    """

    FLUSH = 255

    def __init__(self, plan: Plan, n_runs: int, n_steps: int, trajectories: bool):
        P, L1 = plan.n_pairs, plan.n_levels
        self.plan, self.n_runs, self.n_steps = plan, n_runs, n_steps
        self.runs = {k: np.zeros(n_runs, dtype=d) for k, d in RUN_COLUMNS.items()}
        self.runs["end_step"][:] = n_steps - 1
        self.active = np.ones(n_runs, dtype=bool)
        self.n_ended = 0
        self.has_outcomes = plan.war_level is not None or plan.quiet_steps is not None
        self.started = np.zeros(n_runs, dtype=bool)
        self.quiet_run = np.zeros(n_runs, dtype=np.int32)
        self.occupancy = np.zeros((L1 - 1, P, n_runs), dtype=np.int32)
        self.recent = np.zeros((L1 - 1, P, n_runs), dtype=np.uint8)
        self.recent_hostile = np.zeros(n_runs, dtype=np.uint8)  # hostile steps of each run
        self.recent_answered = np.zeros((P, n_runs), dtype=np.uint8)  # retaliations of each cell
        self.at = np.empty((P, n_runs), dtype=bool)
        self.answered = np.empty((P, n_runs), dtype=bool)
        self.peak_now = np.empty(n_runs, dtype=np.int32)
        self.all_at_top = False
        self.two_level = L1 == 2
        # Two players on two levels: a run is hostile when either cell is, so its hostile steps
        # are the cells' hostile steps less the steps both were, counted anyway (``result``).
        self.two_players = self.two_level and P == 2
        # Steps both sides of a pair were hostile: one row per unordered pair (the smaller index).
        self.mutual_rows = np.flatnonzero(np.arange(P) < plan.reverse)
        self.mutual_cells = (_as_slice(self.mutual_rows), _as_slice(plan.reverse[self.mutual_rows]))
        self.mutual = np.zeros((len(self.mutual_rows), n_runs), dtype=np.int32) if self.two_level else None
        self.recent_mutual = np.zeros_like(self.mutual, dtype=np.uint8) if self.two_level else None
        # Payoff relative to both quiet, summed over the hostile cells (longer ladders only).
        self.gain = np.zeros((P, n_runs)) if plan.payoff is not None and not self.two_level else None
        if self.gain is not None:
            self.relative_payoff = (plan.payoff - plan.payoff[0]).reshape(L1, L1)
        self.counts = np.zeros((n_steps, P, L1), dtype=np.int64)
        # Runs that ended hold their final levels in the level counts of every later step.
        self.absorbed = np.zeros((n_steps + 1, P, L1), dtype=np.int64)
        self.pair_offset = (np.arange(P) * L1)[:, None]
        self.levels = np.zeros((n_steps, P, n_runs), dtype=np.int8) if trajectories else None
        self.curve = Curve(plan, n_runs)

    def add(self, t: int, executed: np.ndarray, stimulus: np.ndarray) -> None:
        if self.levels is not None:
            self.levels[t] = executed
        answered = self.answered
        if self.two_level:  # levels and stimuli are 0 or 1: read them as bools
            hostile_cells = executed.view(bool)
            np.add(self.recent[0], executed.view(np.uint8), out=self.recent[0])
            self.counts[t, :, 1] = count_rows(hostile_cells)
            rows, others = self.mutual_cells
            both = hostile_cells[rows] & hostile_cells[others]
            np.add(self.recent_mutual, both.view(np.uint8), out=self.recent_mutual)
            np.bitwise_and(hostile_cells, stimulus.view(bool), out=answered)
        else:
            at = self.at
            for level in range(1, self.plan.n_levels):
                np.equal(executed, level, out=at)
                np.add(self.recent[level - 1], at.view(np.uint8), out=self.recent[level - 1])
                self.counts[t, :, level] = count_rows(at)
            hostile_cells = np.greater(executed, 0, out=at)
            np.greater(stimulus, 0, out=answered)
            answered &= hostile_cells
        self.counts[t, :, 0] = self.n_runs - self.counts[t, :, 1:].sum(axis=1)
        np.add(self.recent_answered, answered.view(np.uint8), out=self.recent_answered)
        if self.gain is not None:
            self._add_gain(executed)
        top = executed.max(axis=0)
        self.curve.add(t, top, self.active)
        if self.has_outcomes or not (self.all_at_top and self.two_players):
            if not self.two_players:
                np.add(self.recent_hostile, (top > 0).view(np.uint8), out=self.recent_hostile)
            if not self.all_at_top:
                self._add_peak(t, top)
            if self.has_outcomes:
                self._outcomes(t, top, executed)
        if t % self.FLUSH == self.FLUSH - 1:
            self._flush()

    def _add_peak(self, t: int, top: np.ndarray) -> None:
        runs = self.runs
        rising = top > runs["peak_level"]
        if rising.any():  # masked writes are slow on scattered masks: by arithmetic, t only grows
            self.peak_now[...] = rising
            self.peak_now *= t
            np.maximum(runs["peak_step"], self.peak_now, out=runs["peak_step"])
            np.maximum(runs["peak_level"], top, out=runs["peak_level"])
        elif t % 8 == 0:  # once every run has reached the top rung, no peak can rise again
            self.all_at_top = bool(runs["peak_level"].min() == self.plan.top)

    def _flush(self):
        self.occupancy += self.recent
        self.recent[...] = 0
        self.runs["hostile_steps"] += self.recent_hostile
        self.recent_hostile[...] = 0
        self.runs["retaliations"] += self.recent_answered.sum(axis=0, dtype=np.int32)
        self.recent_answered[...] = 0
        if self.mutual is not None:
            self.mutual += self.recent_mutual
            self.recent_mutual[...] = 0

    def _add_gain(self, executed):
        """Payoff relative to (0, 0) for every cell where either side was hostile."""
        n, reverse = self.n_runs, self.plan.reverse
        cells = np.flatnonzero(executed)
        level = executed.reshape(-1)[cells].astype(np.intp)
        pair, run = np.divmod(cells, n)
        other_pair = reverse[pair]
        other = executed[other_pair, run].astype(np.intp)
        flat = self.gain.reshape(-1)
        flat[cells] += self.relative_payoff[level, other]
        quiet_reply = other == 0  # the other cell of the pair is not among the hostile ones
        flat[other_pair[quiet_reply] * n + run[quiet_reply]] += self.relative_payoff[0, level[quiet_reply]]

    def _outcomes(self, t, top, executed):
        war, calm = step_outcome(self.plan, t, top, self.active, self.started, self.quiet_run)
        ended = [(which, code) for which, code in ((war, WAR), (calm, CEASEFIRE))
                 if which is not None and which.any()]
        for which, code in ended:
            index = np.flatnonzero(which)  # few runs end at a step: write by index, not by mask
            self.runs["outcome"][index] = code
            self.runs["end_step"][index] = t
            self.active[index] = False
            final = executed.take(index, axis=1).astype(np.intp) + self.pair_offset
            self.absorbed[t + 1] += np.bincount(final.ravel(), minlength=self.absorbed[t + 1].size).reshape(self.absorbed[t + 1].shape)
        if ended:
            self.n_ended = self.n_runs - int(np.count_nonzero(self.active))

    def end_at_horizon(self, t: int, last: np.ndarray, executed: np.ndarray) -> None:
        """End the runs still active whose random horizon ``last`` (their last step, shape
        ``(n_runs,)``) is ``t``: outcome ongoing, end step ``t`` (``core.horizon``)."""
        index = np.flatnonzero((last == t) & self.active)
        if not index.size:
            return
        self.runs["end_step"][index] = t
        self.active[index] = False
        final = executed.take(index, axis=1).astype(np.intp) + self.pair_offset
        self.absorbed[t + 1] += np.bincount(final.ravel(), minlength=self.absorbed[t + 1].size).reshape(self.absorbed[t + 1].shape)
        self.n_ended = self.n_runs - int(np.count_nonzero(self.active))

    def finish_early(self, t: int) -> None:
        """Every run ended at or before step ``t``: the later steps hold only ended runs."""
        self.counts[t + 1 :, :, 0] += self.n_runs

    def result(self, words: BlockWords) -> dict[str, np.ndarray]:
        self._flush()
        plan, runs = self.plan, dict(self.runs)
        if self.two_players:
            runs["hostile_steps"] = self.occupancy[0].sum(axis=0, dtype=np.int32) - self.mutual[0]
        occupancy = self.occupancy.astype(np.float64)
        harm = np.einsum("l,lpr->pr", plan.severity[1:], occupancy)
        deaths = np.einsum("l,lpr->r", plan.fatalities[1:], occupancy)
        runs["fatalities"] = words.poisson(deaths).astype(np.int64)
        n_actors = len(plan.scenario.actors)
        runs["harm_inflicted"] = _sum_rows(harm, plan.actor_of_pair, n_actors)
        runs["harm_received"] = _sum_rows(harm, plan.target_of_pair, n_actors)
        runs["payoff"] = _sum_rows(self._pair_payoff(harm, runs["end_step"] + 1), plan.actor_of_pair, n_actors)
        # Ended runs were counted at level 0 after their end; count them at their final level.
        absorbed = np.cumsum(self.absorbed[:-1], axis=0)
        counts = self.counts + absorbed
        counts[:, :, 0] -= absorbed.sum(axis=2)
        runs["counts"] = counts
        runs.update(self.curve.result(runs["end_step"], self.occupancy))
        if self.levels is not None:
            runs["levels"] = self.levels
        return runs

    def _pair_payoff(self, harm: np.ndarray, n_played: np.ndarray) -> np.ndarray:
        """Each pair's summed payoff to its actor, shape ``(n_pairs, n_runs)``, from the harm
        each pair's actor inflicted (``harm``, same shape) or the payoff matrix."""
        plan = self.plan
        if plan.payoff is None:  # harm: -severity[other] - own_cost * severity[own]
            return -harm.take(plan.reverse, axis=0) - plan.own_cost * harm
        m = plan.payoff.reshape(plan.n_levels, plan.n_levels)
        base = m[0, 0] * n_played.astype(np.float64)
        if not self.two_level:
            return base + self.gain
        # Steps at (own, other) = (1, 0), (0, 1), (1, 1) are own - both, other - both, both.
        own = self.occupancy[0]
        mutual_row = np.empty(plan.n_pairs, dtype=np.intp)  # each pair's row in ``mutual``
        mutual_row[self.mutual_rows] = np.arange(len(self.mutual_rows))
        mutual_row[plan.reverse[self.mutual_rows]] = mutual_row[self.mutual_rows]
        out = base + (m[1, 0] - m[0, 0]) * own
        out += (m[0, 1] - m[0, 0]) * own.take(plan.reverse, axis=0)
        out += (m[1, 1] - m[1, 0] - m[0, 1] + m[0, 0]) * self.mutual.take(mutual_row, axis=0)
        return out
