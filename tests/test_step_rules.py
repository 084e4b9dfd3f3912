"""Each rule of MODEL.md's step, on small scenarios whose course is certain."""

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim import Scenario


def scenario(actors, *, n_steps=12, events=(), noise=None, outcomes=None, **extra):
    data = {"schema_version": 1, "name": "rules", "time": {"n_steps": n_steps}, "actors": actors,
            "events": list(events), "noise": noise or {},
            "outcomes": outcomes or {"war_level": "war", "quiet_steps": None}, **extra}
    return Scenario.from_dict(data)


def levels(s, actor, target, n_runs=3, rng=1):
    """Levels actor -> target in every step of run 0, checking all runs agree."""
    result = es.simulate(s, n_runs, rng=rng, trajectories=True)
    pair = result.pairs.tolist().index([s.actor_ids.index(actor), s.actor_ids.index(target)])
    runs = result.levels[:, pair, :]
    assert (runs == runs[:, :1]).all(), "a deterministic scenario gave different runs"
    return runs[:, 0].tolist(), result


def state(policy="tit_for_tat", **kw):
    return {"kind": "state", "policy": policy, **kw}


def test_tit_for_tat_echoes_a_scripted_attack():
    s = scenario({"A": state(), "B": state()}, events=[{"step": 0, "actor": "A", "target": "B", "level": 4}], n_steps=6)
    assert levels(s, "A", "B")[0] == [4, 0, 4, 0, 4, 0]
    assert levels(s, "B", "A")[0] == [0, 4, 0, 4, 0, 4]


def test_escalation_reaches_war_and_ends_the_run():
    s = scenario({"A": state({"family": "escalate", "step": 1}), "B": state()},
                 events=[{"step": 0, "actor": "A", "target": "B", "level": 4}])
    a_to_b, result = levels(s, "A", "B")
    assert a_to_b[:7] == [4, 0, 5, 0, 6, 0, 7]
    runs = result.runs
    assert (runs["outcome"] == "war").all() and (runs["end_step"] == 6).all()
    assert (runs["peak_level"] == 7).all() and (runs["peak_step"] == 6).all()
    assert a_to_b[7:] == [0] * 5  # nothing happens after the end


def test_ceasefire_after_quiet_steps_following_a_hostile_act():
    s = scenario({"A": state({"family": "generous_tit_for_tat", "generosity": 1}), "B": state()},
                 events=[{"step": 0, "actor": "B", "target": "A", "level": 3}],
                 outcomes={"war_level": "war", "quiet_steps": 5})
    result = es.simulate(s, 4, rng=3)
    assert (result.runs["outcome"] == "ceasefire").all()
    assert (result.runs["end_step"] == 5).all()  # quiet in steps 1..5


def test_no_ceasefire_before_the_last_scripted_event():
    s = scenario({"A": state(), "B": state({"family": "fixed", "level": 0})},
                 events=[{"step": 0, "actor": "B", "target": "A", "level": 1},
                         {"step": 9, "actor": "B", "target": "A", "level": 1}],
                 outcomes={"war_level": "war", "quiet_steps": 2}, n_steps=14)
    result = es.simulate(s, 2, rng=3)
    assert (result.runs["end_step"] == 12).all()  # A answers in 10; quiet 11, 12


def test_protection_turns_an_attack_on_the_protected_into_a_weighted_stimulus():
    s = scenario({"P": state(protects={"C": 0.5}), "C": state("always_cooperate"), "X": state("always_cooperate")},
                 events=[{"step": 0, "actor": "X", "target": "C", "level": 4}], n_steps=3)
    assert levels(s, "P", "X")[0] == [0, 2, 0]  # round(0.5 * 4) = 2


def test_attribution_reads_a_militia_attack_as_its_patrons():
    s = scenario({"S": state("always_cooperate"), "M": {"kind": "militia", "patron": "S", "policy": "always_cooperate"},
                  "O": state()},
                 events=[{"step": 0, "actor": "M", "target": "O", "level": 4}], noise={"attribution": 1.0}, n_steps=3)
    assert levels(s, "O", "S")[0] == [0, 4, 0]
    assert levels(s, "O", "M")[0] == [0, 4, 0]


