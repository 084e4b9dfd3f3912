"""Every sampling path draws each row's distribution: response tables of any sparsity on ladders
of 2 to 9 levels, beside every other policy family, in the core and in the Mesa agents.

The independent answer is the policy's own table (``policy.table(ladder)``, the documented
rule): level frequencies must lie within 4 Monte Carlo standard errors of its probabilities,
and the Mesa model must play the core's levels run by run.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim.agents import EscalationModel
from escalation_sim.policies import make_policy
from escalation_sim.policies.base import Ladder
from escalation_sim.policies.memory_one import MemoryOnePolicy

N_RUNS = 4096 + 904  # two stream blocks
REPLAYED = (0, 5, 4096 + 3)


def within_4_se(counts: np.ndarray, probabilities: np.ndarray, what: str) -> None:
    """Observed counts of each level against the probabilities of a row, within 4 SE (a level
    of probability 0 or 1 must be never or always played)."""
    n = counts.sum()
    freq = counts / n
    se = np.sqrt(probabilities * (1 - probabilities) / n)
    bad = np.abs(freq - probabilities) > 4 * se + 1e-12
    assert not bad.any(), f"{what}: frequencies {np.round(freq, 4)} against {np.round(probabilities, 4)}"


def random_table(n: int, sparsity: float, seed: int) -> list:
    """A response table ``[own][stimulus][next]``: each row keeps each level with probability
    ``1 - sparsity`` (at least one), with random weights."""
    gen = np.random.default_rng(seed)
    keep = gen.random((n, n, n)) >= sparsity
    first = gen.integers(0, n, size=(n, n))
    keep[np.arange(n)[:, None], np.arange(n)[None, :], first] = True
    weights = gen.integers(1, 20, size=(n, n, n)) * keep
    return (weights / weights.sum(axis=2, keepdims=True)).tolist()


@st.composite
def policies(draw, n: int):
    """A policy of any family, valid on a ladder of ``n`` levels."""
    top = n - 1
    level = st.integers(0, top)
    family = draw(st.sampled_from([
        "memory_one", "memory_one", "tit_for_tat", "generous_tit_for_tat", "proportional",
        "escalate", "threshold", "fixed", "grim_trigger", "tit_for_two_tats",
        "contrite_tit_for_tat", "ledger",
    ]))
    spec = {"family": family}
    if family == "memory_one":
        if n == 2 and draw(st.booleans()):
            spec["vector"] = draw(st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.75, 1.0]), min_size=4, max_size=4))
        else:
            spec["response"] = random_table(n, draw(st.floats(0, 0.95)), draw(st.integers(0, 2**32)))
    elif family == "generous_tit_for_tat":
        spec["generosity"] = draw(st.sampled_from([0.0, 0.05, 1 / 3, 0.5, 0.9, 1.0]))
    elif family == "proportional":
        spec.update(ratio=draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.5])), cap=draw(level))
    elif family == "escalate":
        spec.update(step=draw(st.integers(0, 3)), cap=draw(level))
    elif family in ("threshold",):
        spec["threshold"] = draw(level)
    elif family == "fixed":
        spec["level"] = draw(level)
    elif family == "grim_trigger":
        spec.update(threshold=draw(level), level=draw(level))
    elif family == "ledger":
        spec.update(tolerance=draw(st.sampled_from([0.0, 1.0, 3.0])), bias=draw(st.sampled_from([0.0, 0.5])))
    if draw(st.integers(0, 4)) == 0:
        spec["initial"] = draw(level)
    return spec


@st.composite
def scenarios(draw):
    """Two to four actors on 2 to 9 levels, each with a policy of a random family (and one
    toward a random other actor). Step 1 is scripted for every cell at random levels, so step 2
    reads rows (own, stimulus) all over the tables; step 0 reads the quiet past."""
    n = draw(st.integers(2, 9))
    n_actors = draw(st.integers(2, 4))
    ids = [f"A{k}" for k in range(n_actors)]
    militia = n_actors > 2 and draw(st.booleans())
    actors = {}
    for k, a in enumerate(ids):
        actor = {"kind": "state", "policy": draw(policies(n))}
        if draw(st.booleans()):
            other = draw(st.sampled_from([b for b in ids if b != a]))
            actor["policy_toward"] = {other: draw(policies(n))}
        actors[a] = actor
    if militia:
        actors[ids[-1]].update(kind="militia", patron=ids[0])
    events = [{"step": 1, "actor": a, "target": b, "level": draw(st.integers(0, n - 1))}
              for a in ids for b in ids if a != b]
    return es.Scenario.from_dict({
        "schema_version": 1, "name": "sampling",
        "time": {"n_steps": 3},
        "ladder": [{"name": f"l{k}"} for k in range(n)],
        "actors": actors,
        "events": events,
        "outcomes": {"war_level": None, "quiet_steps": None},
    })


def expected_row(policy, ladder: Ladder, step: int, own: int, stimulus: int) -> np.ndarray:
    """The distribution of a memory-one policy's next level, from its table."""
    table = policy.table(ladder)
    if step == 0 and policy.initial is not None:
        return np.eye(ladder.n_levels)[policy.initial]
    return table[own, stimulus]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(), st.integers(0, 2**32))
