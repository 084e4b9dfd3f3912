"""Monte Carlo batches: the runs split into chunks, the chunks run in-process or on any
``concurrent.futures.Executor``, their results gathered into a ``BatchResult``."""

from __future__ import annotations

import datetime as _dt
import functools
import os
from concurrent.futures import Executor, as_completed
from typing import Iterator

import numpy as np

from .. import __version__
from .._progress import progress_bar
from .._rng import RngLike, seed_sequence
from ..core.engine import RUN_COLUMNS, run_chunk
from ..core.draws import STREAM_BLOCK
from ..core.plan import compile_plan
from ..scenario import Scenario, as_scenario
from .result import BatchResult

#: Share of the memory available now that a batch may plan to use.
MEMORY_SHARE = 0.8

#: Cells (pairs × runs) of a chunk by default, about: few enough for a chunk's arrays to stay
#: in cache, enough runs for the step loop's per-call overhead to be spread thin.
CHUNK_CELLS = 2**20


def simulate(scenario: Scenario | str | os.PathLike, n_runs: int, *, rng: RngLike = None,
             n_steps: int | None = None, executor: Executor | None = None,
             trajectories: bool = False, progress: bool = False,
             chunk_size: int | None = None) -> BatchResult:
    """Run a Monte Carlo batch of a scenario.

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name for ``load_scenario``
    n_runs : int
        Number of runs, at least 1.
    rng : None, int, SeedSequence or Generator
        Fixes the whole batch. With ``None`` fresh entropy is drawn and recorded in
        ``result.metadata["seed"]`` so the batch can be replayed.
    n_steps : int, optional
        Horizon; the scenario's ``time.n_steps`` by default.
    executor : concurrent.futures.Executor, optional
        Runs the chunks (a ``ProcessPoolExecutor``, a Dask client's ``get_executor()``, ...).
        ``None`` runs them in this process. The result is the same, bit for bit.
    trajectories : bool
        Keep every level of every run (``n_steps * n_pairs`` bytes per run), for
        ``result.trajectory(run)``.
    progress : bool
        Show a progress bar (tqdm, on standard error).
    chunk_size : int, optional
        Runs per chunk, rounded up to a multiple of the stream block (4096); by default
        ``default_chunk_size`` of the scenario. It changes memory use and speed, never the
        result.

    Returns
    -------
    BatchResult

    Raises
    ------
    BatchTooLarge
        If the batch would need more memory than the machine has available (the message gives
        the estimate, ``memory_estimate``, and the memory available).
    """
    batch = Batch(scenario, n_runs, rng=rng, n_steps=n_steps, trajectories=trajectories)
    for first, chunk in batch.run(batch.chunks(chunk_size), executor=executor, progress=progress):
        batch.add(first, chunk)
    return batch.result()


def default_chunk_size(n_pairs: int) -> int:
    """Runs per chunk by default: 16 stream blocks, doubled up to 64 while the chunk stays
    within ``CHUNK_CELLS`` cells (games of few actors gain from longer arrays)."""
    runs = 16 * STREAM_BLOCK
    while runs < 64 * STREAM_BLOCK and 2 * runs * n_pairs <= CHUNK_CELLS:
        runs *= 2
    return runs