@pytest.mark.parametrize("control,expected", [(1.0, 0), (0.0, 5)])
def test_a_controlled_militia_is_capped_by_its_patron(control, expected):
    s = scenario({"S": state("always_cooperate"), "M": {"kind": "militia", "patron": "S", "control": control,
                                                        "policy": {"family": "fixed", "level": 5}},
                  "O": state("always_cooperate")}, n_steps=3)
    assert levels(s, "M", "O")[0] == [expected] * 3


def test_a_spontaneous_attack_bypasses_the_militias_policy():
    s = scenario({"S": state("always_cooperate"),
                  "M": {"kind": "militia", "patron": "S", "policy": "always_cooperate",
                        "spontaneous": {"probability": 1.0, "level": "lethal_proxy", "targets": ["O"]}},
                  "O": state("always_cooperate")}, n_steps=3)
    assert levels(s, "M", "O")[0] == [4, 4, 4]
    assert levels(s, "M", "S")[0] == [0, 0, 0]


def test_perception_noise_on_two_levels_flips_what_is_seen():
    s = scenario({"A": state(), "B": state()}, ladder="two_level", noise={"perception": 1.0},
                 outcomes={"war_level": None, "quiet_steps": None}, n_steps=4)
    assert levels(s, "A", "B")[0] == [1, 0, 1, 0]


def test_execution_noise_on_two_levels_flips_what_is_done():
    s = scenario({"A": state("always_cooperate"), "B": state("always_cooperate")}, ladder="two_level",
                 noise={"execution": 1.0}, outcomes={"war_level": None, "quiet_steps": None}, n_steps=3)
    assert levels(s, "A", "B")[0] == [1, 1, 1]


def test_noise_moves_one_rung_reflecting_at_the_ends():
    s = scenario({"A": state({"family": "fixed", "level": 7}), "B": state({"family": "fixed", "level": 3})},
                 noise={"execution": 1.0}, outcomes={"war_level": None, "quiet_steps": None}, n_steps=40)
    result = es.simulate(s, 200, rng=4, trajectories=True)
    ids = result.pairs.tolist()
    assert set(np.unique(result.levels[:, ids.index([0, 1])])) == {6}
    seen = result.levels[:, ids.index([1, 0])]
    assert set(np.unique(seen)) == {2, 4}
    assert abs((seen == 4).mean() - 0.5) < 4 * np.sqrt(0.25 / seen.size)


def test_scripted_events_override_decisions_and_noise():
    s = scenario({"A": state({"family": "fixed", "level": 2}), "B": state()}, noise={"execution": 1.0},
                 events=[{"step": 1, "actor": "A", "target": "B", "level": 6}],
                 outcomes={"war_level": None, "quiet_steps": None}, n_steps=3)
    result = es.simulate(s, 50, rng=1, trajectories=True)
    a_to_b = result.levels[:, result.pairs.tolist().index([0, 1]), :]
    assert (a_to_b[1] == 6).all()
    assert set(np.unique(a_to_b[[0, 2]])) == {1, 3}  # the decisions themselves were noisy


def test_fatalities_are_poisson_with_the_ladders_expected_counts():
    s = scenario({"A": state({"family": "fixed", "level": 5}), "B": state("always_cooperate")},
                 outcomes={"war_level": None, "quiet_steps": None}, n_steps=10)
    n = 20_000
    deaths = es.simulate(s, n, rng=5).runs["fatalities"]
    mean = 10 * s.ladder[5].fatalities  # ten state strikes
    assert abs(deaths.mean() - mean) <= 4 * np.sqrt(mean / n)
    assert abs(deaths.var() - mean) <= 0.05 * mean  # Poisson: variance = mean


