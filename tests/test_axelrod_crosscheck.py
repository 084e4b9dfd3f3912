"""The classic strategies on the core against the Axelrod library, the reference implementation of
the iterated prisoner's dilemma: identical scores for deterministic matches, agreement within
Monte Carlo error for noisy and stochastic ones, the same tournament matrix and ranking, and the
same ecological dynamics.

``axelrod`` is imported only here, once per module: its import takes about 20 s and sets the
multiprocessing start method of the whole process to "spawn".
"""

from __future__ import annotations

import types
from itertools import combinations_with_replacement

import numpy as np
import pytest

from escalation_sim.games import AXELROD_NAMES, STRATEGIES, ecological, match_scores, tournament

DETERMINISTIC = [name for name, policy in STRATEGIES.items() if not policy.stochastic]
STOCHASTIC = [name for name, policy in STRATEGIES.items() if policy.stochastic]
ALL_PAIRS = list(combinations_with_replacement(STRATEGIES, 2))
# Noise flips a fair coin into a fair coin: the random player's noisy matches add nothing.
NOISY_PAIRS = [(a, b) for a, b in ALL_PAIRS if "random" not in (a, b)]
TURNS, AXELROD_MATCHES, CORE_RUNS, Z = 200, 100, 20000, 4.0


@pytest.fixture(scope="module")
def axl():
    return pytest.importorskip("axelrod")


def axelrod_scores(axl, a, b, *, noise=0.0, n=1, seed=0):
    """Total scores of ``n`` axelrod matches, shape (n, 2), each match with its own seed."""
    seeds = np.random.SeedSequence(seed).generate_state(n)
    out = []
    for s in seeds:
        players = (getattr(axl, AXELROD_NAMES[a])(), getattr(axl, AXELROD_NAMES[b])())
        match = axl.Match(players, turns=TURNS, noise=noise, seed=int(s))
        match.play()
        out.append(match.final_score())
    return np.array(out, dtype=float)


def assert_same_means(theirs, ours):
    """Means of each player's score within Z combined standard errors."""
    se = np.sqrt(theirs.var(axis=0, ddof=1) / len(theirs) + ours.var(axis=0, ddof=1) / len(ours))
    gap = np.abs(theirs.mean(axis=0) - ours.mean(axis=0))
    assert (gap <= Z * se + 1e-9).all(), (theirs.mean(axis=0), ours.mean(axis=0), se)


def test_every_strategy_is_stochastic_exactly_when_axelrod_says_so(axl):
    for name, policy in STRATEGIES.items():
        player = getattr(axl, AXELROD_NAMES[name])()
        assert axl.Classifiers["stochastic"](player) == policy.stochastic, name


@pytest.mark.parametrize("a, b", list(combinations_with_replacement(DETERMINISTIC, 2)))
def test_deterministic_matches_score_exactly_as_in_axelrod(axl, a, b):
    assert np.array_equal(match_scores(a, b, turns=TURNS), axelrod_scores(axl, a, b))


@pytest.mark.parametrize("a, b", NOISY_PAIRS)
def test_noisy_matches_score_as_in_axelrod_within_monte_carlo_error(axl, a, b):
    theirs = axelrod_scores(axl, a, b, noise=0.05, n=AXELROD_MATCHES, seed=11)
    ours = match_scores(a, b, turns=TURNS, noise=0.05, n_runs=CORE_RUNS, rng=12)
    assert_same_means(theirs, ours)


@pytest.mark.parametrize("a, b", [(a, b) for a, b in ALL_PAIRS if a in STOCHASTIC or b in STOCHASTIC])
def test_stochastic_strategies_without_noise_score_as_in_axelrod(axl, a, b):
    theirs = axelrod_scores(axl, a, b, n=AXELROD_MATCHES, seed=21)
    ours = match_scores(a, b, turns=TURNS, n_runs=CORE_RUNS, rng=22)
    assert_same_means(theirs, ours)


def test_a_deterministic_tournament_has_axelrods_payoff_matrix_and_ranking(axl):
    players = [getattr(axl, AXELROD_NAMES[name])() for name in DETERMINISTIC]
    theirs = axl.Tournament(players, turns=TURNS, repetitions=1).play(progress_bar=False)
    ours = tournament(DETERMINISTIC, turns=TURNS, repetitions=1, rng=0)
    assert np.allclose(ours.matrix.to_numpy(), theirs.payoff_matrix)
    assert [AXELROD_NAMES[name] for name in ours.ranking.strategy] == \
        [type(players[k]).__name__ for k in theirs.ranking]
    wins = dict(zip(DETERMINISTIC, (w[0] for w in theirs.wins)))
    assert ours.ranking.set_index("strategy")["wins"].to_dict() == wins


def test_ecological_dynamics_match_axelrods_ecosystem(axl):
    # With zero standard deviations Axelrod's Ecosystem is the deterministic replicator step.
    ours = tournament(DETERMINISTIC, turns=TURNS, repetitions=1, rng=0)
    n = len(DETERMINISTIC)
    results = types.SimpleNamespace(num_players=n, payoff_matrix=ours.matrix.to_numpy().tolist(),
                                    payoff_stddevs=[[0.0] * n for _ in range(n)])
    population = [1 + k for k in range(n)]
    ecosystem = axl.Ecosystem(results, population=population)
    ecosystem.reproduce(50)
    shares = ecological(ours.matrix, initial=population, generations=50)
    assert np.allclose(shares.to_numpy(), ecosystem.population_sizes, rtol=1e-12, atol=1e-15)
