"""``escalation-sim``: the command line, a thin layer over the public API.

Results and ``--json`` go to standard output; notes and progress bars to standard error.
Exit codes: 0 success, 1 runtime failure, 2 usage error or invalid scenario, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .batch import simulate
from .batch.result import MEASURES
from .batch.store import open_executor, read_manifest, run_to_folder, summary_dict
from .scenario import ScenarioError, describe, list_scenarios, load_scenario, parse_override, with_overrides

PROG = "escalation-sim"
OK, FAILURE, USAGE, INTERRUPTED = 0, 1, 2, 130
OUTCOME_NAMES = ("war", "ceasefire", "ongoing")
SHOWN_RUNS = 10


class UsageError(ValueError):
    """A command line that cannot be carried out as given (exit code 2)."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else USAGE
    args.argv = argv
    try:
        return args.func(args) or OK
    except KeyboardInterrupt:
        _note("interrupted")
        return INTERRUPTED
    except BrokenPipeError:  # the reader of standard output has gone (| head): stop quietly
        _silence_stdout()
        return FAILURE
    except (ConnectionError, ImportError) as exc:
        _note(f"{PROG}: error: {exc}")
        return FAILURE
    except (ValueError, FileNotFoundError) as exc:  # ScenarioError, StoreError, UsageError, ...
        _note(f"{PROG}: error: {exc}")
        return USAGE
    except Exception:  # a bug or an environment failure: the traceback helps whoever reports it
        traceback.print_exc()
        return FAILURE


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind sys.stdout (in-process tests)
        pass


def _note(message: str) -> None:
    print(message, file=sys.stderr)


def _emit_json(data) -> None:
    print(json.dumps(data, indent=2, default=_plain))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# -- the parser ----------------------------------------------------------------------------------

MAIN_HELP = """\
examples:
  escalation-sim list
  escalation-sim describe us_iran_2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020 --show war
  escalation-sim replay us_iran_2020 --seed 2020 --run 17
  escalation-sim run us_iran_2020 --runs 1000000 --out results/iran --workers 2
  escalation-sim sweep us_iran_2020 --grid actors.IRN.policy.generosity=0:1:11 --runs 20000
  escalation-sim plot results/iran

Agent-based simulation of escalation between states and militias. A SCENARIO is the name of a
bundled scenario (see `escalation-sim list`), a YAML file, or a run folder written by `run --out`.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``escalation-sim`` argument parser, with one subparser per command."""
    parser = argparse.ArgumentParser(prog=PROG, description=MAIN_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_run, _add_replay, _add_sweep, _add_plot, _add_describe, _add_list, _add_validate):
        add(sub)
    return parser


def _command(sub, name: str, summary: str, examples: str, func):
    text = f"examples:\n{examples}\n{summary}"
    parser = sub.add_parser(name, help=summary.splitlines()[0].replace("%", "%%"), description=text,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=func)
    return parser


