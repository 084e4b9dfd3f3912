"""``escalation-sim run``: a Monte Carlo batch, printed, and with ``--out`` kept in a folder."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import numpy as np

from ..batch import simulate
from ..batch.format import batch_header, measure_table, outcome_table, percent
from ..batch.result import MEASURES
from ..batch.lock import folder_lock
from ..batch.store import StoreError, is_finished, open_executor, read_manifest, record_files, run_to_folder, summary_dict
from .common import (OK, OUTCOME_NAMES, PROG, UsageError, add_json, add_parallel_options, add_scenario_options,
                     check_folder_kind, check_parallel_args, cli_terms, command, drawn_seed, emit_json,
                     load_with_overrides, note, positive_int, seed_int, show_progress, write_figures)

SHOWN_RUNS = 10

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


def add(sub) -> None:
    p = command(sub, "run", RUN_HELP, RUN_EXAMPLES, cmd_run)
    add_scenario_options(p)
    p.add_argument("--runs", type=positive_int, metavar="N",
                   help="number of runs (default 10000, or the run folder's with --resume)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="seed of the whole batch (default: fresh entropy, printed)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write the results (and finished chunks as they come) to DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="finish the interrupted run in --out DIR")
    mode.add_argument("--force", action="store_true", help="overwrite the run in --out DIR")
    p.add_argument("--no-figures", dest="figures", action="store_false",
                   help="do not draw figures into --out DIR (without --out none are drawn, and it changes nothing)")
    add_parallel_options(p)
    p.add_argument("--show", choices=OUTCOME_NAMES, metavar="OUTCOME",
                   help="list runs that ended in OUTCOME (war, ceasefire or ongoing), to replay them")
    p.add_argument("--chunk-size", type=positive_int, help=argparse.SUPPRESS)
    add_json(p)


def cmd_run(args) -> int:
    try:
        return _cmd_run_out(args)
    except StoreError as exc:  # the library's words (resume=True) as the command line's (--resume)
        raise UsageError(cli_terms(str(exc))) from None


def _cmd_run_out(args) -> int:
    _check_run_args(args)
    if args.out is None:
        return _cmd_run(args)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a folder")
    check_folder_kind(args.out, "run")
    with folder_lock(args.out):  # one writer at a time, for the run and its figures
        return _cmd_run(args)


def _cmd_run(args) -> int:
    scenario = load_with_overrides(args)
    seed = _run_seed(args)
    finished = args.resume and is_finished(args.out)
    try:
        with open_executor(args.workers, args.dask, timeout=args.dask_timeout) as executor:
            result = _simulate(args, scenario, seed, executor)
    except KeyboardInterrupt:
        if args.out is not None:
            note(f"the finished chunks are kept in {args.out}; finish the run with:\n  {_resume_command(args, seed)}")
        raise
    if finished:
        note(f"the run in {args.out} was already finished: its results, as saved (figures in {args.out / 'figures'})")
    elif args.out is not None and args.figures:
        written = write_figures(result, args.out / "figures", show_progress(args))
        record_files(args.out, [str(p.relative_to(args.out)) for p in written])
    _print_run(args, result)
    return OK


def _check_run_args(args) -> None:
    if (args.resume or args.force) and args.out is None:
        raise UsageError(f"--{'resume' if args.resume else 'force'} needs --out DIR")
    check_parallel_args(args)


def _run_seed(args) -> int | None:
    """The batch's seed: --seed; else, resuming, the folder's (``None``); else fresh entropy."""
    if args.seed is not None:
        return args.seed
    if args.resume and read_manifest(args.out) is not None:
        return None
    return drawn_seed()


def _simulate(args, scenario, seed, executor):
    progress = show_progress(args)
    if args.out is None:
        return simulate(scenario, args.runs or 10_000, rng=seed, executor=executor, progress=progress,
                        chunk_size=args.chunk_size)
    n_runs = args.runs or _manifest_runs(args) or 10_000
    try:
        result = run_to_folder(scenario, n_runs, args.out, rng=seed, executor=executor, resume=args.resume,
                               force=args.force, progress=progress, chunk_size=args.chunk_size)
    except StoreError as exc:
        if exc.differences:
            raise UsageError(resume_mismatch(args, exc.differences)) from None
        raise
    note(f"wrote {args.out}")
    return result


#: Manifest fields as the options that set them.
OPTION_OF = {"seed": "--seed", "n_runs": "--runs", "n_steps": "--steps", "chunk_size": "--chunk-size"}


def resume_mismatch(args, differences) -> str:
    """Why a folder cannot be resumed with this command line, in its own terms: ``--resume with
    --seed 2, but the folder was started with --seed 1``."""
    reasons = []
    scenario_differs = False
    for key, folder_value, this_value in differences:
        if key in OPTION_OF:
            option = OPTION_OF[key]
            reasons.append(f"--resume with {option} {_option_value(key, this_value)}, but the folder was "
                           f"started with {option} {_option_value(key, folder_value)}")
        elif key in ("scenario_hash", "scenario"):
            scenario_differs = True
        else:
            reasons.append(f"the folder was written by another version of {PROG} ({key} differs)")
    if scenario_differs:  # the name and the hash are one difference: said once
        named = dict((key, old) for key, old, _ in differences).get("scenario") or _manifest_scenario(args.out)
        started = f"the folder was started with {named}" if named else "the folder was started with another"
        reasons.insert(0, f"--resume with another scenario than the folder's (its name, file, --set or --steps "
                          f"differ): {started}, saved as {args.out / 'scenario.yaml'}")
    return (f"cannot resume {args.out}: " + "; ".join(reasons)
            + ". Repeat the folder's command line with --resume, or start over with --force")


def _manifest_scenario(folder) -> str | None:
    try:
        return (read_manifest(folder) or {}).get("scenario")
    except StoreError:
        return None


def _option_value(key: str, value) -> str:
    if key == "seed" and isinstance(value, dict):
        return str(value.get("entropy")) + (" (a spawned seed)" if value.get("spawn_key") else "")
    return f"{value:,}".replace(",", "") if isinstance(value, int) else str(value)


def _manifest_runs(args) -> int | None:
    manifest = read_manifest(args.out) if args.resume else None
    return manifest.get("n_runs") if manifest else None


def _resume_command(args, seed) -> str:
    words = [a for a in args.argv if a not in ("--force", "--resume")]
    if args.seed is None and seed is not None:
        words += ["--seed", str(seed)]
    return shlex.join([PROG, *words, "--resume"])


def _print_run(args, result) -> None:
    shown = _shown_runs(result, args.show) if args.show else None
    if args.json:
        data = summary_dict(result)
        if args.out is not None:
            data["out"] = str(args.out)
        if shown is not None:
            data["show"] = {"outcome": args.show, "count": len(shown), "runs": shown[:SHOWN_RUNS].tolist()}
        emit_json(data)
        return
    print(format_result(result))
    if shown is not None:
        print()
        print(_format_shown(args, result, shown))


def _shown_runs(result, outcome: str) -> np.ndarray:
    return result.runs["run"].to_numpy()[(result.runs["outcome"] == outcome).to_numpy()]


def _format_shown(args, result, shown: np.ndarray) -> str:
    if len(shown) == 0:
        return "no run was still going at the horizon" if args.show == "ongoing" else f"no run ended in {args.show}"
    first = ", ".join(str(r) for r in shown[:SHOWN_RUNS])
    more = f" (the first {SHOWN_RUNS})" if len(shown) > SHOWN_RUNS else ""
    return (f"{len(shown):,} runs {'were still going at the horizon' if args.show == 'ongoing' else 'ended in ' + args.show}{more}: {first}\n"
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
    summary, scenario = result.summary(), result.scenario
    levels = "levels: " + ", ".join(f"{k} {name}" for k, name in enumerate(scenario.level_names()))
    if result.is_match:  # two players on two levels: no war and no ceasefire, a game's numbers instead
        return "\n".join([*batch_header(result), "", _match_table(result), "", levels])
    return "\n".join([*batch_header(result), "", outcome_table(summary.outcomes), "",
                      _measure_table(summary, scenario), "", levels])


def _match_table(result) -> str:
    """Cooperation rate, shares of CC/CD/DC/DD and payoffs per turn, with 95% intervals."""
    table, (a, b) = result.match_summary(), result.scenario.actor_ids
    name = {k: result.scenario.actor(k).name for k in (a, b)}
    words = {"cooperation": "cooperation rate",
             "CC": "both cooperate (CC)", "CD": f"only {name[b]} defects (CD)",
             "DC": f"only {name[a]} defects (DC)", "DD": "both defect (DD)",
             f"payoff_{a}": f"payoff per turn, {name[a]}", f"payoff_{b}": f"payoff per turn, {name[b]}"}
    width = max(len(w) for w in words.values()) + 2
    rows = [f"{'per turn, mean over runs':<{width}} {'mean':>8}   95% interval"]
    for key, label in words.items():
        r = table.loc[key]
        if key.startswith("payoff_"):
            cells = (f"{r['mean']:.3f}", f"{r['low']:.3f} - {r['high']:.3f}")
        else:
            cells = (percent(r["mean"]), f"{percent(r['low'])} - {percent(r['high'])}")
        rows.append(f"{label:<{width}} {cells[0]:>8}   {cells[1]}")
    return "\n".join(rows)


def _measure_table(summary, scenario) -> str:
    """Mean and quantiles of the run measures and of each actor's payoff (``--json`` has all)."""
    return measure_table(summary.measures, [*MEASURES, *(f"payoff_{a}" for a in scenario.actor_ids)])
