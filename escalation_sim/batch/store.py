"""Batches that survive interruption: a run written to a folder chunk by chunk, resumable, and the
executors (a process pool, a Dask cluster) that run the chunks.

A run folder holds, while the batch runs::

    manifest.json        what is being run: scenario hash, seed, n_runs, n_steps, chunk size
    scenario.yaml        the fully resolved scenario
    chunks/00000012.npz  one file per finished chunk, written atomically

and once every chunk is done, what ``BatchResult.save`` writes (``runs.parquet``,
``counts.parquet``, ``metadata.json``, ``scenario.yaml``) and ``summary.json``, written last;
the chunk files are then removed. Interrupted at any point, the same call with ``resume=True``
runs only the chunks that are missing, and the result is the uninterrupted run's, bit for bit:
a run's numbers depend only on (seed, run index).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import __version__
from .._progress import progress_bar
from .._rng import RngLike
from ..core.draws import STREAM_BLOCK
from ..scenario import Scenario
from .result import BatchResult, load_result, runs_frame
from .simulate import Batch, check_count

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
CHUNKS = "chunks"
#: Everything a run writes into its folder; ``force=True`` removes these and nothing else.
OUTPUTS = (MANIFEST, SUMMARY, "runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml",
           "levels.npy", CHUNKS, "figures")
#: Manifest fields that must match for a folder to be resumed.
MATCHED = ("scenario", "scenario_hash", "seed", "n_runs", "n_steps", "chunk_size", "stream_block")
FORMAT = 1


class StoreError(ValueError):
    """A run folder cannot be used as asked: it exists already, or it holds another run."""


def run_to_folder(scenario: Scenario | str | os.PathLike, n_runs: int, folder: str | os.PathLike, *,
                  rng: RngLike = None, n_steps: int | None = None, executor=None,
                  resume: bool = False, force: bool = False, progress: bool = False,
                  chunk_size: int | None = None) -> BatchResult:
    """Run a Monte Carlo batch into ``folder``, saving each chunk as it finishes.

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name for ``load_scenario``
    n_runs : int
        Number of runs, at least 1.
    folder : path
        The run folder. It must not exist or be empty, unless ``resume`` or ``force``.
    rng : None, int, SeedSequence or Generator
        Fixes the whole batch. ``None`` draws fresh entropy, recorded in the manifest and in
        ``result.metadata["seed"]``; when resuming, ``None`` takes the seed from the manifest.
    n_steps : int, optional
        Horizon; the scenario's ``time.n_steps`` by default.
    executor : concurrent.futures.Executor, optional
        Runs the chunks (see ``open_executor``); ``None`` runs them in this process. The result
        does not depend on it.
    resume : bool
        Finish the run in ``folder``: run only the chunks that are missing. The manifest must
        match (scenario hash, seed, n_runs, n_steps, chunk size), else ``StoreError``. A folder
        that does not exist yet is started afresh; a finished one is loaded.
    force : bool
        Remove a previous run's files from ``folder`` (only the names in ``OUTPUTS``) first.
    progress : bool
        Show a progress bar over runs (tqdm, on standard error).
    chunk_size : int, optional
        Runs per chunk, rounded up to a multiple of the stream block (4096); by default
        ``default_chunk_size``, or the manifest's when resuming. Smaller chunks lose less to
        an interruption.

    Returns
    -------
    BatchResult
        Its per-run table has ``n_runs`` rows; ``counts`` has shape
        ``(n_steps, n_pairs, n_levels)``.

    Raises
    ------
    StoreError
        If ``folder`` holds files and neither ``resume`` nor ``force`` is set, or if
        ``resume`` finds a manifest of another run.
    """
    if resume and force:
        raise ValueError("resume and force exclude each other: resume keeps the finished chunks, force removes them")
    folder = Path(folder)
    previous = read_manifest(folder) if resume else None
    if previous is not None:
        rng = _seed_or_manifest(rng, previous)
        chunk_size = chunk_size or previous["chunk_size"]
    batch = Batch(scenario, n_runs, rng=rng, n_steps=n_steps, keep_runs=False)
    size = batch.chunk_runs(chunk_size)
    manifest = make_manifest(batch, size)
    if previous is not None:
        check_manifest(previous, manifest, folder)
    else:
        _start(folder, batch, manifest, force)
    if (folder / SUMMARY).is_file():
        return load_result(folder)
    missing = _load_chunks(folder, batch, size)
    _run_missing(folder, batch, size, missing, executor, progress)
    return _finish(folder, batch, size)


# -- the manifest ------------------------------------------------------------------------------

def make_manifest(batch: Batch, chunk_size: int) -> dict:
    """What identifies a run: the fields of ``MATCHED``, plus version and creation time."""
    return {
        "format": FORMAT,
        "package": "escalation-sim",
        "version": __version__,
        "scenario": batch.scenario.name,
        "scenario_hash": batch.scenario.hash(),
        "seed": {"entropy": batch.seq.entropy, "spawn_key": list(batch.seq.spawn_key)},
        "n_runs": batch.n_runs,
        "n_steps": batch.n_steps,
        "chunk_size": chunk_size,
        "stream_block": STREAM_BLOCK,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of a run folder; ``None`` if the folder is missing or empty.

    Raises ``StoreError`` if the folder holds files but no readable manifest.
    """
    folder = Path(folder)
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return None
    if not folder.is_dir():
        raise StoreError(f"{folder}: not a folder")
    try:
        return json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise StoreError(f"{folder}: holds files but no {MANIFEST}, so it is not a run folder to resume; "
                         "choose another folder, or overwrite it with --force (force=True)") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{folder / MANIFEST}: unreadable ({exc})") from None


