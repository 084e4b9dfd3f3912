"""What every subcommand shares: exit codes, the usage error, option groups, scenario loading,
output helpers."""

from __future__ import annotations

import argparse
import errno
import functools
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from ..batch.format import percent  # noqa: F401  (the subcommands' formatting lives in the batch layer)
from ..scenario import load_scenario, parse_override, with_overrides
from ..scenario.io import is_bundled_name

PROG = "escalation-sim"
OK, FAILURE, USAGE, INTERRUPTED = 0, 1, 2, 130
OUTCOME_NAMES = ("war", "ceasefire", "ongoing")


class UsageError(ValueError):
    """A command line that cannot be carried out as given (exit code 2)."""


def silence_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind sys.stdout (in-process tests)
        pass


def note(message: str) -> None:
    """Print ``message`` to standard error (notes and progress never mix with results)."""
    print(message, file=sys.stderr)


def emit_json(data) -> None:
    """Print ``data`` to standard output as indented JSON (NumPy scalars and paths as plain values)."""
    print(json.dumps(data, indent=2, default=_plain))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# -- parser pieces -------------------------------------------------------------------------------

def command(sub, name: str, summary: str, examples: str, func):
    """Add the subcommand ``name`` to ``sub``: ``summary``'s first sentence is its one-line help."""
    text = f"examples:\n{examples}\n{summary}"
    parser = sub.add_parser(name, help=first_sentence(summary).replace("%", "%%"), description=text,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=user_errors(func))
    return parser


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, its lines joined (a help line is never cut mid-sentence)."""
    words = " ".join(text.split())
    end = words.find(". ")
    return words if end < 0 else words[: end + 1]


#: Errors of the operating system that a user causes (a path that cannot be written where it
#: is): exit 2. Others (a full disk, a failing device) are runtime failures: exit 1.
USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST,
               errno.ENOENT, errno.ENAMETOOLONG, errno.ELOOP}


def user_errors(func):
    """Wrap a subcommand so that what the environment refuses (a read-only or missing folder,
    a full disk, standard output that cannot be written, too little memory) ends in one line
    naming the problem and exit 2 or 1, never a traceback."""
    @functools.wraps(func)
    def guarded(args) -> int:
        try:
            code = func(args)
            sys.stdout.flush()  # a full device shows here, not at exit
            return code
        except (BrokenPipeError, ConnectionError, ValueError):
            raise  # main stops quietly, names the scheduler it could not reach, or the usage error
        except FileNotFoundError as exc:
            if exc.errno is None:  # raised by the library with its own message
                raise
            note(f"{PROG}: error: {os_problem(exc)}")
            return USAGE
        except MemoryError:
            note(f"{PROG}: error: out of memory; use fewer runs or steps")
            return FAILURE
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT) or getattr(exc, "filename", None) is None:
                silence_stdout()
            note(f"{PROG}: error: {os_problem(exc)}")
            return USAGE if exc.errno in USER_ERRNOS else FAILURE

    return guarded


def os_problem(exc: OSError) -> str:
    """``path: what went wrong``, in one line, from an ``OSError``."""
    what = exc.strerror or str(exc)[:200] or type(exc).__name__
    if exc.filename is None:
        return f"cannot write the output: {what.lower()}" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else what
    return f"{exc.filename}: {what.lower()}"


def whole_number(low: int):
    """An argparse type: a whole number of at least ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected at least {low}, got {value}")
        return value

    return parse


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text[:40]!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text[:40]!r}")
    return value


positive_int = whole_number(1)
seed_int = whole_number(0)  # a seed: a non-negative integer of any size


def add_scenario_options(parser) -> None:
    """Add SCENARIO, ``--set KEY=VALUE`` (repeatable) and ``--steps T`` to ``parser``."""
    parser.add_argument("scenario", metavar="SCENARIO", help="bundled name, YAML file or run folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario value by key path, e.g. actors.USA.policy.ratio=1.5 "
                             "(repeatable; the value is read as YAML)")
    parser.add_argument("--steps", type=positive_int, metavar="T",
                        help="horizon in steps (the same as --set time.n_steps=T)")


def add_parallel_options(parser) -> None:
    """Add ``--workers``, ``--dask``, ``--dask-timeout`` and ``--progress`` to ``parser``."""
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="run the chunks in N processes (with --dask local: N Dask workers)")
    parser.add_argument("--dask", metavar="ADDRESS", help="run the chunks on the Dask scheduler at ADDRESS, "
                        "or on a local cluster with --dask local (needs pip install 'escalation-sim[dask]')")
    parser.add_argument("--dask-timeout", type=seconds, default=5.0, metavar="SECONDS",
                        help="how long to wait for the Dask scheduler (default 5)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on standard error (default: when it is a terminal)")


