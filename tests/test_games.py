"""Stage games, classic strategies, matches and tournaments: equilibria agree with Nashpy, the
classic strategies are the textbook presets, match scores agree with hand-counted payoffs, and
tournaments and ecological dynamics hold their invariants."""

from __future__ import annotations

from fractions import Fraction

import nashpy
import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.analysis.markov import cooperation_vector
from escalation_sim.games import (
    AXELROD_NAMES, CHICKEN, PRISONERS_DILEMMA, STAG_HUNT, STAGE_GAMES, STRATEGIES, StageGame,
    dyad_game, echo_lengths, ecological, equilibria, match_levels, match_scores, match_states,
    strategy, tournament, undominated,
)

# -- stage games -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STAGE_GAMES))
def test_each_classic_game_is_classified_by_the_order_of_its_payoffs(name):
    assert STAGE_GAMES[name].kind == name


def _as_float_set(pairs):
    return sorted(tuple(np.round(np.concatenate([np.asarray(x, float), np.asarray(y, float)]), 12)) for x, y in pairs)


@pytest.mark.parametrize("name", sorted(STAGE_GAMES))
def test_equilibria_of_each_classic_game_match_nashpy_support_enumeration(name):
    game = STAGE_GAMES[name]
    ours = game.equilibria()
    theirs = list(nashpy.Game(game.A, game.B).support_enumeration())
    assert _as_float_set(ours) == _as_float_set(theirs)


def test_the_mixed_equilibria_are_exact_fractions_from_the_indifference_conditions():
    # Chicken (3, 1, 4, 0): 1 + 2q = 4q at q = 1/2; stag hunt (4, 0, 3, 2): 4q = 2 + q at q = 2/3.
    half, third = Fraction(1, 2), Fraction(1, 3)
    assert ((half, half), (half, half)) in CHICKEN.equilibria()
    assert ((2 * third, third), (2 * third, third)) in STAG_HUNT.equilibria()
    assert PRISONERS_DILEMMA.equilibria() == [((0, 1), (0, 1))]


def test_the_equilibrium_table_gives_exact_expected_payoffs():
    table = STAG_HUNT.equilibrium_table()
    assert list(table["kind"]) == ["pure", "pure", "mixed"]
    mixed = table.iloc[2]
    assert mixed["A"] == "2/3 cooperate + 1/3 defect"
    assert mixed["payoff_A"] == Fraction(8, 3) == mixed["payoff_B"]  # 4 * 2/3, the value of cooperating


@pytest.mark.parametrize("name", sorted(STAGE_GAMES))
def test_pure_equilibria_are_the_equilibria_with_one_action_each(name):
    game = STAGE_GAMES[name]
    pure = [(x.index(1), y.index(1)) for x, y in game.equilibria() if 1 in x and 1 in y]
    assert sorted(pure) == sorted(game.pure_equilibria())


def test_a_game_with_a_dominated_action_keeps_its_equilibria_after_elimination():
    A = np.array([[3, 0, 2], [5, 1, 1], [0, 0, 0]])  # the third row is dominated by the first
    B = A.T
    assert undominated(A, B)[0] == [1]
    theirs = list(nashpy.Game(A, B).support_enumeration())
    assert _as_float_set(equilibria(A, B)) == _as_float_set(theirs)


def test_an_asymmetric_game_has_no_rstp_and_a_symmetric_one_does():
    assert PRISONERS_DILEMMA.rstp == (3, 0, 5, 1)
    battle = StageGame.from_arrays("battle", [[2, 0], [0, 1]], [[1, 0], [0, 2]])
    assert battle.rstp is None and battle.kind is None
    assert battle.pure_equilibria() == [(0, 0), (1, 1)]


def test_a_two_level_dyad_of_a_scenario_is_its_prisoners_dilemma():
    game = dyad_game(es.load_scenario("ipd_noise"), "A", "B")
    assert game.kind == "prisoners_dilemma"
    assert np.array_equal(game.A, PRISONERS_DILEMMA.A) and np.array_equal(game.B, PRISONERS_DILEMMA.B)


def test_a_dyad_of_a_multi_level_scenario_is_the_payoff_table_and_its_transpose():
    scenario = es.load_scenario("us_iran_2020")
    table = scenario.payoffs.table(scenario.ladder)
    game = dyad_game(scenario, "USA", "KH")
    assert np.array_equal(game.A, table) and np.array_equal(game.B, table.T)
    assert game.actions == tuple(scenario.level_names())
    # Harm payoffs with a cost of one's own acts: quiet is dominant, the only equilibrium.
    quiet = tuple(Fraction(int(k == 0)) for k in range(len(table)))
    assert game.equilibria() == [(quiet, quiet)]
    assert game.pure_equilibria() == [(0, 0)]


