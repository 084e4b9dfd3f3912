"""Stage games: two-player normal-form games, their Nash equilibria computed exactly, and the
stage game of any dyad of a scenario.

Convention: the row player is A, the column player B; ``A[i, j]`` and ``B[i, j]`` are their
payoffs when A plays ``i`` and B plays ``j``. Action 0 is cooperate (quiet), action 1 defect
(hostile); on a scenario's ladder, action ``k`` is level ``k``. The matrices are plain arrays,
so ``nashpy.Game(game.A, game.B)`` analyses the same game.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from ..scenario import Scenario

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
        """Every Nash equilibrium found by support enumeration, exactly (see ``equilibria``)."""
        return equilibria(self.row, self.column)

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


def equilibria(A, B) -> list[tuple[Strategy, Strategy]]:
    """Nash equilibria of the bimatrix game (A, B) by support enumeration, in exact arithmetic.

    Strictly dominated actions are removed first (``undominated``). Then, for every pair of supports of equal size the indifference conditions are solved with
    fractions; a solution that is a probability vector on its support, and against which no
    action outside the support does better, is an equilibrium. This finds every equilibrium
    of a non-degenerate game, as ``nashpy.Game(A, B).support_enumeration()`` does; a
    degenerate game (for example one with a weakly dominated action) may have equilibria on
    supports of unequal size, which are not listed.

    Parameters
    ----------
    A, B : array-like, shape (n, m)
        Payoffs of the row and column players (numbers; floats are taken at their exact value).

    Returns
    -------
    list of (x, y)
        ``x`` (length n) and ``y`` (length m): tuples of ``Fraction`` probabilities of each action.
    """
    A, B = np.array(_exact(A, "A"), dtype=object), np.array(_exact(B, "B"), dtype=object)
    rows, cols = undominated(A, B)
    sub_A, sub_B = A[np.ix_(rows, cols)], B[np.ix_(rows, cols)]
    found = []
    for k in range(1, min(len(rows), len(cols)) + 1):
        for I in combinations(range(len(rows)), k):
            for J in combinations(range(len(cols)), k):
                pair = _on_supports(sub_A, sub_B, I, J)
                if pair is not None:
                    pair = (_embed(pair[0], rows, A.shape[0]), _embed(pair[1], cols, A.shape[1]))
                    if pair not in found:
                        found.append(pair)
    return found


def undominated(A, B) -> tuple[list[int], list[int]]:
    """Actions of each player that survive the iterated elimination of strictly dominated
    actions (by another pure action). No Nash equilibrium plays an eliminated action, so
    ``equilibria`` searches the surviving subgame only."""
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


def _embed(strategy, support, n) -> Strategy:
    full = [Fraction(0)] * n
    for k, p in zip(support, strategy):
        full[k] = p
    return tuple(full)


def _on_supports(A, B, rows, cols):
    """The equilibrium with exactly these supports, or ``None``."""
    y, v = _indifferent(A[np.ix_(rows, cols)], len(cols))  # y makes A indifferent over rows
    x, u = _indifferent(B[np.ix_(rows, cols)].T, len(rows))  # x makes B indifferent over cols
    if y is None or x is None or min(y) <= 0 or min(x) <= 0:
        return None
    full_x, full_y = _embed(x, rows, A.shape[0]), _embed(y, cols, A.shape[1])
    if max(A.dot(full_y)) > v or max(B.T.dot(full_x)) > u:
        return None
    return full_x, full_y


def _indifferent(M, k):
    """Solve ``M @ z = v * 1``, ``sum(z) = 1`` for ``z`` (length k) and ``v``, exactly;
    ``(None, None)`` when the system is singular."""
    size = k + 1
    system = [list(M[r]) + [Fraction(-1), Fraction(0)] for r in range(M.shape[0])]
    system.append([Fraction(1)] * k + [Fraction(0), Fraction(1)])
    solution = _solve(system, size)
    return (None, None) if solution is None else (solution[:k], solution[k])


def _solve(rows, size):
    """Gauss-Jordan elimination on an augmented square system of fractions."""
    rows = [list(r) for r in rows]
    for col in range(size):
        pivot = next((r for r in range(col, size) if rows[r][col] != 0), None)
        if pivot is None:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [x / lead for x in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
    return [rows[r][size] for r in range(size)]


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
    ids = scenario.actor_ids
    for key, value in (("actor", actor), ("target", target)):
        if value not in ids:
            raise ValueError(f"{key}: {value!r} is not an actor of {scenario.name} (known: {', '.join(ids)})")
    if actor == target:
        raise ValueError(f"actor and target must differ, got {actor!r} twice")
    table = scenario.payoffs.table(scenario.ladder)
    return StageGame.from_arrays(f"{scenario.name}: {actor} v {target}", table, table.T,
                                 actions=scenario.level_names())