@pytest.mark.parametrize("name", ["ipd_noise", "us_iran_2020"])
def test_per_run_counters_agree_with_the_trajectories(name):
    """The tallies keep hostile steps, peaks and retaliations without storing levels (two-player
    games derive some at the end): recount them from the stored levels."""
    result = es.simulate(name, 600, rng=9, trajectories=True)
    levels = result.levels.astype(int)  # (step, pair, run)
    runs = result.runs
    steps = np.arange(levels.shape[0])[:, None]
    live = steps <= runs["end_step"].to_numpy()[None, :]  # ended runs are quiet afterwards
    top = levels.max(axis=1) * live
    assert np.array_equal(runs["hostile_steps"], (top > 0).sum(axis=0))
    assert np.array_equal(runs["peak_level"], top.max(axis=0))
    first_peak = np.argmax(top == top.max(axis=0), axis=0)
    assert np.array_equal(runs["peak_step"], np.where(top.max(axis=0) > 0, first_peak, 0))
    if name == "ipd_noise":  # no perception noise, no protection: the stimulus is the other's last act
        pairs = result.pairs.tolist()
        other = levels[:, [pairs.index([b, a]) for a, b in pairs], :]
        answered = (levels[1:] > 0) & (other[:-1] > 0)
        assert np.array_equal(runs["retaliations"], answered.sum(axis=(0, 1)))


@pytest.mark.parametrize("steps", [8, 0])  # 0: every draw takes the exact fallback
@pytest.mark.parametrize("scale", [0.01, 3.0, 60.0, 1e4, 1e7])
def test_poisson_inversion_is_scipys_quantile(scale, steps, monkeypatch):
    from scipy import stats

    from escalation_sim.core import draws

    monkeypatch.setattr(draws, "_STEPS", steps)
    rng = np.random.default_rng(int(scale * 100))
    mean = rng.random(50_000) * scale
    mean[::9] = 0
    u = rng.random(mean.size)
    u[:3] = [0.0, 1 - 2**-53, 0.5]
    k = draws.poisson_quantile(u, mean)
    # The definition: the smallest k with P(X <= k) >= u (0 where the mean is 0).
    assert (k[mean == 0] == 0).all()
    some = mean > 0
    assert (stats.poisson.cdf(k[some], mean[some]) >= u[some]).all()
    assert (stats.poisson.cdf(k[some] - 1, mean[some]) < u[some]).all()


def test_harm_payoffs_are_minus_harm_received_minus_cost_of_harm_inflicted():
    s = scenario({"A": state({"family": "fixed", "level": 3}), "B": state()},
                 outcomes={"war_level": None, "quiet_steps": None}, n_steps=5)
    runs = es.simulate(s, 2, rng=1).runs
    sev = s.ladder[3].severity
    assert (runs["harm_inflicted_A"] == 5 * sev).all() and (runs["harm_received_A"] == 4 * sev).all()
    assert np.allclose(runs["payoff_A"], -4 * sev - s.payoffs.own_cost * 5 * sev)


def test_a_payoff_matrix_on_a_longer_ladder_is_summed_over_every_step():
    matrix = [[1, -2, -4], [2, 0, -3], [3, 1, -1]]
    s = scenario({"A": state({"family": "fixed", "level": 2}), "B": state({"family": "proportional", "ratio": 0.5})},
                 ladder=[{"name": "calm"}, {"name": "low"}, {"name": "high"}], payoffs={"matrix": matrix},
                 outcomes={"war_level": None, "quiet_steps": None}, n_steps=4)
    a_to_b, result = levels(s, "A", "B")
    b_to_a, _ = levels(s, "B", "A")
    m = np.array(matrix)
    expected_a = sum(m[x, y] for x, y in zip(a_to_b, b_to_a))
    expected_b = sum(m[y, x] for x, y in zip(a_to_b, b_to_a))
    assert result.runs["payoff_A"].iloc[0] == expected_a
    assert result.runs["payoff_B"].iloc[0] == expected_b


def step_words(n_noise, n_runs=3 * 4096, seed=8):
    from escalation_sim.core.draws import BlockWords

    words = BlockWords(np.random.SeedSequence(seed), 5, n_runs, 0, n_noise)
    words.next()
    return words.next()  # step 1: the step number is part of every cell's low bits


