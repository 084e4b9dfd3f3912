"""The outcome distribution the dashboard shows, computed in the background: a fast first
estimate, then the full batch, with progress and cancellation.

Run ``r`` of a batch does not depend on how many runs the batch has (runs come in stream blocks
spawned from the seed), so the first estimate is exactly the first runs of the full batch, and
a run picked from either replays the same. Both stages call ``simulate`` with a thread pool as
its executor: NumPy releases the GIL in the step loop, so two threads use two cores without the
start-up cost of processes, and the page's own thread stays free.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

from ..batch import BatchResult, simulate
from ..scenario import Scenario

#: Runs of the first estimate: a quarter of a second on one core for the seed scenario.
FIRST_RUNS = 8_192
#: Runs per chunk of the thread pool: small enough for a steady progress bar and for two
#: threads to share the work, large enough for NumPy's per-call overhead to stay small.
CHUNK_RUNS = 16_384
WORKERS = 2

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class Cancelled(Exception):
    """The batch was superseded (a parameter changed) before it finished."""


@dataclass(frozen=True)
class Snapshot:
    """Where a computation stands.

    Attributes
    ----------
    result : BatchResult or None
        The latest finished stage (the first estimate, then the full batch); ``None`` before
        the first stage has finished.
    done : int
        Runs simulated so far, over all stages (the first estimate's runs count twice, as they
        are simulated twice).
    total : int
        Runs of all stages together.
    final : bool
        ``result`` is the full batch.
    """

    result: BatchResult | None
    done: int
    total: int
    final: bool

    @property
    def fraction(self) -> float:
        return self.done / self.total


def stages(n_runs: int, first: int = FIRST_RUNS) -> list[int]:
    """Runs of each stage: the first estimate, then the full batch (one stage if small)."""
    return [first, n_runs] if first < n_runs else [n_runs]


def estimates(scenario: Scenario, n_runs: int, rng, *, first: int = FIRST_RUNS,
              cancel: threading.Event | None = None, poll: float = 0.2) -> Iterator[Snapshot]:
    """Yield ``Snapshot``s while the batch runs: every ``poll`` seconds, and after each stage.

    Parameters
    ----------
    scenario : Scenario
    n_runs : int
        Runs of the full batch.
    rng : int or SeedSequence
        The batch's seed, as for ``simulate``.
    first : int
        Runs of the first estimate.
    cancel : threading.Event, optional
        When set, the remaining chunks are skipped and the generator returns.
    poll : float
        Seconds between progress snapshots.
    """
    cancel = cancel or threading.Event()
    sizes = stages(n_runs, first)
    total, before, result = sum(sizes), 0, None
    for k, size in enumerate(sizes):
        watched = _Watched(_shared_pool(), cancel)
        driver = threading.Thread(target=watched.call, args=(simulate, scenario, size),
                                  kwargs={"rng": rng, "executor": watched, "chunk_size": min(size, CHUNK_RUNS)},
                                  daemon=True)
        driver.start()
        while driver.is_alive():
            driver.join(poll)
            if cancel.is_set():
                return
            yield Snapshot(result, before + int(size * watched.fraction()), total, False)
        if watched.error is not None:
            if isinstance(watched.error, Cancelled):
                return
            raise watched.error
        before += size
        result = watched.value
        yield Snapshot(result, before, total, k == len(sizes) - 1)


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="escalation-sim-dashboard")
        return _pool


class _Watched(Executor):
    """An executor over a shared pool that counts finished chunks and skips the remaining ones
    once ``cancel`` is set (``simulate`` then raises ``Cancelled``)."""

    def __init__(self, pool: Executor, cancel: threading.Event):
        self.pool, self.cancel = pool, cancel
        self.submitted = self.finished = 0
        self.value = self.error = None
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            self.submitted += 1
        future = self.pool.submit(self._guarded, fn, args, kwargs)
        future.add_done_callback(self._count)
        return future

    def _guarded(self, fn, args, kwargs):
        if self.cancel.is_set():
            raise Cancelled()
        return fn(*args, **kwargs)

    def _count(self, _future) -> None:
        with self._lock:
            self.finished += 1

    def fraction(self) -> float:
        with self._lock:
            return self.finished / self.submitted if self.submitted else 0.0

    def call(self, fn, *args, **kwargs) -> None:
        """Run ``fn`` (in the driver thread), keeping its value or its exception."""
        try:
            self.value = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the generator, which re-raises it
            self.error = exc


def wait_final(scenario: Scenario, n_runs: int, rng, *, first: int = FIRST_RUNS) -> list[Snapshot]:
    """Every snapshot of ``estimates`` until the end (for tests and benchmarks)."""
    return list(estimates(scenario, n_runs, rng, first=first))