def whole_number(low: int):
    """An argparse type: a whole number of at least ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected at least {low}, got {value}")
        return value

    return parse


positive_int = whole_number(1)
seed_int = whole_number(0)  # a seed: a non-negative integer of any size


def _add_scenario_options(parser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="bundled name, YAML file or run folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a scenario value by key path, e.g. actors.USA.policy.ratio=1.5 "
                             "(repeatable; the value is read as YAML)")
    parser.add_argument("--steps", type=positive_int, metavar="T",
                        help="horizon in steps (the same as --set time.n_steps=T)")


def _add_parallel_options(parser) -> None:
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="run the chunks in N processes (with --dask local: N Dask workers)")
    parser.add_argument("--dask", metavar="ADDRESS", help="run the chunks on the Dask scheduler at ADDRESS, "
                        "or on a local cluster with --dask local (needs pip install 'escalation-sim[dask]')")
    parser.add_argument("--dask-timeout", type=float, default=5.0, metavar="SECONDS",
                        help="how long to wait for the Dask scheduler (default 5)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on standard error (default: when it is a terminal)")


def _add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


# -- scenarios -----------------------------------------------------------------------------------

def load(spec: str):
    """A scenario by bundled name, YAML file, or run folder (its ``scenario.yaml``)."""
    path = Path(spec)
    if path.is_dir():
        if not (path / "scenario.yaml").is_file():
            raise UsageError(f"{spec}: a folder without scenario.yaml; expected a bundled scenario name, "
                             "a YAML file, or a run folder written by `run --out`")
        _note(f"using the scenario of the run folder {spec}")
        return load_scenario(path / "scenario.yaml")
    return load_scenario(spec)


def load_with_overrides(args):
    """The scenario of ``args.scenario`` with ``--steps`` and every ``--set`` applied."""
    scenario = load(args.scenario)
    overrides = dict(parse_override(text) for text in args.overrides)
    if args.steps is not None:
        overrides["time.n_steps"] = args.steps
    return with_overrides(scenario, overrides) if overrides else scenario


def _folder_seed(spec: str) -> int | None:
    """The seed recorded in a run folder, when ``spec`` is one."""
    path = Path(spec)
    for name in ("metadata.json", "manifest.json"):
        if (path / name).is_file():
            seed = json.loads((path / name).read_text()).get("seed") or {}
            if not seed.get("spawn_key"):
                return seed.get("entropy")
    return None


# -- run -----------------------------------------------------------------------------------------

RUN_EXAMPLES = """\
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020
  escalation-sim run us_iran_2020 --set actors.IRN.policy.generosity=0.6 --set noise.execution=0.05
  escalation-sim run us_iran_2020 --seed 2020 --show war        # which runs went to war
  escalation-sim run us_iran_2020 --runs 1000000 --out results/iran --workers 2
  escalation-sim run us_iran_2020 --runs 1000000 --out results/iran --resume   # after Ctrl-C
  escalation-sim run us_iran_2020 --runs 1000000 --dask tcp://scheduler:8786
