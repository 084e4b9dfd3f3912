"""Parameter sets as arrays: a scenario's numbers for many parameter sets at once.

A parameter set is a mapping of key paths (the paths of ``--set`` and of sweeps, such as
``actors.USA.policy.ratio`` or ``noise.execution``) to values. ``Values`` holds what the
likelihood needs of ``N`` parameter sets as arrays with a leading axis of length ``N`` (or 1
when every set shares the value): the policies' response tables, the noise rates, militia
control and sparks, protection weights and the outcome rules.

Common keys (noise rates, control, spark probabilities, protection weights, policy parameters,
``outcomes.quiet_steps``) are turned into arrays directly; any other key path goes through
``with_overrides`` once per distinct value, which is slower but validates and applies exactly
what a scenario file would.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..policies import Ladder
from ..policies.memory_one import GenerousTitForTat, Proportional
from ..scenario import Scenario, with_overrides

PROBABILITY_KEYS = ("noise.perception", "noise.execution", "noise.attribution")


@dataclass
class Structure:
    """What does not change between parameter sets: the cells and which rules link them."""

    ids: tuple[str, ...]
    pairs: list[tuple[int, int]]  # cell k is (actor, target), actor indices
    reverse: np.ndarray  # cell of (target, actor)
    top: int
    slots: list[tuple[str, ...]]  # policy slots: (actor,) or (actor, target) for policy_toward
    slot_of_cell: np.ndarray
    initial: np.ndarray  # per cell: level played in step 0, or -1
    militias: list[str]
    attribution: list[tuple[int, int, int]]  # (src cell, dst cell, militia index)
    protection: list[tuple[int, int, tuple[str, str]]]  # (src cell, dst cell, (protector, protected))
    control: list[tuple[int, int, int]]  # (militia cell, patron cell, militia index)
    sparks: list[tuple[int, int]]  # (cell, militia index)
    events: dict[int, dict[int, int]]  # step -> {cell: level}
    last_event_step: int
    stateful: list[str]  # cells whose policy is not memory-one, as "actor -> target"
    # per cell: (perception, false alarm, execution) fixed by a rule other than the scenario's
    # noise (noise_toward, allies, the actor's noise, noise.false_alarm); None: the fitted rate
    cell_rates: list = dataclasses.field(default_factory=list)
    quiet_level: int = 0

    @classmethod
    def of(cls, scenario: Scenario) -> Structure:
        ids = scenario.actor_ids
        index = {a: k for k, a in enumerate(ids)}
        pairs = [(i, j) for i in range(len(ids)) for j in range(len(ids)) if i != j]
        cell = {p: k for k, p in enumerate(pairs)}
        reverse = np.array([cell[(j, i)] for i, j in pairs])
        slots, slot_of_cell, initial, stateful = [], [], [], []
        for i, j in pairs:
            actor = scenario.actors[i]
            key = (actor.id, ids[j]) if ids[j] in dict(actor.policy_toward) or ids[j] in actor.allies else (actor.id,)
            if key not in slots:
                slots.append(key)
            slot_of_cell.append(slots.index(key))
            policy = actor.policy_for(ids[j])
            initial.append(-1 if policy.initial is None else policy.initial)
            if getattr(policy, "memory", 1) != 1:
                stateful.append(f"{actor.id} -> {ids[j]} ({policy.name})")
        militias = [a.id for a in scenario.actors if a.kind == "militia"]
        attribution, control, sparks, protection = [], [], [], []
        for mi, m in enumerate(militias):
            mk, pk = index[m], index[scenario.actor(m).patron]
            for o in range(len(ids)):
                if o not in (mk, pk):
                    attribution.append((cell[(o, mk)], cell[(o, pk)], mi))
                    control.append((cell[(mk, o)], cell[(pk, o)], mi))
            spark = scenario.actor(m).spontaneous
            for target in spark.targets if spark is not None else ():
                sparks.append((cell[(mk, index[target])], mi))
        for protector in scenario.actors:
            for protected, _ in protector.protects:
                for attacker in ids:
                    if attacker not in (protector.id, protected):
                        protection.append((cell[(index[attacker], index[protected])],
                                           cell[(index[protector.id], index[attacker])],
                                           (protector.id, protected)))
        events: dict[int, dict[int, int]] = {}
        for e in scenario.events:
            events.setdefault(e.step, {})[cell[(index[e.actor], index[e.target])]] = e.level
        return cls(ids, pairs, reverse, scenario.top, slots, np.array(slot_of_cell), np.array(initial),
                   militias, attribution, protection, control, sparks, events,
                   max(events, default=-1), stateful, [_cell_rates(scenario, ids[i], ids[j]) for i, j in pairs],
                   scenario.outcomes.quiet_level)


def _cell_rates(scenario: Scenario, actor: str, target: str) -> tuple:
    """docs/model.md's rates of a cell without the scenario-level perception and execution
    (which a fit may vary): each a number, or None where the cell takes the scenario's."""
    from ..scenario.model import Rates

    a = scenario.actor(actor)
    rules = [dict(a.noise_toward).get(target, Rates())]
    rules += [al.noise for al in scenario.allies if set(al.actors) == {actor, target}]
    rules += [a.noise]
    own = [next((getattr(r, k) for r in rules if getattr(r, k) is not None), None) for k in Rates.KEYS]
    if own[1] is None:
        own[1] = scenario.noise.false_alarm
    return tuple(own)


