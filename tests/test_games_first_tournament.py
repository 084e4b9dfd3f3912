"""Axelrod's first tournament: every deterministic entry plays move for move as the Axelrod
library's ``axelrod_first`` strategy against every entry, the stochastic entries agree with it in
distribution, and the replay keeps the shape of the published tournament.

``axelrod`` is imported once for the module (about 20 s; it also sets the multiprocessing start
method), only by the tests that compare with it.
"""

from __future__ import annotations

import numpy as np
import pytest

from escalation_sim.games import match_levels, match_scores
from escalation_sim.games.first_tournament import (
    ENTRIES, PUBLISHED_SCORES, first_tournament, first_tournament_entries, published_ranking, rank_correlation,
)
from escalation_sim.policies import make_policy

ENTRY_POLICIES = first_tournament_entries()
DETERMINISTIC = [n for n, p in ENTRY_POLICIES.items() if not p.stochastic]
STOCHASTIC = [n for n, p in ENTRY_POLICIES.items() if p.stochastic]
TURNS, Z = 200, 4.0


@pytest.fixture(scope="module")
def axl():
    return pytest.importorskip("axelrod")


def axelrod_player(axl, name):
    return getattr(axl, ENTRIES[name][3])()


def test_the_fifteen_entries_are_registered_policies_with_their_published_rule():
    assert len(ENTRIES) == 15 and list(PUBLISHED_SCORES.values()) == sorted(PUBLISHED_SCORES.values(), reverse=True)
    for name, policy in ENTRY_POLICIES.items():
        assert make_policy(policy.to_dict()) == policy
        doc = " ".join(type(policy).__doc__.split())
        if policy.family.startswith("first_by_"):
            assert "Published rule" in doc and ("Axelrod library" in doc), name


def test_each_entry_is_stochastic_exactly_when_axelrod_says_so(axl):
    for name, policy in ENTRY_POLICIES.items():
        assert axl.Classifiers["stochastic"](axelrod_player(axl, name)) == policy.stochastic, name


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_a_deterministic_entry_plays_move_for_move_as_axelrods_against_every_entry(axl, name):
    """Our entry's moves against each opponent on the core, against the Axelrod player's moves
    when it faces the same opponent moves (replayed by ``MockPlayer``); stochastic opponents
    over several of their matches."""
    C, D = axl.Action.C, axl.Action.D
    for other, policy in ENTRY_POLICIES.items():
        runs = match_levels(ENTRY_POLICIES[name], policy, turns=TURNS, n_runs=4 if policy.stochastic else 1, rng=1)
        for run in runs:
            match = axl.Match((axelrod_player(axl, name), axl.MockPlayer(actions=[D if x else C for x in run[:, 1]])),
                              turns=TURNS)
            match.play()
            theirs = np.array([move == D for move, _ in match.result], dtype=np.int8)
            assert np.array_equal(theirs, run[:, 0]), (name, other, np.flatnonzero(theirs != run[:, 0])[:3])


def axelrod_scores(axl, a, b, n, seed):
    out = []
    for s in np.random.SeedSequence(seed).generate_state(n):
        match = axl.Match((axelrod_player(axl, a), axelrod_player(axl, b)), turns=TURNS, seed=int(s))
        match.play()
        out.append(match.final_score())
    return np.array(out, dtype=float)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_a_stochastic_entry_scores_as_axelrods_in_distribution_against_every_entry(axl, name):
    """The mean score of both players over a few of the Axelrod library's matches against each
    opponent, and summed over the opponents (the entry's tournament score), lies in the central
    99.99% of the same means over as many of our matches (resampled from 2000 of ours). Scores
    can be heavy-tailed (a rare mode of cooperation), so the band is resampled, not normal.
    The Axelrod library plays slowly (Graaskamp runs a chi-squared test every move): a few of
    its matches per pair."""
    n_theirs, n_ours, n_boot, alpha = 6, 2000, 100_000, 1e-4
    boot = np.random.default_rng(0)
    total_theirs, total_boot = np.zeros(2), np.zeros((n_boot, 2))
    for k, other in enumerate(ENTRY_POLICIES):
        theirs = axelrod_scores(axl, name, other, n_theirs, seed=k).mean(axis=0)
        ours = match_scores(ENTRY_POLICIES[name], ENTRY_POLICIES[other], turns=TURNS, n_runs=n_ours, rng=k)
        means = ours[boot.integers(0, n_ours, (n_boot, n_theirs))].mean(axis=1)  # (n_boot, 2)
        low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2], axis=0)
        assert ((low - 1e-9 <= theirs) & (theirs <= high + 1e-9)).all(), (name, other, theirs, low, high)
        total_theirs += theirs
        total_boot += means
    low, high = np.quantile(total_boot, [alpha / 2, 1 - alpha / 2], axis=0)
    assert ((low <= total_theirs) & (total_theirs <= high)).all(), (name, total_theirs, low, high)