"""

RUN_HELP = """\
Run a Monte Carlo batch and print the outcome probabilities (war, ceasefire, ongoing) with 95%
Wilson intervals and quantiles of the per-run measures. Without --seed, fresh entropy is drawn
and printed, so the batch can be repeated. With --out, finished chunks are saved as they
complete: an interrupted run is finished by the same command with --resume.
"""


def _add_run(sub) -> None:
    p = _command(sub, "run", RUN_HELP, RUN_EXAMPLES, cmd_run)
    _add_scenario_options(p)
    p.add_argument("--runs", type=positive_int, metavar="N",
                   help="number of runs (default 10000, or the run folder's with --resume)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="seed of the whole batch (default: fresh entropy, printed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the results (and finished chunks as they come) to DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="finish the interrupted run in --out DIR")
    mode.add_argument("--force", action="store_true", help="overwrite the run in --out DIR")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="with --out: do not draw figures")
    _add_parallel_options(p)
    p.add_argument("--show", choices=OUTCOME_NAMES, metavar="OUTCOME",
                   help="list runs that ended in OUTCOME (war, ceasefire or ongoing), to replay them")
    p.add_argument("--chunk-size", type=positive_int, help=argparse.SUPPRESS)
    _add_json(p)


def cmd_run(args) -> int:
    _check_run_args(args)
    scenario = load_with_overrides(args)
    seed = _run_seed(args)
    try:
        with open_executor(args.workers, args.dask, timeout=args.dask_timeout) as executor:
            result = _simulate(args, scenario, seed, executor)
    except KeyboardInterrupt:
        if args.out is not None:
            _note(f"the finished chunks are kept in {args.out}; finish the run with:\n  {_resume_command(args, seed)}")
        raise
    if args.out is not None and args.figures:
        _write_figures(result, args.out / "figures")
    _print_run(args, result)
    return OK


def _check_run_args(args) -> None:
    if (args.resume or args.force) and args.out is None:
        raise UsageError(f"--{'resume' if args.resume else 'force'} needs --out DIR")
    _check_parallel_args(args)


def _check_parallel_args(args) -> None:
    if args.dask not in (None, "local") and args.workers is not None:
        raise UsageError("--workers sizes a local pool or --dask local; a Dask scheduler brings its own workers")
    if args.dask_timeout <= 0:
        raise UsageError(f"--dask-timeout must be positive, got {args.dask_timeout:g}")


def _run_seed(args) -> int | None:
    """The batch's seed: --seed; else, resuming, the folder's (``None``); else fresh entropy."""
    if args.seed is not None:
        return args.seed
    if args.resume and read_manifest(args.out) is not None:
        return None
    return _drawn_seed()


def _simulate(args, scenario, seed, executor):
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.out is None:
        return simulate(scenario, args.runs or 10_000, rng=seed, executor=executor, progress=progress,
                        chunk_size=args.chunk_size)
    n_runs = args.runs or _manifest_runs(args) or 10_000
    result = run_to_folder(scenario, n_runs, args.out, rng=seed, executor=executor, resume=args.resume,
                           force=args.force, progress=progress, chunk_size=args.chunk_size)
    _note(f"wrote {args.out}")
    return result


def _manifest_runs(args) -> int | None:
    manifest = read_manifest(args.out) if args.resume else None
    return manifest.get("n_runs") if manifest else None


def _resume_command(args, seed) -> str:
    words = [a for a in args.argv if a not in ("--force", "--resume")]
    if args.seed is None and seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join([PROG, *words, "--resume"])


def _write_figures(result, folder: Path) -> None:
    try:
        from .plots import write_figures
    except ImportError:  # the plots are optional: the numbers are written either way
        return
    write_figures(result, folder, ("png",))


def _print_run(args, result) -> None:
    shown = _shown_runs(result, args.show) if args.show else None
    if args.json:
        data = summary_dict(result)
        if args.out is not None:
            data["out"] = str(args.out)
        if shown is not None:
            data["show"] = {"outcome": args.show, "count": len(shown), "runs": shown[:SHOWN_RUNS].tolist()}
        _emit_json(data)
        return
    print(format_result(result))
    if shown is not None:
        print()
        print(_format_shown(args, result, shown))


def _shown_runs(result, outcome: str) -> np.ndarray:
    return result.runs["run"].to_numpy()[(result.runs["outcome"] == outcome).to_numpy()]


def _format_shown(args, result, shown: np.ndarray) -> str:
    if len(shown) == 0:
        return f"no run ended in {args.show}"
    first = ", ".join(str(r) for r in shown[:SHOWN_RUNS])
    more = f" (the first {SHOWN_RUNS})" if len(shown) > SHOWN_RUNS else ""
    return (f"{len(shown):,} runs ended in {args.show}{more}: {first}\n"
            f"replay one step by step:\n  {_replay_command(args, result, int(shown[0]))}")


def _replay_command(args, result, run: int) -> str:
    seed = str(result.metadata["seed"]["entropy"])
    if args.out is not None:  # the folder's scenario.yaml has every override applied
        return shlex.join([PROG, "replay", str(args.out / "scenario.yaml"), "--seed", seed, "--run", str(run)])
    words = [PROG, "replay", args.scenario, "--seed", seed, "--run", str(run)]
    for text in args.overrides:
        words += ["--set", text]
    if args.steps is not None:
        words += ["--steps", str(args.steps)]
    return shlex.join(words)


def format_result(result) -> str:
    """The run's header, outcome table and measure quantiles, as printed by ``run``."""
    meta, scenario, summary = result.metadata, result.scenario, result.summary()
    t = scenario.time
    unit = f"{t.step_unit}s" if t.step_length == 1 else f"{t.step_length:g} {t.step_unit}s each"
    header = [scenario.title or scenario.name,
              f"scenario {scenario.name} (hash {meta['scenario_hash']}): {result.n_runs:,} runs of "
              f"{result.n_steps} steps ({unit}), seed {meta['seed']['entropy']}"]
    levels = "levels: " + ", ".join(f"{k} {name}" for k, name in enumerate(scenario.level_names()))
    return "\n".join([*header, "", _outcome_table(summary), "", _measure_table(summary, scenario), "", levels])


