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
a run's numbers depend only on (seed, run index). Each chunk file carries a stamp of the run it
belongs to (scenario hash, seed, horizon, first run, number of runs) and a checksum; a chunk
that fails either is reported and run again. One process at a time writes into a folder
(``lock.folder_lock``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from .. import __version__
from .._progress import progress_bar
from .._rng import RngLike
from ..core.draws import STREAM_BLOCK
from ..scenario import Scenario
from .lock import LOCK_NAME, folder_lock, release_inherited
from .result import BatchResult, load_result, runs_frame
from .simulate import Batch, check_count

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
CHUNKS = "chunks"
#: What ``run_to_folder`` writes into its folder (a trailing ``/``: a folder of its own). The
#: manifest lists them, with the figures the command line adds (``record_files``);
#: ``force=True`` removes the files a manifest lists and nothing else.
RUN_FILES = (MANIFEST, SUMMARY, "runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml",
             "levels.npy", CHUNKS + "/")
#: Manifests are small; a larger file is not one.
MANIFEST_LIMIT = 1 << 20
#: Manifest fields that must match for a folder to be resumed.
MATCHED = ("scenario", "scenario_hash", "seed", "n_runs", "n_steps", "chunk_size", "stream_block")
FORMAT = 1


class StoreError(ValueError):
    """A run folder cannot be used as asked: it exists already, or it holds another run.

    ``differences`` lists ``(field, folder's value, this run's value)`` when a resume was
    refused because the settings differ (the command line words them in its own terms).
    """

    def __init__(self, message: str, differences: tuple = ()):
        super().__init__(message)
        self.differences = tuple(differences)


def run_to_folder(scenario: Scenario | str | os.PathLike, n_runs: int, folder: str | os.PathLike, *,
                  rng: RngLike = None, n_steps: int | None = None, executor=None,
                  resume: bool = False, force: bool = False, progress: bool = False,
                  chunk_size: int | None = None) -> BatchResult:
    """Run a Monte Carlo batch into ``folder``, saving each chunk as it finishes.

    The folder is locked for the whole call (``batch.lock.folder_lock``): a second writer,
    in this or another process, is refused with ``FolderLocked`` instead of mixing its files
    with this run's.

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
        match (scenario hash, seed, n_runs, n_steps, chunk size), else ``StoreError``. Chunk
        files that are unreadable, damaged or from another run are reported on standard error
        and run again. A folder that does not exist yet is started afresh; a finished one is
        loaded (and chunk files left by an interrupted clean-up are removed).
    force : bool
        Start over: remove the files that the previous run listed in its manifest (and only
        those) first. Files of the user's beside them are kept; if one of them has the name of
        a file this run writes, ``StoreError``.
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
    FolderLocked
        If another process is writing into ``folder``.
    """
    if resume and force:
        raise ValueError("resume and force exclude each other: resume keeps the finished chunks, force removes them")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder}: exists and is not a folder")
    with folder_lock(folder):
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
            _remove_stale_chunks(folder)
            return load_result(folder)
        missing = _load_chunks(folder, batch, size)
        _run_missing(folder, batch, size, missing, executor, progress)
        return _finish(folder, batch, size)


def is_finished(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a finished run (its ``summary.json`` is written last)."""
    return (Path(folder) / SUMMARY).is_file()


# -- the manifest ------------------------------------------------------------------------------

def make_manifest(batch: Batch, chunk_size: int) -> dict:
    """What identifies a run: the fields of ``MATCHED``, plus version and creation time, and
    ``files``: what the run writes into its folder, the only files ``force=True`` removes."""
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
        "files": list(RUN_FILES),
    }


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of a run folder; ``None`` if the folder is missing or empty.

    Raises ``StoreError`` if the folder holds files but no readable manifest.
    """
    folder = Path(folder)
    if not folder.exists() or (folder.is_dir() and not _contents(folder)):
        return None
    if not folder.is_dir():
        raise StoreError(f"{folder}: not a folder")
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MANIFEST_LIMIT:
            raise StoreError(f"{path}: {path.stat().st_size:,} bytes, too large for a manifest")
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{folder}: holds files but no {MANIFEST}, so it is not a run folder to resume; "
                         "choose another folder, or overwrite it with force=True") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable ({_short(exc)})") from None
    return _checked_manifest(manifest, path)


