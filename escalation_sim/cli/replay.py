"""``escalation-sim replay``: one run of a batch told step by step by the Mesa agents."""

from __future__ import annotations

from .common import (OK, UsageError, add_json, add_scenario_options, command, emit_json, folder_seed,
                     load_with_overrides, seed_int)

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
    p.add_argument("--run", type=int, required=True, metavar="R", help="run index in the batch (0-based)")
    add_json(p)


def cmd_replay(args) -> int:
    if args.run < 0:
        raise UsageError(f"--run must be a run index of at least 0, got {args.run}")
    seed = args.seed if args.seed is not None else folder_seed(args.scenario)
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