def _outcome_table(summary) -> str:
    rows = [f"{'outcome':<10} {'probability':>11}   {'95% interval':<19} {'runs':>11}"]
    for r in summary.outcomes.itertuples(index=False):
        interval = f"{_percent(r.low)} - {_percent(r.high)}"
        rows.append(f"{r.outcome:<10} {_percent(r.probability):>11}   {interval:<19} {r.count:>11,}")
    return "\n".join(rows)


def _percent(p: float) -> str:
    if abs(p) < 1e-12:  # a Wilson bound at 0 comes out as a rounding residue
        return "0.00%"
    return f"{100 * p:.2f}%" if p >= 1e-4 else f"{100 * p:.2g}%"


def _measure_table(summary, scenario) -> str:
    """Mean and quantiles of the run measures and of each actor's payoff (``--json`` has all)."""
    measures = summary.measures
    names = [*MEASURES, *(f"payoff_{a}" for a in scenario.actor_ids)]
    width = max(len(n) for n in names) + 2
    titles = ["mean" if c == "mean" else f"{int(c[1:])}%" for c in measures.columns]
    rows = [f"{'per run':<{width}}" + "".join(f"{t:>10}" for t in titles)]
    for name in names:
        rows.append(f"{name:<{width}}" + "".join(f"{v:>10.4g}" for v in measures.loc[name]))
    return "\n".join(rows)


# -- replay --------------------------------------------------------------------------------------

REPLAY_EXAMPLES = """\
  escalation-sim replay us_iran_2020 --seed 2020 --run 17
  escalation-sim replay results/iran --run 17           # a run folder knows its seed
  escalation-sim replay us_iran_2020 --seed 2020 --run 17 --json
"""

REPLAY_HELP = """\
Replay one run of a batch, step by step, with the Mesa agents, and tell its story. A run is
addressed by (seed, run index): the same as in `run` with that seed, exactly. Give the same
--set and --steps as the batch (`run --show` prints the command).
"""


def _add_replay(sub) -> None:
    p = _command(sub, "replay", REPLAY_HELP, REPLAY_EXAMPLES, cmd_replay)
    _add_scenario_options(p)
    p.add_argument("--seed", type=seed_int, metavar="S", help="the batch's seed (default: a run folder's)")
    p.add_argument("--run", type=int, required=True, metavar="R", help="run index in the batch (0-based)")
    _add_json(p)


def cmd_replay(args) -> int:
    if args.run < 0:
        raise UsageError(f"--run must be a run index of at least 0, got {args.run}")
    seed = args.seed if args.seed is not None else _folder_seed(args.scenario)
    if seed is None:
        raise UsageError("--seed is required: the seed of the batch (printed by `run`)")
    scenario = load_with_overrides(args)
    try:
        from .agents import EscalationModel
    except ImportError as exc:
        raise ImportError(f"the step-by-step replay is not available in this installation ({exc})") from None
    model = EscalationModel(scenario, rng=seed, run=args.run)
    model.run_model()
    if args.json:
        _emit_json({"scenario": scenario.name, "scenario_hash": scenario.hash(), "seed": seed, "run": args.run,
                    "story": model.narrate(), "timeline": model.timeline().to_dict(orient="records")})
    else:
        print(model.narrate())
    return OK


# -- sweep and plot ------------------------------------------------------------------------------

