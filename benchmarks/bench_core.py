"""Throughput and peak memory of ``simulate``, beside axelrod's ``Match`` and a hand-fused numba
loop of the same two-level rules, measured in one run (ratios matter: the machines are shared).

    python benchmarks/bench_core.py                       # default sizes
    python benchmarks/bench_core.py --sizes 1e3 1e5 1e7   # choose sizes

Each measurement runs in a fresh subprocess so that its peak memory (``ru_maxrss``) is its own.
Needs ``pip install numba axelrod`` besides the package (neither is a dependency).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

TURNS, NOISE = 200, 0.05


def ipd_tft_scenario():
    import escalation_sim as es

    return es.load_scenario("ipd_noise")


def measure_simulate(name: str, n_runs: int) -> dict:
    import escalation_sim as es

    scenario = ipd_tft_scenario() if name == "ipd" else es.load_scenario("us_iran_2020")
    es.simulate(scenario, 1000, rng=0)  # compile and warm up
    start = time.perf_counter()
    result = es.simulate(scenario, n_runs, rng=1)
    seconds = time.perf_counter() - start
    return {"run_steps_per_s": n_runs * result.n_steps / seconds, "seconds": seconds}


def measure_axelrod(n_matches: int) -> dict:
    import axelrod as axl

    start = time.perf_counter()
    for seed in range(n_matches):
        axl.Match((axl.TitForTat(), axl.TitForTat()), turns=TURNS, noise=NOISE, seed=seed).play()
    seconds = time.perf_counter() - start
    return {"run_steps_per_s": n_matches * TURNS / seconds, "seconds": seconds}


def measure_numba(n_runs: int) -> dict:
    """Tit-for-tat self-play with execution noise, fused into one loop with its own RNG."""
    import numba

    @numba.njit(cache=False)
    def splitmix(state):
        state = (state + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        z = state
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        return state, z ^ (z >> np.uint64(31))

    @numba.njit(cache=False)
    def play(n_runs, turns, threshold, seed):
        payoff = np.zeros((n_runs, 2), np.int32)
        table_a = np.array([3, 0, 5, 1], np.int32)
        state = np.uint64(seed)
        for r in range(n_runs):
            a = 0
            b = 0
            for t in range(turns):
                na, nb = (b, a) if t > 0 else (0, 0)
                state, word = splitmix(state)
                if (word & np.uint64(0xFFFFFFFF)) < threshold:
                    na ^= 1
                if (word >> np.uint64(32)) < threshold:
                    nb ^= 1
                a, b = na, nb
                payoff[r, 0] += table_a[2 * a + b]
                payoff[r, 1] += table_a[2 * b + a]
        return payoff

    threshold = np.uint64(int(NOISE * 2**32))
    play(100, TURNS, threshold, 1)  # compile
    start = time.perf_counter()
    play(n_runs, TURNS, threshold, 2)
    seconds = time.perf_counter() - start
    return {"run_steps_per_s": n_runs * TURNS / seconds, "seconds": seconds}


def one(kind: str, n: int) -> None:
    if kind in ("ipd", "seed"):
        out = measure_simulate(kind, n)
    elif kind == "axelrod":
        out = measure_axelrod(n)
    else:
        out = measure_numba(n)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_in_subprocess(kind: str, n: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5, 1e6, 1e7])
    parser.add_argument("--axelrod-matches", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved passes of the two-level core (10^6 runs), axelrod and numba "
                             "for the ratios; each keeps its best")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one[0], int(args.one[1]))
        return
    rows = []
    for kind in ("ipd", "seed"):
        for n in map(int, args.sizes):
            rows.append((kind, n, run_in_subprocess(kind, n)))
    # The ratios: the three measured in turn, so that a change in the machine's load hits all.
    for _ in range(args.repeat):
        rows.append(("ipd", 10**6, run_in_subprocess("ipd", 10**6)))
        rows.append(("axelrod", args.axelrod_matches, run_in_subprocess("axelrod", args.axelrod_matches)))
        rows.append(("numba", 10**6, run_in_subprocess("numba", 10**6)))
    print(f"{'workload':10s} {'runs':>10s} {'run-steps/s':>14s} {'seconds':>9s} {'peak MB':>9s}")
    for kind, n, out in rows:
        print(f"{kind:10s} {n:10d} {out['run_steps_per_s']:14.3e} {out['seconds']:9.2f} {out['peak_mb']:9.0f}")

    def best(kind):
        return max(out["run_steps_per_s"] for k, _, out in rows if k == kind)

    ipd, axelrod, fused = best("ipd"), best("axelrod"), best("numba")
    print(f"\nbest of each: two-level core {ipd:.3e}, axelrod {axelrod:.3e}, numba {fused:.3e} run-steps/s")
    print(f"two-level core / axelrod Match: {ipd / axelrod:.0f}x (target >= 2000x)")
    print(f"two-level core / fused numba:   {ipd / fused:.2f} (target >= 0.33)")


if __name__ == "__main__":
    main()