@dataclass
class Values:
    """Numbers of ``n`` parameter sets; every array has a leading axis of length ``n`` or 1."""

    n: int
    tables: list[np.ndarray]  # per policy slot: (n|1, L+1, L+1, L+1) response tables
    perception: np.ndarray
    execution: np.ndarray
    attribution: np.ndarray
    control: np.ndarray  # (n|1, n_militias)
    spark: np.ndarray  # (n|1, n_militias) probability
    spark_level: np.ndarray  # (n|1, n_militias)
    protection: dict[tuple[str, str], np.ndarray]  # (protector, protected) -> weight
    war_level: np.ndarray  # (n|1,), -1 for none
    quiet_steps: np.ndarray  # (n|1,), -1 for none

    @classmethod
    def of(cls, scenario: Scenario, structure: Structure) -> Values:
        ladder = scenario.policy_ladder()
        tables = []
        for slot in structure.slots:
            actor = scenario.actor(slot[0])
            policy = actor.policy if len(slot) == 1 else actor.policy_for(slot[1])
            table = policy.table(ladder) if hasattr(policy, "table") else np.zeros((ladder.n_levels,) * 3)
            tables.append(table[None])
        militia = [scenario.actor(m) for m in structure.militias]
        spark = [(m.spontaneous.probability, m.spontaneous.level) if m.spontaneous else (0.0, 0) for m in militia]
        out = scenario.outcomes
        one = lambda x: np.array([x], dtype=float)  # noqa: E731
        return cls(
            1, tables, one(scenario.noise.perception), one(scenario.noise.execution),
            one(scenario.noise.attribution),
            np.array([[m.control for m in militia]], dtype=float).reshape(1, -1),
            np.array([[p for p, _ in spark]], dtype=float).reshape(1, -1),
            np.array([[lv for _, lv in spark]], dtype=np.int64).reshape(1, -1),
            {(a.id, k): one(w) for a in scenario.actors for k, w in a.protects},
            np.array([-1 if out.war_level is None else out.war_level]),
            np.array([-1 if out.quiet_steps is None else out.quiet_steps]),
        )

    def expanded(self) -> Values:
        """The same sets with every rate and militia array at full length ``n`` (the hot
        loop then indexes them without broadcasting)."""
        full = lambda a: np.ascontiguousarray(np.broadcast_to(a, (self.n,) + a.shape[1:]))  # noqa: E731
        return dataclasses.replace(self, perception=full(self.perception), execution=full(self.execution),
                                   attribution=full(self.attribution), control=full(self.control),
                                   spark=full(self.spark), spark_level=full(self.spark_level))

    def take(self, index: np.ndarray) -> Values:
        """The parameter sets ``index`` (rows of every array with ``n`` rows)."""
        pick = lambda a: a if len(a) == 1 else a[index]  # noqa: E731
        return Values(len(index), [pick(t) for t in self.tables], pick(self.perception), pick(self.execution),
                      pick(self.attribution), pick(self.control), pick(self.spark), pick(self.spark_level),
                      {k: pick(v) for k, v in self.protection.items()}, pick(self.war_level),
                      pick(self.quiet_steps))


