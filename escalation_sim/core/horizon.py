"""Random horizons: each run's last step, drawn once at its start when a scenario gives
``time.prob_end``.

Each step a run ends with probability ``prob_end`` (after that step is played), so its length
in steps is geometric on 1, 2, ... with mean ``1 / prob_end``, capped at ``n_steps``. Block
``b`` of a batch draws its runs' lengths from a stream of its own, the fourth child of the
block's seed (the first three feed ``core.draws``), one uniform per run in column order: a
run's length depends on nothing but (seed, run index), as its other draws do, so the Mesa
model replays it and any chunking gives the same runs.
"""

from __future__ import annotations

import numpy as np

from .draws import STREAM_BLOCK

#: The child of a block's seed that draws its runs' lengths (0, 1, 2 are ``block_streams``).
HORIZON_CHILD = 3


def geometric_lengths(u: np.ndarray, prob_end: float) -> np.ndarray:
    """Lengths (in steps, >= 1) from uniforms ``u`` in [0, 1): ``floor(log(1 - u) /
    log(1 - prob_end)) + 1``, the inverse of the geometric distribution function."""
    if prob_end <= 0:
        return np.full(u.shape, np.iinfo(np.int64).max, dtype=np.int64)
    if prob_end >= 1:
        return np.ones(u.shape, dtype=np.int64)
    # a tiny prob_end makes the quotient overflow to inf: the cap below handles it
    with np.errstate(divide="ignore", over="ignore"):
        steps = np.floor(np.log1p(-u) / np.log1p(-prob_end))
    return np.minimum(steps, 2**62).astype(np.int64) + 1


def last_steps(seq: np.random.SeedSequence, first_run: int, n_runs: int, prob_end: float,
               n_steps: int) -> np.ndarray:
    """The last step of runs ``first_run .. first_run + n_runs - 1``: int64 array of shape
    ``(n_runs,)``, each in ``0 .. n_steps - 1`` (``n_steps - 1`` for all when ``prob_end`` is 0).

    ``first_run`` need not start a block: a run's value is that of its column in its block.
    """
    if prob_end <= 0:
        return np.full(n_runs, n_steps - 1, dtype=np.int64)
    out = np.empty(n_runs, dtype=np.int64)
    run, stop = first_run, first_run + n_runs
    while run < stop:
        block, column = divmod(run, STREAM_BLOCK)
        take = min(STREAM_BLOCK - column, stop - run)
        child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, block, HORIZON_CHILD))
        u = np.random.Generator(np.random.SFC64(child)).random(STREAM_BLOCK)[column : column + take]
        out[run - first_run : run - first_run + take] = geometric_lengths(u, prob_end) - 1
        run += take
    return np.minimum(out, n_steps - 1)
