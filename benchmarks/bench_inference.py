"""Benchmarks of inference: the likelihood's throughput, the record fit, the posterior
predictive's memory, and simulation-based calibration with emcee.

    python benchmarks/bench_inference.py likelihood   # parameter sets per second, one core
    python benchmarks/bench_inference.py fit          # the record fit over five parameters
    python benchmarks/bench_inference.py memory       # peak memory of predict at 1e5..1e7 runs
    python benchmarks/bench_inference.py sbc          # SBC over 100 synthetic records (emcee)

Targets (issue 12): >= 10,000 parameter sets/s for the record under the seed scenario on one
core; the five-parameter record fit with passing diagnostics in < 3 min on 2 cores; memory flat
in the number of posterior-predictive runs. Results go to standard output as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core
    os.environ.setdefault(name, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "docs", "fitting"))


def _record():
    import escalation_sim as es
    from escalation_sim.inference import ImpossibleObservation, exogenous_acts
    from escalation_sim.timeline import bundled_timeline, read_timeline
    from real_run import PARAMS, record_scenario

    scenario = record_scenario()
    timeline = read_timeline(bundled_timeline("us_iran_2020_record"), scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpossibleObservation)
        given, _ = exogenous_acts(scenario, timeline)
    return es, given, timeline, PARAMS


def bench_likelihood(n_sets: int = 10_000, repeats: int = 5) -> dict:
    es, scenario, timeline, params = _record()
    from escalation_sim.inference import Likelihood

    lik = Likelihood(scenario, timeline, list(params))
    rng = np.random.default_rng(0)
    low = np.array([b[0] for b in params.values()])
    high = np.array([b[1] for b in params.values()])
    out = {"benchmark": "likelihood", "n_params": len(params), "n_steps": int(len(lik.path))}
    for n in (64, n_sets):
        theta = low + (high - low) * rng.random((n, len(params)))
        best = min(_cpu(lambda: lik(theta)) for _ in range(repeats))
        out[f"sets_per_second_{n}"] = n / best
        out[f"finite_share_{n}"] = float(np.isfinite(lik(theta)).mean())
    return out


def _cpu(func) -> float:
    start = time.process_time()
    func()
    return time.process_time() - start


def bench_fit() -> dict:
    es, scenario, timeline, params = _record()
    wall, cpu = time.perf_counter(), time.process_time()
    result = es.fit(scenario, timeline, params, rng=2020)
    return {"benchmark": "record fit", "wall_seconds": time.perf_counter() - wall,
            "cpu_seconds": time.process_time() - cpu, "n_steps": result.diagnostics["n_steps"],
            "n_walkers": result.diagnostics["n_walkers"], "converged": result.diagnostics["converged"],
            "max_autocorr_time": max(result.diagnostics["autocorr_time"].values()),
            "min_ess": min(result.diagnostics["ess"].values()), "acceptance": result.diagnostics["acceptance"]}


def bench_memory(sizes=(100_000, 1_000_000, 10_000_000)) -> list[dict]:
    """Each size in a fresh process (peak RSS is per process)."""
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "predict-child", "--runs", str(n)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def _predict_child(n_runs: int) -> dict:
    import escalation_sim as es
    from escalation_sim.inference import Fit
    import pandas as pd

    scenario = es.load_scenario("us_iran_2020")
    rng = np.random.default_rng(0)
    samples = pd.DataFrame({"actors.USA.policy.ratio": rng.uniform(0.8, 1.2, 500),
                            "actors.IRN.policy.generosity": rng.uniform(0.1, 0.5, 500)})
    fitted = Fit(scenario, {k: (0.0, 2.0) for k in samples}, samples, {}, {})
    wall = time.perf_counter()
    result = fitted.predict(n_runs, rng=1, n_draws=100)
    return {"benchmark": "posterior predictive memory", "n_runs": n_runs, "n_draws": 100,
            "seconds": time.perf_counter() - wall, "p_war": float(result.summary().loc["war", "probability"]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def bench_sbc(n_datasets: int = 100) -> dict:
    import escalation_sim as es
    from escalation_sim.inference.calibration import sbc, uniformity

    scenario = es.with_overrides(es.load_scenario("echo_generosity"), {"time.n_steps": 80})
    params = {"actors.A.policy.generosity": (0.0, 1.0), "noise.execution": (0.0, 0.3)}
    wall = time.perf_counter()
    ranks = sbc(scenario, params, n_datasets=n_datasets, n_draws=99, method="emcee", rng=12)
    out = {"benchmark": "sbc (emcee)", "scenario": "echo_generosity, 80 turns", "n_datasets": n_datasets,
           "n_draws": 99, "seconds": time.perf_counter() - wall}
    for key, group in ranks.groupby("parameter"):
        out[key] = {"chi2_p": uniformity(group["rank"].to_numpy(), 99), "coverage_95": float(group["covered"].mean()),
                    "rank_histogram": np.bincount(group["rank"].to_numpy() * 10 // 100, minlength=10).tolist()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("likelihood", "fit", "memory", "sbc", "all", "predict-child"))
    parser.add_argument("--runs", type=int, default=100_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.what == "predict-child":  # one size of the memory benchmark, in its own process
        print(json.dumps(_predict_child(args.runs)))
        return
    todo = ("likelihood", "fit", "memory", "sbc") if args.what == "all" else (args.what,)
    for what in todo:
        result = {"likelihood": bench_likelihood, "fit": bench_fit, "memory": bench_memory, "sbc": bench_sbc}[what]()
        for row in result if isinstance(result, list) else [result]:
            print(json.dumps(row, default=float), flush=True)


if __name__ == "__main__":
    main()
