"""Random horizons (``prob_end``): geometric match lengths, exact expected payoffs of memory-one
pairs from the Markov chain, exact replay by the Mesa model, the same runs in any chunking, and
the Axelrod library's ``prob_end`` matches in distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation_sim import EscalationModel, Scenario, simulate
from escalation_sim.games import STRATEGIES, discounted_payoffs, match_scores, tournament
from escalation_sim.games.match import match_turns
from escalation_sim.scenario import ScenarioError

Z = 4.0


def lengths(prob_end, n_runs, *, turns=None, rng=1, a="tit_for_tat", b="random"):
    return match_scores(a, b, prob_end=prob_end, turns=turns, n_runs=n_runs, rng=rng, lengths=True)[:, 2]


@pytest.mark.parametrize("prob_end", [0.02, 0.1, 0.5])
def test_match_lengths_are_geometric_with_mean_one_over_prob_end(prob_end):
    n = 20000
    length = lengths(prob_end, n)
    assert abs(length.mean() - 1 / prob_end) <= Z * np.sqrt((1 - prob_end) / prob_end**2 / n)
    # Each of the first lengths, and the tail beyond them, at its geometric probability.
    k = np.arange(1, 8)
    pmf = prob_end * (1 - prob_end) ** (k - 1)
    cells = np.append(pmf, 1 - pmf.sum())
    counts = np.append([(length == j).sum() for j in k], (length > k[-1]).sum())
    se = np.sqrt(cells * (1 - cells) / n)
    assert (np.abs(counts / n - cells) <= Z * se + 1e-12).all()


def test_turns_cap_the_random_length():
    length = lengths(0.05, 20000, turns=10)
    assert length.max() == 10
    tail = (1 - 0.05) ** 9  # the match survives the first nine turns
    assert abs((length == 10).mean() - tail) <= Z * np.sqrt(tail * (1 - tail) / 20000)


def test_the_default_cap_is_where_a_match_is_a_billion_to_one():
    cap = match_turns(None, 0.1)
    assert 0.9 ** cap < 1e-9 <= 0.9 ** (cap - 1)
    assert match_turns(None, 0.0) == 200 and match_turns(50, 0.1) == 50
    with pytest.raises(ValueError, match="prob_end"):
        match_turns(None, 1.0)


PAIRS = [("tit_for_tat", "random"), ("generous_tit_for_tat", "always_defect"),
         ("win_stay_lose_shift", "generous_tit_for_tat"), ("tit_for_tat", "tit_for_tat")]


@pytest.mark.parametrize("a, b", PAIRS)
@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_memory_one_payoffs_are_the_discounted_markov_chain(a, b, noise):
    """Expected totals x0 (I - delta M)^-1 r against 20000 simulated matches, within 4 SE."""
    prob_end = 0.05
    exact = discounted_payoffs(STRATEGIES[a], STRATEGIES[b], prob_end=prob_end, noise=noise)
    scores = match_scores(a, b, prob_end=prob_end, noise=noise, n_runs=20000, rng=7)
    se = scores.std(axis=0, ddof=1) / np.sqrt(len(scores))
    assert (np.abs(scores.mean(axis=0) - exact) <= Z * se + 1e-9).all(), (scores.mean(axis=0), exact, se)


def test_tit_for_tat_against_itself_earns_r_over_prob_end():
    assert np.allclose(discounted_payoffs(STRATEGIES["tit_for_tat"], STRATEGIES["tit_for_tat"], prob_end=0.1), 30)


def test_the_mesa_model_replays_each_run_of_a_random_horizon_exactly(ipd):
    scenario = ipd("generous_tit_for_tat", "random", n_steps=60, execution=0.02)
    data = scenario.to_dict()
    data["time"]["prob_end"] = 0.1
    scenario = Scenario.from_dict(data)
    runs = simulate(scenario, 40, rng=11).runs
    assert runs["end_step"].nunique() > 5 and (runs["end_step"] < 59).any()
    for run in (0, 3, 17, 39):
        model = EscalationModel(scenario, rng=11, run=run)
        model.run_model()
        measures = model.measures()
        row = runs.iloc[run]
        for key in ("end_step", "hostile_steps", "retaliations", "payoff_A", "payoff_B", "outcome"):
            assert measures[key] == row[key], (run, key)


def test_random_horizons_are_the_same_in_any_chunking_and_block(ipd):
    data = ipd("random", "tit_for_tat", n_steps=40).to_dict()
    data["time"]["prob_end"] = 0.2
    scenario = Scenario.from_dict(data)
    whole = simulate(scenario, 9000, rng=5).runs
    chunked = simulate(scenario, 9000, rng=5, chunk_size=4096).runs
    assert whole.equals(chunked)
    # Run 5000 lies in the second stream block: its horizon does not depend on the first.
    model = EscalationModel(scenario, rng=5, run=5000)
    model.run_model()
    assert model.end_step == whole["end_step"].iloc[5000]


def test_prob_end_zero_leaves_every_result_as_it_was(ipd):
    scenario = ipd("generous_tit_for_tat", "random", n_steps=30, execution=0.05)
    data = scenario.to_dict()
    data["time"]["prob_end"] = 0.0
    assert simulate(Scenario.from_dict(data), 500, rng=3).runs.equals(simulate(scenario, 500, rng=3).runs)
    assert "prob_end" not in scenario.to_dict()["time"]


@pytest.mark.parametrize("value, message", [(1.0, r"\[0, 1\)"), (-0.1, "not in"), ("often", "probability")])
def test_an_invalid_prob_end_is_refused_naming_the_key(ipd, value, message):
    data = ipd().to_dict()
    data["time"]["prob_end"] = value
    with pytest.raises(ScenarioError, match="time.prob_end") as info:
        Scenario.from_dict(data)
    assert info.match(message)


def test_a_random_horizon_tournament_scores_per_turn_of_each_match():
    result = tournament(["always_cooperate", "always_defect"], prob_end=0.1, repetitions=20, rng=4)
    m = result.matrix
    # Per turn, whatever each match's length: R, S, T and P exactly.
    assert m.loc["always_cooperate", "always_defect"] == 0 and m.loc["always_defect", "always_cooperate"] == 5
    assert m.loc["always_cooperate", "always_cooperate"] == 3 and m.loc["always_defect", "always_defect"] == 1


# -- the Axelrod library's prob_end matches ------------------------------------------------------
@pytest.fixture(scope="module")
def axl():
    return pytest.importorskip("axelrod")


@pytest.mark.parametrize("a, b", [("tit_for_tat", "random"), ("grudger", "alternator")])
def test_prob_end_matches_agree_with_axelrods_in_distribution(axl, a, b):
    from escalation_sim.games import AXELROD_NAMES

    prob_end, n = 0.1, 600
    theirs = []
    for seed in np.random.SeedSequence(2).generate_state(n):
        players = (getattr(axl, AXELROD_NAMES[a])(), getattr(axl, AXELROD_NAMES[b])())
        match = axl.Match(players, prob_end=prob_end, seed=int(seed))
        match.play()
        theirs.append([*match.final_score(), len(match.result)])
    theirs = np.array(theirs, dtype=float)
    ours = match_scores(a, b, prob_end=prob_end, n_runs=20000, rng=3, lengths=True)
    se = np.sqrt(theirs.var(axis=0, ddof=1) / n + ours.var(axis=0, ddof=1) / len(ours))
    assert (np.abs(theirs.mean(axis=0) - ours.mean(axis=0)) <= Z * se).all(), (theirs.mean(0), ours.mean(0), se)
    # The length distributions: the same share of matches at each of the first lengths.
    for k in (1, 2, 5):
        p_theirs, p_ours = (theirs[:, 2] <= k).mean(), (ours[:, 2] <= k).mean()
        p = 1 - (1 - prob_end) ** k
        assert abs(p_theirs - p_ours) <= Z * np.sqrt(p * (1 - p) * (1 / n + 1 / len(ours)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prob_end=st.floats(0.01, 0.9), n_steps=st.integers(1, 25), seed=st.integers(0, 2**32 - 1),
       run=st.integers(0, 9))
def test_any_random_horizon_is_replayed_exactly_and_capped(ipd, prob_end, n_steps, seed, run):
    data = ipd("generous_tit_for_tat", "random", n_steps=n_steps, execution=0.1).to_dict()
    data["time"]["prob_end"] = prob_end
    scenario = Scenario.from_dict(data)
    runs = simulate(scenario, 10, rng=seed).runs
    assert (runs["end_step"] <= n_steps - 1).all() and (runs["outcome"] == "ongoing").all()
    model = EscalationModel(scenario, rng=seed, run=run)
    model.run_model()
    measures = model.measures()
    for key in ("end_step", "hostile_steps", "payoff_A", "payoff_B"):
        assert measures[key] == runs.iloc[run][key], key
