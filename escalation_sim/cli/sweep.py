"""``escalation-sim sweep``: a batch at every point of a grid or a Latin hypercube."""

from __future__ import annotations

from pathlib import Path

from ..batch.format import sweep_text
from ..batch.lock import folder_lock
from ..batch.store import open_executor
from .common import (OK, UsageError, add_json, add_parallel_options, add_scenario_options,
                     check_new_folder, check_parallel_args, command, drawn_seed, emit_json, load_with_overrides,
                     note, positive_int, seed_int, show_progress, write_figures)

SWEEP_EXAMPLES = """\
  escalation-sim sweep us_iran_2020 --grid actors.IRN.policy.generosity=0:1:11 --runs 20000 --seed 1
  escalation-sim sweep us_iran_2020 --grid noise.execution=0,0.01,0.05 --grid actors.KH.control=0:1:5
  escalation-sim sweep us_iran_2020 --lhs 64 --bounds noise.execution=0:0.1 --bounds actors.KH.control=0:1
"""

SWEEP_HELP = """\
Run a batch at every point of a parameter grid (or of a Latin hypercube) and print the outcome
probabilities at each point. A grid axis is key=lo:hi:n (n evenly spaced values) or key=a,b,c.
"""


def add(sub) -> None:
    p = command(sub, "sweep", SWEEP_HELP, SWEEP_EXAMPLES, cmd_sweep)
    add_scenario_options(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=LO:HI:N|KEY=A,B,C",
                   help="a grid axis (repeatable; the grid is their product)")
    p.add_argument("--lhs", type=positive_int, metavar="N", help="N points of a Latin hypercube over --bounds")
    p.add_argument("--bounds", action="append", default=[], metavar="KEY=LO:HI", help="a range for --lhs (repeatable)")
    p.add_argument("--runs", type=positive_int, default=10_000, metavar="N", help="runs per point (default 10000)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="seed of the sweep (default: fresh entropy, printed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the sweep's table to DIR")
    p.add_argument("--force", action="store_true", help="overwrite the files in --out DIR")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="do not draw figures into --out DIR (without --out none are drawn, and it changes nothing)")
    add_parallel_options(p)
    add_json(p)


def cmd_sweep(args) -> int:
    if bool(args.grid) == (args.lhs is not None):
        raise UsageError("give either --grid (one or more) or --lhs N with --bounds, not both or neither")
    if args.bounds and args.lhs is None:
        raise UsageError("--bounds goes with --lhs N")
    if args.lhs is not None and not args.bounds:
        raise UsageError("--lhs N needs at least one --bounds key=lo:hi")
    check_parallel_args(args)
    if args.force and args.out is None:
        raise UsageError("--force needs --out DIR")
    check_new_folder(args.out, args.force, "sweep")
    design = _design(args)
    if args.out is None:
        return _cmd_sweep(args, design)
    with folder_lock(args.out):  # one writer at a time
        check_new_folder(args.out, args.force, "sweep")  # again, now that no other run can be writing
        return _cmd_sweep(args, design)


def _design(args) -> dict:
    """The sweep's design from --grid or --lhs/--bounds; a key given twice is refused, and so is
    a grid of more than ``MAX_POINTS`` points."""
    from ..analysis.sweep import MAX_POINTS, parse_bounds, parse_grid

    if args.grid:
        axes = [parse_grid(text) for text in args.grid]
        _refuse_repeats("--grid", [key for key, _ in axes])
        n_points = 1
        for _, values in axes:
            n_points *= len(values)
        if n_points > MAX_POINTS:
            raise UsageError(f"--grid: {n_points:,} points; at most {MAX_POINTS:,} (use --lhs N to sample a large space)")
        return {"grid": dict(axes)}
    if args.lhs > MAX_POINTS:
        raise UsageError(f"--lhs {args.lhs:,}: at most {MAX_POINTS:,} points")
    bounds = [parse_bounds(text) for text in args.bounds]
    _refuse_repeats("--bounds", [key for key, _ in bounds])
    return {"lhs": args.lhs, "bounds": dict(bounds)}


def _refuse_repeats(option: str, keys: list[str]) -> None:
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise UsageError(f"{option} {repeated[0]} is given twice; give each key once (list its values in one {option})")


def _cmd_sweep(args, design) -> int:
    from ..analysis.sweep import sweep

    scenario = load_with_overrides(args)
    seed = args.seed if args.seed is not None else drawn_seed()
    progress = show_progress(args)
    with open_executor(args.workers, args.dask, timeout=args.dask_timeout) as executor:
        result = sweep(scenario, **design, n_runs=args.runs, rng=seed, executor=executor, progress=progress)
    if args.out is not None:
        _save(args, result)
        note(f"wrote {args.out}")
    if args.json:
        emit_json({"metadata": result.metadata, "points": result.table.to_dict(orient="records")})
    else:
        print(format_sweep(result))
    return OK


def _save(args, result) -> None:
    """Save the sweep and its figures; with --force, first remove the files of the sweep
    saved there before (its manifest lists them), and only those."""
    from ..analysis.sweep import SWEEP_FILES, clear_sweep, record_sweep_files

    if args.force:
        clear_sweep(args.out)
        in_the_way = [name for name in SWEEP_FILES if (args.out / name).exists()]
        if in_the_way:
            raise UsageError(f"{args.out / in_the_way[0]} is not a file of a previous sweep (no manifest lists it), "
                             "so --force leaves it; move it away or choose another folder")
    result.save(args.out)
    if args.figures:
        written = write_figures(result, args.out / "figures", show_progress(args))
        record_sweep_files(args.out, [str(p.relative_to(args.out)) for p in written])


def format_sweep(result) -> str:
    """The sweep's table: one row per point, outcome probabilities in percent with their 95%
    intervals, and the mean measures."""
    return sweep_text(result)