SWEEP_EXAMPLES = """\
  escalation-sim sweep us_iran_2020 --grid actors.IRN.policy.generosity=0:1:11 --runs 20000 --seed 1
  escalation-sim sweep us_iran_2020 --grid noise.execution=0,0.01,0.05 --grid actors.KH.control=0:1:5
  escalation-sim sweep us_iran_2020 --lhs 64 --bounds noise.execution=0:0.1 --bounds actors.KH.control=0:1
"""

SWEEP_HELP = """\
Run a batch at every point of a parameter grid (or of a Latin hypercube) and print the outcome
probabilities at each point. A grid axis is key=lo:hi:n (n evenly spaced values) or key=a,b,c.
"""


def _add_sweep(sub) -> None:
    p = _command(sub, "sweep", SWEEP_HELP, SWEEP_EXAMPLES, cmd_sweep)
    _add_scenario_options(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=LO:HI:N|KEY=A,B,C",
                   help="a grid axis (repeatable; the grid is their product)")
    p.add_argument("--lhs", type=positive_int, metavar="N", help="N points of a Latin hypercube over --bounds")
    p.add_argument("--bounds", action="append", default=[], metavar="KEY=LO:HI", help="a range for --lhs (repeatable)")
    p.add_argument("--runs", type=positive_int, default=10_000, metavar="N", help="runs per point (default 10000)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="seed of the sweep (default: fresh entropy, printed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the sweep's table to DIR")
    p.add_argument("--force", action="store_true", help="overwrite the files in --out DIR")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="with --out: do not draw figures")
    _add_parallel_options(p)
    _add_json(p)


def cmd_sweep(args) -> int:
    from .analysis.sweep import parse_bounds, parse_grid, sweep

    if bool(args.grid) == (args.lhs is not None):
        raise UsageError("give either --grid (one or more) or --lhs N with --bounds, not both or neither")
    if args.bounds and args.lhs is None:
        raise UsageError("--bounds goes with --lhs N")
    if args.lhs is not None and not args.bounds:
        raise UsageError("--lhs N needs at least one --bounds key=lo:hi")
    _check_parallel_args(args)
    _check_new_folder(args.out, args.force)
    scenario = load_with_overrides(args)
    design = ({"grid": dict(parse_grid(text) for text in args.grid)} if args.grid
              else {"lhs": args.lhs, "bounds": dict(parse_bounds(text) for text in args.bounds)})
    seed = args.seed if args.seed is not None else _drawn_seed()
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    with open_executor(args.workers, args.dask, timeout=args.dask_timeout) as executor:
        result = sweep(scenario, **design, n_runs=args.runs, rng=seed, executor=executor, progress=progress)
    if args.out is not None:
        result.save(args.out)
        if args.figures:
            _write_figures(result, args.out / "figures")
        _note(f"wrote {args.out}")
    if args.json:
        _emit_json({"metadata": result.metadata, "points": result.table.to_dict(orient="records")})
    else:
        print(format_sweep(result))
    return OK


def _check_new_folder(folder: Path | None, force: bool) -> None:
    if folder is not None and folder.exists() and not force and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"output folder {folder} already exists and is not empty: choose another, or overwrite it with --force")


def _drawn_seed() -> int:
    seed = int(np.random.SeedSequence().entropy)
    _note(f"seed: {seed} (drawn at random; repeat with --seed {seed})")
    return seed


def format_sweep(result) -> str:
    """The sweep's table: one row per point, outcome probabilities in percent with their 95%
    intervals, and the mean measures."""
    table, meta = result.table, result.metadata
    columns = {"point": table["point"]}
    columns.update({key: table[key] for key in result.parameters})
    for outcome in OUTCOME_NAMES:
        columns[outcome] = [f"{_percent(p)} ({_percent(lo)}-{_percent(hi)})" for p, lo, hi in
                            zip(table[f"p_{outcome}"], table[f"p_{outcome}_low"], table[f"p_{outcome}_high"])]
    columns.update({c: table[c].round(3) for c in table.columns if c.startswith("mean_")})
    body = pd.DataFrame(columns).to_string(index=False)
    header = (f"{result.scenario.title or result.scenario.name}\nsweep of {result.scenario.name}: "
              f"{len(table)} points ({meta['design']}), {meta['n_runs']:,} runs each, seed {meta['seed']['entropy']}\n"
              "outcome probabilities with 95% intervals")
    return f"{header}\n\n{body}"


