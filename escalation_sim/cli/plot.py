"""``escalation-sim plot``: the figures of a folder written by ``run --out`` or ``sweep --out``."""

from __future__ import annotations

from pathlib import Path

from .common import OK, UsageError, add_json, command, emit_json

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
    add_json(p)


def cmd_plot(args) -> int:
    formats = parse_formats(args.format)
    if not args.folder.is_dir():
        raise UsageError(f"{args.folder}: no such folder; expected a folder written by `run --out` or `sweep --out`")
    from ..plots import write_figures

    written = write_figures(args.folder, args.out or args.folder / "figures", formats)
    if args.json:
        emit_json([str(path) for path in written])
    else:
        print("\n".join(str(path) for path in written))
    return OK


def parse_formats(text: str) -> tuple[str, ...]:
    """``"png,svg"`` -> ``("png", "svg")``, each a format matplotlib can write."""
    from matplotlib.figure import Figure

    known = Figure().canvas.get_supported_filetypes()
    formats = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in known]
    if not formats or unknown:
        raise UsageError(f"--format {text!r}: expected comma-separated image formats among {', '.join(sorted(known))}")
    return formats
