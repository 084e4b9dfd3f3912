"""Logit quantal response equilibria (QRE) of two-player games, and the principal branch traced
from lambda = 0 to the Nash limit.

At rationality ``lambda`` each player plays each action with probability proportional to
``exp(lambda * expected payoff)`` against the other's mixed strategy, and a QRE is a fixed point
(McKelvey and Palfrey 1995): ``x = logit(lambda A y)``, ``y = logit(lambda B^T x)``. At
``lambda = 0`` the only QRE is uniform play; as ``lambda`` grows, the branch of QRE that starts
there (the principal branch) leads to a Nash equilibrium, which selects one.

The branch is a curve in (log x, log y, lambda), traced by predictor-corrector continuation in
arc length (Allgower and Georg 1990; Turocy 2005): the tangent is the null vector of the
Jacobian, a step goes along it, and Newton's method with minimum-norm steps brings the point back
onto the curve. Arc length, not lambda, is the parameter, so the trace goes on where the branch
turns back in lambda. In a symmetric game the principal branch is symmetric (its mirror image is
a branch from the same start), and it is traced on the symmetric profiles ``x = y``: otherwise
rounding can push the trace onto an asymmetric branch where they bifurcate (as in Chicken).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, special

from .stage import StageGame
from .._text import show

#: A point is on the branch when the fixed-point equations hold to this (max abs error).
TOLERANCE = 1e-9


def _matrices(game) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(game, StageGame):
        return game.A, game.B
    try:
        A, B = (np.asarray(m, dtype=float) for m in game)
    except (TypeError, ValueError):
        raise ValueError(f"game: expected a StageGame or a pair of payoff matrices (A, B), got {show(game)}") from None
    if A.ndim != 2 or A.shape != B.shape or min(A.shape) < 1 or not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("game: A and B must be finite payoff matrices of one shape (n, m), "
                         f"got {A.shape} and {B.shape}")
    return A, B


def logit(payoffs: np.ndarray, lam: float) -> np.ndarray:
    """The logit response: probabilities proportional to ``exp(lam * payoffs)`` (last axis)."""
    return special.softmax(lam * np.asarray(payoffs, dtype=float), axis=-1)


@dataclass(frozen=True)
class QREPoint:
    """A logit QRE: ``x`` (row player A, length n) and ``y`` (column player B, length m) at
    rationality ``lam``; ``residual`` is the max error of the fixed-point equations and
    ``regret`` the max over both players of what a best response would gain (its Nash regret,
    at most ``(n - 1) / (e lam)`` for a logit response)."""

    lam: float
    x: np.ndarray
    y: np.ndarray
    residual: float
    regret: float


def regret(A, B, x, y) -> float:
    """Max over both players of the best response's payoff minus the payoff of their strategy."""
    ua, ub = A @ y, B.T @ x
    return float(max(ua.max() - x @ ua, ub.max() - y @ ub))


def residual(A, B, x, y, lam) -> float:
    """Max abs error of ``x = logit(lam A y)`` and ``y = logit(lam B^T x)``."""
    return float(max(np.abs(x - logit(A @ y, lam)).max(), np.abs(y - logit(B.T @ x, lam)).max()))


