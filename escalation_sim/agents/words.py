"""The random words of one run of a batch, as the core draws them.

Run ``r`` of a batch reads column ``r % STREAM_BLOCK`` of the words of stream block
``r // STREAM_BLOCK`` (``core.engine.BlockWords``): a block's words are drawn for the whole
block at every step, so replaying one run means drawing its block's words and keeping one
column. ``block_columns`` draws a block once for many runs at a time. The end-of-run draws
(fatalities) come from the block's second stream, one uniform per run (``RunDraws``).
"""

from __future__ import annotations

import numpy as np

from ..core.engine import BlockWords
from ..core.plan import STREAM_BLOCK


def locate(run: int) -> tuple[int, int]:
    """``(block, column)`` of a run: its stream block and its column in that block."""
    return divmod(run, STREAM_BLOCK)


class RunWords:
    """One run's words, one step at a time, drawn from its block's stream.

    ``next()`` returns this step's words, uint32, shape ``(n_draws, 1)``.
    """

    def __init__(self, seq: np.random.SeedSequence, run: int, n_draws: int):
        block, self.column = locate(run)
        self._block = BlockWords(seq, block, self.column + 1, n_draws)

    def next(self) -> np.ndarray:
        # The block's buffer is overwritten at the next step: keep a copy of the column.
        return self._block.next()[:, self.column : self.column + 1].copy()


class StoredWords:
    """One run's words taken from words drawn beforehand, shape ``(n_steps, n_draws, k)``."""

    def __init__(self, words: np.ndarray, index: int):
        self._words, self._index, self._t = words, index, 0

    def next(self) -> np.ndarray:
        t, self._t = self._t, self._t + 1
        return self._words[t, :, self._index, None]


def block_columns(seq: np.random.SeedSequence, block: int, columns: np.ndarray, n_draws: int,
                  n_steps: int) -> np.ndarray:
    """Every step's words of some columns of one block, drawn in one pass over its stream.

    Returns
    -------
    uint32 array, shape ``(n_steps, n_draws, len(columns))``
    """
    words = BlockWords(seq, block, int(columns.max()) + 1, n_draws)
    out = np.empty((n_steps, n_draws, len(columns)), dtype=np.uint32)
    for t in range(n_steps):
        out[t] = words.next()[:, columns]
    return out


class RunDraws:
    """One run's end-of-run draws: the core's ``BlockWords.poisson`` over the run's block, with
    the run's own expected deaths in its column.

    The core inverts one uniform per run, so a run's draw needs nothing of the other runs.
    """

    def __init__(self, seq: np.random.SeedSequence, run: int):
        self.block, self.column = locate(run)
        self.seq = seq

    def poisson(self, mean: np.ndarray) -> np.ndarray:
        """The run's draw, shape ``(1,)``, from its expected deaths ``mean`` of shape ``(1,)``."""
        padded = np.zeros(self.column + 1)
        padded[-1] = mean[0]
        return BlockWords(self.seq, self.block, self.column + 1, 0).poisson(padded)[-1:]
