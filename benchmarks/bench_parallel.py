"""Throughput of one process, a process pool and a Dask local cluster; peak memory of `run --out`.

    python benchmarks/bench_parallel.py                      # 10^7 runs of us_iran_2020, 3 ways
    python benchmarks/bench_parallel.py --runs 1000000       # smaller
    python benchmarks/bench_parallel.py --memory 100000,1000000

Throughput mode runs the same batch (same seed) in one process, on a ``ProcessPoolExecutor``
with ``--workers`` processes and on a Dask ``LocalCluster`` with as many single-threaded
workers; it prints runs per second, run-steps per second and the ratios to one process, and
checks that the three results are identical. Start-up (the workers importing the package) is
timed apart. On a shared machine, ``--repeat 3`` interleaves the modes and keeps each one's best.

Memory mode runs ``escalation-sim run SCENARIO --runs N --out TMP`` in a fresh process for each
N, and reports its peak resident memory (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, read by a
parent that has no other children; with ``--workers`` it is the largest of the processes).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import escalation_sim as es
from escalation_sim.batch.store import local_cluster
from escalation_sim.core import STREAM_BLOCK


def timed(label: str, n_runs: int, n_steps: int, run) -> tuple[float, es.BatchResult]:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"{label:<34}{seconds:>9.1f} s{n_runs / seconds:>14,.0f} runs/s{n_runs * n_steps / seconds:>14.3g} run-steps/s",
          flush=True)
    return seconds, result


def warm_up(label: str, scenario: str, workers: int, executor, start: float) -> None:
    """One small chunk per worker, so that every worker has imported the package and compiled
    the scenario before the clock starts; the start-up time is printed apart."""
    es.simulate(scenario, workers * STREAM_BLOCK, rng=0, n_steps=2, executor=executor, chunk_size=STREAM_BLOCK)
    print(f"{f'({label} start-up)':<34}{time.perf_counter() - start:>9.1f} s", flush=True)


def same(a: es.BatchResult, b: es.BatchResult) -> bool:
    return np.array_equal(a.counts, b.counts) and a.runs.equals(b.runs)


@contextlib.contextmanager
def executor_for(label: str, scenario: str, workers: int):
    """The executor of one mode, alive only while that mode is timed: an idle Dask cluster (its
    heartbeats) or idle pool would otherwise take CPU from the mode being measured."""
    from dask.distributed import Client

    start = time.perf_counter()
    if label.startswith("one"):
        yield None
    elif label.startswith("process"):
        with ProcessPoolExecutor(workers) as pool:
            warm_up(label, scenario, workers, pool, start)
            yield pool
    else:
        with local_cluster(workers) as cluster, Client(cluster) as client:
            executor = client.get_executor()
            warm_up(label, scenario, workers, executor, start)
            yield executor


def throughput(scenario: str, n_runs: int, workers: int, seed: int, repeat: int) -> None:
    """Time the batch in one process, a pool and a Dask cluster, ``repeat`` times in turn (the
    three modes interleaved, so that a change in the machine's load hits all three), and print
    the best time of each. Each mode's workers exist only while it runs."""
    n_steps = es.load_scenario(scenario).n_steps
    print(f"{scenario}: {n_runs:,} runs of {n_steps} steps, seed {seed}, {workers} workers\n")
    best = {"one process": np.inf, f"process pool ({workers})": np.inf, f"Dask LocalCluster ({workers})": np.inf}
    reference, identical = None, True
    for _ in range(repeat):
        for label in best:
            with executor_for(label, scenario, workers) as executor:
                seconds, result = timed(label, n_runs, n_steps,
                                        lambda: es.simulate(scenario, n_runs, rng=seed, executor=executor))
            best[label] = min(best[label], seconds)
            reference = reference or result
            identical = identical and same(reference, result)
    one, pooled, dasked = best.values()
    print(f"\nbest of {repeat}: " + "; ".join(f"{label} {n_runs / t:,.0f} runs/s" for label, t in best.items()))
    print(f"speed-up over one process: pool {one / pooled:.2f}x, Dask {one / dasked:.2f}x; "
          f"identical results: {identical}")


MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_memory_mib(argv: list[str]) -> float:
    """Peak resident memory of a command, in MiB, measured by a fresh parent process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *argv], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def memory(scenario: str, sizes: list[int], workers: int | None, seed: int) -> None:
    base = [sys.executable, "-m", "escalation_sim", "run", scenario, "--seed", str(seed), "--no-progress"]
    if workers:
        base += ["--workers", str(workers)]
    print(f"peak resident memory of `escalation-sim run {scenario}`{f' --workers {workers}' if workers else ''}\n")
    print(f"{'runs':>12}{'--out DIR':>14}{'no --out':>14}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            with_out = peak_memory_mib([*base, "--runs", str(n), "--out", f"{tmp}/run", "--no-figures"])
        without = peak_memory_mib([*base, "--runs", str(n)])
        print(f"{n:>12,}{with_out:>10.0f} MiB{without:>10.0f} MiB", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="us_iran_2020")
    parser.add_argument("--runs", type=float, default=1e7, help="runs in throughput mode (default 1e7)")
    parser.add_argument("--workers", type=int, help="processes and Dask workers (default 2); with --memory, "
                        "run with --workers N (default: in one process)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--repeat", type=int, default=1, help="time each mode this many times, keep the best")
    parser.add_argument("--memory", metavar="N,N,...", help="measure peak memory of `run --out` at these run counts")
    args = parser.parse_args(argv)
    if args.memory:
        sizes = [int(float(n)) for n in args.memory.split(",")]
        memory(args.scenario, sizes, args.workers, args.seed)
    else:
        throughput(args.scenario, int(args.runs), args.workers or 2, args.seed, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
