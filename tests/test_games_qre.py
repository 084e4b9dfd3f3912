"""Logit quantal response equilibria: closed forms on 2x2 games, independent one-dimensional
root finds, the principal branch through turning points, and its Nash limit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from escalation_sim import load_scenario
from escalation_sim.games import CHICKEN, PRISONERS_DILEMMA, STAGE_GAMES, STAG_HUNT, dyad_game, equilibria
from escalation_sim.games.qre import qre, qre_branch, regret, residual

LAMBDAS = [0.5, 2.0, 10.0]


@pytest.mark.parametrize("lam", LAMBDAS)
def test_a_row_with_a_constant_advantage_has_the_closed_form_logit(lam):
    """Row 0 beats row 1 by exactly 1 whatever the column: x0 = 1 / (1 + e^-lam), and the
    column player answers that: y = logit(lam B^T x)."""
    A = np.array([[2.0, 0.0], [1.0, -1.0]])
    B = np.array([[0.0, 3.0], [2.0, 0.0]])
    point = qre((A, B), lam)
    x0 = special.expit(lam)
    y0 = special.expit(lam * ((B[0, 0] - B[0, 1]) * x0 + (B[1, 0] - B[1, 1]) * (1 - x0)))
    assert point.x[0] == pytest.approx(x0, abs=1e-10) and point.y[0] == pytest.approx(y0, abs=1e-10)


@pytest.mark.parametrize("lam", LAMBDAS)
def test_matching_pennies_is_uniform_at_every_lambda(lam):
    A = np.array([[1.0, -1.0], [-1.0, 1.0]])
    point = qre((A, -A), lam)
    assert np.allclose(point.x, 0.5, atol=1e-12) and np.allclose(point.y, 0.5, atol=1e-12)


@pytest.mark.parametrize("lam", LAMBDAS)
def test_an_asymmetric_2x2_game_solves_its_scalar_fixed_point(lam):
    """x0 = expit(lam dA(y0)), y0 = expit(lam dB(x0)): one equation in x0, with a unique root
    in a game of matching-pennies type, found by Brent's method."""
    A = np.array([[9.0, 0.0], [0.0, 1.0]])
    B = np.array([[0.0, 1.0], [1.0, 0.0]])

    def y0(x0):
        return special.expit(lam * ((B[0, 0] - B[0, 1]) * x0 + (B[1, 0] - B[1, 1]) * (1 - x0)))

    def gap(x0):
        y = y0(x0)
        return x0 - special.expit(lam * ((A[0, 0] - A[1, 0]) * y + (A[0, 1] - A[1, 1]) * (1 - y)))

    x0 = optimize.brentq(gap, 0, 1, xtol=1e-14)
    point = qre((A, B), lam)
    assert point.x[0] == pytest.approx(x0, abs=1e-9) and point.y[0] == pytest.approx(y0(x0), abs=1e-9)


@pytest.mark.parametrize("game", [PRISONERS_DILEMMA, STAG_HUNT, CHICKEN], ids=lambda g: g.name)
@pytest.mark.parametrize("lam", LAMBDAS)
def test_a_symmetric_game_follows_its_symmetric_scalar_fixed_point(game, lam):
    """On the symmetric branch p = expit(lam (u_C(p) - u_D(p))); its root that continues from
    p = 1/2 at lambda = 0 (for these games and lambdas, the only root below the first fold)."""
    R, S, T, P = (float(v) for v in game.rstp)

    def gap(p):
        return p - special.expit(lam * ((R - T) * p + (S - P) * (1 - p)))

    grid = np.linspace(0, 1, 2000)  # 1/2 is not a grid point: a root there changes sign inside a cell
    roots = [optimize.brentq(gap, a, b, xtol=1e-14) for a, b in zip(grid[:-1], grid[1:]) if gap(a) * gap(b) < 0]
    point = qre(game, lam)
    assert np.allclose(point.x, point.y)
    assert any(abs(point.x[0] - r) < 1e-9 for r in roots), (point.x, roots)
    if len(roots) == 1:
        assert point.x[0] == pytest.approx(roots[0], abs=1e-9)