def test_the_replay_has_the_published_shape():
    result = first_tournament(rng=3)
    assert len(result.matches) == 5 * (15 * 14 + 15)  # ordered pairs and self-play, five repetitions
    table = result.ranking
    assert set(table.strategy) == set(ENTRIES) and table.published.notna().all()
    # The eight deterministic entries that are nice to each other score 600 against each other.
    nice = ["tit_for_tat", "nydegger", "grofman", "shubik", "friedman", "davis"]
    assert (result.matrix.loc[nice, nice].to_numpy() == 3).all()
    # Per match is the matrix row's mean over all fifteen opponents, times 200 turns.
    per_match = result.matrix.mean(axis=1) * 200
    assert np.allclose(table.set_index("strategy").per_match, per_match.reindex(table.strategy))
    # The same top and bottom groups as published.
    assert rank_correlation(result) > 0.8
    assert set(table.strategy[-4:]) <= {"feld", "joss", "tullock", "anonymous", "random"}
    assert published_ranking().published.tolist() == list(PUBLISHED_SCORES.values())


def test_the_entries_that_know_the_length_defect_on_the_last_two_moves_only_when_told_it():
    told = first_tournament_entries(turns=20)
    levels = match_levels(told["stein_and_rapoport"], "always_cooperate", turns=20)
    assert levels[0, -2:, 0].tolist() == [1, 1] and levels[0, :-2, 0].sum() == 0
    untold = first_tournament_entries(turns=None)
    levels = match_levels(untold["tideman_and_chieruzzi"], "always_cooperate", turns=20)
    assert levels[0, :, 0].sum() == 0


# -- many matches at once, against the core ------------------------------------------------------
def test_the_round_robin_of_deterministic_entries_scores_exactly_as_the_core_tournament():
    from escalation_sim.games import tournament
    from escalation_sim.games.first_tournament import round_robin

    entries = {name: ENTRY_POLICIES[name] for name in DETERMINISTIC}
    ours = round_robin(entries, repetitions=2, rng=1)
    core = tournament(entries, turns=TURNS, repetitions=1, rng=1)
    assert np.array_equal(ours.matrix.to_numpy(), core.matrix.to_numpy())
    assert ours.ranking.strategy.tolist() == core.ranking.strategy.tolist()


@pytest.mark.parametrize("a, b, kw", [
    ("feld", "tullock", {}), ("graaskamp", "joss", {}), ("tideman_and_chieruzzi", "grofman", {"noise": 0.05}),
    ("nydegger", "random", {"prob_end": 0.02}), ("downing", "shubik", {"noise": 0.1, "prob_end": 0.05}),
])
def test_many_matches_at_once_agree_with_the_core_in_distribution(a, b, kw):
    from escalation_sim.games.many_matches import play_many

    n = 3000
    policies = [ENTRY_POLICIES[a], ENTRY_POLICIES[b]]
    ours = play_many(policies, np.zeros(n, dtype=int), np.ones(n, dtype=int), turns=TURNS, rng=2, **kw)
    core = match_scores(policies[0], policies[1], turns=TURNS, n_runs=n, rng=3, lengths=True, **kw)
    se = np.sqrt(ours.var(axis=0, ddof=1) / n + core.var(axis=0, ddof=1) / n)
    assert (np.abs(ours.mean(axis=0) - core.mean(axis=0)) <= Z * se + 1e-9).all(), (ours.mean(0), core.mean(0), se)
