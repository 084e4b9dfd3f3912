"""Stage games: two-player normal-form games, their Nash equilibria computed exactly, and the
stage game of any dyad of a scenario.

Convention: the row player is A, the column player B; ``A[i, j]`` and ``B[i, j]`` are their
payoffs when A plays ``i`` and B plays ``j``. Action 0 is cooperate (quiet), action 1 defect
(hostile); on a scenario's ladder, action ``k`` is level ``k``. The matrices are plain arrays,
so ``nashpy.Game(game.A, game.B)`` analyses the same game.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .._text import show
from ..scenario import as_scenario

Exact = tuple[tuple[Fraction, ...], ...]
Strategy = tuple[Fraction, ...]


def _exact(matrix, name: str) -> Exact:
    array = np.asarray(matrix, dtype=object)
    if array.ndim != 2 or min(array.shape) < 1:
        raise ValueError(f"{name}: expected a 2-d payoff matrix, got shape {array.shape}")
    # Fraction(float) is the float's exact binary value; ints and Fractions stay as they are.
    return tuple(tuple(Fraction(x.item() if isinstance(x, np.generic) else x) for x in row) for row in array)


@dataclass(frozen=True)
class StageGame:
    """A two-player normal-form game with exact (rational) payoffs.

    Parameters
    ----------
    name : str
    row, column : tuple of tuples of Fraction, shape (n_actions_A, n_actions_B)
        Payoffs of the row player A and of the column player B. Build a game with
        ``StageGame.from_arrays`` or ``StageGame.symmetric``.
    actions : tuple of str
        Names of the actions (the same for both players).
    """

    name: str
    row: Exact
    column: Exact
    actions: tuple[str, ...] = ("cooperate", "defect")

    def table(self) -> pd.DataFrame:
        """The bimatrix as text: cell ``"a, b"`` holds the row player's and the column player's
        payoffs, exact and plain (``3``, ``1/2``)."""
        return pd.DataFrame([[f"{a}, {b}" for a, b in zip(r, c)] for r, c in zip(self.row, self.column)],
                            index=list(self.actions), columns=list(self.actions))

    def __repr__(self) -> str:
        return f"StageGame {self.name} (row, column payoffs)\n{self.table().to_string()}"

    def _repr_html_(self) -> str:
        from html import escape

        return f"<div><p>StageGame {escape(self.name)} (row, column payoffs)</p>{self.table().to_html(border=0)}</div>"

    @classmethod
    def from_arrays(cls, name: str, A, B, actions: Sequence[str] | None = None) -> StageGame:
        """A game from two payoff matrices of shape (n, m) (numbers, exactly converted)."""
        row, column = _exact(A, "A"), _exact(B, "B")
        if np.shape(row) != np.shape(column):
            raise ValueError(f"A and B must have the same shape, got {np.shape(row)} and {np.shape(column)}")
        n = max(np.shape(row))
        names = tuple(actions) if actions is not None else (("cooperate", "defect") if n == 2 else tuple(map(str, range(n))))
        return cls(name, row, column, names)

    @classmethod
    def symmetric(cls, name: str, R, S, T, P) -> StageGame:
        """The symmetric 2x2 game with reward R, sucker S, temptation T and punishment P:
        ``A = [[R, S], [T, P]]`` and ``B = A.T``."""
        A = [[R, S], [T, P]]
        return cls.from_arrays(name, A, np.array(A, dtype=object).T)

    # -- views -----------------------------------------------------------------------------
    @property
    def A(self) -> np.ndarray:
        """Row player's payoffs, float array of shape (n_actions_A, n_actions_B)."""
        return np.array(self.row, dtype=float)

    @property
    def B(self) -> np.ndarray:
        """Column player's payoffs, float array of shape (n_actions_A, n_actions_B)."""
        return np.array(self.column, dtype=float)

    @property
    def is_symmetric(self) -> bool:
        return self.column == tuple(zip(*self.row))

    @property
    def rstp(self) -> tuple[Fraction, Fraction, Fraction, Fraction] | None:
        """(R, S, T, P) of a symmetric 2x2 game, else ``None``."""
        if np.shape(self.row) != (2, 2) or not self.is_symmetric:
            return None
        (r, s), (t, p) = self.row
        return r, s, t, p

    @property
    def kind(self) -> str | None:
        """Which classic symmetric 2x2 game this is, by the order of its payoffs, or ``None``."""
        return None if self.rstp is None else classify(*self.rstp)

    # -- equilibria ----------------------------------------------------------------------------
    def pure_equilibria(self) -> list[tuple[int, int]]:
        """Action pairs ``(i, j)`` from which neither player gains by deviating alone."""
        return pure_equilibria(self.row, self.column)

    def equilibria(self) -> list[tuple[Strategy, Strategy]]:
        """Every extreme Nash equilibrium, exactly (see ``equilibria``); warns if the game is
        degenerate, naming it."""
        return equilibria(self.row, self.column, name=self.name)

    def equilibrium_table(self) -> pd.DataFrame:
        """The equilibria as a table, one row each: ``A`` and ``B`` (each player's probability
        of each action, as exact fractions), ``kind`` (pure or mixed) and the expected payoffs
        ``payoff_A`` and ``payoff_B`` (exact, as fractions)."""
        A, B = np.array(self.row, dtype=object), np.array(self.column, dtype=object)
        rows = []
        for x, y in self.equilibria():
            rows.append({
                "A": _show(x, self.actions), "B": _show(y, self.actions),
                "kind": "pure" if max(x) == 1 and max(y) == 1 else "mixed",
                "payoff_A": np.dot(x, A.dot(y)), "payoff_B": np.dot(x, B.dot(y)),
            })
        return pd.DataFrame(rows, columns=["A", "B", "kind", "payoff_A", "payoff_B"])