def test_symmetric_chicken_reaches_its_mixed_equilibrium_with_no_regret():
    branch = qre_branch(CHICKEN)
    last = branch.iloc[-1]
    assert last.x0 == pytest.approx(0.5, abs=1e-9) and last.y0 == pytest.approx(0.5, abs=1e-9)
    assert (branch.regret < 1e-9).all()  # the symmetric branch of Chicken sits on (1/2, 1/2)


def close_to_an_equilibrium(A, B, x, y, tol):
    for ex, ey in equilibria(A, B):
        if np.abs(np.array(ex, dtype=float) - x).max() < tol and np.abs(np.array(ey, dtype=float) - y).max() < tol:
            return True
    return False


@pytest.mark.parametrize("name", list(STAGE_GAMES))
def test_the_branch_ends_at_a_nash_equilibrium_of_each_classic_game(name):
    game = STAGE_GAMES[name]
    branch = qre_branch(game)
    last = branch.iloc[-1]
    x, y = last[["x0", "x1"]].to_numpy(float), last[["y0", "y1"]].to_numpy(float)
    assert last.regret < 1e-3 and close_to_an_equilibrium(game.A, game.B, x, y, 1e-3)
    assert (branch.residual < 1e-9).all()
    assert branch.lam.iloc[0] == 0 and np.allclose(branch.iloc[0][["x0", "x1", "y0", "y1"]].to_numpy(float), 0.5)


def test_stag_hunt_selects_the_risk_dominant_equilibrium():
    last = qre_branch(STAG_HUNT).iloc[-1]
    assert last.x1 > 0.999 and last.y1 > 0.999  # (defect, defect): P - S = 2 > R - T = 1


def test_the_trace_goes_through_turning_points_to_the_equilibrium():
    """A 2x3 game whose principal branch turns back in lambda twice (lambda rises to about 24,
    falls to about 17.5, rises again) before it reaches the game's only equilibrium."""
    A = np.array([[-0.54, -0.68, 0.93], [-0.63, 0.67, 0.89]])
    B = np.array([[1.19, 0.05, 0.51], [-0.78, -1.0, 1.59]])
    branch = qre_branch((A, B))
    lam = branch.lam.to_numpy()
    assert (np.diff(lam) < 0).any() and lam.max() == lam[-1]
    for _, row in branch.iterrows():  # every point is a QRE, checked here again independently
        x, y = row[["x0", "x1"]].to_numpy(float), row[["y0", "y1", "y2"]].to_numpy(float)
        assert residual(A, B, x, y, row.lam) < 1e-9
        assert regret(A, B, x, y) <= 2 / (np.e * row.lam) + 1e-9 if row.lam > 0 else True
    last = branch.iloc[-1]
    x, y = last[["x0", "x1"]].to_numpy(float), last[["y0", "y1", "y2"]].to_numpy(float)
    assert close_to_an_equilibrium(A, B, x, y, 1e-3)
    # qre at a lambda the branch crosses three times gives its first crossing.
    first = branch[branch.lam >= 20].iloc[0]
    point = qre((A, B), 20.0)
    assert point.x[0] == pytest.approx(first.x0, abs=0.05)


def test_a_scenario_dyad_has_a_branch_ending_in_an_equilibrium():
    scenario = load_scenario("us_iran_2020")
    a, b = scenario.actor_ids[:2]
    game = dyad_game(scenario, a, b)
    last = qre_branch(game).iloc[-1]
    n = game.A.shape[0]
    x = last[[f"x{i}" for i in range(n)]].to_numpy(float)
    y = last[[f"y{i}" for i in range(n)]].to_numpy(float)
    assert regret(game.A, game.B, x, y) < 1e-3 * np.ptp(game.A)


def test_bad_games_and_lambdas_are_refused():
    with pytest.raises(ValueError, match="lam"):
        qre(CHICKEN, -1.0)
    with pytest.raises(ValueError, match="game"):
        qre((np.ones((2, 2)), np.ones((3, 2))), 1.0)