class _System:
    """The QRE equations in v = (log x, log y, lambda), or (log x, lambda) on symmetric profiles."""

    def __init__(self, A, B, symmetric):
        self.A, self.B, self.symmetric = A, B, symmetric
        self.n, self.m = A.shape

    def split(self, v):
        n = self.n
        a = v[:n]
        b = a if self.symmetric else v[n : n + self.m]
        return np.exp(a), np.exp(b), v[-1]

    def F(self, v):
        x, y, lam = self.split(v)
        n = self.n
        ua = self.A @ y
        f = [v[1:n] - v[0] - lam * (ua[1:] - ua[0]), [x.sum() - 1]]
        if not self.symmetric:
            ub = self.B.T @ x
            b = v[n : n + self.m]
            f += [b[1:] - b[0] - lam * (ub[1:] - ub[0]), [y.sum() - 1]]
        return np.concatenate(f)

    def J(self, v):
        x, y, lam = self.split(v)
        n, m, A, B = self.n, self.m, self.A, self.B
        diff_a = A[1:] - A[0]  # (n - 1, m)
        if self.symmetric:
            J = np.zeros((n, n + 1))
            J[: n - 1, 1:n] = np.eye(n - 1)
            J[: n - 1, 0] = -1
            J[: n - 1, :n] += -lam * diff_a * y  # y is x: d/d log x_j of (A x)
            J[: n - 1, n] = -(diff_a @ y)
            J[n - 1, :n] = x
            return J
        diff_b = (B[:, 1:] - B[:, :1]).T  # (m - 1, n)
        J = np.zeros((n + m, n + m + 1))
        J[: n - 1, 1:n] = np.eye(n - 1)
        J[: n - 1, 0] = -1
        J[: n - 1, n : n + m] = -lam * diff_a * y
        J[: n - 1, -1] = -(diff_a @ y)
        J[n - 1, :n] = x
        r = n
        J[r : r + m - 1, n + 1 : n + m] = np.eye(m - 1)
        J[r : r + m - 1, n] = -1
        J[r : r + m - 1, :n] = -lam * diff_b * x
        J[r : r + m - 1, -1] = -(diff_b @ x)
        J[r + m - 1, n : n + m] = y
        return J

    def start(self):
        a = np.full(self.n, -np.log(self.n))
        return np.concatenate([a, [0.0]] if self.symmetric else [a, np.full(self.m, -np.log(self.m)), [0.0]])

    def point(self, v) -> QREPoint:
        x, y, lam = self.split(v)
        x, y = x / x.sum(), y / y.sum()
        return QREPoint(float(lam), x, y, residual(self.A, self.B, x, y, lam), regret(self.A, self.B, x, y))


def _tangent(J, previous=None):
    q, _ = linalg.qr(J.T)
    t = q[:, -1]
    if previous is None:
        return t if t[-1] > 0 else -t
    return t if t @ previous > 0 else -t


def _newton(system, v, *, fix_lambda=False, iterations=12):
    """Minimum-norm Newton steps back onto the curve (or at a fixed lambda); None on failure."""
    for _ in range(iterations):
        F = system.F(v)
        if np.abs(F).max() < 1e-12:
            return v
        J = system.J(v)
        if fix_lambda:
            step = np.append(linalg.solve(J[:, :-1], -F), 0.0)
        else:
            step = linalg.lstsq(J, -F, lapack_driver="gelsy")[0]
        v = v + step
        if not np.isfinite(v).all():
            return None
    return v if np.abs(system.F(v)).max() < 1e-10 else None


def _trace(system, lam_max, *, stop_at=None, max_steps=20000):
    """Points along the branch until lambda reaches ``lam_max`` (or first reaches ``stop_at``)."""
    target = lam_max if stop_at is None else stop_at
    v = system.start()
    t = _tangent(system.J(v))
    h, points = 0.1, [v]
    for _ in range(max_steps):
        trial = _newton(system, v + h * t)
        if trial is not None:
            t_new = _tangent(system.J(trial), t)
            # Accept when the step stayed close to the predicted one and the curve turned little.
            if np.linalg.norm(trial - (v + h * t)) < 0.5 * h and t_new @ t > 0.9:
                if trial[-1] >= target:
                    return points, _land(system, v, trial, target)
                v, t = trial, t_new
                points.append(v)
                h = min(h * 1.5, max(1.0, 0.2 * abs(v[-1])))
                continue
        h /= 2
        if h < 1e-10:
            raise RuntimeError(f"the continuation stalled at lambda = {v[-1]:.6g}; the branch may end at a "
                               "singular point of a degenerate game")
    raise RuntimeError(f"lambda reached only {v[-1]:.6g} after {max_steps} steps")