def check_manifest(previous: dict, manifest: dict, folder: Path) -> None:
    """Raise ``StoreError`` naming every field in which the folder's run differs from this one."""
    differ = [f"{key}: the folder has {previous.get(key)!r}, this run has {manifest[key]!r}"
              for key in MATCHED if previous.get(key) != manifest[key]]
    if differ:
        raise StoreError(f"{folder} holds a different run, so it cannot be resumed with these settings ("
                         + "; ".join(differ) + "); rerun with the folder's settings, or use --force to start over")


def _seed_or_manifest(rng, previous: dict):
    if rng is not None:
        return rng
    seed = previous.get("seed") or {}
    return np.random.SeedSequence(seed.get("entropy"), spawn_key=tuple(seed.get("spawn_key", ())))


def _start(folder: Path, batch: Batch, manifest: dict, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder}: exists and is not a folder")
    if force:
        clear(folder)
    elif folder.exists() and any(folder.iterdir()):
        raise StoreError(f"output folder {folder} already exists and is not empty: finish the run in it with "
                         "--resume (resume=True), or overwrite it with --force (force=True)")
    (folder / CHUNKS).mkdir(parents=True, exist_ok=True)
    # The scenario first and the manifest last: a manifest always has its scenario beside it.
    batch.scenario.save(folder / "scenario.yaml")
    write_json(folder / MANIFEST, manifest)


def clear(folder: Path) -> None:
    """Remove a run's files (the names in ``OUTPUTS``) from ``folder``; leave anything else."""
    for name in OUTPUTS:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


# -- chunks ------------------------------------------------------------------------------------

def chunk_path(folder: Path, first: int, chunk_size: int) -> Path:
    """``folder/chunks/<chunk index>.npz`` for the chunk that starts at run ``first``."""
    return folder / CHUNKS / f"{first // chunk_size:08d}.npz"


def save_chunk(path: Path, first: int, chunk: dict) -> None:
    """Write a chunk's arrays atomically: a temporary file in the same folder, then a rename, so
    that a chunk file either is complete or does not exist. ``chunk`` is ``engine.run_chunk``'s
    dict: per-run columns of shape ``(n,)`` or ``(n_actors, n)``, and ``counts`` of shape
    ``(n_steps, n_pairs, n_levels)``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, first=np.int64(first), **chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_chunk(path: Path, first: int, n: int, batch: Batch) -> dict | None:
    """A saved chunk's arrays, or ``None`` if the file is unreadable or not this chunk."""
    try:
        with np.load(path) as data:
            chunk = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError):
        return None
    ok = (int(chunk.pop("first", -1)) == first and len(chunk.get("outcome", ())) == n
          and chunk.get("counts", np.empty(0)).shape == batch.counts.shape and all(k in chunk for k in batch.runs))
    return chunk if ok else None


def _load_chunks(folder: Path, batch: Batch, size: int) -> list[tuple[int, int]]:
    """Add the saved chunks to ``batch``; return ``(first, n)`` of those still to run."""
    missing = []
    for first, n in batch.chunks(size):
        path = chunk_path(folder, first, size)
        chunk = load_chunk(path, first, n, batch) if path.is_file() else None
        if chunk is None:
            if path.is_file():
                _note(f"{path}: unreadable or not this chunk; running it again")
            missing.append((first, n))
        else:
            batch.add(first, chunk)
    done = len(batch.chunks(size)) - len(missing)
    if done:
        _note(f"resuming {folder}: {done} of {done + len(missing)} chunks already done")
    # Leftovers of writes that were interrupted before their rename.
    for tmp in (folder / CHUNKS).glob(".tmp-*"):
        tmp.unlink(missing_ok=True)
    return missing