def test_every_cell_draws_its_rows_distribution_and_mesa_replays_it(scenario, seed):
    result = es.simulate(scenario, N_RUNS, rng=seed, trajectories=True)
    ladder = scenario.policy_ladder()
    ids = scenario.actor_ids
    scripted = {(e.actor, e.target): e.level for e in scenario.events}
    for pair, (i, j) in enumerate(result.pairs):
        actor, target = ids[i], ids[j]
        policy = scenario.actor(actor).policy_for(target)
        if not isinstance(policy, MemoryOnePolicy):
            continue
        for step, own, stimulus in ((0, 0, 0), (2, scripted[actor, target], scripted[target, actor])):
            within_4_se(result.counts[step, pair], expected_row(policy, ladder, step, own, stimulus),
                        f"{actor}->{target} ({policy.family}) step {step}, row ({own}, {stimulus})")
    for run in REPLAYED:
        model = EscalationModel(scenario, rng=seed, run=run)
        model.run_model()
        assert np.array_equal(model._levels, result.levels[:, :, run]), f"run {run}"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(2, 9), st.floats(0, 0.95), st.integers(0, 2**32))
def test_a_response_tables_kernel_draws_every_row_from_that_row(n, sparsity, seed):
    table = np.array(random_table(n, sparsity, seed))
    policy = make_policy({"family": "memory_one", "response": table.tolist()})
    kernel = policy.compile(Ladder(tuple(float(k) for k in range(n))))
    runs = 3000
    own, stimulus = (np.repeat(g.reshape(-1, 1), runs, axis=1).astype(np.int8)
                     for g in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    u = np.random.default_rng(seed).integers(0, 2**32, size=(kernel.n_draws, n * n, runs), dtype=np.uint32)
    out = kernel.decide(1, own, stimulus, {}, u if kernel.n_draws else None)
    for row in range(n * n):
        counts = np.bincount(out[row], minlength=n)
        within_4_se(counts, table.reshape(n * n, n)[row], f"row {divmod(row, n)}")


def minimal_case(middle_row) -> es.Scenario:
    """The report's case: three levels, S on a response table toward Q (fixed at 0), one step."""
    table = np.zeros((3, 3, 3))
    table[..., 0] = 1
    table[0, 0] = [0.9, 0.1, 0]
    table[1, 1] = middle_row
    return es.Scenario.from_dict({
        "schema_version": 1, "time": {"n_steps": 1},
        "ladder": [{"name": "quiet"}, {"name": "low"}, {"name": "high"}],
        "actors": {"S": {"kind": "state", "policy": {"family": "memory_one", "response": table.tolist()}},
                   "Q": {"kind": "state", "policy": {"family": "fixed", "level": 0}}},
        "outcomes": {"war_level": None, "quiet_steps": None},
    })


@pytest.mark.parametrize("middle_row", [[0.2, 0.6, 0.2], [1, 0, 0], [0.5, 0, 0.5]])
def test_the_reported_three_level_table_plays_0_with_09_and_1_with_01_in_step_0(middle_row):
    result = es.simulate(minimal_case(middle_row), 20_000, rng=7)
    pair = [tuple(p) for p in result.pairs.tolist()].index((0, 1))
    within_4_se(result.counts[0, pair], np.array([0.9, 0.1, 0.0]), "S->Q in step 0")


# -- a four-actor crisis with a militia on such a table, against an independent simulator --------

MILITIA_TABLE = np.zeros((4, 4, 4))
MILITIA_TABLE[..., 0] = 1
MILITIA_TABLE[:, 0] = [0.9, 0.1, 0, 0]  # after a quiet step: mostly quiet
MILITIA_TABLE[:, 1] = [0.5, 0.3, 0.2, 0]
MILITIA_TABLE[:, 2] = [0.3, 0.2, 0.3, 0.2]
MILITIA_TABLE[:, 3] = [0.2, 0.2, 0.2, 0.4]
MILITIA_TABLE[1, 1] = [0.2, 0.4, 0.3, 0.1]  # a row wider than the quiet one


def militia_crisis() -> es.Scenario:
    return es.Scenario.from_dict({
        "schema_version": 1, "time": {"n_steps": 40},
        "ladder": [{"name": n} for n in ("quiet", "verbal", "strike", "war")],
        "actors": {
            "P": {"kind": "state", "policy": {"family": "proportional", "ratio": 0.5}},
            "M": {"kind": "militia", "patron": "P", "policy": {"family": "memory_one", "response": MILITIA_TABLE.tolist()}},
            "U": {"kind": "state", "policy": {"family": "generous_tit_for_tat", "generosity": 0.3}},
            "R": {"kind": "state", "policy": "tit_for_tat"},
        },
        "outcomes": {"war_level": 3, "quiet_steps": 4},
    })


def reference_end_steps(n_runs: int, seed: int) -> np.ndarray:
    """The crisis simulated from the rules alone (docs/model.md), with NumPy's generator:
    a different sampler, so agreement checks the core's draws, not just their reuse."""
    ids, top, n_steps = ["P", "M", "U", "R"], 3, 40
    gen = np.random.default_rng(seed)
    cdf = {"M": np.cumsum(MILITIA_TABLE, axis=2)}
    prev = np.zeros((4, 4, n_runs), dtype=int)  # prev[i, j]: i's act toward j
    end = np.full(n_runs, n_steps - 1)
    active = np.ones(n_runs, dtype=bool)
    started, quiet = np.zeros(n_runs, dtype=bool), np.zeros(n_runs, dtype=int)
    for t in range(n_steps):
        nxt = np.zeros_like(prev)
        for i, a in enumerate(ids):
            for j in range(4):
                if i == j:
                    continue
                own, stim = prev[i, j], prev[j, i]
                if a == "P":
                    nxt[i, j] = np.minimum(top, np.floor(0.5 * stim + 0.5))
                elif a == "M":
                    u = gen.random(n_runs)
                    nxt[i, j] = (u[:, None] >= cdf["M"][own, stim][:, :-1]).sum(axis=1)
                elif a == "U":
                    nxt[i, j] = stim * (gen.random(n_runs) >= 0.3)
                else:
                    nxt[i, j] = stim
        nxt *= active
        high = nxt.max(axis=(0, 1))
        war = active & (high >= 3)
        started |= high > 0
        quiet = (quiet + 1) * (high == 0)
        calm = active & ~war & started & (quiet >= 4)
        end[war | calm] = t
        active &= ~(war | calm)
        prev = nxt
    return end


def test_a_militia_on_a_sparse_table_ends_crises_as_an_independent_simulator_does():
    core = es.simulate(militia_crisis(), 20_000, rng=11).column("end_step").astype(float)
    ref = reference_end_steps(20_000, 12).astype(float)
    se = np.sqrt(core.var() / core.size + ref.var() / ref.size)
    assert abs(core.mean() - ref.mean()) <= 4 * se, (core.mean(), ref.mean(), se)


# -- the noise rules' sampling paths (sparse below 2%, dense above) ----------------------------

def off_by_one_row(level: int, p: float, n: int) -> np.ndarray:
    """The documented noise move: one rung up or down with probability p / 2 each, reflected at
    the ends of the ladder."""
    row = np.zeros(n)
    row[level] += 1 - p
    for move in (level - 1, level + 1):
        row[abs(move) if move <= n - 1 else 2 * (n - 1) - move] += p / 2
    return row


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(2, 9), st.data(), st.sampled_from([0.004, 0.015, 0.05, 0.5, 1.0]),
       st.sampled_from(["execution", "perception"]), st.integers(0, 2**32))