def _land(system, before, after, lam):
    """The point at ``lam`` exactly, between two points of the branch on either side of it."""
    w = (lam - before[-1]) / (after[-1] - before[-1])
    guess = before + w * (after - before)
    guess[-1] = lam
    v = _newton(system, guess, fix_lambda=True)
    if v is None:
        raise RuntimeError(f"could not land on the branch at lambda = {lam:.6g}")
    return v


def _system(game, symmetric):
    A, B = _matrices(game)
    if symmetric is None:
        symmetric = A.shape[0] == A.shape[1] and np.array_equal(A, B.T)
    return _System(A, B, symmetric)


def _default_lambda(A, B) -> float:
    spread = max(np.ptp(A), np.ptp(B), 1e-12)
    return 1e4 / spread


def qre(game, lam: float, *, symmetric: bool | None = None) -> QREPoint:
    """The logit QRE of the principal branch at rationality ``lam``.

    Parameters
    ----------
    game : StageGame or (A, B)
        Payoff matrices of the row and column player, shape (n, m) each; ``dyad_game`` gives a
        scenario dyad's.
    lam : float >= 0
        Rationality, in inverse payoff units (0: uniform play).
    symmetric : bool, optional
        Trace on symmetric profiles; by default when ``B`` is ``A`` transposed.

    Returns
    -------
    QREPoint
        Where the branch first reaches ``lam``.

    Raises
    ------
    ValueError
        On bad matrices or a negative ``lam``.
    RuntimeError
        If the continuation cannot go on (a degenerate game), or a point fails its check.
    """
    if not lam >= 0:
        raise ValueError(f"lam: expected a rationality >= 0, got {show(lam)}")
    system = _system(game, symmetric)
    if lam == 0:
        return _checked(system.point(system.start()))
    _, v = _trace(system, lam, stop_at=lam)
    return _checked(system.point(v))


def qre_branch(game, *, lam_max: float | None = None, symmetric: bool | None = None) -> pd.DataFrame:
    """The principal branch of logit QRE from ``lambda = 0`` to ``lam_max``.

    Parameters
    ----------
    game : StageGame or (A, B)
    lam_max : float, optional
        Where to stop; by default ``1e4`` over the payoffs' spread, where the branch's point is a
        Nash equilibrium to about ``1e-4`` of the spread.
    symmetric : bool, optional
        As in ``qre``.

    Returns
    -------
    DataFrame
        One row per point of the trace, in the order traced: ``lam``, ``x0 .. x{n-1}``,
        ``y0 .. y{m-1}``, ``residual`` and ``regret`` (see ``QREPoint``). ``lam`` can fall
        where the branch turns back; the last row is at ``lam_max``, its ``x``, ``y`` the
        equilibrium the branch selects.

    Raises
    ------
    RuntimeError
        If the continuation cannot go on, or a point fails its check.
    """
    system = _system(game, symmetric)
    lam_max = _default_lambda(system.A, system.B) if lam_max is None else float(lam_max)
    points, last = _trace(system, lam_max)
    rows = []
    for v in [*points, last]:
        p = _checked(system.point(v))
        rows.append([p.lam, *p.x, *p.y, p.residual, p.regret])
    n, m = system.n, system.m
    return pd.DataFrame(rows, columns=["lam", *(f"x{i}" for i in range(n)), *(f"y{j}" for j in range(m)),
                                       "residual", "regret"])


def _checked(point: QREPoint) -> QREPoint:
    """A point must solve the fixed-point equations, and its regret keep the logit bound."""
    n = max(len(point.x), len(point.y))
    bound = (n - 1) / (np.e * point.lam) if point.lam > 0 else np.inf
    if point.residual > TOLERANCE or point.regret > bound + TOLERANCE:
        raise RuntimeError(f"the point at lambda = {point.lam:.6g} is not a QRE (fixed-point error "
                           f"{point.residual:.3g}, regret {point.regret:.3g} above the bound {bound:.3g})")
    return point