def _run_missing(folder, batch, size, missing, executor, progress) -> None:
    bar = progress_bar(batch.n_runs, enabled=progress, unit="run", desc="runs", initial=int(batch.done.sum()))
    try:
        for first, chunk in batch.run(missing, executor=executor):
            save_chunk(chunk_path(folder, first, size), first, chunk)
            batch.add(first, chunk)
            bar.update(len(chunk["outcome"]))
    finally:
        bar.close()


def _finish(folder: Path, batch: Batch, size: int) -> BatchResult:
    """Gather the chunk files into ``runs.parquet`` one chunk at a time (memory stays at one
    chunk, whatever the number of runs), then write the other tables and the summary."""
    runs_file = folder / "runs.parquet"
    _write_runs(runs_file, batch, size, folder)
    result = batch.result(runs_file=runs_file)
    result.save_tables(folder)
    write_json(folder / SUMMARY, summary_dict(result))
    shutil.rmtree(folder / CHUNKS, ignore_errors=True)
    return result


def _write_runs(path: Path, batch: Batch, size: int, folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_name(".tmp-" + path.name)
    writer = None
    try:
        for first, n in batch.chunks(size):
            chunk = load_chunk(chunk_path(folder, first, size), first, n, batch)
            if chunk is None:
                raise StoreError(f"{folder}: the chunk of runs {first}..{first + n - 1} is missing or damaged; "
                                 "run again with --resume")
            frame = runs_frame(batch.compact(chunk), batch.scenario.actor_ids, first)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(tmp, path)


def summary_dict(result: BatchResult) -> dict:
    """The result's metadata and summary (outcome probabilities, measure quantiles) as JSON."""
    return {**result.metadata, "title": result.scenario.title, **result.summary().to_dict()}


def write_json(path: Path, data) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(data, indent=2, default=_plain) + "\n")
    os.replace(tmp, path)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _note(message: str) -> None:
    print(message, file=sys.stderr)




# -- executors ---------------------------------------------------------------------------------

@contextlib.contextmanager
def open_executor(workers: int | None = None, dask: str | None = None, *, timeout: float = 5.0):
    """Yield the executor for ``simulate``/``run_to_folder``, and shut it down afterwards.

    Parameters
    ----------
    workers : int, optional
        Without ``dask``: processes of a ``ProcessPoolExecutor`` (``None`` or 1: no executor,
        the chunks run in this process). With ``dask="local"``: workers of the local cluster
        (2 by default).
    dask : str, optional
        A Dask scheduler address (``tcp://host:8786``) to connect to, or ``"local"`` to start
        a ``LocalCluster`` of single-threaded worker processes on this machine.
    timeout : float
        Seconds to wait for a Dask scheduler.

    Raises
    ------
    ImportError
        If ``dask`` is set and ``dask.distributed`` is not installed.
    ConnectionError
        If the Dask scheduler cannot be reached within ``timeout``.
    """
    if workers is not None:
        check_count("workers", workers)
    if dask is not None:
        with _dask_executor(dask, workers, timeout) as executor:
            yield executor
    elif workers is None or workers == 1:
        yield None
    else:
        with _process_pool(workers) as pool:
            yield pool


@contextlib.contextmanager
def _process_pool(workers: int):
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, initializer=_ignore_sigint)
    finished = False
    try:
        yield pool
        finished = True
    finally:
        # Interrupted: drop the queued chunks and do not wait for the running ones.
        pool.shutdown(wait=finished, cancel_futures=True)


def _ignore_sigint() -> None:
    """In pool workers: Ctrl-C reaches the whole process group; the parent alone handles it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _dask_executor(address: str, workers: int | None, timeout: float):
    try:
        from dask.distributed import Client
        from distributed.comm.addressing import get_address_host_port, normalize_address
    except ImportError:
        raise ImportError("running on Dask needs dask.distributed: pip install 'escalation-sim[dask]'") from None
    with contextlib.ExitStack() as stack:
        if address == "local":
            target = stack.enter_context(local_cluster(workers or 2))
        else:
            try:  # before Client(): a Client that fails on a malformed address warns again when collected
                target = normalize_address(address)
                get_address_host_port(target)
            except ValueError as exc:
                raise ValueError(f"dask: {address!r} is not a scheduler address such as tcp://host:8786, "
                                 f"nor 'local' ({exc})") from None
        try:
            client = stack.enter_context(Client(target, timeout=timeout, set_as_default=False))
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({exc})") from None
        yield client.get_executor()


def local_cluster(n_workers: int):
    """A ``LocalCluster`` of ``n_workers`` single-threaded processes, without Dask's
    ``MALLOC_TRIM_THRESHOLD_`` setting: with it, glibc unmaps NumPy's per-step temporaries at
    every step and the workers run at half speed (docs/cli.md, "Running on a cluster")."""
    import dask
    from dask.distributed import LocalCluster

    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                            dashboard_address=None)