def _checked_manifest(manifest, path: Path) -> dict:
    """The manifest if its fields have the types a run writes, else ``StoreError``."""
    if not isinstance(manifest, dict):
        raise StoreError(f"{path}: expected a JSON object, got a {type(manifest).__name__}; not a run's manifest")
    seed = manifest.get("seed")
    checks = {
        "seed": isinstance(seed, dict) and _is_int(seed.get("entropy")) and isinstance(seed.get("spawn_key"), list)
                and all(_is_int(k) for k in seed["spawn_key"]),
        "n_runs": _is_int(manifest.get("n_runs")) and manifest["n_runs"] >= 1,
        "n_steps": _is_int(manifest.get("n_steps")) and manifest["n_steps"] >= 1,
        "chunk_size": _is_int(manifest.get("chunk_size")) and manifest["chunk_size"] >= 1,
        "files": isinstance(manifest.get("files", []), list) and all(isinstance(f, str) for f in manifest.get("files", [])),
    }
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        raise StoreError(f"{path}: {', '.join(bad)} missing or of the wrong type; not a manifest written by a run")
    return manifest


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_manifest(previous: dict, manifest: dict, folder: Path) -> None:
    """Raise ``StoreError`` naming every field in which the folder's run differs from this one."""
    differences = [(key, previous.get(key), manifest[key]) for key in MATCHED if previous.get(key) != manifest[key]]
    if differences:
        differ = [f"{key}: the folder has {_shown(key, old)}, this run has {_shown(key, new)}"
                  for key, old, new in differences]
        raise StoreError(f"{folder} holds a different run, so it cannot be resumed with these settings ("
                         + "; ".join(differ) + "); rerun with the folder's settings, or use force=True to start over",
                         differences)


def _shown(key: str, value) -> str:
    if key == "seed" and isinstance(value, dict):
        keys = value.get("spawn_key") or []
        return str(value.get("entropy")) + (f" (spawn key {', '.join(map(str, keys))})" if keys else "")
    return _short(value)


def _seed_or_manifest(rng, previous: dict):
    if rng is not None:
        return rng
    seed = previous.get("seed") or {}
    return np.random.SeedSequence(seed.get("entropy"), spawn_key=tuple(seed.get("spawn_key", ())))


def _contents(folder: Path) -> list[Path]:
    """The folder's entries but the lock file."""
    return [p for p in folder.iterdir() if p.name != LOCK_NAME]


def _start(folder: Path, batch: Batch, manifest: dict, force: bool) -> None:
    if force:
        in_the_way = _left_by_clear(folder)  # checked before anything is removed: refuse, or replace
        if in_the_way:
            raise StoreError(f"{folder / in_the_way[0]} is not a file of a previous run (its manifest does not "
                             "list it), so force=True leaves it; move it away or choose another folder")
        clear(folder)
    elif folder.exists() and _contents(folder):
        raise StoreError(f"output folder {folder} already exists and is not empty: finish the run in it with "
                         "resume=True, or overwrite it with force=True")
    (folder / CHUNKS).mkdir(parents=True, exist_ok=True)
    # The scenario first and the manifest last: a manifest always has its scenario beside it.
    batch.scenario.save(folder / "scenario.yaml")
    write_json(folder / MANIFEST, manifest)


def _listed(folder: Path) -> list[str]:
    """The files a previous run's manifest in ``folder`` lists (none without a manifest of ours)."""
    path = folder / MANIFEST
    if not path.is_file():
        return []
    try:
        manifest = _checked_manifest(json.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, ValueError):
        return []  # not a manifest of ours: nothing in the folder is known to be the run's
    return [name for name in manifest.get("files", RUN_FILES) if _inside(folder, name)]


def _left_by_clear(folder: Path) -> list[str]:
    """The paths a new run writes that would still be there after ``clear(folder)``: a user's
    file of that name, or a run folder holding files that are not chunk files."""
    listed, left = set(_listed(folder)), []
    for name in RUN_FILES:
        target = folder / name.rstrip("/")
        if not (target.exists() or target.is_symlink()):
            continue
        if name not in listed or (name.endswith("/") and not _only_chunks(target)):
            left.append(name.rstrip("/"))
    return left


