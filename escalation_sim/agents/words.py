"""The random numbers of one run of a batch, as the core draws them.

Run ``r`` of a batch reads column ``r % STREAM_BLOCK`` of the words of stream block
``r // STREAM_BLOCK`` (``core.draws.BlockWords``): a block's words are drawn for the whole
block at every step, so replaying one run means drawing its block's words and keeping one
column. ``block_columns`` draws a block once for many runs at a time. The end-of-run draws
(fatalities) come from the block's own generator, one uniform per run (``RunDraws``).
"""

from __future__ import annotations

import numpy as np

from ..core.draws import STREAM_BLOCK, BlockWords, StepWords
from ..core.plan import Plan


def locate(run: int) -> tuple[int, int]:
    """``(block, column)`` of a run: its stream block and its column in that block."""
    return divmod(run, STREAM_BLOCK)


def _block_words(seq: np.random.SeedSequence, block: int, width: int, plan: Plan) -> BlockWords:
    return BlockWords(seq, block, width, plan.n_policy_draws, plan.n_noise_draws)


class RunWords:
    """One run's words, one step at a time, drawn from its block's stream.

    ``next()`` returns this step's ``StepWords`` for the run alone (arrays of shape
    ``(n_draws, 1)``).
    """

    def __init__(self, seq: np.random.SeedSequence, run: int, plan: Plan):
        block, self.column = locate(run)
        self._block = _block_words(seq, block, self.column + 1, plan)

    def next(self) -> StepWords:
        # The block's buffers are overwritten at the next step: the column is copied.
        return self._block.next().column(self.column)


class StoredWords:
    """One run's words taken from a ``BlockColumns`` drawn beforehand."""

    def __init__(self, stored: BlockColumns, index: int):
        self._stored, self._index, self._t = stored, index, 0

    def next(self) -> StepWords:
        t, self._t = self._t, self._t + 1
        return self._stored.run_words(t, self._index)


class BlockColumns:
    """Every step's words of some columns of one block, drawn in one pass over its stream:
    ``policy`` and ``noise`` of shape ``(n_steps, n_draws, len(columns))``."""

    def __init__(self, seq: np.random.SeedSequence, block: int, columns: np.ndarray, plan: Plan,
                 n_steps: int):
        words = _block_words(seq, block, int(columns.max()) + 1, plan)
        self.policy = np.empty((n_steps, plan.n_policy_draws, len(columns)), dtype=np.uint32)
        self.noise = np.empty((n_steps, plan.n_noise_draws, len(columns)), dtype=np.uint8)
        self.key, self.columns, self.n_noise = words.keys, columns.tolist(), plan.n_noise_draws
        for t in range(n_steps):
            step = words.next()
            self.policy[t], self.noise[t] = step.policy[:, columns], step.noise[:, columns]

    def run_words(self, t: int, index: int) -> StepWords:
        """Step ``t``'s words of the ``index``-th column alone."""
        pick = slice(index, index + 1)
        return StepWords(self.policy[t, :, pick], self.noise[t, :, pick], t, self.key,
                         self.columns[index], self.n_noise)


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
        return BlockWords(self.seq, self.block, self.column + 1, 0, 0).poisson(padded)[-1:]
