"""Throughput of the Mesa model beside the vectorized core, in run-steps per second.

The Mesa model replays runs one at a time (each one step by step, with its agents and its
DataCollector); the core advances thousands of runs at once. Both play the same runs of the same
batch, so the ratio is the price of watching a run unfold.

    python benchmarks/bench_mesa.py [--scenario us_iran_2020] [--core-runs 100000] [--mesa-runs 200]
"""

from __future__ import annotations

import argparse
import time

import escalation_sim as es
from escalation_sim.agents import EscalationModel, replay_runs


def core_rate(scenario, n_runs: int, seed: int) -> tuple[float, int]:
    """Run-steps per second of ``simulate``, and the run-steps played."""
    start = time.perf_counter()
    result = es.simulate(scenario, n_runs, rng=seed)
    elapsed = time.perf_counter() - start
    run_steps = int((result.runs["end_step"] + 1).sum())
    return run_steps / elapsed, run_steps


def mesa_rate(models) -> tuple[float, int]:
    """Run-steps per second of building and playing out each model, and the run-steps played."""
    start, run_steps = time.perf_counter(), 0
    for model in models:
        model.run_model()
        run_steps += model.end_step + 1
    return run_steps / (time.perf_counter() - start), run_steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="us_iran_2020")
    parser.add_argument("--core-runs", type=int, default=100_000)
    parser.add_argument("--mesa-runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    scenario = es.load_scenario(args.scenario)
    es.simulate(scenario, 10, rng=args.seed)  # compile and warm up once, outside the timings

    core, core_steps = core_rate(scenario, args.core_runs, args.seed)
    runs = range(args.mesa_runs)
    one_by_one, mesa_steps = mesa_rate(EscalationModel(scenario, rng=args.seed, run=r) for r in runs)
    shared, _ = mesa_rate(replay_runs(scenario, runs, rng=args.seed))

    print(f"scenario {scenario.name}, seed {args.seed}")
    print(f"core  simulate, {args.core_runs} runs:             {core:12.4g} run-steps/s ({core_steps} run-steps)")
    print(f"mesa  EscalationModel, {args.mesa_runs} runs one by one: {one_by_one:12.4g} run-steps/s "
          f"({mesa_steps} run-steps)")
    print(f"mesa  replay_runs, the same {args.mesa_runs} runs:      {shared:12.4g} run-steps/s")
    print(f"core / mesa (one by one): {core / one_by_one:.0f}x; core / mesa (replay_runs): {core / shared:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
