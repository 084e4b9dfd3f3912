"""A scenario compiled for the vectorized core: every rule of MODEL.md's step turned into index
arrays, lookup tables and 32-bit thresholds, fixed before the first step.

Cells are ordered pairs ``(actor, target)`` of distinct actors, numbered ``0..n_pairs-1`` and
sorted so that the pairs sharing one policy form a contiguous slice (a view, not a copy, in the
step loop). The random numbers of one step (``core.draws.StepWords``) are two arrays of shape
``(n_draws, n_runs)``: the policies' words and the noise rules' bytes; each rule's ``*_draws``
slice says which rows feed it. That layout is part of the reproducibility contract: the Mesa
model reads the same rows for the run it replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..policies.base import threshold_u32
from .draws import Limit
from ..scenario import Scenario
from ..scenario import as_scenario

#: Outcome codes in the per-run table.
ONGOING, WAR, CEASEFIRE = 0, 1, 2
OUTCOMES = ("ongoing", "war", "ceasefire")



@dataclass
class Group:
    """The pairs that share one policy: ``pairs`` is a slice of the pair axis."""

    pairs: slice
    policy: object
    kernel: object
    draws: slice  # rows of the step's policy words, ``kernel.n_draws * n_pairs`` of them


@dataclass
class Relation:
    """Rows ``src -> dst`` over the pair axis. Rows that share a destination go into different
    ``layers`` (lists of row indices with distinct destinations), so each layer is one
    vectorized update (``np.maximum.at`` and ``reduceat`` over the pair axis are far slower)."""

    src: np.ndarray
    dst: np.ndarray
    layers: list[np.ndarray]

    @classmethod
    def of(cls, src, dst) -> Relation:
        src, dst = np.asarray(src, dtype=np.intp), np.asarray(dst, dtype=np.intp)
        seen: dict[int, int] = {}
        depth = []
        for d in dst.tolist():
            depth.append(seen.get(d, 0))
            seen[d] = depth[-1] + 1
        depth = np.array(depth)
        return cls(src, dst, [np.flatnonzero(depth == k) for k in range(depth.max() + 1)])


@dataclass
class Plan:
    scenario: Scenario
    pairs: np.ndarray  # (n_pairs, 2) actor indices (actor, target)
    reverse: np.ndarray  # (n_pairs,) index of (target, actor)
    groups: list[Group]
    top: int
    perception: Limit | None  # hit when a word is <= this limit; None: no perception noise
    execution: Limit | None
    # quiet acts read as hostile at this limit instead of ``perception``'s; None: same limit
    false_alarm: Limit | None
    # with false alarms: the larger of the two limits per cell, the cells that may move at all
    misperception: Limit | None
    perception_draws: slice | None  # this and the other rules' ``*_draws``: rows of noise bytes
    execution_draws: slice | None
    # attribution: a militia's act toward i (pair src) also read as its patron's (pair dst)
    attribution: tuple[Relation, Limit] | None
    attribution_draws: slice | None
    # protection: stimulus[dst] >= number of rises[row] at or below level[src]
    protection: tuple[Relation, np.ndarray] | None
    # control: intended[militia pair] capped by intended[patron pair] when u <= limit
    control: tuple[np.ndarray, np.ndarray, Limit] | None
    control_draws: slice | None
    # spontaneous: intended[pair] raised to level when u <= limit
    spontaneous: tuple[np.ndarray, Limit, np.ndarray] | None
    spontaneous_draws: slice | None
    events: dict[int, tuple[np.ndarray, np.ndarray]]
    last_event_step: int
    n_policy_draws: int
    n_noise_draws: int
    severity: np.ndarray  # (n_levels,) float64
    fatalities: np.ndarray  # (n_levels,) float64, expected deaths per act
    payoff: np.ndarray | None  # (n_levels * n_levels,) flat [own * n + other], None = from harm
    own_cost: float
    war_level: int | None
    quiet_steps: int | None
    quiet_level: int  # the highest level that counts as quiet for a ceasefire
    actor_of_pair: np.ndarray = field(init=False)
    target_of_pair: np.ndarray = field(init=False)

    def __post_init__(self):
        self.actor_of_pair = self.pairs[:, 0]
        self.target_of_pair = self.pairs[:, 1]

    @property
    def n_pairs(self) -> int:
        return len(self.pairs)

    @property
    def n_levels(self) -> int:
        return self.top + 1


def compile_plan(scenario: Scenario) -> Plan:
    """Compile a validated scenario for the core (and for the Mesa model's replay)."""
    scenario = as_scenario(scenario)
    ids = scenario.actor_ids
    index = {a: k for k, a in enumerate(ids)}
    ladder = scenario.policy_ladder()

    # Pairs grouped by policy, in order of first appearance, so every group is contiguous.
    by_policy: dict[object, list[tuple[int, int]]] = {}
    for actor in scenario.actors:
        for target in ids:
            if target != actor.id:
                by_policy.setdefault(actor.policy_for(target), []).append((index[actor.id], index[target]))
    pairs = np.array([p for group in by_policy.values() for p in group], dtype=np.intp)
    pair_of = {(int(a), int(t)): k for k, (a, t) in enumerate(pairs)}
    reverse = np.array([pair_of[(t, a)] for a, t in pairs.tolist()], dtype=np.intp)

    noise_draws, policy_draws = _DrawLayout(), _DrawLayout()
    rates = np.array([scenario.rates(ids[a], ids[t]) for a, t in pairs.tolist()]).reshape(-1, 3)
    perception, false_alarm, execution = rates.T
    perception_draws = noise_draws.take(len(pairs)) if (perception > 0).any() or (false_alarm > 0).any() else None

    groups, start = [], 0
    for policy, members in by_policy.items():
        kernel = policy.compile(ladder)
        stop = start + len(members)
        groups.append(Group(slice(start, stop), policy, kernel, policy_draws.take(kernel.n_draws * len(members))))
        start = stop

    attribution = _attribution(scenario, index, pair_of)
    attribution_draws = noise_draws.take(len(attribution[0].src)) if attribution else None
    control = _control(scenario, index, pair_of)
    control_draws = noise_draws.take(len(control[0])) if control else None
    spontaneous = _spontaneous(scenario, index, pair_of)
    spontaneous_draws = noise_draws.take(len(spontaneous[0])) if spontaneous else None
    execution_draws = noise_draws.take(len(pairs)) if (execution > 0).any() else None

    events: dict[int, tuple[list, list]] = {}
    for e in scenario.events:
        rows, levels = events.setdefault(e.step, ([], []))
        rows.append(pair_of[(index[e.actor], index[e.target])])
        levels.append(e.level)
    payoffs = scenario.payoffs
    explicit = payoffs.pd is not None or payoffs.matrix is not None
    return Plan(
        scenario=scenario,
        pairs=pairs,
        reverse=reverse,
        groups=groups,
        top=scenario.top,
        perception=_cell_limit(perception) if perception_draws else None,
        execution=_cell_limit(execution),
        false_alarm=None if np.array_equal(false_alarm, perception) else _cell_limit(false_alarm, always=True),
        misperception=_cell_limit(np.maximum(perception, false_alarm)),
        perception_draws=perception_draws,
        execution_draws=execution_draws,
        attribution=attribution,
        attribution_draws=attribution_draws,
        protection=_protection(scenario, index, pair_of),
        control=control,
        control_draws=control_draws,
        spontaneous=spontaneous,
        spontaneous_draws=spontaneous_draws,
        events={s: (np.array(r, dtype=np.intp), np.array(lv, dtype=np.int8)) for s, (r, lv) in events.items()},
        last_event_step=max((e.step for e in scenario.events), default=-1),
        n_policy_draws=policy_draws.n,
        n_noise_draws=noise_draws.n,
        severity=np.array([lv.severity for lv in scenario.ladder], dtype=np.float64),
        fatalities=np.array([lv.fatalities for lv in scenario.ladder], dtype=np.float64),
        payoff=payoffs.table(scenario.ladder).ravel() if explicit else None,
        own_cost=payoffs.own_cost,
        war_level=scenario.outcomes.war_level,
        quiet_steps=scenario.outcomes.quiet_steps,
        quiet_level=scenario.outcomes.quiet_level,
    )


class _DrawLayout:
    def __init__(self):
        self.n = 0

    def take(self, count: int) -> slice:
        rows = slice(self.n, self.n + count)
        self.n += count
        return rows


def _threshold(p: float) -> np.uint32 | None:
    """The largest word that counts as a hit: ``u <= limit`` has probability ``p`` (to 2**-32).
    ``None`` when the event never happens."""
    if p <= 0:
        return None
    return np.uint32(2**32 - 1 if p >= 1 else max(threshold_u32(p), 1) - 1)


def _limit(p: float) -> Limit | None:
    limit = _threshold(p)
    return None if limit is None else Limit(limit)


def _cell_limit(p: np.ndarray, *, always: bool = False) -> Limit | None:
    """The limit of a rule with one probability per cell: a scalar when every cell shares it
    (the fast path of ``StepWords.below``), else a column ``(n_pairs, 1)`` whose cells of
    probability 0 are marked ``never``; ``None`` when no cell ever fires (unless ``always``)."""
    if not (p > 0).any():
        return Limit(np.uint32(0), never=np.ones((len(p), 1), dtype=bool)) if always else None
    if (p == p[0]).all():
        return _limit(float(p[0]))
    value = np.array([_threshold(float(x)) or 0 for x in p], dtype=np.uint32)[:, None]
    return Limit(value, never=(p <= 0)[:, None])


def _attribution(scenario, index, pair_of):
    if scenario.noise.attribution <= 0:
        return None
    src, dst = [], []
    for m in scenario.actors:
        if m.kind != "militia":
            continue
        for observer in scenario.actors:
            if observer.id not in (m.id, m.patron):
                src.append(pair_of[(index[observer.id], index[m.id])])
                dst.append(pair_of[(index[observer.id], index[m.patron])])
    if not src:
        return None
    return Relation.of(src, dst), _limit(scenario.noise.attribution)


def _protection(scenario, index, pair_of):
    n = len(scenario.ladder)
    src, dst, steps = [], [], []
    for protector in scenario.actors:
        for protected, weight in protector.protects:
            felt = np.minimum(np.floor(weight * np.arange(n) + 0.5), n - 1).astype(int)
            # felt[level] = number of entries of `rise` that are <= level (a step function)
            rise = np.repeat(np.arange(n), np.diff(felt, prepend=0))
            for attacker in scenario.actor_ids:
                if attacker not in (protector.id, protected):
                    src.append(pair_of[(index[attacker], index[protected])])
                    dst.append(pair_of[(index[protector.id], index[attacker])])
                    steps.append(rise)
    if not src:
        return None
    width = max(len(r) for r in steps)
    rises = np.full((len(steps), max(width, 1)), n, dtype=np.int8)  # n: never reached
    for k, rise in enumerate(steps):
        rises[k, : len(rise)] = rise
    return Relation.of(src, dst), rises


def _control(scenario, index, pair_of):
    militia, patron, thresholds = [], [], []
    for m in scenario.actors:
        if m.kind != "militia" or m.control <= 0:
            continue
        for target in scenario.actor_ids:
            if target not in (m.id, m.patron):
                militia.append(pair_of[(index[m.id], index[target])])
                patron.append(pair_of[(index[m.patron], index[target])])
                thresholds.append(_threshold(m.control))
    if not militia:
        return None
    return np.array(militia), np.array(patron), Limit(np.array(thresholds, dtype=np.uint32)[:, None])


def _spontaneous(scenario, index, pair_of):
    rows, thresholds, levels = [], [], []
    for m in scenario.actors:
        if m.spontaneous is None or m.spontaneous.probability <= 0:
            continue
        for target in m.spontaneous.targets:
            rows.append(pair_of[(index[m.id], index[target])])
            thresholds.append(_threshold(m.spontaneous.probability))
            levels.append(m.spontaneous.level)
    if not rows:
        return None
    return (np.array(rows), Limit(np.array(thresholds, dtype=np.uint32)[:, None]),
            np.array(levels, dtype=np.int8)[:, None])
