"""The random numbers of the core: one step's words for a set of runs, drawn block by block.

Every rule that draws draws a uniform 32-bit word ``U`` per cell and step, and fires when
``U <= limit``. The policies' words (``StepWords.policy``) are drawn whole. The noise rules'
words (perception, attribution, control, sparks, execution) are drawn in two parts: the top
byte of every word from the block's stream (``StepWords.noise``), and the low 24 bits only for
the cells whose top byte equals the limit's, where the byte alone cannot decide (one cell in
256). Those low bits come from a counter-based hash of the cell, (block key, step, row,
column), so every cell's ``U`` is the same whichever cells asked for theirs: the comparison is
exact, a run's numbers depend on nothing but (seed, run index), and the noise costs one byte
per cell instead of four.

Block ``b`` of a batch draws from its own streams, spawned from the batch's ``SeedSequence``,
and draws its words for a full block at every step whether or not its runs have ended.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._rng import block_streams

#: Runs that share one random stream. Fixed: changing it changes every result for a given seed.
STREAM_BLOCK = 4096

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(seed: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The ``n``-th output (``n >= 1``) of SplitMix64 seeded with ``seed`` (Steele, Lea and
    Flood 2014), elementwise on uint64: the generator read at any position, not in order."""
    z = seed + n * _GOLDEN
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


