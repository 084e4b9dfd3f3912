"""Exact Markov-chain answers against the published closed forms and against the Monte Carlo
core: two-player memory-one matches (tit-for-tat echoes, generous tit-for-tat) and whole
multi-level scenarios (war and ceasefire by the horizon). Monte Carlo tolerances are four
standard errors."""

from __future__ import annotations

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.analysis import markov as mk
from escalation_sim.games import STRATEGIES, echo_lengths, match_levels, match_scenario, match_scores, match_states

TFT, GTFT = STRATEGIES["tit_for_tat"], STRATEGIES["generous_tit_for_tat"]
Z = 4.0


def within(simulated: np.ndarray, exact: float) -> bool:
    """Mean of per-run values within Z standard errors of the exact value."""
    se = simulated.std(ddof=1) / np.sqrt(len(simulated))
    return abs(simulated.mean() - exact) <= Z * se


# -- two players -------------------------------------------------------------------------------

MEMORY_ONE = ["always_cooperate", "always_defect", "tit_for_tat", "generous_tit_for_tat",
              "win_stay_lose_shift", "alternator", "random", "suspicious_tit_for_tat"]


@pytest.mark.parametrize("a, b", [("tit_for_tat", "generous_tit_for_tat"), ("win_stay_lose_shift", "random"),
                                  ("suspicious_tit_for_tat", "alternator"), ("always_defect", "tit_for_tat")])
def test_the_two_player_chain_is_the_scenario_chain_of_the_match(a, b):
    # Two constructions: the four-vectors, and MODEL.md's step rules applied to the scenario.
    chain = mk.scenario_chain(match_scenario(a, b, noise=0.07))
    assert chain.pairs == (("A", "B"), ("B", "A"))
    assert np.allclose(chain.transition.toarray()[:4, :4], mk.memory_one_matrix(STRATEGIES[a], STRATEGIES[b], noise=0.07))
    assert np.allclose(chain.initial[:4], mk.initial_distribution(STRATEGIES[a], STRATEGIES[b], noise=0.07))


@pytest.mark.parametrize("noise", [0.01, 0.05, 0.2])
def test_tit_for_tat_against_itself_spends_a_quarter_of_the_long_run_in_each_state(noise):
    pi = mk.stationary_distribution(mk.memory_one_matrix(TFT, TFT, noise=noise))
    assert np.allclose(pi, 0.25)
    assert np.allclose(mk.long_run_payoffs(TFT, TFT, noise=noise), (3 + 0 + 5 + 1) / 4)


def test_the_finite_horizon_mutual_cooperation_share_of_noisy_tit_for_tat_is_0_2778():
    # PERFORMANCE.md: at T = 200, eps = 0.05 the share is 0.2778, not the long-run 1/4.
    horizon = mk.finite_horizon(TFT, TFT, turns=200, noise=0.05)
    assert horizon.shares[0] == pytest.approx(0.2778, abs=5e-5)
    assert horizon.shares.sum() == pytest.approx(1.0)


def test_simulated_tit_for_tat_state_shares_match_the_finite_horizon_chain():
    states = match_states(TFT, TFT, turns=200, noise=0.05, n_runs=20000, rng=2024) / 200
    horizon = mk.finite_horizon(TFT, TFT, turns=200, noise=0.05)
    for k in range(4):
        assert within(states[:, k], horizon.shares[k]), mk.STATES[k]


@pytest.mark.parametrize("a, b", [("generous_tit_for_tat", "win_stay_lose_shift"), ("random", "tit_for_tat"),
                                  ("suspicious_tit_for_tat", "alternator")])
def test_simulated_scores_match_the_finite_horizon_payoffs(a, b):
    scores = match_scores(a, b, turns=200, noise=0.05, n_runs=20000, rng=7)
    exact = mk.finite_horizon(STRATEGIES[a], STRATEGIES[b], turns=200, noise=0.05).payoffs
    assert within(scores[:, 0], exact[0]) and within(scores[:, 1], exact[1])


@pytest.mark.parametrize("g, noise", [(1 / 3, 0.05), (0.1, 0.01), (0.5, 0.2)])
def test_generous_tit_for_tat_cooperation_rate_is_the_closed_form(g, noise):
    gtft = es.make_policy({"family": "generous_tit_for_tat", "generosity": g})
    pi = mk.stationary_distribution(mk.memory_one_matrix(gtft, gtft, noise=noise))
    assert pi[0] + pi[1] == pytest.approx(mk.gtft_cooperation_rate(g, noise), abs=1e-12)
    assert mk.gtft_cooperation_rate(1 / 3, 0.05) == pytest.approx(0.875)