def check_count(name: str, value, *, optional=False) -> int | None:
    """``value`` as a count of at least 1 (``None`` passes when ``optional``).

    Raises
    ------
    TypeError
        Not an integer (a bool or a float is refused).
    ValueError
        Below 1.
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


class BatchTooLarge(ValueError):
    """A batch would need more memory than the machine has available."""


def memory_estimate(n_runs: int, n_steps: int, n_pairs: int, n_levels: int, n_actors: int, *,
                    chunk_runs: int, keep_runs: bool = True, trajectories: bool = False) -> int:
    """Bytes a batch needs at its peak, about: the per-run table (when kept), the per-step
    level counts (the batch's, and a chunk's two while it runs), the trajectories (when kept),
    and one chunk's working arrays (``engine.Chunk``: occupancy and recent counts per level,
    pair and run, and some twenty arrays per pair and run).

    Returns
    -------
    int
        Bytes; within a factor of about two of what a run really uses.
    """
    return sum(memory_parts(n_runs, n_steps, n_pairs, n_levels, n_actors, chunk_runs=chunk_runs,
                            keep_runs=keep_runs, trajectories=trajectories).values())


def memory_parts(n_runs: int, n_steps: int, n_pairs: int, n_levels: int, n_actors: int, *,
                 chunk_runs: int, keep_runs: bool = True, trajectories: bool = False) -> dict[str, int]:
    """``memory_estimate`` by part, in bytes: ``runs`` (the per-run table and done flags),
    ``trajectories``, ``counts`` (the per-step level counts) and ``chunk`` (a chunk's working
    arrays and the chunk list), so that a refusal can name what to cut."""
    chunk_runs = min(chunk_runs, n_runs)
    return {
        "runs": n_runs * (1 + (3 * 8 * n_actors + 40 if keep_runs else 0)) + 100 * -(-n_runs // chunk_runs),
        "trajectories": n_runs * n_steps * n_pairs if trajectories else 0,
        "counts": 3 * n_steps * n_pairs * n_levels * 8,
        "chunk": chunk_runs * (n_pairs * (5 * n_levels + 24 + (n_steps if trajectories else 0)) + 12 * n_actors + 64),
    }


#: What to cut when a part of ``memory_parts`` is the largest.
ADVICE = {
    "runs": "use fewer runs, or run_to_folder / run --out, which keep no per-run table in memory",
    "trajectories": "use fewer runs or steps, or no trajectories",
    "counts": "use fewer steps or actors: the per-step level counts (steps x actor pairs x levels) are kept "
              "in memory whatever the output, run --out included",
    "chunk": "use fewer actors or steps: a chunk's working arrays grow with actor pairs x levels "
             "(and steps, with trajectories)",
}


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (``MemAvailable`` on Linux, else the
    physical memory), or ``None`` if the system does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: int | dict[str, int], what: str) -> None:
    """Raise ``BatchTooLarge`` if ``need`` bytes exceed ``MEMORY_SHARE`` of the available memory.

    ``need`` by part (``memory_parts``) makes the message advise cutting the largest part.
    """
    parts = need if isinstance(need, dict) else None
    need = sum(parts.values()) if parts else need
    have = available_memory()
    if have is not None and need > MEMORY_SHARE * have:
        advice = (ADVICE[max(parts, key=parts.get)] if parts else
                  "use fewer runs or steps (or no trajectories), or run_to_folder / run --out, which keep "
                  "no per-run table in memory")
        raise BatchTooLarge(f"{what} needs about {_bytes(need)} of memory, but this machine has {_bytes(have)} "
                            f"available; {advice}")


def _bytes(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000


@functools.lru_cache(maxsize=8)
def _plan(scenario: Scenario):
    return compile_plan(scenario)


def _run_chunk(scenario, seq, first, n, n_steps, trajectories):
    """Module-level so that process pools can pickle it; compiles the plan once per process."""
    return run_chunk(_plan(scenario), seq, first, n, n_steps, trajectories)


class Batch:
    """A batch being assembled chunk by chunk: the pieces that ``simulate``, resumable CLI runs
    and sweeps share. Results go into preallocated arrays, so memory holds the per-run table
    and one chunk per worker, whatever the number of runs."""

    def __init__(self, scenario, n_runs, *, rng=None, n_steps=None, trajectories=False, keep_runs=True):
        scenario = as_scenario(scenario)
        self.scenario = scenario
        self.n_runs = check_count("n_runs", n_runs)
        self.n_steps = check_count("n_steps", n_steps, optional=True) or scenario.n_steps
        self.seq = seed_sequence(rng)
        self.trajectories = trajectories
        self.plan = _plan(scenario)
        n_actors, P, L1 = len(scenario.actors), self.plan.n_pairs, self.plan.n_levels
        need = memory_parts(self.n_runs, self.n_steps, P, L1, n_actors, chunk_runs=self.chunk_runs(),
                               keep_runs=keep_runs, trajectories=trajectories)
        check_memory(need, f"a batch of {self.n_runs:,} runs of {self.n_steps:,} steps of {scenario.name}"
                           f" ({P} actor pairs, {L1} levels{', with trajectories' if trajectories else ''})")
        # Without keep_runs only the per-step counts are kept (the caller stores the chunks).
        width = self.n_runs if keep_runs else 0
        self.runs = {k: np.zeros(width, dtype=d) for k, d in self.run_dtypes().items()}
        for k in ("harm_inflicted", "harm_received", "payoff"):
            self.runs[k] = np.zeros((n_actors, width), dtype=np.float64)
        self.keep_runs = keep_runs
        self.counts = np.zeros((self.n_steps, P, L1), dtype=np.int64)
        self.levels = np.zeros((self.n_steps, P, self.n_runs), dtype=np.int8) if trajectories else None
        self.done = np.zeros(self.n_runs, dtype=bool)

    def run_dtypes(self) -> dict:
        """Compact dtypes of the per-run columns: steps in int16 when the horizon allows."""
        step = np.int16 if self.n_steps <= np.iinfo(np.int16).max else np.int32
        return {k: step if k.endswith("step") or k == "hostile_steps" else d for k, d in RUN_COLUMNS.items()}

    def compact(self, chunk: dict) -> dict:
        """A chunk's per-run columns in the compact dtypes."""
        out = {k: chunk[k].astype(d, copy=False) for k, d in self.run_dtypes().items()}
        out.update({k: chunk[k] for k in ("harm_inflicted", "harm_received", "payoff")})
        return out

    def chunk_runs(self, chunk_size: int | None = None) -> int:
        """Runs per chunk: ``chunk_size`` rounded up to a multiple of the stream block, or
        ``default_chunk_size``."""
        if chunk_size is None:
            return default_chunk_size(self.plan.n_pairs)
        return -(-check_count("chunk_size", chunk_size) // STREAM_BLOCK) * STREAM_BLOCK

    def chunks(self, chunk_size: int | None = None) -> list[tuple[int, int]]:
        """``(first_run, n_runs)`` of each chunk, in order."""
        size = self.chunk_runs(chunk_size)
        return [(first, min(size, self.n_runs - first)) for first in range(0, self.n_runs, size)]

    def run(self, chunks, *, executor=None, progress=False) -> Iterator[tuple[int, dict]]:
        """Yield ``(first_run, chunk_result)`` as chunks finish."""
        args = (self.scenario, self.seq)
        bar = progress_bar(len(chunks), enabled=progress, unit="chunk", desc="runs")
        try:
            if executor is None:
                for first, n in chunks:
                    yield first, _run_chunk(*args, first, n, self.n_steps, self.trajectories)
                    bar.update(1)
            else:
                futures = {executor.submit(_run_chunk, *args, first, n, self.n_steps, self.trajectories): first
                           for first, n in chunks}
                try:
                    for future in as_completed(futures):
                        yield futures.pop(future), future.result()  # drop it: memory stays flat
                        bar.update(1)
                finally:
                    for future in futures:
                        future.cancel()
        finally:
            bar.close()

    def add(self, first: int, chunk: dict) -> None:
        n = len(chunk["outcome"])
        if self.keep_runs:
            for key, column in self.runs.items():
                column[..., first : first + n] = chunk[key]
        self.counts += chunk["counts"]
        if self.levels is not None:
            self.levels[:, :, first : first + n] = chunk["levels"]
        self.done[first : first + n] = True

    def metadata(self) -> dict:
        return {
            "package": "escalation-sim",
            "version": __version__,
            "scenario": self.scenario.name,
            "scenario_hash": self.scenario.hash(),
            "seed": {"entropy": self.seq.entropy, "spawn_key": list(self.seq.spawn_key)},
            "n_runs": self.n_runs,
            "n_steps": self.n_steps,
            "stream_block": STREAM_BLOCK,
            "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def result(self, runs_file=None) -> BatchResult:
        """The finished batch; without ``keep_runs`` its per-run table is read from ``runs_file``."""
        if not self.done.all():
            missing = int((~self.done).sum())
            raise RuntimeError(f"{missing} of {self.n_runs} runs have not been simulated")
        runs = self.runs if self.keep_runs else None
        return BatchResult(self.scenario, runs, self.counts, self.metadata(), levels=self.levels,
                           pairs=self.plan.pairs, runs_file=runs_file)
