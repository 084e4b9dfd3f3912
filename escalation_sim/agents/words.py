"""The random words of one run of a batch, as the core draws them.

Run ``r`` of a batch reads column ``r % STREAM_BLOCK`` of the words of stream block
``r // STREAM_BLOCK`` (``core.engine.BlockWords``): a block's words are drawn for the whole
block at every step, so replaying one run means drawing its block's words and keeping one
column. ``block_columns`` draws a block once for many runs at a time.
"""

from __future__ import annotations

import numpy as np

from ..core.engine import BlockWords, run_chunk
from ..core.plan import STREAM_BLOCK, Plan


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


def core_fatalities(plan: Plan, seq: np.random.SeedSequence, block: int, columns: np.ndarray,
                    n_steps: int) -> np.ndarray:
    """The core's fatality draws for some columns of one block, shape ``(len(columns),)``.

    The core draws a block's fatalities in one ``Generator.poisson`` call over the block's
    expected deaths; numpy draws those one after another from one stream, so a run's draw
    depends on the expected deaths of the runs before it in its block. Only the core over
    those runs gives them: it runs the block up to the last column asked for.
    """
    chunk = run_chunk(plan, seq, block * STREAM_BLOCK, int(columns.max()) + 1, n_steps)
    return chunk["fatalities"][columns].astype(np.int64)