@pytest.mark.parametrize("p", [1e-9, 0.005, 0.05, 0.3, 0.5, 1.0])
def test_noise_bytes_compare_exactly_as_whole_words(p):
    """``below`` reads the low bits only where the top byte ties; the answer must be that of
    the whole 32-bit words, and fire with probability p."""
    from escalation_sim.core.draws import Limit
    from escalation_sim.core.plan import _threshold

    words = step_words(4)
    limit = Limit(_threshold(p))
    rows = slice(1, 4)
    whole = words.full(rows)
    hit = words.below(rows, limit)
    assert np.array_equal(hit, whole <= limit.value)
    cells = np.flatnonzero(np.random.default_rng(1).random(hit.size) < 0.3)
    assert np.array_equal(words.below_at(rows, cells, limit), hit.reshape(-1)[cells])
    assert abs(hit.mean() - p) <= 4 * np.sqrt(p * (1 - p) / hit.size) + 1e-12
    # one limit per row, as militia control and sparks have
    per_row = Limit(np.array([[_threshold(0.2)], [_threshold(p)], [_threshold(0.9)]], dtype=np.uint32))
    assert np.array_equal(words.below(rows, per_row), whole <= per_row.value)
    assert np.array_equal(words.below_at(rows, cells, per_row), (whole <= per_row.value).reshape(-1)[cells])


def test_the_low_bits_of_noise_words_are_uniform_and_differ_by_step_row_and_column():
    from scipy import stats

    words = step_words(2)
    low = words.full(slice(0, 2)) & np.uint32(0xFFFFFF)
    n = low.size
    assert abs(low.mean() / 2**24 - 0.5) <= 4 * np.sqrt(1 / 12 / n)
    assert len(np.unique(low)) > 0.99 * n  # 2**24 values: hardly any repeats among 24,576
    counts = np.bincount(low.ravel() >> 20, minlength=16)  # 16 bins of the low bits
    assert stats.chisquare(counts).pvalue > 1e-4


@pytest.mark.parametrize("shape", [(0,), (7,), (3, 13), (2, 4096), (5, 1001)])
@pytest.mark.parametrize("p", [0.0, 0.004, 0.5, 1.0])
def test_sparse_flatnonzero_is_flatnonzero(shape, p):
    from escalation_sim.core.draws import sparse_flatnonzero

    mask = np.random.default_rng(3).random(shape) < p
    assert np.array_equal(sparse_flatnonzero(mask), np.flatnonzero(mask))


@pytest.mark.parametrize("p", [0.005, 0.3])
def test_sparse_and_dense_noise_moves_agree(p, monkeypatch):
    from escalation_sim.core import step
    from escalation_sim.core.draws import Limit
    from escalation_sim.core.plan import _threshold

    words = step_words(5)
    rows = slice(0, 5)
    levels = np.random.default_rng(8).integers(0, 8, (5, words.noise.shape[1])).astype(np.int8)
    limit = Limit(_threshold(p))
    whole = words.full(rows)
    outcomes = []
    for sparse_limit in (0, 2**32):  # force the dense, then the sparse path
        monkeypatch.setattr(step, "SPARSE_LIMIT", sparse_limit)
        moved = levels.copy()
        hit = step.off_by_one(moved, words, rows, limit, 7)
        outcomes.append(moved)
        assert np.array_equal(hit, whole <= limit.value)
    assert np.array_equal(*outcomes)
    changed = outcomes[0] != levels
    assert np.array_equal(changed, whole <= limit.value)
    assert (np.abs(outcomes[0].astype(int) - levels) == changed).all()
    up = (whole <= limit.value // 2) & (levels < 7) | (whole <= limit.value) & (levels == 0)
    assert np.array_equal(outcomes[0] > levels, up)


def test_protectors_that_share_a_target_each_raise_the_stimulus():
    # P protects both B and C; X strikes B at 2 and C at 6: P's stimulus toward X is 6
    s = scenario({"P": state(protects={"B": 1.0, "C": 1.0}), "B": state("always_cooperate"),
                  "C": state("always_cooperate"), "X": state("always_cooperate")},
                 events=[{"step": 0, "actor": "X", "target": "B", "level": 2},
                         {"step": 0, "actor": "X", "target": "C", "level": 6}], n_steps=2)
    assert levels(s, "P", "X")[0] == [0, 6]
