"""Axelrod-style round-robin tournaments on the core, and the ecological (replicator) dynamics of
a population playing by the tournament's payoff matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._rng import RngLike, children, seed_sequence
from ..batch import format as fmt
from ..policies import Policy
from .match import PolicyLike, match_scores
from .stage import StageGame
from .strategies import strategy, strategy_name
from .._text import show


@dataclass(frozen=True)
class TournamentResult:
    """The result of ``tournament``.

    Attributes
    ----------
    ranking : DataFrame
        One row per strategy, best first: ``rank`` (1 = best), ``strategy``, ``score`` (mean
        payoff per turn against the other strategies, self-play left out as in Axelrod's
        ranking), ``std`` (its standard deviation over repetitions), ``wins`` (matches won per
        repetition, a win being a strictly higher total than the opponent's).
    matrix : DataFrame, shape (n_strategies, n_strategies)
        Mean payoff per turn of the row strategy against the column strategy; the diagonal is
        the mean of both players' payoffs in self-play.
    matches : DataFrame
        Tidy: one row per strategy, opponent and repetition, with ``score`` and
        ``opponent_score`` per turn (self-play appears once, with both players' scores).
    """

    ranking: pd.DataFrame
    matrix: pd.DataFrame
    matches: pd.DataFrame

    def _header(self) -> str:
        return (f"TournamentResult: {len(self.ranking)} strategies, "
                f"{self.matches['repetition'].nunique():,} repetitions")

    def _rows(self) -> pd.DataFrame:
        """The ranking as printed: scores per turn to three decimals."""
        return self.ranking.assign(score=self.ranking["score"].map("{:.3f}".format),
                                   std=self.ranking["std"].map("{:.3f}".format),
                                   wins=self.ranking["wins"].map("{:g}".format))

    def __repr__(self) -> str:
        """The ranking, best first (the payoff matrix and the matches are attributes)."""
        return f"{self._header()}\n\n{self._rows().to_string(index=False)}"

    def _repr_html_(self) -> str:
        return fmt.html_block([self._header()], fmt.html_table(self._rows()))


def _named(strategies) -> dict[str, Policy]:
    if isinstance(strategies, Mapping):
        named = {str(k): strategy(v) for k, v in strategies.items()}
    else:
        named = {}
        for spec in strategies:
            policy = strategy(spec)
            name = spec if isinstance(spec, str) else strategy_name(policy)
            if name in named:
                raise ValueError(f"strategies: {show(name)} is given twice; pass a mapping name -> policy to enter both")
            named[name] = policy
    if len(named) < 2:
        raise ValueError(f"strategies: a tournament needs at least two strategies, got {len(named)}")
    return named


def tournament(strategies: Sequence[PolicyLike] | Mapping[str, PolicyLike], *, turns: int | None = None,
               repetitions: int = 10, noise: float = 0.0, rng: RngLike = None,
               game: StageGame | tuple | None = None, prob_end: float = 0.0) -> TournamentResult:
    """Round robin: every pair of strategies, self-play included, plays ``repetitions``
    matches of ``turns`` turns on the core.

    Parameters
    ----------
    strategies : sequence of names or policies, or mapping name -> policy
    turns : int, optional
        Turns of each match (200 by default), or the cap on them with ``prob_end``.
    repetitions : int
    noise : float
        Execution noise of every match.
    rng : None, int, SeedSequence or Generator
        Fixes the whole tournament; each match gets its own spawned seed.
    game : StageGame or (R, S, T, P), optional
        Symmetric 2x2 payoffs; the prisoner's dilemma (3, 0, 5, 1) by default.
    prob_end : float in [0, 1)
        Random match lengths: each turn ends a match with this probability, ``turns`` capping
        it (see ``match_scores``); scores are then per turn of each match's own length.

    Returns
    -------
    TournamentResult
    """
    named = _named(strategies)
    names = list(named)
    pairs = [(i, j) for i in range(len(names)) for j in range(i, len(names))]
    seeds = children(seed_sequence(rng), len(pairs))
    rows = []
    for (i, j), seed in zip(pairs, seeds):
        scores = match_scores(named[names[i]], named[names[j]], turns=turns, noise=noise,
                              n_runs=repetitions, rng=seed, game=game, prob_end=prob_end, lengths=True)
        scores = scores[:, :2] / scores[:, 2:]
        for rep, (si, sj) in enumerate(scores):
            rows.append((names[i], names[j], rep, si, sj))
            if i != j:
                rows.append((names[j], names[i], rep, sj, si))
    matches = pd.DataFrame(rows, columns=["strategy", "opponent", "repetition", "score", "opponent_score"])
    return TournamentResult(_ranking(matches, names), _matrix(matches, names), matches)


def _matrix(matches: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    # In self-play both players' scores count, as in Axelrod's payoff matrix.
    both = pd.concat([matches, matches[matches.strategy == matches.opponent].assign(score=lambda d: d.opponent_score)])
    matrix = both.pivot_table(index="strategy", columns="opponent", values="score", aggfunc="mean")
    matrix = matrix.reindex(index=names, columns=names)
    matrix.index.name, matrix.columns.name = "strategy", "opponent"
    return matrix


def _ranking(matches: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    others = matches[matches.strategy != matches.opponent].assign(win=lambda d: d.score > d.opponent_score)
    per_rep = others.groupby(["strategy", "repetition"]).agg(score=("score", "mean"), wins=("win", "sum"))
    table = per_rep.groupby("strategy").agg(score=("score", "mean"), std=("score", "std"), wins=("wins", "mean"))
    table = table.reindex(names).sort_values("score", ascending=False, kind="stable").reset_index()
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def ecological(matrix: pd.DataFrame | np.ndarray, *, initial=None, generations: int = 100,
               fitness: Callable[[np.ndarray], np.ndarray] | None = None) -> pd.DataFrame:
    """Discrete-time replicator dynamics of population shares over a payoff matrix.

    Each generation a strategy's payoff is its matrix row weighted by the current shares,
    ``f = M @ x``, and its share grows in proportion: ``x' = x * fitness(f) / sum(x * fitness(f))``.
    This is the Axelrod library's ``Ecosystem`` with the matrix taken at its mean (no
    sampling of payoffs around it).

    Parameters
    ----------
    matrix : DataFrame or ndarray, shape (n, n)
        Mean payoff per turn of row against column (``TournamentResult.matrix``).
    initial : array-like of shape (n,), optional
        Initial population sizes (normalised; equal shares by default), each >= 0.
    generations : int
    fitness : callable, optional
        Maps the payoff array (n,) to fitness (n,), which must be positive; identity by default.

    Returns
    -------
    DataFrame, shape (generations + 1, n)
        Shares per generation (index ``generation``, from 0), one column per strategy; each row
        sums to 1. ``shares.melt(ignore_index=False)`` gives the tidy form.
    """
    names = list(matrix.index) if isinstance(matrix, pd.DataFrame) else list(range(len(matrix)))
    M = np.asarray(matrix, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"matrix: expected a square payoff matrix, got shape {M.shape}")
    x = _initial_shares(initial, len(M))
    fitness = fitness or (lambda f: f)
    shares = [x]
    for g in range(generations):
        fit = np.asarray(fitness(M @ x), dtype=float)
        if (fit[x > 0] <= 0).any():
            raise ValueError(f"fitness must be positive, got {fit} in generation {g}; pass a "
                             "fitness function that maps payoffs to positive numbers")
        x = x * fit / np.dot(x, fit)
        shares.append(x)
    frame = pd.DataFrame(np.array(shares), columns=names)
    frame.index.name, frame.columns.name = "generation", "strategy"
    return frame


def _initial_shares(initial, n: int) -> np.ndarray:
    if initial is None:
        return np.full(n, 1 / n)
    x = np.asarray(initial, dtype=float)
    if x.shape != (n,) or (x < 0).any() or x.sum() <= 0:
        raise ValueError(f"initial: expected {n} non-negative population sizes, not all zero, got {show(initial)}")
    return x / x.sum()