def test_a_dyad_game_agrees_with_nashpy_on_a_three_level_ladder():
    scenario = es.Scenario.from_dict({
        "schema_version": 1, "time": {"n_steps": 5}, "ladder": [{"name": n} for n in ("q", "a", "b")],
        "actors": {"X": {"kind": "state", "policy": "tit_for_tat"}, "Y": {"kind": "state", "policy": "tit_for_tat"}},
        "payoffs": {"matrix": [[3, 0, -1], [4, 1, -2], [2, 2, -3]]},
    })
    game = dyad_game(scenario, "X", "Y")
    assert _as_float_set(game.equilibria()) == _as_float_set(nashpy.Game(game.A, game.B).support_enumeration())


def test_a_dyad_of_unknown_actors_names_the_known_ones():
    with pytest.raises(ValueError, match="known: USA"):
        dyad_game(es.load_scenario("us_iran_2020"), "USA", "XYZ")


# -- strategies --------------------------------------------------------------------------------

FOUR_VECTORS = {
    "always_cooperate": (1, 1, 1, 1), "always_defect": (0, 0, 0, 0), "tit_for_tat": (1, 0, 1, 0),
    "generous_tit_for_tat": (1, 1 / 3, 1, 1 / 3), "win_stay_lose_shift": (1, 0, 0, 1),
    "alternator": (0, 0, 1, 1), "random": (0.5, 0.5, 0.5, 0.5), "suspicious_tit_for_tat": (1, 0, 1, 0),
}


def test_every_classic_strategy_has_an_axelrod_name_and_is_a_registered_policy():
    assert set(STRATEGIES) == set(AXELROD_NAMES)
    for name, policy in STRATEGIES.items():
        assert policy.family in es.policy_names()
        assert strategy(name) is policy


@pytest.mark.parametrize("name", sorted(FOUR_VECTORS))
def test_memory_one_strategies_are_their_textbook_four_vectors(name):
    assert np.allclose(cooperation_vector(STRATEGIES[name]), FOUR_VECTORS[name])


def test_the_aliases_name_the_same_strategies():
    assert strategy("grim_trigger") is STRATEGIES["grudger"]
    assert strategy("defector") is STRATEGIES["always_defect"]
    assert strategy({"family": "generous_tit_for_tat", "generosity": 0.1}).generosity == 0.1


# -- matches -----------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, expected", [
    ("always_cooperate", "always_defect", (0, 1000)),        # S and T for 200 turns
    ("tit_for_tat", "always_defect", (199, 204)),            # S then P; T then P
    ("alternator", "always_cooperate", (800, 300)),          # R, T, R, T ... against R throughout
    ("tit_for_tat", "suspicious_tit_for_tat", (500, 500)),   # S, T, S, T ...
    # Alternator C, D, C, D...; grudger C, C, then D for ever: CC, CD, then DC and DD (99 each).
    ("grudger", "alternator", (3 + 0 + 99 * 5 + 99 * 1, 3 + 5 + 99 * 0 + 99 * 1)),
])
def test_deterministic_matches_score_the_hand_counted_payoffs(a, b, expected):
    assert np.array_equal(match_scores(a, b, turns=200), [expected])


def test_match_scores_use_the_game_given():
    assert np.array_equal(match_scores("always_cooperate", "always_cooperate", turns=10, game=STAG_HUNT), [[40, 40]])
    assert np.array_equal(match_scores("always_defect", "always_cooperate", turns=10, game=(1, 0, 2, 0.5)), [[20, 0]])


def test_an_asymmetric_game_cannot_score_a_match():
    battle = StageGame.from_arrays("battle", [[2, 0], [0, 1]], [[1, 0], [0, 2]])
    with pytest.raises(ValueError, match="not a symmetric 2x2 game"):
        match_scores("tit_for_tat", "tit_for_tat", game=battle)


def test_match_scores_have_one_row_per_run_and_repeat_with_the_seed():
    first = match_scores("random", "tit_for_tat", turns=50, noise=0.1, n_runs=7, rng=3)
    assert first.shape == (7, 2)
    assert np.array_equal(first, match_scores("random", "tit_for_tat", turns=50, noise=0.1, n_runs=7, rng=3))
    assert not np.array_equal(first, match_scores("random", "tit_for_tat", turns=50, noise=0.1, n_runs=7, rng=4))


def test_state_counts_give_back_the_scores_of_the_same_runs():
    states = match_states("generous_tit_for_tat", "win_stay_lose_shift", turns=100, noise=0.05, n_runs=50, rng=5)
    scores = match_scores("generous_tit_for_tat", "win_stay_lose_shift", turns=100, noise=0.05, n_runs=50, rng=5)
    assert (states >= 0).all() and (states.sum(axis=1) == 100).all()
    assert np.array_equal(states @ [3, 0, 5, 1], scores[:, 0])
    assert np.array_equal(states @ [3, 5, 0, 1], scores[:, 1])