def test_a_long_simulation_of_generous_tit_for_tat_cooperates_at_the_closed_form_rate():
    turns, runs = 4000, 400
    states = match_states(GTFT, GTFT, turns=turns, noise=0.05, n_runs=runs, rng=99)
    rate = (2 * states[:, 0] + states[:, 1] + states[:, 2]) / (2 * turns)  # both players' acts
    se = rate.std(ddof=1) / np.sqrt(runs)
    # The opening (mutual cooperation) biases a finite match; at this length the bias is below
    # a quarter of the Monte Carlo error, so the long-run rate is a fair target.
    shares = mk.finite_horizon(GTFT, GTFT, turns=turns, noise=0.05).shares
    assert abs(shares[0] + (shares[1] + shares[2]) / 2 - 0.875) < se / 4
    assert abs(rate.mean() - 0.875) <= Z * se


@pytest.mark.parametrize("noise", [0.01, 0.05, 0.2])
def test_the_echo_length_of_tit_for_tat_is_one_over_two_eps_one_minus_eps(noise):
    assert mk.echo_length(TFT, TFT, noise=noise) == pytest.approx(1 / (2 * noise * (1 - noise)), rel=1e-12)
    assert mk.tft_echo_length(noise) == pytest.approx(1 / (2 * noise * (1 - noise)))


def test_simulated_echoes_last_as_long_as_the_chain_says():
    # Echoes that begin in the first 800 turns; the last 200 leave an echo a chance of about
    # (1 - 0.095)**200 = 2e-9 of being cut short by the horizon.
    levels = match_levels(TFT, TFT, turns=1000, noise=0.05, n_runs=200, rng=5)
    lengths = echo_lengths(levels, start_before=800)
    assert len(lengths) > 5000
    assert within(lengths, mk.echo_length(TFT, TFT, noise=0.05))


def test_generosity_shortens_echoes():
    assert mk.echo_length(GTFT, GTFT, noise=0.05) < mk.echo_length(TFT, TFT, noise=0.05) / 2


def test_without_noise_the_long_run_follows_the_opening():
    # Tit-for-tat against suspicious tit-for-tat alternates CD, DC for ever: a periodic class.
    stft = STRATEGIES["suspicious_tit_for_tat"]
    M = mk.memory_one_matrix(TFT, stft)
    assert np.allclose(mk.long_run_distribution(M, mk.initial_distribution(TFT, stft)), [0, 0.5, 0.5, 0])
    assert np.allclose(mk.long_run_payoffs(TFT, stft), match_scores(TFT, stft, turns=200)[0] / 200)
    with pytest.raises(ValueError, match="3 closed classes"):
        mk.stationary_distribution(mk.memory_one_matrix(TFT, TFT))


def test_sojourn_time_of_a_state_that_is_left_with_probability_h_is_one_over_h():
    M = np.array([[0.7, 0.3], [0.0, 1.0]])
    assert mk.sojourn_time(M, [0], 0) == pytest.approx(1 / 0.3)
    assert mk.sojourn_time(M, [1], 1) == float("inf")


def test_a_policy_with_longer_memory_has_no_two_player_chain():
    with pytest.raises(ValueError, match="not memory-one"):
        mk.memory_one_matrix(STRATEGIES["tit_for_two_tats"], TFT)


# -- whole scenarios ---------------------------------------------------------------------------

def dyad() -> es.Scenario:
    """Two states on four levels: a hawk answering one and a half times as hard, a generous
    tit-for-tat; perception and execution noise; an opening act at step 0."""
    return es.Scenario.from_dict({
        "schema_version": 1, "name": "dyad", "time": {"n_steps": 40},
        "ladder": [{"name": "quiet"}, {"name": "verbal"}, {"name": "strike"}, {"name": "war"}],
        "actors": {"A": {"kind": "state", "policy": {"family": "proportional", "ratio": 1.5}},
                   "B": {"kind": "state", "policy": {"family": "generous_tit_for_tat", "generosity": 0.3}}},
        "noise": {"perception": 0.05, "execution": 0.05},
        "events": [{"step": 0, "actor": "A", "target": "B", "level": 1}],
        "outcomes": {"war_level": 3, "quiet_steps": 4},
    })


