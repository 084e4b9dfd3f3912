"""Extreme equilibria of bimatrix games, exact, degenerate games included: against nashpy's vertex
enumeration on random integer games and on the degenerate examples reported on public trackers."""

from __future__ import annotations

import warnings
from fractions import Fraction as F

import nashpy
import numpy as np
import pytest

from escalation_sim.games import equilibria
from escalation_sim.games.stage import StageGame


def as_float_set(pairs, digits=6):
    return {(tuple(np.round(np.asarray(x, float), digits) + 0.0), tuple(np.round(np.asarray(y, float), digits) + 0.0))
            for x, y in pairs}


def nashpy_vertices(A, B):
    """nashpy's vertex enumeration, with payoffs shifted to be positive (which keeps the
    equilibria) so that its best-response polytopes are bounded."""
    A, B = np.asarray(A, float), np.asarray(B, float)
    return list(nashpy.Game(A - A.min() + 1, B - B.min() + 1).vertex_enumeration())


def quiet_equilibria(A, B):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return equilibria(A, B)


def is_degenerate(A, B) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        equilibria(A, B)
    return any("degenerate" in str(w.message) for w in caught)


def is_equilibrium(A, B, x, y) -> bool:
    """Exactly: no pure deviation gains."""
    A, B = np.array(A, dtype=object), np.array(B, dtype=object)
    x, y = np.array(x, dtype=object), np.array(y, dtype=object)
    return max(A.dot(y)) == x.dot(A.dot(y)) and max(B.T.dot(x)) == x.dot(B.dot(y))


ISSUE_39 = np.array([[0, 1, 0, -1], [-1, 0, 1, 1], [0, -1, 0, 1], [1, -1, -1, 0]])


def test_the_nashpy_issue_39_game_has_the_four_extreme_equilibria_of_vertex_enumeration():
    with pytest.warns(UserWarning, match="issue 39 is degenerate"):
        ours = equilibria(ISSUE_39, -ISSUE_39, name="issue 39")
    assert len(ours) == 4
    assert as_float_set(ours) == as_float_set(nashpy_vertices(ISSUE_39, -ISSUE_39))
    half, third = F(1, 2), F(1, 3)
    assert ((half, 0, half, 0), (third, third, 0, third)) in ours


def test_nashpy_issue_82_has_the_eight_equilibria_its_reporter_listed_exactly():
    # Players minimise costs A and B: the game of payoffs -A, -B.
    A = np.array([[0, 0, 6, 0, 0], [0, 0, 3, 2, 1], [4, 3, 0, 0, 1]])
    B = np.array([[3, 0, 2, 1, 0], [0, 2, 0, 0, 4], [4, 0, 2, 4, 4]])
    listed = [
        ((1, 0, 0), (0, 1, 0, 0, 0)), ((1, 0, 0), (0, 0, 0, 0, 1)),
        ((F(2, 3), F(1, 3), 0), (0, 1, 0, 0, 0)), ((F(1, 3), F(1, 2), F(1, 6)), (0, F(4, 9), F(2, 9), F(1, 3), 0)),
        ((0, F(1, 2), F(1, 2)), (0, F(1, 2), F(1, 2), 0, 0)), ((0, 1, 0), (F(3, 7), 0, F(4, 7), 0, 0)),
        ((0, 1, 0), (1, 0, 0, 0, 0)), ((0, 1, 0), (F(3, 8), 0, F(1, 4), F(3, 8), 0)),
    ]
    ours = quiet_equilibria(-A, -B)
    assert sorted(ours) == sorted(tuple(tuple(F(p) for p in s) for s in pair) for pair in listed)


@pytest.mark.parametrize("A", [
    # nashpy issue 41 (zero-sum, the first row has two best responses)
    [[0, -1, 1, 1], [1, 0, -1, -1], [-1, 1, 0, -1], [-1, 1, 1, 0]],
    # nashpy issue 231 (zero-sum, four best responses to the first column)
    [[0, -1, -1, -1, 1, -1], [1, 0, 1, -1, -1, -1], [1, -1, 0, -1, -1, 1],
     [1, 1, 1, 0, -1, -1], [-1, 1, 1, 1, 0, -1], [1, 1, -1, 1, 1, 0]],
])
def test_reported_degenerate_zero_sum_games_match_vertex_enumeration(A):
    A = np.array(A)
    assert is_degenerate(A, -A)
    ours = quiet_equilibria(A, -A)
    assert ours and as_float_set(ours) == as_float_set(nashpy_vertices(A, -A))


def test_the_quantecon_degenerate_example_has_three_extreme_equilibria():
    # QuantEcon.py pull request 326: support enumeration finds two of them.
    A = [[3, 3], [2, 5], [0, 6]]
    B = [[3, 3], [2, 6], [3, 1]]
    ours = quiet_equilibria(A, B)
    assert set(ours) == {((1, 0, 0), (1, 0)), ((1, 0, 0), (F(2, 3), F(1, 3))),
                         ((0, F(1, 3), F(2, 3)), (F(1, 3), F(2, 3)))}


@pytest.mark.parametrize("seed", range(40))
def test_random_small_integer_games_match_nashpy_vertex_enumeration(seed):
    gen = np.random.default_rng(seed)
    n, m = gen.integers(2, 7, size=2)
    A, B = gen.integers(-2, 3, size=(2, n, m))  # five values: ties, hence degeneracy, are common
    ours = quiet_equilibria(A, B)
    assert ours, "Nash's theorem: never empty"
    assert all(is_equilibrium(A, B, x, y) for x, y in ours)
    assert all(isinstance(p, F) for x, y in ours for p in (*x, *y))
    assert as_float_set(ours) == as_float_set(nashpy_vertices(A, B))


def test_most_of_the_random_integer_games_are_degenerate_and_generic_ones_are_not():
    gen = np.random.default_rng(0)
    small = [gen.integers(-2, 3, size=(2, 4, 4)) for _ in range(10)]
    assert sum(is_degenerate(A, B) for A, B in small) >= 5
    # Real-valued payoffs are nondegenerate with probability one: an odd number of equilibria.
    for _ in range(5):
        A, B = gen.normal(size=(2, 5, 5))
        assert not is_degenerate(A, B)
        ours = equilibria(A, B)
        assert len(ours) % 2 == 1
        assert as_float_set(ours) == as_float_set(nashpy_vertices(A, B))


def test_a_game_of_constant_payoffs_has_every_pure_profile_as_an_extreme_equilibrium():
    zeros = np.zeros((3, 4), dtype=int)
    with pytest.warns(UserWarning, match="degenerate"):
        ours = equilibria(zeros, zeros)
    assert len(ours) == 12 and all(max(x) == 1 and max(y) == 1 for x, y in ours)


def test_a_stage_game_names_itself_in_the_degeneracy_warning():
    game = StageGame.from_arrays("tied", [[1, 1], [0, 2]], [[1, 1], [0, 2]])
    with pytest.warns(UserWarning, match="tied is degenerate"):
        assert game.equilibria()


def test_the_classic_games_are_nondegenerate_and_warn_nothing():
    from escalation_sim.games import STAGE_GAMES

    for game in STAGE_GAMES.values():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(game.equilibria()) % 2 == 1
