"""Many two-player matches of different pairs of strategies at once: one step loop for a whole
round robin or a whole Moran generation.

``match_scores`` runs one pair of strategies per call through the core, which is fast for many
runs of one pair but costs a scenario, a compiled plan and a step loop per pair. A tournament has
hundreds of pairs with a few runs each, so here every match of every pair advances together:
each distinct policy's kernel (the same kernels the core and the Mesa agents call) decides for
all the players that use it, in one call per step. The rules are the two-level match of the core:
simultaneous moves, execution noise flipping each act with probability ``noise``, a random
horizon with ``prob_end``, payoffs (R, S, T, P). Deterministic matches score exactly as
``match_scores``; random ones agree with it in distribution (its own random numbers are drawn
here, in another order), which tests/test_games_first_tournament.py checks.
"""

from __future__ import annotations

import numpy as np

from .._rng import RngLike, seed_sequence
from ..core.horizon import geometric_lengths
from ..policies import Ladder, Policy
from ..policies.base import U32
from .match import game_rstp, match_turns
from .stage import StageGame
from .._text import show


def play_many(policies: list[Policy], first, second, *, turns: int | None = None, noise: float = 0.0,
              prob_end: float = 0.0, game: StageGame | tuple | None = None, rng: RngLike = None) -> np.ndarray:
    """Play match ``k`` between ``policies[first[k]]`` and ``policies[second[k]]`` for every ``k``
    at once.

    Parameters
    ----------
    policies : list of Policy
    first, second : int arrays of shape (M,)
        Indices into ``policies`` of the first and the second player of each match.
    turns : int, optional
        Length of every match, or the cap with ``prob_end`` (``match_turns``).
    noise : float
        Execution noise: each act flipped with this probability.
    prob_end : float in [0, 1)
        Random horizon: each turn ends a match with this probability.
    game : StageGame or (R, S, T, P), optional
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    ndarray of float, shape (M, 3)
        Total payoff of the first player, of the second, and the turns played.
    """
    first, second = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(f"first and second must pair up, got shapes {first.shape} and {second.shape}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise: expected a probability in [0, 1], got {show(noise)}")
    turns = match_turns(turns, prob_end)
    M = len(first)
    R, S, T, P = game_rstp(game)
    table = np.array([R, S, T, P])  # payoff of (own, other's) = (0, 0), (0, 1), (1, 0), (1, 1)
    gen = np.random.Generator(np.random.SFC64(seed_sequence(rng)))
    length = np.minimum(geometric_lengths(gen.random(M), prob_end), turns) if prob_end > 0 else np.full(M, turns)
    ladder = Ladder.two_level()
    # Cells 0..M-1 are the first players, M..2M-1 the second; each cell's opponent is +-M.
    players = np.concatenate([first, second])
    kernels = []
    for k, policy in enumerate(policies):
        index = np.flatnonzero(players == k)
        if index.size:
            kernel = policy.compile(ladder)
            kernels.append((kernel, index, kernel.initial_state((1, len(index)))))
    opponent = np.concatenate([np.arange(M, 2 * M), np.arange(M)])
    levels = np.zeros(2 * M, dtype=np.int8)
    scores = np.zeros(2 * M)
    flip = None if noise <= 0 else noise * U32
    for t in range(int(length.max())):
        stimulus = levels[opponent]
        decided = np.empty_like(levels)
        for kernel, index, state in kernels:
            u = gen.integers(0, 2**32, (kernel.n_draws, 1, len(index)), dtype=np.uint32) if kernel.n_draws else None
            decided[index] = kernel.decide(t, levels[index][None], stimulus[index][None], state, u)[0]
        if flip is not None:
            decided ^= (gen.integers(0, 2**32, 2 * M, dtype=np.uint32) < flip).astype(np.int8)
        playing = np.tile(t < length, 2)
        scores += table[2 * decided + decided[opponent]] * playing
        levels = decided
    return np.column_stack([scores[:M], scores[M:], length.astype(float)])