def proxy(**overrides) -> es.Scenario:
    """A state, a patron and its militia on four levels: attribution, protection, control and
    spontaneous attacks all at work."""
    scenario = es.Scenario.from_dict({
        "schema_version": 1, "name": "proxy", "time": {"n_steps": 40},
        "ladder": [{"name": "quiet"}, {"name": "attack"}, {"name": "strike"}, {"name": "war"}],
        "actors": {
            "S": {"kind": "state", "policy": {"family": "generous_tit_for_tat", "generosity": 0.2}},
            "P": {"kind": "state", "protects": {"M": 0.5}, "policy": {"family": "generous_tit_for_tat", "generosity": 0.5}},
            "M": {"kind": "militia", "patron": "P", "control": 0.6, "policy": {"family": "escalate", "cap": 2},
                  "spontaneous": {"probability": 0.05, "level": 1, "targets": ["S"]}}},
        "noise": {"perception": 0.03, "execution": 0.03, "attribution": 0.5},
        "outcomes": {"war_level": 3, "quiet_steps": 5},
    })
    return es.with_overrides(scenario, overrides) if overrides else scenario


@pytest.fixture(scope="module")
def proxy_chain():
    return mk.scenario_chain(proxy())


def _outcome_within(result, exact_row):
    n = result.n_runs
    shares = result.runs["outcome"].value_counts(normalize=True)
    for outcome in ("war", "ceasefire", "ongoing"):
        p = exact_row[outcome]
        assert abs(shares.get(outcome, 0.0) - p) <= Z * np.sqrt(p * (1 - p) / n) + 1e-12, outcome


@pytest.mark.parametrize("make", [dyad, proxy], ids=["dyad", "proxy"])
def test_war_and_ceasefire_by_the_horizon_match_the_chain(make, proxy_chain):
    scenario = make()
    chain = proxy_chain if scenario.name == "proxy" else mk.scenario_chain(scenario)
    exact = mk.absorption(chain)
    result = es.simulate(scenario, 40000, rng=31)
    _outcome_within(result, exact.iloc[-1])
    survival = result.survival()["survival"].to_numpy()
    p = 1 - exact["war"].to_numpy()
    assert (np.abs(survival - p) <= Z * np.sqrt(p * (1 - p) / result.n_runs) + 1e-12).all()
    assert within(result.runs["end_step"].to_numpy(dtype=float), mk.mean_end_step(chain))


@pytest.mark.parametrize("override", [{"noise.attribution": 0.0}, {"actors.P.protects": {}},
                                      {"actors.M.control": 0.0}, {"actors.M.spontaneous.probability": 0.0}])
def test_each_militia_rule_moves_the_exact_answer_beyond_the_monte_carlo_tolerance(override, proxy_chain):
    # So the comparison above would catch a core that left the rule out.
    full = mk.absorption(proxy_chain).iloc[-1]
    without = mk.absorption(mk.scenario_chain(proxy(**override))).iloc[-1]
    se = np.sqrt(full["war"] * (1 - full["war"]) / 40000)
    assert abs(full["war"] - without["war"]) > 2 * Z * se


def test_eventual_absorption_is_the_limit_of_the_horizon_probabilities():
    chain = mk.scenario_chain(dyad())
    eventual = mk.eventual_absorption(chain)
    late = mk.absorption(chain, n_steps=3000).iloc[-1]
    assert eventual.loc["war", "probability"] == pytest.approx(late["war"], abs=1e-9)
    assert eventual.loc["ceasefire", "probability"] == pytest.approx(late["ceasefire"], abs=1e-9)
    assert eventual.loc["never", "probability"] == pytest.approx(0.0, abs=1e-9)
    mean = (eventual["probability"] * eventual["mean_end_step"])[["war", "ceasefire"]].sum()
    assert mean == pytest.approx(mk.mean_end_step(chain, n_steps=3000), rel=1e-9)


def test_a_scenario_that_can_never_end_is_never_absorbed():
    chain = mk.scenario_chain(es.load_scenario("ipd_noise"))
    assert chain.n_states == 4
    assert mk.eventual_absorption(chain).loc["never", "probability"] == pytest.approx(1.0)


def test_the_chain_refuses_what_it_cannot_represent():
    with pytest.raises(ValueError, match="scripted at step 1"):
        mk.scenario_chain(es.load_scenario("us_iran_2020"))
    with pytest.raises(ValueError, match="not memory-one"):
        mk.scenario_chain(match_scenario("tit_for_two_tats", "tit_for_tat"))
    with pytest.raises(ValueError, match="more than max_states=100"):
        mk.scenario_chain(proxy(), max_states=100)