def _show(strategy: Strategy, actions) -> str:
    """``"defect"`` for a pure strategy, ``"1/2 cooperate + 1/2 defect"`` for a mixed one."""
    played = [(p, a) for p, a in zip(strategy, actions) if p > 0]
    if len(played) == 1:
        return played[0][1]
    return " + ".join(f"{p} {a}" for p, a in played)


def classify(R, S, T, P) -> str | None:
    """Name of the symmetric 2x2 game with payoffs (R, S, T, P), from their order."""
    if T > R > P > S:
        return "prisoners_dilemma"
    if T > R > S > P:
        return "chicken"
    if R > T >= P > S:
        return "stag_hunt"
    if T > P > R > S:
        return "deadlock"
    if R > T and S > P:
        return "harmony"
    return None


#: The classic symmetric 2x2 games (row payoffs ``[[R, S], [T, P]]``).
PRISONERS_DILEMMA = StageGame.symmetric("prisoners_dilemma", R=3, S=0, T=5, P=1)
CHICKEN = StageGame.symmetric("chicken", R=3, S=1, T=4, P=0)
STAG_HUNT = StageGame.symmetric("stag_hunt", R=4, S=0, T=3, P=2)
DEADLOCK = StageGame.symmetric("deadlock", R=1, S=0, T=3, P=2)
HARMONY = StageGame.symmetric("harmony", R=4, S=2, T=3, P=1)
STAGE_GAMES = {g.name: g for g in (PRISONERS_DILEMMA, CHICKEN, STAG_HUNT, DEADLOCK, HARMONY)}


def pure_equilibria(A, B) -> list[tuple[int, int]]:
    """Pure Nash equilibria of the bimatrix game (A, B), each shape (n, m): action pairs."""
    A, B = np.asarray(A, dtype=object), np.asarray(B, dtype=object)
    return [(i, j) for i in range(A.shape[0]) for j in range(A.shape[1])
            if A[i, j] >= max(A[:, j]) and B[i, j] >= max(B[i, :])]


