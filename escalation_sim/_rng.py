"""One place where every ``rng`` argument is normalised (Scientific Python SPEC 7)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

RngLike = None | int | np.random.SeedSequence | np.random.Generator


def seed_sequence(rng: RngLike) -> np.random.SeedSequence:
    """Return the ``SeedSequence`` that fixes a whole batch.

    ``None`` draws fresh entropy (recorded in ``SeedSequence.entropy`` so the batch can be
    replayed); an ``int`` seeds a new sequence; a ``Generator`` contributes a seed drawn from
    its stream, so that passing the same generator state gives the same batch.

    A ``SeedSequence`` is never used as given: the result is a fresh sequence with its
    ``entropy``, ``spawn_key`` and ``pool_size``. Spawning from it cannot advance the caller's
    object, and what the caller's object spawned before does not matter, so the same object
    passed twice, or two equal ones, give the same results (SPEC 7).
    """
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng: a seed must be a non-negative integer, got {rng}")
        return np.random.SeedSequence(None if rng is None else int(rng))
    if isinstance(rng, np.random.SeedSequence):
        return np.random.SeedSequence(rng.entropy, spawn_key=rng.spawn_key, pool_size=rng.pool_size)
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(int(rng.integers(0, 2**63)))
    raise TypeError(
        "rng must be None, a non-negative int, a numpy.random.SeedSequence or a "
        f"numpy.random.Generator, got {type(rng).__name__}"
    )


def children(seq: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``seq``, as ``seq.spawn(n)`` gives them on a fresh sequence,
    without advancing ``seq``: child ``k`` is ``SeedSequence(entropy, spawn_key=(*spawn_key, k))``.
    Use this, never ``spawn``, on a sequence that came from a caller."""
    return [np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, k), pool_size=seq.pool_size)
            for k in range(n)]


class BlockStreams(NamedTuple):
    """The random sources of one block of runs (``core.draws``)."""

    steps: np.random.SFC64  # the per-step words
    end: np.random.Generator  # the end-of-run draws (fatalities)
    key: int  # seeds the counter-based low bits of the noise words


def block_streams(seq: np.random.SeedSequence, block: int) -> BlockStreams:
    """The random sources of one block of runs.

    Block ``b`` of a batch always gets the same sources, however the batch is chunked: the
    ``b``-th child of ``seq`` spawns one child for each, so they never shift each other.
    """
    child = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, block))
    step_seq, end_seq, key_seq = child.spawn(3)  # a sequence made here: spawning it touches no caller's
    return BlockStreams(np.random.SFC64(step_seq), np.random.Generator(np.random.SFC64(end_seq)),
                        int(key_seq.generate_state(1, np.uint64)[0]))