def test_match_levels_are_the_actions_that_make_the_state_counts():
    levels = match_levels("tit_for_tat", "random", turns=60, noise=0.05, n_runs=30, rng=8)
    states = match_states("tit_for_tat", "random", turns=60, noise=0.05, n_runs=30, rng=8)
    code = 2 * levels[:, :, 0] + levels[:, :, 1]  # CC, CD, DC, DD
    assert np.array_equal([[np.sum(row == s) for s in range(4)] for row in code], states)


def test_echoes_are_the_stretches_where_exactly_one_player_defects():
    a = [0, 1, 0, 1, 0, 0, 1, 1, 0, 1]
    b = [0, 0, 1, 0, 0, 0, 1, 0, 1, 1]  # unilateral at turns 1-3, 7-8
    levels = np.array([a, b]).T[None]
    assert echo_lengths(levels, start_before=10).tolist() == [3, 2]
    assert echo_lengths(levels, start_before=5).tolist() == [3]


# -- tournaments -------------------------------------------------------------------------------

def test_a_noiseless_tournament_has_the_hand_computed_matrix_and_ranking():
    result = tournament(["always_cooperate", "always_defect", "tit_for_tat"], turns=200, repetitions=2, rng=0)
    expected = [[3, 0, 3], [5, 1, (5 + 199) / 200], [3, 199 / 200, 3]]
    assert np.allclose(result.matrix.to_numpy(), expected)
    ranking = result.ranking.set_index("strategy")
    assert list(result.ranking["strategy"]) == ["always_defect", "tit_for_tat", "always_cooperate"]
    assert ranking.loc["always_defect", "score"] == pytest.approx((5 + 1.02) / 2)
    assert ranking.loc["always_defect", "wins"] == 2 and ranking.loc["tit_for_tat", "wins"] == 0
    assert list(result.ranking["rank"]) == [1, 2, 3]


def test_a_noisy_tournament_matrix_is_the_mean_of_its_matches():
    result = tournament(["tit_for_tat", "win_stay_lose_shift"], turns=50, repetitions=4, noise=0.1, rng=2)
    matches = result.matches
    assert len(matches) == 4 * (1 + 2 + 1)  # self-play once, the cross pair from both sides
    cross = matches[(matches.strategy == "tit_for_tat") & (matches.opponent == "win_stay_lose_shift")]
    assert result.matrix.loc["tit_for_tat", "win_stay_lose_shift"] == pytest.approx(cross.score.mean())
    self_play = matches[(matches.strategy == "tit_for_tat") & (matches.opponent == "tit_for_tat")]
    both = np.concatenate([self_play.score, self_play.opponent_score]).mean()
    assert result.matrix.loc["tit_for_tat", "tit_for_tat"] == pytest.approx(both)


def test_a_tournament_repeats_with_its_seed():
    args = dict(turns=30, repetitions=3, noise=0.05)
    a = tournament(["random", "grudger", "alternator"], rng=11, **args)
    b = tournament(["random", "grudger", "alternator"], rng=11, **args)
    assert a.matches.equals(b.matches)


def test_a_strategy_entered_twice_is_refused():
    with pytest.raises(ValueError, match="given twice"):
        tournament(["tit_for_tat", "tit_for_tat"])


# -- ecological dynamics -----------------------------------------------------------------------

def test_ecological_shares_follow_the_replicator_step_and_sum_to_one():
    M = np.array([[3.0, 0.5], [4.0, 1.0]])
    shares = ecological(M, initial=[3, 1], generations=5)
    x = np.array([0.75, 0.25])
    f = M @ x
    assert np.allclose(shares.loc[1], x * f / (x @ f))
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert list(shares.index) == list(range(6))


def test_replicator_dynamics_find_the_mixed_equilibrium_of_chicken():
    # Shifting payoffs by a constant keeps the equilibria and makes every fitness positive.
    shares = ecological(CHICKEN.A + 1, initial=[0.9, 0.1], generations=300)
    assert np.allclose(shares.iloc[-1], [0.5, 0.5], atol=1e-9)


def test_defectors_take_over_a_population_of_cooperators():
    shares = ecological(PRISONERS_DILEMMA.A, initial=[0.99, 0.01], generations=200)
    assert shares.iloc[-1, 1] > 0.999


def test_ecological_refuses_a_non_positive_fitness():
    with pytest.raises(ValueError, match="fitness must be positive"):
        ecological(CHICKEN.A - 5, generations=3)