def equilibria(A, B, *, name: str | None = None) -> list[tuple[Strategy, Strategy]]:
    """Every extreme Nash equilibrium of the bimatrix game (A, B), in exact arithmetic.

    Vertex enumeration (Avis, Rosenberg, Savani and von Stengel 2010; von Stengel 2007,
    algorithm 3.5): with payoffs shifted to be positive (which keeps the equilibria), the
    equilibria are the completely labelled pairs of vertices of the best-response polytopes
    ``P = {x >= 0 : B^T x <= 1}`` and ``Q = {y >= 0 : A y <= 1}``, each normalised to sum to 1.
    A vertex is found by making ``k`` coordinates positive and ``k`` payoff constraints tight
    and solving that system in integers (fraction-free Gauss-Jordan elimination), for every
    such choice, so a degenerate polytope, where more constraints than its dimension meet at
    a vertex, loses none. In a nondegenerate game the list is every equilibrium (an odd
    number); in a degenerate one the equilibria can form continua (convex sets), and the list
    holds their extreme points, from which every equilibrium is a convex combination within
    one such set. The list is never empty (Nash 1951).

    Parameters
    ----------
    A, B : array-like, shape (n, m)
        Payoffs of the row and column players (numbers; floats are taken at their exact value).
    name : str, optional
        The game's name, used in the warning.

    Returns
    -------
    list of (x, y)
        ``x`` (length n) and ``y`` (length m): tuples of ``Fraction`` probabilities of each
        action. Pure equilibria come first, then by the size of the supports.

    Warns
    -----
    UserWarning
        If the game is degenerate: some mixed strategy with ``k`` actions in its support has
        more than ``k`` pure best responses (or the game has a pure strategy with tied best
        responses). Its equilibria may not be isolated.

    Notes
    -----
    The work grows as ``C(n + m, n)`` small exact solves: about a thousand for 6x6 games.
    """
    A, B = np.array(_exact(A, "A"), dtype=object), np.array(_exact(B, "B"), dtype=object)
    if A.shape != B.shape:
        raise ValueError(f"A and B must have the same shape, got {A.shape} and {B.shape}")
    n, m = A.shape
    row_vertices = _vertices(_positive_integers(B))  # P: x in R^n, labels i (x_i = 0), n + j (tight)
    col_vertices = _vertices(_positive_integers(A.T))  # Q: y in R^m, labels n + j (y_j = 0), i (tight)
    degenerate = any(bin(z).count("1") + bin(t).count("1") > n for _, z, t in row_vertices)
    degenerate |= any(bin(z).count("1") + bin(t).count("1") > m for _, z, t in col_vertices)
    if degenerate:
        warnings.warn(f"{name or 'the game'} is degenerate (a strategy has more pure best responses "
                      "than actions in its support): its equilibria may not be isolated; the extreme "
                      "equilibria are listed", UserWarning, stacklevel=2)
    full = (1 << (n + m)) - 1
    found = []
    for x, x_zero, x_tight in row_vertices:
        x_labels = x_zero | (x_tight << n)
        for y, y_zero, y_tight in col_vertices:
            if x_labels | y_tight | (y_zero << n) == full:
                found.append((_normalised(x), _normalised(y)))
    if not found:  # Nash's theorem rules this out: a failure here is a bug, not a game
        raise RuntimeError(f"no equilibrium found for {name or 'the game'}: A={A.tolist()}, B={B.tolist()}")
    return sorted(found, key=_equilibrium_order)


def _equilibrium_order(pair):
    x, y = pair
    size = sum(p > 0 for p in x) + sum(p > 0 for p in y)
    return size, tuple(-p for p in x), tuple(-p for p in y)


def _normalised(z) -> Strategy:
    total = sum(z)
    return tuple(p / total for p in z)


def _positive_integers(M) -> list[list[int]]:
    """``M`` shifted so that its least entry is 1, and scaled to integers (neither changes
    the equilibria): exact payoffs for integer elimination."""
    shifted = M - min(M.ravel()) + 1
    scale = math.lcm(*(Fraction(x).denominator for x in shifted.ravel()))
    return [[int(x * scale) for x in row] for row in shifted]