def test_noise_moves_levels_by_the_documented_distribution_on_every_path(n, data, p, rule, seed):
    level = data.draw(st.integers(0, n - 1))
    scenario = es.Scenario.from_dict({
        "schema_version": 1, "time": {"n_steps": 2},
        "ladder": [{"name": f"l{k}"} for k in range(n)],
        "actors": {"A": {"kind": "state", "policy": {"family": "fixed", "level": level}},
                   "B": {"kind": "state", "policy": "tit_for_tat"}},
        "noise": {rule: p},
        "outcomes": {"war_level": None, "quiet_steps": None},
    })
    result = es.simulate(scenario, N_RUNS, rng=seed, trajectories=True)
    pairs = [tuple(q) for q in result.pairs.tolist()]
    if rule == "execution":  # A's act in step 0
        counts = result.counts[0, pairs.index((0, 1))]
    else:  # B answers in step 1 what it perceived of A's act in step 0
        counts = result.counts[1, pairs.index((1, 0))]
    within_4_se(counts, off_by_one_row(level, p, n), f"{rule} noise {p} at level {level} of {n}")
    for run in REPLAYED:
        model = EscalationModel(scenario, rng=seed, run=run)
        model.run_model()
        assert np.array_equal(model._levels, result.levels[:, :, run]), f"run {run}"