PLOT_EXAMPLES = """\
  escalation-sim plot results/iran
  escalation-sim plot results/iran --out figures --format png,svg
"""

PLOT_HELP = "Draw the figures of a run folder written by `run --out` (or `sweep --out`).\n"


def _add_plot(sub) -> None:
    p = _command(sub, "plot", PLOT_HELP, PLOT_EXAMPLES, cmd_plot)
    p.add_argument("folder", metavar="DIR", type=Path, help="a folder written by run --out or sweep --out")
    p.add_argument("--out", type=Path, metavar="FIGDIR", help="where to write the figures (default DIR/figures)")
    p.add_argument("--format", default="png", metavar="FORMATS", help="comma-separated image formats (default png)")
    _add_json(p)


def cmd_plot(args) -> int:
    formats = parse_formats(args.format)
    if not args.folder.is_dir():
        raise UsageError(f"{args.folder}: no such folder; expected a folder written by `run --out` or `sweep --out`")
    from .plots import write_figures

    written = write_figures(args.folder, args.out or args.folder / "figures", formats)
    if args.json:
        _emit_json([str(path) for path in written])
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


# -- describe, list, validate --------------------------------------------------------------------

DESCRIBE_EXAMPLES = """\
  escalation-sim describe us_iran_2020
  escalation-sim describe my_crisis.yaml --set actors.USA.policy.ratio=1.5
  escalation-sim describe us_iran_2020 --json
"""


def _add_describe(sub) -> None:
    p = _command(sub, "describe", "Show a scenario: actors, policies, ladder, noise, events, outcome rules.\n",
                 DESCRIBE_EXAMPLES, cmd_describe)
    _add_scenario_options(p)
    _add_json(p)


def cmd_describe(args) -> int:
    scenario = load_with_overrides(args)
    if args.json:
        _emit_json(scenario.to_dict())
    else:
        print(describe(scenario))
    return OK


def _add_list(sub) -> None:
    p = _command(sub, "list", "List the bundled scenarios with their titles.\n",
                 "  escalation-sim list\n  escalation-sim list --json\n", cmd_list)
    _add_json(p)


def cmd_list(args) -> int:
    rows = []
    for name in list_scenarios():
        try:
            rows.append({"name": name, "title": load_scenario(name).title})
        except ScenarioError as exc:  # list the others, and say what is wrong with this one
            rows.append({"name": name, "title": None, "error": str(exc)})
    if args.json:
        _emit_json(rows)
        return OK
    width = max((len(r["name"]) for r in rows), default=0) + 2
    for r in rows:
        print(f"{r['name']:<{width}}{r['title'] if r['title'] is not None else 'INVALID: ' + r['error']}")
    return OK


def _add_validate(sub) -> None:
    p = _command(sub, "validate", "Check scenario files; exit 2 if any is invalid.\n",
                 "  escalation-sim validate my_crisis.yaml\n  escalation-sim validate scenarios/*.yaml\n",
                 cmd_validate)
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (or bundled names)")
    _add_json(p)


def cmd_validate(args) -> int:
    rows = []
    for file in args.files:
        try:
            scenario = load_scenario(file)
            rows.append({"file": file, "valid": True, "title": scenario.title})
        except ScenarioError as exc:
            rows.append({"file": file, "valid": False, "error": str(exc)})
    if args.json:
        _emit_json(rows)
    else:
        for r in rows:
            print(f"OK       {r['file']}: {r['title']}" if r["valid"] else f"INVALID  {r['error']}")
    return OK if all(r["valid"] for r in rows) else USAGE