def _vertices(M: list[list[int]]) -> list[tuple[tuple[Fraction, ...], int, int]]:
    """The vertices other than 0 of ``{z >= 0 : M^T z <= 1}`` for a positive integer matrix
    ``M`` of shape (d, c): ``(z, zeros, tight)`` with bit masks of the coordinates at 0 and of
    the constraints met with equality."""
    M = [list(row) for row in M]
    d, c = len(M), len(M[0])
    columns = [[M[i][j] for i in range(d)] for j in range(c)]
    found = {}
    for k in range(1, min(d, c) + 1):
        for support in combinations(range(d), k):
            for tight in combinations(range(c), k):
                solution = _solve_integer([[columns[j][i] for i in support] for j in tight])
                if solution is None:
                    continue
                numerators, denominator = solution
                if min(numerators) <= 0:  # a zero coordinate: found with the smaller support
                    continue
                z = [0] * d
                for i, v in zip(support, numerators):
                    z[i] = v
                values = [sum(col[i] * z[i] for i in support) for col in columns]
                if max(values) > denominator:
                    continue
                key = tuple(Fraction(v, denominator) for v in z)
                if key not in found:
                    zeros = sum(1 << i for i in range(d) if z[i] == 0)
                    met = sum(1 << j for j in range(c) if values[j] == denominator)
                    found[key] = (key, zeros, met)
    return list(found.values())


def _solve_integer(S: list[list[int]]) -> tuple[list[int], int] | None:
    """Solve ``S z = 1`` for a square integer matrix by fraction-free Gauss-Jordan elimination
    (Bareiss 1968): ``z = numerators / denominator`` with ``denominator > 0``, or ``None`` when
    ``S`` is singular. Every division is exact, so no fraction is formed."""
    k = len(S)
    a = [row[:] + [1] for row in S]
    previous = 1
    for col in range(k):
        pivot = next((r for r in range(col, k) if a[r][col] != 0), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        lead = a[col]
        for r in range(k):
            if r != col:
                row, factor = a[r], a[r][col]
                a[r] = [(lead[col] * row[q] - factor * lead[q]) // previous for q in range(k + 1)]
        previous = lead[col]
    denominator = previous  # every diagonal entry is now the last pivot, +-det(S)
    numerators = [a[r][k] for r in range(k)]
    if denominator < 0:
        denominator, numerators = -denominator, [-v for v in numerators]
    return numerators, denominator


def undominated(A, B) -> tuple[list[int], list[int]]:
    """Actions of each player that survive the iterated elimination of strictly dominated
    actions (by another pure action). No Nash equilibrium plays an eliminated action."""
    A, B = np.asarray(A, dtype=object), np.asarray(B, dtype=object)
    rows, cols = list(range(A.shape[0])), list(range(A.shape[1]))
    changed = True
    while changed:
        changed = False
        for i in list(rows):
            if any(all(A[k, j] > A[i, j] for j in cols) for k in rows if k != i):
                rows.remove(i)
                changed = True
        for j in list(cols):
            if any(all(B[i, k] > B[i, j] for i in rows) for k in cols if k != j):
                cols.remove(j)
                changed = True
    return rows, cols


def dyad_game(scenario: Scenario, actor: str, target: str) -> StageGame:
    """The stage game of one dyad of a scenario: ``actor`` is the row player, ``target`` the
    column player, both scored by the scenario's per-step payoff table.

    Returns
    -------
    StageGame
        Payoff matrices of shape (n_levels, n_levels): ``A[i, j] = table[i, j]`` and
        ``B[i, j] = table[j, i]``, where ``table = scenario.payoffs.table(scenario.ladder)``
        is the payoff ``[own level, other's level]``. Actions are the ladder's level names.
    """
    scenario = as_scenario(scenario)
    ids = scenario.actor_ids
    for key, value in (("actor", actor), ("target", target)):
        if value not in ids:
            raise ValueError(f"{key}: {show(value)} is not an actor of {scenario.name} (known: {', '.join(ids)})")
    if actor == target:
        raise ValueError(f"actor and target must differ, got {show(actor)} twice")
    table = scenario.payoffs.table(scenario.ladder)
    return StageGame.from_arrays(f"{scenario.name}: {actor} v {target}", table, table.T,
                                 actions=scenario.level_names())
