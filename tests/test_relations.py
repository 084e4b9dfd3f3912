"""Relations a scenario can express: per-actor and per-pair noise rates, false alarms apart from
misjudged real acts, and allies (docs/model.md, "Noise rates and allies").

Independent answers: the exact Markov chain (analysis.markov) for outcome probabilities, the
Mesa model run by run for the core's trajectories, and the documented precedence of rates.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim.agents import EscalationModel
from escalation_sim.analysis import markov as mk
from escalation_sim.scenario import ScenarioError

Z = 4.0
N_RUNS = 20000


def proxy(**changes) -> es.Scenario:
    """A state, a patron and its militia on four levels, with every new rule at work: the
    patron and its militia allies, the militia noisier than the rest, false alarms rarer than
    misjudged acts, one pair with its own rates."""
    data = {
        "schema_version": 1, "name": "relations", "time": {"n_steps": 30},
        "ladder": [{"name": "quiet"}, {"name": "attack"}, {"name": "strike"}, {"name": "war"}],
        "actors": {
            "S": {"kind": "state", "policy": {"family": "generous_tit_for_tat", "generosity": 0.2},
                  "noise_toward": {"M": {"false_alarm": 0.06}}},
            "P": {"kind": "state", "protects": {"M": 0.5},
                  "policy": {"family": "generous_tit_for_tat", "generosity": 0.5}},
            "M": {"kind": "militia", "patron": "P", "control": 0.6, "policy": "tit_for_tat",
                  "noise": {"execution": 0.08},
                  "spontaneous": {"probability": 0.03, "level": 1, "targets": ["S"]}}},
        "noise": {"perception": 0.05, "false_alarm": 0.01, "execution": 0.02, "attribution": 0.5},
        "allies": [{"actors": ["P", "M"], "relation": "patron and proxy"}],
        "outcomes": {"war_level": 3, "quiet_steps": 4},
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return es.Scenario.from_dict(data)


@pytest.fixture(scope="module")
def exact():
    return mk.absorption(mk.scenario_chain(proxy())).iloc[-1]


def test_rates_follow_pair_then_alliance_then_actor_then_scenario():
    s = proxy()
    assert s.rates("S", "M") == (0.05, 0.06, 0.02)  # noise_toward sets the false alarm only
    assert s.rates("S", "P") == (0.05, 0.01, 0.02)  # the scenario's
    assert s.rates("M", "S") == (0.05, 0.01, 0.08)  # the militia's own execution
    assert s.rates("M", "P") == (0.0, 0.0, 0.0) == s.rates("P", "M")  # allies: none by default
    plain = proxy(noise={"perception": 0.05})
    assert plain.rates("S", "P") == (0.05, 0.05, 0.0)  # false_alarm unset: the perception rate


def test_allies_play_quiet_toward_each_other_unless_a_policy_toward_says_otherwise():
    s = proxy()
    assert s.actor("M").policy_for("P").family == "fixed"
    assert s.actor("M").policy_for("S").family == "tit_for_tat"
    data = proxy().to_dict()
    data["actors"]["M"]["policy_toward"] = {"P": "tit_for_tat"}
    assert es.Scenario.from_dict(data).actor("M").policy_for("P").family == "tit_for_tat"


def test_the_new_keys_round_trip_and_leave_old_scenarios_hashes_alone():
    s = proxy()
    assert es.Scenario.from_dict(s.to_dict()) == s
    old = proxy(allies=None, noise={"perception": 0.05, "execution": 0.02, "attribution": 0.5})
    assert "allies" not in old.to_dict() and "false_alarm" not in old.to_dict()["noise"]


@pytest.mark.parametrize("allies, message", [
    ([{"actors": ["P", "X"]}], "is not an actor"),
    ([{"actors": ["P", "P"]}], "its own ally"),
    ([{"actors": ["P", "M"]}, {"actors": ["M", "P"]}], "already allies"),
    ([{"actors": ["P", "M"], "noise": {"perception": 2}}], "allies.0.noise.perception"),
])
def test_bad_alliances_are_refused_with_their_key_path(allies, message):
    with pytest.raises(ScenarioError, match=message):
        proxy(allies=allies)


SPARSE = {"perception": 0.015, "false_alarm": 0.004, "execution": 0.02, "attribution": 0.5}


@pytest.mark.parametrize("noise", [None, SPARSE], ids=["dense", "sparse"])
def test_war_and_ceasefire_match_the_exact_chain_with_every_relation_at_work(noise, exact):
    # "sparse": every misperception rate below core.step.SPARSE_LIMIT, the path that moves
    # only the cells whose words fire
    scenario = proxy() if noise is None else proxy(noise=SPARSE)
    if noise is not None:
        exact = mk.absorption(mk.scenario_chain(scenario)).iloc[-1]
    result = es.simulate(scenario, N_RUNS, rng=13)
    shares = result.runs["outcome"].value_counts(normalize=True)
    for outcome in ("war", "ceasefire", "ongoing"):
        p = exact[outcome]
        assert abs(shares.get(outcome, 0.0) - p) <= Z * np.sqrt(p * (1 - p) / N_RUNS) + 1e-12, outcome


@pytest.mark.parametrize("change", [
    {"allies": None},
    {"noise": {"perception": 0.05, "execution": 0.02, "attribution": 0.5}},  # false alarms as perception
])
def test_each_relation_moves_the_exact_answer_beyond_the_monte_carlo_tolerance(change, exact):
    # So the comparison above would catch a core that left the rule out.
    without = mk.absorption(mk.scenario_chain(proxy(**change))).iloc[-1]
    moved = [abs(exact[o] - without[o]) / np.sqrt(exact[o] * (1 - exact[o]) / N_RUNS)
             for o in ("war", "ceasefire", "ongoing")]
    assert max(moved) > 2 * Z


rate = st.sampled_from([0.0, 0.003, 0.05, 0.3, 1.0])


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 4), rate, rate, rate, rate, rate, st.booleans(), st.integers(0, 2**32))
def test_mesa_replays_the_core_run_by_run_under_any_rates(n, p, fa, e, own, pair, allied, seed):
    ladder = [{"name": f"l{k}"} for k in range(n)]
    data = {
        "schema_version": 1, "name": "rates", "time": {"n_steps": 12}, "ladder": ladder,
        "actors": {"A": {"kind": "state", "policy": "tit_for_tat", "noise": {"execution": own}},
                   "B": {"kind": "state", "policy": "tit_for_tat",
                         "noise_toward": {"A": {"perception": pair, "false_alarm": pair}}},
                   "C": {"kind": "state", "policy": "tit_for_tat"}},
        "noise": {"perception": p, "false_alarm": fa, "execution": e},
        "outcomes": {"war_level": None, "quiet_steps": None},
    }
    if allied:
        data["allies"] = [{"actors": ["A", "C"], "noise": {"false_alarm": 0.2}}]
    scenario = es.Scenario.from_dict(data)
    result = es.simulate(scenario, 4096 + 50, rng=seed, trajectories=True)
    for run in (0, 7, 4096 + 3):
        model = EscalationModel(scenario, rng=seed, run=run)
        model.run_model()
        assert np.array_equal(model._levels, result.levels[:, :, run]), f"run {run}"


def test_a_cell_with_rate_zero_never_fires_beside_cells_that_always_do():
    # Per-cell limits: a limit of 0 would still fire at U = 0, so rate-0 cells are masked.
    data = {
        "schema_version": 1, "name": "mask", "time": {"n_steps": 20},
        "ladder": [{"name": "quiet"}, {"name": "hostile"}],
        "actors": {"A": {"kind": "state", "policy": "tit_for_tat", "noise": {"false_alarm": 0.0}},
                   "B": {"kind": "state", "policy": "tit_for_tat"}},
        "noise": {"perception": 0.0, "false_alarm": 1.0},
        "outcomes": {"war_level": None, "quiet_steps": None},
    }
    result = es.simulate(es.Scenario.from_dict(data), 4096, rng=1, trajectories=True)
    pairs = [tuple(p) for p in result.pairs]
    a_to_b, b_to_a = pairs.index((0, 1)), pairs.index((1, 0))
    # B always sees a false alarm in A's quiet and answers it; A never misreads B.
    assert (result.levels[0, b_to_a] == 1).all() and (result.levels[0, a_to_b] == 0).all()


def test_in_the_seed_scenario_patron_and_proxy_quarrel_in_under_one_percent_of_runs():
    scenario = es.load_scenario("us_iran_2020")
    result = es.simulate(scenario, 8192, rng=2020, trajectories=True)
    ids = scenario.actor_ids
    cells = [k for k, (i, j) in enumerate(result.pairs) if {ids[i], ids[j]} == {"IRN", "KH"}]
    quarrel = (result.levels[:, cells, :] > 0).any(axis=(0, 1)).mean()
    assert quarrel < 0.01
