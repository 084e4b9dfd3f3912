"""``escalation-sim plot``: the figures of a folder written by ``run --out`` or ``sweep --out``."""

from __future__ import annotations

import argparse
import difflib
import shlex
from pathlib import Path

from .common import OK, PROG, UsageError, add_json, command, emit_json, show_progress

PLOT_EXAMPLES = """\
  escalation-sim plot results/iran
  escalation-sim plot results/iran --out figures --format png,svg
"""

PLOT_HELP = "Draw the figures of a run folder written by `run --out` (or `sweep --out`).\n"


def add(sub) -> None:
    p = command(sub, "plot", PLOT_HELP, PLOT_EXAMPLES, cmd_plot)
    p.add_argument("folder", metavar="DIR", type=Path, help="a folder written by run --out or sweep --out")
    p.add_argument("--out", type=Path, metavar="FIGDIR", help="where to write the figures (default DIR/figures)")
    p.add_argument("--format", default="png", metavar="FORMATS", help="comma-separated image formats (default png)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on standard error (default: when it is a terminal)")
    add_json(p)


def cmd_plot(args) -> int:
    formats = parse_formats(args.format)
    check_folder(args.folder)
    from ..plots import write_figures

    written = write_figures(args.folder, args.out or args.folder / "figures", formats,
                            progress=show_progress(args))
    if args.json:
        emit_json([str(path) for path in written])
    else:
        print("\n".join(str(path) for path in written))
    return OK


RESULT_FILES = ("runs.parquet", "sweep.json", "sensitivity.parquet")


def check_folder(folder: Path) -> None:
    """Stop with a message naming the folder expected when ``folder`` is not a directory."""
    expected = "expected a folder written by `run --out` or `sweep --out`"
    if folder.is_dir():
        if (folder / "manifest.json").is_file() and not (folder / "summary.json").is_file():
            raise UsageError(f"{folder} holds an unfinished run (interrupted: its chunks are kept, its results not "
                             f"yet written); finish it first with:\n  {PROG} run {shlex.quote(str(folder / 'scenario.yaml'))} "
                             f"--out {shlex.quote(str(folder))} --resume")
        return
    if not folder.exists():
        raise UsageError(f"{folder}: no such folder; {expected}")
    for parent in list(folder.parents)[:2]:  # a file of a result folder, or of its figures/
        if any((parent / name).is_file() for name in RESULT_FILES):
            raise UsageError(f"{folder} is a file; {expected}, here the one holding it: {PROG} plot {parent}")
    raise UsageError(f"{folder} is a file; {expected}")


def parse_formats(text: str) -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")``, each a format matplotlib can write."""
    from matplotlib.figure import Figure

    known = sorted(Figure().canvas.get_supported_filetypes())
    formats = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    if not formats:
        raise UsageError(f"--format {text!r}: expected comma-separated image formats among {', '.join(known)}")
    for f in formats:
        if f not in known:
            close = difflib.get_close_matches(f, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"--format {text}: {f!r} is not an image format matplotlib can write{hint}; "
                             f"expected formats among {', '.join(known)}")
    return formats
