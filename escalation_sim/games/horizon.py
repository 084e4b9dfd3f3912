"""Matches of random length, exactly: the expected payoffs of two memory-one strategies when
each turn ends the match with probability ``prob_end``, from the Markov chain of the match."""

from __future__ import annotations

import numpy as np

from ..analysis.markov import _rstp, initial_distribution, memory_one_matrix
from .._text import show


def discounted_payoffs(p, q, *, prob_end: float, noise: float = 0.0, game=None) -> np.ndarray:
    """Expected total payoffs of memory-one ``p`` and ``q`` in a match of random length.

    Turn ``t`` (from 0) is played with probability ``delta**t``, ``delta = 1 - prob_end``, so
    the expected total is the discounted sum ``x0 (I - delta M)^-1 r``: ``x0`` the distribution
    of turn 0, ``M`` the transition matrix of the states CC, CD, DC, DD and ``r`` a player's
    payoff in each state (Axelrod and Hamilton 1981; Nowak 2006, ch. 5).

    Parameters
    ----------
    p, q : MemoryOnePolicy or four-vector
    prob_end : float in (0, 1)
    noise : float
        Execution noise: each act flipped with this probability.
    game : StageGame or (R, S, T, P), optional
        The prisoner's dilemma (3, 0, 5, 1) by default.

    Returns
    -------
    ndarray, shape (2,)
        Expected total payoff of ``p`` and of ``q``; the expected length is ``1 / prob_end``.
    """
    if not 0 < prob_end < 1:
        raise ValueError(f"prob_end: expected a probability in (0, 1), got {show(prob_end)}")
    M = memory_one_matrix(p, q, noise=noise)
    x0 = initial_distribution(p, q, noise=noise)
    visits = np.linalg.solve((np.eye(4) - (1 - prob_end) * M).T, x0)  # expected turns in each state
    R, S, T, P = _rstp(game)
    return np.array([visits @ [R, S, T, P], visits @ [R, T, S, P]])