def add_json(parser) -> None:
    """Add ``--json`` (print the result as JSON) to ``parser``."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def check_parallel_args(args) -> None:
    """Refuse parallel options that cannot go together (``UsageError``): ``--workers`` with a
    remote scheduler, a non-positive ``--dask-timeout``, more workers than ``max_workers()``."""
    if args.dask not in (None, "local") and args.workers is not None:
        raise UsageError("--workers sizes a local pool or --dask local; a Dask scheduler brings its own workers")
    if args.dask_timeout <= 0:
        raise UsageError(f"--dask-timeout must be positive, got {args.dask_timeout:g}")
    if args.workers is not None and args.workers > max_workers():
        raise UsageError(f"--workers {args.workers}: at most {max_workers()} on this machine "
                         f"({os.cpu_count() or 1} cores; more processes than that only compete for them)")


def max_workers() -> int:
    """The most local worker processes a run may start: four per core."""
    return 4 * (os.cpu_count() or 1)


def show_progress(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


# -- scenarios and folders -----------------------------------------------------------------------

def load(spec: str):
    """A scenario by bundled name, YAML file, or run folder (its ``scenario.yaml``). A bundled
    name is the bundled scenario even where a folder of that name exists (``--out
    us_iran_2020``); such a folder is written as a path: ``./us_iran_2020``. A folder's
    ``scenario.yaml`` must be the one its run recorded (``scenario_hash``): one overwritten or
    edited since is refused, rather than silently standing in for the run's scenario."""
    path = Path(spec)
    if is_bundled_name(spec):
        if path.exists():
            note(f"{spec}: the bundled scenario (for the folder or file of that name, write ./{spec})")
        return load_scenario(spec)
    if path.is_dir():
        if not (path / "scenario.yaml").is_file():
            raise UsageError(f"{spec}: a folder without scenario.yaml; expected a bundled scenario name, "
                             "a YAML file, or a run folder written by `run --out`")
        note(f"using the scenario of the run folder {spec}")
        scenario = load_scenario(path / "scenario.yaml")
        _check_recorded_hash(path, scenario)
        return scenario
    return load_scenario(spec)


#: Where a folder records the hash of its scenario.yaml: a run's metadata or manifest, a sweep's metadata.
RECORDS = ("metadata.json", "manifest.json", "sweep.json")


def _check_recorded_hash(folder: Path, scenario) -> None:
    for name in RECORDS:
        data = _read_record(folder / name)
        recorded = data.get("scenario_hash") if data is not None else None
        if recorded is not None and recorded != scenario.hash():
            raise UsageError(f"{folder / 'scenario.yaml'} is not the scenario this folder's results were made with "
                             f"(its hash {scenario.hash()} differs from the scenario_hash {str(recorded)[:80]} in "
                             f"{folder / name}): it was edited or overwritten since; give the scenario the run used")


def _read_record(path: Path) -> dict | None:
    """A folder's JSON record (metadata or manifest), ``None`` if there is none."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable ({str(exc)[:100]})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object, got a {type(data).__name__}")
    return data


def folder_kind(folder: Path) -> str | None:
    """``"run"`` for a folder written by ``run --out``, ``"sweep"`` for one of ``sweep --out``."""
    if not folder.is_dir():
        return None
    if any((folder / name).exists() for name in ("manifest.json", "metadata.json", "runs.parquet", "chunks")):
        return "run"
    if any((folder / name).exists() for name in ("sweep.json", "sweep.parquet", "sweep-manifest.json")):
        return "sweep"
    return None


def check_folder_kind(folder: Path | None, kind: str) -> None:
    """Refuse to write a ``kind`` (run or sweep) into a folder holding the other."""
    held = folder_kind(folder) if folder is not None else None
    if held is not None and held != kind:
        other = {"run": "`run --out`", "sweep": "`sweep --out`"}[held]
        raise UsageError(f"--out {folder} holds a {held} (written by {other}), not a {kind}; neither --force nor "
                         f"--resume writes a {kind} over it: choose another folder for the {kind}")


def cli_terms(message: str) -> str:
    """A library message in the command line's terms: ``resume=True`` is ``--resume``."""
    return message.replace("resume=True", "--resume").replace("force=True", "--force")


def load_with_overrides(args):
    """The scenario of ``args.scenario`` with ``--steps`` and every ``--set`` applied."""
    scenario = load(args.scenario)
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["time.n_steps"] = args.steps
    return with_overrides(scenario, overrides) if overrides else scenario


def folder_seed(spec: str) -> int | None:
    """The seed recorded in a run folder, when ``spec`` is one (and not a bundled name)."""
    record = folder_record(spec)
    return None if record is None else record[0]


def folder_record(spec: str) -> tuple[int | None, int | None] | None:
    """``(seed, n_runs)`` recorded in a run folder (seed ``None`` if spawned from another), or
    ``None`` when ``spec`` is not a run folder (or is a bundled name)."""
    path = Path(spec)
    if is_bundled_name(spec) or folder_kind(path) != "run":
        return None
    for name in ("metadata.json", "manifest.json"):
        data = _read_record(path / name)
        if data is None:
            continue
        seed = data.get("seed")
        entropy = seed.get("entropy") if isinstance(seed, dict) else None
        if not isinstance(entropy, int) or isinstance(entropy, bool):
            raise UsageError(f"{path / name}: holds no seed; give --seed")
        n_runs = data.get("n_runs")
        n_runs = n_runs if isinstance(n_runs, int) and not isinstance(n_runs, bool) and n_runs >= 1 else None
        return (None if seed.get("spawn_key") else entropy), n_runs
    return None


def check_new_folder(folder: Path | None, force: bool, kind: str | None = None) -> None:
    """Refuse an --out folder that is a file, holds what a ``kind`` (run or sweep) must not
    overwrite, or, without --force, holds anything."""
    from ..batch.lock import LOCK_NAME

    if folder is None or not folder.exists():
        return
    if not folder.is_dir():
        raise UsageError(f"--out {folder}: exists and is not a folder")
    if kind is not None:
        check_folder_kind(folder, kind)
    if not force and any(p.name != LOCK_NAME for p in folder.iterdir()):
        raise UsageError(f"output folder {folder} already exists and is not empty: choose another, or overwrite it with --force")


def drawn_seed() -> int:
    seed = int(np.random.SeedSequence().entropy)
    note(f"seed: {seed} (drawn at random; repeat with --seed {seed})")
    return seed


def write_figures(result, folder: Path, progress: bool = False) -> list[Path]:
    """Draw the result's figures into ``folder`` (PNG); the files written."""
    try:
        from ..plots import write_figures as write
    except ImportError:  # the plots are optional: the numbers are written either way
        return []
    return write(result, folder, ("png",), progress=progress)