def _is_chunk_file(item: Path) -> bool:
    return item.is_file() and (item.suffix == ".npz" and item.stem.isdecimal() or item.name.startswith(".tmp-"))


def _only_chunks(target: Path) -> bool:
    return target.is_dir() and not target.is_symlink() and all(_is_chunk_file(item) for item in target.iterdir())


def clear(folder: Path) -> list[str]:
    """Remove the files a previous run wrote into ``folder``: those its manifest lists (a name
    ending in ``/`` is a folder of the run's, removed with what the run put in it). Anything
    else is left, and a folder without a manifest is left as it is. Returns the names removed."""
    listed = _listed(folder)
    removed = []
    for name in sorted(listed, key=lambda n: n.endswith("/")):  # files first, then their folders
        target = folder / name.rstrip("/")
        if name.endswith("/") and target.is_dir() and not target.is_symlink():
            _remove_run_folder(target)
        elif target.is_file() or target.is_symlink():
            target.unlink()
        else:
            continue
        removed.append(name)
    for parent in {(folder / name).parent for name in listed} - {folder}:
        with contextlib.suppress(OSError):
            parent.rmdir()  # only if the run's files were all it held
    return removed


def _remove_run_folder(target: Path) -> None:
    """Remove the chunk files (ours by their names) from ``target``, and it if then empty."""
    for item in target.iterdir():
        if _is_chunk_file(item):
            item.unlink()
    with contextlib.suppress(OSError):
        target.rmdir()


def _inside(folder: Path, name: str) -> bool:
    """A manifest's file name that stays inside the folder (no ``..``, no absolute path)."""
    parts = Path(name.rstrip("/")).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def record_files(folder: str | os.PathLike, names) -> None:
    """Add files written into a run folder after the run (figures) to its manifest's
    ``files``, so that ``force=True`` removes them with the run, and nothing of the user's."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return
    files = manifest.setdefault("files", list(RUN_FILES))
    files.extend(name for name in names if name not in files)
    write_json(folder / MANIFEST, manifest)


# -- chunks ------------------------------------------------------------------------------------

def chunk_path(folder: Path, first: int, chunk_size: int) -> Path:
    """``folder/chunks/<chunk index>.npz`` for the chunk that starts at run ``first``."""
    return folder / CHUNKS / f"{first // chunk_size:08d}.npz"


def chunk_stamp(batch: Batch, first: int, n: int) -> dict:
    """What a chunk file must prove about itself: the run it belongs to (scenario hash, seed,
    horizon, stream block) and its bounds (first run, number of runs)."""
    return {"scenario_hash": batch.scenario.hash(), "seed": str(batch.seq.entropy),
            "spawn_key": [int(k) for k in batch.seq.spawn_key], "n_steps": batch.n_steps,
            "stream_block": STREAM_BLOCK, "first": int(first), "n": int(n)}


def stamped(chunk: dict, stamp: dict) -> dict:
    """``chunk`` with its stamp, as ``save_chunk`` writes it."""
    return {**chunk, "stamp": np.array(json.dumps(stamp, sort_keys=True))}


def checksum(arrays: dict) -> str:
    """SHA-256 over the arrays of a chunk (names, dtypes, shapes and bytes, in name order)."""
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes() if array.dtype.kind != "U" else str(array).encode())
    return digest.hexdigest()


def save_chunk(path: Path, first: int, chunk: dict) -> None:
    """Write a chunk's arrays atomically: a temporary file in the same folder, then a rename, so
    that a chunk file either is complete or does not exist. ``chunk`` is ``engine.run_chunk``'s
    dict (per-run columns of shape ``(n,)`` or ``(n_actors, n)``, and ``counts`` of shape
    ``(n_steps, n_pairs, n_levels)``), with its ``stamp`` (``stamped``); a checksum of it all
    is written beside them."""
    arrays = {"first": np.int64(first), **chunk}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, checksum=np.array(checksum(arrays)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_chunk(path: Path, first: int, n: int, batch: Batch) -> dict | None:
    """A saved chunk's arrays, or ``None`` if the file is not this run's chunk ``first`` of
    ``n`` runs, intact (see ``chunk_problem`` for why)."""
    chunk, problem = read_chunk(path, first, n, batch)
    return chunk if problem is None else None


def read_chunk(path: Path, first: int, n: int, batch: Batch) -> tuple[dict | None, str | None]:
    """``(arrays, None)`` for an intact chunk of this run, else ``(None, what is wrong)``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as exc:  # a damaged zip raises anything from BadZipFile to KeyError
        return None, f"unreadable ({type(exc).__name__})"
    stored = str(arrays.pop("checksum", ""))
    if stored != checksum(arrays):
        return None, "damaged (its checksum does not match its contents)"
    try:
        stamp = json.loads(str(arrays.pop("stamp")))
    except (KeyError, ValueError):
        return None, "carries no stamp of the run it belongs to"
    expected = chunk_stamp(batch, first, n)
    differ = [key for key in expected if stamp.get(key) != expected[key]]
    if differ:
        shown = "; ".join(f"its {key} is {_short(stamp.get(key), 40)}, this one's is {_short(expected[key], 40)}"
                          for key in differ)
        return None, f"not this chunk of this run ({shown})"
    arrays.pop("first", None)
    shapes_ok = (len(arrays.get("outcome", ())) == n and arrays.get("counts", np.empty(0)).shape == batch.counts.shape
                 and all(k in arrays for k in batch.runs))
    return (arrays, None) if shapes_ok else (None, "of the wrong shape")