def as_table(params, keys: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Parameter sets in one form: key paths and an ``(n, n_keys)`` float array.

    ``params`` is a mapping ``{key: value or array}``, a sequence of such mappings, or an array
    of shape ``(n, len(keys))`` (then ``keys`` names its columns).
    """
    if isinstance(params, Mapping):
        keys = list(params)
        columns = [np.atleast_1d(np.asarray(params[k], dtype=float)) for k in keys]
        n = max((len(c) for c in columns), default=1)
        try:
            return keys, np.stack([np.broadcast_to(c, (n,)) for c in columns], axis=1)
        except ValueError:
            raise ValueError("params: every key needs one value or the same number of values") from None
    if keys is not None:
        table = np.atleast_2d(np.asarray(params, dtype=float))
        if table.shape[1] != len(keys):
            raise ValueError(f"params: expected {len(keys)} columns ({', '.join(keys)}), got {table.shape[1]}")
        return list(keys), table
    sets = list(params)
    keys = sorted({k for s in sets for k in s})
    if any(set(s) != set(keys) for s in sets):
        raise ValueError("params: every parameter set must name the same key paths")
    return keys, np.array([[float(s[k]) for k in keys] for s in sets], dtype=float).reshape(len(sets), len(keys))


def check_keys(scenario: Scenario, keys: Sequence[str], table: np.ndarray) -> None:
    """Validate every key path on the smallest and largest of its values (each key's domain is
    an interval), so that a bad path or value is reported as a scenario file would report it."""
    if not len(table):
        return
    low, high = table.min(axis=0), table.max(axis=0)
    for k, key in enumerate(keys):
        for value in {low[k], high[k]}:
            with_overrides(scenario, {key: _typed(scenario, key, value)})


def values_for(scenario: Scenario, structure: Structure, keys: Sequence[str], table: np.ndarray) -> Values:
    """``Values`` of the parameter sets in the rows of ``table`` (columns: ``keys``)."""
    base = Values.of(scenario, structure)
    n = len(table)
    if not keys:
        return base
    ladder = scenario.policy_ladder()
    slow, policy_keys = [], {}
    for k, key in enumerate(keys):
        column = table[:, k]
        if not _fast(base, scenario, structure, key, column, policy_keys):
            slow.append(k)
    base.n = n
    for slot, varied in policy_keys.items():
        base.tables[slot] = _tables(_slot_policy(scenario, structure.slots[slot]), ladder, varied)
    if slow:
        _apply_slow(base, scenario, structure, [keys[k] for k in slow], table[:, slow])
    return base


def _typed(scenario, key, value):
    from ..analysis.sweep import _integer_keys, _typed as typed

    return typed(float(value), _integer_keys(scenario, [key])[key])


def _fast(values: Values, scenario, structure, key, column, policy_keys) -> bool:
    """Set one key's values directly; False when the key needs ``with_overrides``."""
    parts = key.split(".")
    if key in PROBABILITY_KEYS:
        setattr(values, parts[1], column.copy())
        return True
    if parts[0] == "actors" and len(parts) >= 3 and parts[1] in structure.ids:
        actor = parts[1]
        if parts[2:] == ["control"] and actor in structure.militias:
            values.control = _column_into(values.control, structure.militias.index(actor), column)
            return True
        if parts[2:] == ["spontaneous", "probability"] and actor in structure.militias:
            values.spark = _column_into(values.spark, structure.militias.index(actor), column)
            return True
        if parts[2] == "protects" and len(parts) == 4 and (actor, parts[3]) in values.protection:
            values.protection[(actor, parts[3])] = column.copy()
            return True
        slot = ((actor,) if parts[2:3] == ["policy"] and len(parts) == 4 else
                (actor, parts[3]) if parts[2:3] == ["policy_toward"] and len(parts) == 5 else None)
        if slot in structure.slots and parts[-1] not in ("family", "initial", "label"):
            policy_keys.setdefault(structure.slots.index(slot), {})[parts[-1]] = column
            return True
    if key == "outcomes.quiet_steps" and scenario.outcomes.quiet_steps is not None:
        values.quiet_steps = np.floor(column + 0.5).astype(np.int64)
        return True
    return False


def _column_into(array: np.ndarray, index: int, column: np.ndarray) -> np.ndarray:
    out = np.repeat(array, len(column), axis=0) if len(array) == 1 else array.copy()
    out[:, index] = column
    return out


def _slot_policy(scenario, slot):
    actor = scenario.actor(slot[0])
    return actor.policy if len(slot) == 1 else actor.policy_for(slot[1])


def _tables(policy, ladder: Ladder, varied: Mapping[str, np.ndarray]) -> np.ndarray:
    """Response tables of ``policy`` with the parameters in ``varied`` (arrays of length n),
    shape (n, L+1, L+1, L+1). Proportional and generous tit-for-tat are built in one pass;
    other families once per distinct parameter tuple."""
    n_levels = ladder.n_levels
    stim = np.arange(n_levels)
    if isinstance(policy, Proportional) and set(varied) <= {"ratio", "cap"}:
        ratio = varied.get("ratio", np.array([policy.ratio]))[:, None]
        cap = varied.get("cap", np.array([ladder.top if policy.cap is None else policy.cap]))
        cap = np.floor(np.asarray(cap, dtype=float) + 0.5)[:, None]
        nxt = np.clip(np.minimum(cap, np.floor(ratio * stim + 0.5)), 0, ladder.top).astype(np.intp)
        return _one_hot_rows(nxt, n_levels)
    if isinstance(policy, GenerousTitForTat) and set(varied) == {"generosity"}:
        g = varied["generosity"][:, None, None]
        rows = np.broadcast_to(np.eye(n_levels), (len(g), n_levels, n_levels)).copy()
        rows[:, 1:] *= 1 - g
        rows[:, 1:, 0] += g[:, :, 0]
        return np.broadcast_to(rows[:, None], (len(g), n_levels, n_levels, n_levels))
    names = list(varied)
    integer = {f.name: f.type in ("int", "int | None") for f in dataclasses.fields(policy)}
    columns = np.stack([varied[k] for k in names], axis=1)
    unique, inverse = np.unique(columns, axis=0, return_inverse=True)
    tables = np.stack([
        dataclasses.replace(policy, **{k: _param(v, integer.get(k)) for k, v in zip(names, row)}).table(ladder)
        for row in unique
    ])
    return tables[inverse.reshape(-1)]


def _param(value, integer):
    return int(math.floor(value + 0.5)) if integer else float(value)


def _one_hot_rows(nxt: np.ndarray, n_levels: int) -> np.ndarray:
    """Deterministic tables from ``nxt`` (n, stimulus): the same for every own level."""
    rows = np.zeros(nxt.shape + (n_levels,))
    np.put_along_axis(rows, nxt[..., None], 1.0, axis=-1)
    return np.broadcast_to(rows[:, None], (len(nxt), n_levels, n_levels, n_levels))


def _apply_slow(values: Values, scenario, structure, keys, table) -> None:
    """Keys without a direct route: one ``with_overrides`` per distinct row of their values;
    what those scenarios change replaces the (shared) base value."""
    unique, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    parts = []
    for row in unique:
        child = with_overrides(scenario, {k: _typed(scenario, k, v) for k, v in zip(keys, row)})
        if _shape(Structure.of(child)) != _shape(structure):
            raise ValueError(f"{', '.join(keys)}: changes which rules the scenario has (actors, militias, "
                             "targets of sparks, protection, scripted acts); only numbers can be fitted")
        parts.append(Values.of(child, structure))

    def merged(current, pieces):
        stacked = np.concatenate(pieces)
        if (stacked == stacked[:1]).all() or len(current) > 1:
            return current
        return stacked[inverse]

    for name in ("perception", "execution", "attribution", "control", "spark", "spark_level",
                 "war_level", "quiet_steps"):
        setattr(values, name, merged(getattr(values, name), [getattr(p, name) for p in parts]))
    values.tables = [merged(t, [p.tables[k] for p in parts]) for k, t in enumerate(values.tables)]
    values.protection = {key: merged(w, [p.protection[key] for p in parts]) for key, w in values.protection.items()}


def _shape(structure: Structure):
    return (structure.ids, structure.militias, structure.attribution, structure.protection,
            structure.control, structure.sparks, structure.events)
