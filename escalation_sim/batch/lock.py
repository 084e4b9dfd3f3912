"""One writer per output folder: an operating-system lock on a file inside the folder.

Every command that writes into a folder (``run --out``, ``run_to_folder``, ``sweep --out``,
``fit --out``) holds ``folder_lock(folder)`` for as long as it writes. A second writer is
refused at once with ``FolderLocked`` instead of mixing its files with the first one's.

The lock is ``flock`` on ``folder/.escalation-sim.lock`` (``msvcrt.locking`` on Windows): the
operating system releases it when the process ends, however it ends (``kill -9`` included), so
a lock is never left behind. The file itself stays; it holds the process id of the last
holder, for the message. Within one process the lock is re-entrant: ``run --out`` holds it
while ``run_to_folder`` takes it again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

#: The lock file's name, inside the locked folder. Folder listings and ``--force`` ignore it.
LOCK_NAME = ".escalation-sim.lock"

# Folders locked by this process (resolved path -> open descriptor), for re-entry and so that
# forked worker processes can close their inherited copies (``release_inherited``).
_held: dict[str, int] = {}


class FolderLocked(ValueError):
    """Another process is writing into the folder (exit code 2 on the command line)."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the write lock of ``folder`` (created if needed) for the ``with`` block.

    Parameters
    ----------
    folder : path
        The output folder. It is created, with its parents, if it does not exist; if this call
        created it and leaves it holding nothing but the lock file, it is removed again.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    FolderLocked
        If another process holds the lock; the message names the folder and that process.
    OSError
        If the folder cannot be created or the lock file cannot be opened (read-only place).
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    if key in _held:  # re-entry in the same process
        yield folder / LOCK_NAME
        return
    path = folder / LOCK_NAME
    fd = _acquire(path, folder)
    _held[key] = fd
    try:
        yield path
    finally:
        del _held[key]
        if created and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            with contextlib.suppress(OSError):
                path.unlink()
                folder.rmdir()
        os.close(fd)  # closing the last descriptor releases the lock


def release_inherited() -> None:
    """In a forked worker process: close the lock descriptors inherited from the parent, so
    that a worker outliving its parent does not keep the folder locked."""
    for fd in _held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


def is_locked(folder: str | os.PathLike) -> bool:
    """Whether another process holds the lock of ``folder`` now."""
    path = Path(folder) / LOCK_NAME
    if not path.is_file():
        return False
    try:
        fd = _acquire(path, Path(folder))
    except FolderLocked:
        return True
    os.close(fd)
    return False


def _acquire(path: Path, folder: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(fd)
    except OSError:
        holder = _holder(fd)
        os.close(fd)
        by = f" by process {holder}" if holder else ""
        raise FolderLocked(f"{folder} is being written{by}: wait until that run has finished, "
                           "or choose another folder") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        text = os.pread(fd, 32, 0).decode("ascii").strip()
        return text if text.isdecimal() else ""
    return ""


if os.name == "nt":  # pragma: no cover - the lock on Windows
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