def _load_chunks(folder: Path, batch: Batch, size: int) -> list[tuple[int, int]]:
    """Add the saved chunks to ``batch``; return ``(first, n)`` of those still to run."""
    missing = []
    for first, n in batch.chunks(size):
        path = chunk_path(folder, first, size)
        chunk, problem = read_chunk(path, first, n, batch) if path.is_file() else (None, None)
        if chunk is None:
            if problem is not None:
                _note(f"{path}: {problem}; running it again")
                path.unlink(missing_ok=True)
            missing.append((first, n))
        else:
            batch.add(first, chunk)
    done = len(batch.chunks(size)) - len(missing)
    if done:
        _note(f"resuming {folder}: {done} of {done + len(missing)} chunks already done")
    # Leftovers of writes that were interrupted before their rename, and chunk files that no
    # chunk of this run has the name of.
    names = {chunk_path(folder, first, size).name for first, _ in batch.chunks(size)}
    for item in (folder / CHUNKS).iterdir():
        if item.name.startswith(".tmp-") or (item.suffix == ".npz" and item.stem.isdecimal() and item.name not in names):
            item.unlink(missing_ok=True)
    return missing


def _remove_stale_chunks(folder: Path) -> None:
    """A finished folder keeps no chunks: remove those an interrupted clean-up left."""
    if (folder / CHUNKS).is_dir():
        _note(f"{folder}: removing the chunk files left by an interrupted clean-up")
        _remove_run_folder(folder / CHUNKS)


def _run_missing(folder, batch, size, missing, executor, progress) -> None:
    bar = progress_bar(batch.n_runs, enabled=progress, unit="run", desc="runs", initial=int(batch.done.sum()))
    try:
        for first, chunk in batch.run(missing, executor=executor):
            n = len(chunk["outcome"])
            save_chunk(chunk_path(folder, first, size), first, stamped(chunk, chunk_stamp(batch, first, n)))
            batch.add(first, chunk)
            bar.update(n)
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
    _remove_run_folder(folder / CHUNKS)
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
                                 "run again with resume=True")
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


def _short(value, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


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
    """In pool workers: Ctrl-C reaches the whole process group; the parent alone handles it.
    A worker also lets go of the parent's folder locks, and ends when its parent has gone
    (``kill -9`` of the parent would otherwise leave it waiting for work forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    release_inherited()
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


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
            if address != "local":
                _probe_scheduler(target, timeout)
            client = stack.enter_context(Client(target, timeout=timeout, set_as_default=False))
        except (OSError, TimeoutError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            raise ConnectionError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s{detail}") from None
        yield client.get_executor()


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete Dask's handshake within ``timeout`` seconds, or
    raise ``TimeoutError``/``OSError``. ``Client(timeout=...)`` bounds the connection but not
    the handshake: a listener that accepts and never answers would hold it for minutes."""
    import asyncio

    from distributed.comm import connect

    async def probe():
        comm = await connect(address, timeout=timeout)
        await comm.close()

    async def bounded():
        await asyncio.wait_for(probe(), timeout)

    asyncio.run(bounded())


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