class StepWords:
    """One step's random numbers for a set of consecutive runs of a batch.

    Attributes
    ----------
    policy : uint32 array, shape (n_policy_draws, n_runs)
        Whole words, for the policies' draws.
    noise : uint8 array, shape (n_noise_draws, n_runs)
        Top bytes of the noise rules' words; compare them with ``below`` or ``below_at``.
    t : int
        The step.
    keys : uint64 array
        The keys of the stream blocks the runs belong to, from the first run's block on.
    first : int
        The first run's column in its block (the runs are consecutive from there).
    n_noise : int
        Noise rows of the plan: with ``t``, the row and the column they name a cell's low bits.
    """

    def __init__(self, policy, noise, t, keys, first, n_noise):
        self.policy, self.noise, self.t = policy, noise, t
        self.keys, self.first, self.n_noise = keys, first, n_noise

    def column(self, j: int) -> StepWords:
        """The words of run ``j`` alone (arrays of shape ``(n_draws, 1)``), copied."""
        block, column = divmod(self.first + j, STREAM_BLOCK)
        pick = slice(j, j + 1)
        return StepWords(self.policy[:, pick].copy(), self.noise[:, pick].copy(), self.t,
                         self.keys[block : block + 1], column, self.n_noise)

    def low_bits(self, rows: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """The low 24 bits of the noise words at (noise row, run), uint32."""
        block, column = np.divmod(runs + self.first, STREAM_BLOCK)
        row = rows + self.t * self.n_noise
        position = (row * STREAM_BLOCK + column + 1).astype(np.uint64)
        z = splitmix64(self.keys[block], position)
        return (z >> np.uint64(40)).astype(np.uint32)

    def full(self, rows: slice) -> np.ndarray:
        """The whole 32-bit words of some noise rows (for tests: ``below`` never needs them)."""
        top = self.noise[rows].astype(np.uint32) << 24
        r, run = np.indices(top.shape)
        return top | self.low_bits(r.ravel() + rows.start, run.ravel()).reshape(top.shape)

    def below(self, rows: slice, limit: Limit) -> np.ndarray:
        """``U <= limit`` for every cell of some noise rows, exactly."""
        top = self.noise[rows]
        hit = top < limit.high
        ties = sparse_flatnonzero(top == limit.high)
        if ties.size:
            r, run = np.divmod(ties, top.shape[1])
            fire = self.low_bits(r + rows.start, run) <= _at_rows(limit.low, r)
            if limit.never is not None:  # a never row has limit 0: only its ties could fire
                fire &= ~_at_rows(limit.never, r)
            hit.reshape(-1)[ties] = fire
        return hit

    def below_at(self, rows: slice, cells: np.ndarray, limit: Limit) -> np.ndarray:
        """``U <= limit`` for some cells of some noise rows only, given as flat indices into
        ``noise[rows]``."""
        top = self.noise[rows].reshape(-1)[cells]
        r, run = np.divmod(cells, self.noise.shape[1])
        high = _at_rows(limit.high, r)
        hit = top < high
        ties = np.flatnonzero(top == high)
        if ties.size:
            fire = self.low_bits(r[ties] + rows.start, run[ties]) <= _at_rows(limit.low, r[ties])
            if limit.never is not None:
                fire &= ~_at_rows(limit.never, r[ties])
            hit[ties] = fire
        return hit


def sparse_flatnonzero(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero`` of a bool array that is mostly False, about a third faster: the
    mask packed eight cells to a byte, the nonzero bytes found, and only those unpacked."""
    packed = np.packbits(mask.reshape(-1))
    some = np.flatnonzero(packed != 0)
    bits = np.flatnonzero(np.unpackbits(packed[some]).view(bool))
    return some[bits >> 3] * 8 + (bits & 7)


class Limit:
    """A noise rule's limit: a cell fires when its word ``U <= value`` (a uint32 scalar, or a
    column of shape ``(n_rows, 1)``, one limit per row). Split once into the top byte and the
    low 24 bits that ``StepWords.below`` compares; ``half`` is the limit of the lower half of
    the firing range (off-by-one moves go up there)."""

    def __init__(self, value, *, halve: bool = True, never=None):
        self.value = np.asarray(value, dtype=np.uint32)
        #: Rows that never fire (probability 0 among rows that do), bool column, or None: a
        #: limit of 0 would still fire at ``U = 0``. Their limit must be 0, so that only their
        #: ties with the top byte need the mask.
        self.never = None if never is None or not np.any(never) else np.asarray(never, dtype=bool)
        self.high = (self.value >> np.uint32(24)).astype(np.uint8)
        self.low = self.value & np.uint32(0xFFFFFF)
        self.half = Limit(self.value // np.uint32(2), halve=False) if halve else None


def _at_rows(values: np.ndarray, rows: np.ndarray):
    """A per-row value (a scalar, or a column of shape ``(n_rows, 1)``) at each of ``rows``."""
    return values if values.ndim == 0 else values.reshape(-1)[rows]


class BlockWords:
    """The random numbers of a set of consecutive stream blocks: ``next()`` gives each step's
    ``StepWords``, ``poisson`` the end-of-run draws."""

    #: Bytes of raw words drawn ahead for all the blocks at once: a few steps when steps are
    #: small, so that drawing costs a few calls per step rather than a few per block and step.
    AHEAD_BYTES = 1 << 21

    def __init__(self, seq: np.random.SeedSequence, first_block: int, n_runs: int,
                 n_policy: int, n_noise: int):
        n_blocks = -(-n_runs // STREAM_BLOCK)
        streams = [block_streams(seq, first_block + b) for b in range(n_blocks)]
        self.step_streams = [s.steps for s in streams]
        self.end_generators = [s.end for s in streams]
        self.n_runs, self.n_policy, self.n_noise, self.t = n_runs, n_policy, n_noise, 0
        # Per block and step, in stream order: the policy words (4 bytes a cell), then the
        # noise bytes; as 64-bit raw words.
        self.split = n_policy * STREAM_BLOCK // 2
        per_step = self.split + n_noise * STREAM_BLOCK // 8
        ahead = max(1, min(16, self.AHEAD_BYTES // max(1, 8 * n_blocks * per_step)))
        self.ahead = np.empty((n_blocks, ahead, per_step), dtype=np.uint64)  # steps drawn ahead
        width = n_blocks * STREAM_BLOCK
        self.policy = np.empty((n_policy, width), dtype=np.uint32)
        self.noise = np.empty((n_noise, width), dtype=np.uint8)
        self.keys = np.array([s.key for s in streams], dtype=np.uint64)

    def next(self) -> StepWords:
        """This step's words, for the first ``n_runs`` runs of the blocks."""
        n, t = self.n_runs, self.t
        self.t += 1
        n_blocks, ahead, per_step = self.ahead.shape
        if per_step:
            k = t % ahead
            if k == 0:
                for b, stream in enumerate(self.step_streams):
                    self.ahead[b] = stream.random_raw(ahead * per_step).reshape(ahead, per_step)
            raw = self.ahead[:, k]
            # (block, row, column) in the stream, (row, block, column) in the step's arrays
            policy = raw[:, : self.split].view(np.uint32).reshape(n_blocks, self.n_policy, STREAM_BLOCK)
            noise = raw[:, self.split :].view(np.uint8).reshape(n_blocks, self.n_noise, STREAM_BLOCK)
            np.copyto(self.policy.reshape(self.n_policy, n_blocks, STREAM_BLOCK), policy.transpose(1, 0, 2))
            np.copyto(self.noise.reshape(self.n_noise, n_blocks, STREAM_BLOCK), noise.transpose(1, 0, 2))
        return StepWords(self.policy[:, :n], self.noise[:, :n], t, self.keys, 0, self.n_noise)

    def poisson(self, mean: np.ndarray) -> np.ndarray:
        """One Poisson draw per run with the given means, by inversion of one uniform per run,
        so that a run's draw depends on its own mean only (the Mesa model replays it alone)."""
        if not mean.any():  # nothing to draw (each block's generator serves this draw only)
            return np.zeros(mean.shape, dtype=np.int64)
        u = np.concatenate([gen.random(STREAM_BLOCK) for gen in self.end_generators])[: self.n_runs]
        return poisson_quantile(u, mean)


def poisson_quantile(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Smallest k with P(X <= k) >= u for X ~ Poisson(mean); 0 where the mean is 0.

    The rule of ``scipy.stats.poisson.ppf``, a few times faster: a Cornish-Fisher guess
    (rarely more than one off), the distribution function there (``pdtr``), then single steps
    along the probability recurrence until the guess is the quantile. Runs that have not
    settled after ``_STEPS`` steps, or whose distribution function is within ``_CLOSE`` of
    ``u`` (where the summed recurrence could round the wrong way), take the exact inverse.
    """
    u = np.asarray(u, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    out = np.zeros(mean.shape, dtype=np.int64)
    some = np.flatnonzero(mean > 0)
    q, m = u[some], mean[some]
    with np.errstate(invalid="ignore"):  # u = 0 gives z = -inf: the guess is then 0
        z = special.ndtri(q)
        guess = np.floor(m + np.sqrt(m) * z + (z * z - 1) / 6 + 0.5)
    k = np.clip(np.nan_to_num(guess, nan=0.0, posinf=0.0, neginf=0.0), 0, None)
    cdf = special.pdtr(k, m)
    pmf = np.exp(special.xlogy(k, m) - m - special.gammaln(k + 1))
    for _ in range(_STEPS):
        down = (k > 0) & (cdf - pmf >= q)  # P(X <= k - 1) already reaches q
        up = cdf < q
        if not (down.any() or up.any()):
            break
        cdf = np.where(down, cdf - pmf, cdf)
        pmf = np.where(down, pmf * k / m, pmf)
        k = k - down + up
        pmf = np.where(up, pmf * m / np.maximum(k, 1), pmf)
        cdf = np.where(up, cdf + pmf, cdf)
    # Unsettled, or too close to call in floating point: the exact inverse decides.
    unsettled = ((k > 0) & (cdf - pmf >= q)) | (cdf < q)
    unsettled |= (np.abs(cdf - q) < _CLOSE) | ((k > 0) & (np.abs(cdf - pmf - q) < _CLOSE))
    k[unsettled] = _exact_quantile(q[unsettled], m[unsettled])
    out[some] = k
    return out


_STEPS, _CLOSE = 8, 1e-12


def _exact_quantile(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The quantile from the continuous inverse ``pdtrik``, moved one step at a time until the
    distribution function itself (``pdtr``) confirms it (``pdtrik`` can be a few off for large
    means)."""
    k = np.maximum(np.ceil(special.pdtrik(q, m)), 0)
    while (low := np.flatnonzero(special.pdtr(k, m) < q)).size:
        k[low] += 1
    while (high := np.flatnonzero((k > 0) & (special.pdtr(k - 1, m) >= q))).size:
        k[high] -= 1
    return k
