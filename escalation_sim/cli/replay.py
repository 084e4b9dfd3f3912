"""``escalation-sim replay``: one run of a batch told step by step by the Mesa agents."""

from __future__ import annotations

from .common import (OK, UsageError, add_json, add_scenario_options, command, emit_json, folder_record,
                     load_with_overrides, note, seed_int)

REPLAY_EXAMPLES = """\
  escalation-sim replay us_iran_2020 --seed 2020 --run 631
  escalation-sim replay results/iran --run 631          # a run folder knows its seed
  escalation-sim replay us_iran_2020 --seed 2020 --run 631 --json
"""

REPLAY_HELP = """\
Replay one run of a batch, step by step, with the Mesa agents, and tell its story. A run is
addressed by (seed, run index): the same as in `run` with that seed, exactly. Give the same
--set and --steps as the batch (`run --show` prints the command).
"""


def add(sub) -> None:
    p = command(sub, "replay", REPLAY_HELP, REPLAY_EXAMPLES, cmd_replay)
    add_scenario_options(p)
    p.add_argument("--seed", type=seed_int, metavar="S", help="the batch's seed (default: a run folder's)")
    p.add_argument("--run", type=seed_int, required=True, metavar="R", help="run index in the batch (0-based)")
    add_json(p)


def cmd_replay(args) -> int:
    seed = _seed(args)
    if seed is None:
        raise UsageError("--seed is required: the seed of the batch (printed by `run`)")
    scenario = load_with_overrides(args)
    try:
        from ..agents import EscalationModel
    except ImportError as exc:
        raise ImportError(f"the step-by-step replay is not available in this installation ({exc})") from None
    model = EscalationModel(scenario, rng=seed, run=args.run)
    model.run_model()
    if args.json:
        emit_json({"scenario": scenario.name, "scenario_hash": scenario.hash(), "seed": seed, "run": args.run,
                    "story": model.narrate(), "timeline": model.timeline().to_dict(orient="records")})
    else:
        print(model.narrate())
    return OK


def _seed(args) -> int | None:
    """--seed, or the run folder's; the folder's batch bounds --run (its n_runs)."""
    record = folder_record(args.scenario)
    if record is None:
        return args.seed
    seed, n_runs = record
    if args.seed is not None and seed is not None and args.seed != seed:
        note(f"--seed {args.seed} differs from the seed of the run folder {args.scenario} ({seed}): "
             f"replaying run {args.run} of another batch of its scenario, not of the folder's")
        return args.seed
    if n_runs is not None and args.run >= n_runs:
        raise UsageError(f"--run {args.run}: the batch in {args.scenario} has n_runs {n_runs} "
                         f"(runs 0..{n_runs - 1}); give a run index below {n_runs}")
    return args.seed if args.seed is not None else seed
