"""Two players on two levels: a batch's shares of CC, CD, DC and DD, its cooperation rate and
payoffs per turn agree with the exact Markov chain (within 4 standard errors) and, run by run,
with the states counted from the stored trajectories; `escalation-sim run` prints them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim.analysis import markov
from escalation_sim.cli import main
from escalation_sim.games import match_scenario

STATES = ["CC", "CD", "DC", "DD"]


def _exact(result):
    p, q = (result.scenario.actor(a).policy for a in result.scenario.actor_ids)
    noise = result.scenario.noise.execution
    return markov.finite_horizon(p, q, turns=result.n_steps, noise=noise, game=result.scenario.payoffs.pd)


@pytest.mark.parametrize("scenario, overrides", [
    ("ipd_noise", {}),
    ("echo_generosity", {}),
    ("echo_generosity", {"actors.B.policy": "always_defect", "noise.execution": 0.1}),
    ("ipd_noise", {"actors.A.policy": "win_stay_lose_shift", "actors.B.policy": "alternator"}),
])
def test_the_shares_and_payoffs_of_a_match_agree_with_the_exact_chain(scenario, overrides):
    result = es.simulate(es.with_overrides(es.load_scenario(scenario), overrides), 3000, rng=11, n_steps=60)
    table, exact = result.match_summary(), _exact(result)
    expected = dict(zip(STATES, exact.shares))
    expected["cooperation"] = exact.shares[0] + (exact.shares[1] + exact.shares[2]) / 2
    for k, actor in enumerate(result.scenario.actor_ids):
        expected[f"payoff_{actor}"] = exact.payoffs[k] / result.n_steps
    assert set(table.index) == set(expected)
    for name, value in expected.items():
        row = table.loc[name]
        # a share that is exactly 0 or 1 has no spread; the estimate must then be exact too
        assert abs(row["mean"] - value) <= 4 * row["se"] + 1e-12, (name, row["mean"], value, row["se"])
        assert row["low"] <= row["mean"] <= row["high"]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=8, max_size=8), st.floats(0, 0.2), st.integers(0, 2**32 - 1))
def test_state_counts_are_the_states_counted_from_the_trajectories(vectors, noise, seed):
    a = es.make_policy({"family": "memory_one", "vector": vectors[:4]})
    b = es.make_policy({"family": "memory_one", "vector": vectors[4:]})
    result = es.simulate(match_scenario(a, b, turns=25, noise=noise), 40, rng=seed, trajectories=True)
    pairs = result.pairs.tolist()
    acts = result.levels[:, [pairs.index([0, 1]), pairs.index([1, 0])], :]  # (turns, 2, runs)
    state = 2 * acts[:, 0, :] + acts[:, 1, :]  # 0 CC, 1 CD, 2 DC, 3 DD
    counted = np.stack([(state == k).sum(axis=0) for k in range(4)], axis=1)
    np.testing.assert_array_equal(result.state_counts(), counted)


def test_a_batch_that_is_not_a_match_has_no_state_counts():
    result = es.simulate("us_iran_2020", 10, rng=1, n_steps=5)
    assert not result.is_match
    with pytest.raises(ValueError, match="two actors on a two-level ladder"):
        result.match_summary()


def test_run_prints_the_match_table_for_a_two_level_scenario(capsys):
    assert main(["run", "echo_generosity", "--runs", "500", "--seed", "3", "--steps", "50", "--no-progress"]) == 0
    out = capsys.readouterr().out
    table = es.simulate("echo_generosity", 500, rng=3, n_steps=50).match_summary()
    assert "cooperation rate" in out and "payoff per turn" in out
    assert f"{100 * table.loc['cooperation', 'mean']:.2f}%" in out
    for state in STATES:
        assert f"({state})" in out and f"{100 * table.loc[state, 'mean']:.2f}%" in out
    assert "ceasefire" not in out and "war " not in out
