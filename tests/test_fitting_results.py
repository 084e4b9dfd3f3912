"""The numbers of docs/fitting.md's real run are those docs/fitting/real_run.py saved.

Each number the page shows is formatted here from docs/fitting/results.json (or, for the
comparison with the rules before allies, false alarms and the quiet level, from
results_before_allies.json) and must appear in the page's real-run section; a re-run that
moves a number, or a page edited by hand, fails here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FITTING = ROOT / "docs" / "fitting"


def load(name: str) -> dict:
    return json.loads((FITTING / name).read_text())


def section() -> str:
    text = (ROOT / "docs" / "fitting.md").read_text()
    return text[text.index("## The real run"):]


def ll(x: float) -> str:
    return f"−{-x:.2f}"  # the page's minus sign


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def sig(x: float, n: int = 2) -> str:
    """n significant figures, as the parameter table shows them."""
    return f"{x:.{n}g}" if x < 0.1 else f"{x:.2f}"


def loglik_strings(results: dict) -> list[str]:
    return [ll(results[timeline][point]["log_likelihood_given_exogenous"])
            for timeline in ("record", "document") for point in ("handset", "mle", "median")]


def outcome(results: dict, which: str, name: str) -> dict:
    return next(row for row in results["outcomes"][which] if row["outcome"] == name)


def test_log_likelihoods_and_gains_are_the_saved_ones():
    results, text = load("results.json"), section()
    expected = loglik_strings(results) + loglik_strings(load("results_before_allies.json"))
    for timeline in ("record", "document"):
        gain = (results[timeline]["mle"]["log_likelihood_given_exogenous"]
                - results[timeline]["handset"]["log_likelihood_given_exogenous"])
        expected.append(f"{gain:.1f}")
    expected.append(f"given the {len(results['record']['handset']['exogenous'])} acts")
    expected.append(f"given its {len(results['document']['handset']['exogenous'])} acts")
    missing = [s for s in expected if s not in text]
    assert not missing, f"docs/fitting.md does not show {missing} (from docs/fitting/results.json)"


def test_parameter_table_is_the_saved_fit():
    results, text = load("results.json"), section()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    for row in results["fit"]["intervals"]:
        key = next(k for k in rows if k.startswith(f"`{row['parameter']}`"))
        cells = [c.strip() for c in rows[key].split("|")[2:-1]]
        width = (row["high"] - row["low"]) / (row["high_bound"] - row["low_bound"])
        assert float(cells[0]) == pytest.approx(results["handset"][row["parameter"]])
        assert cells[1] == sig(row["median"]), row["parameter"]
        assert cells[2] == f"{sig(row['low'])} – {sig(row['high'])}", row["parameter"]
        assert cells[3] == sig(row["mle"]), row["parameter"]
        assert cells[4] == f"{width:.2f}", row["parameter"]


def test_outcome_table_is_the_saved_runs():
    results, text = load("results.json"), section()
    expected = []
    for which in ("handset", "posterior_predictive", "mle", "seed_file"):
        for name in ("war", "ceasefire"):
            row = outcome(results, which, name)
            expected.append(f"{pct(row['probability'])} [{pct(row['low'])}, {pct(row['high'])}]")
            if "draw_low" in row:
                expected.append(f"draws {pct(row['draw_low'], 1)} – {pct(row['draw_high'], 1)}")
    before = load("results_before_allies.json")
    expected.append(pct(outcome(before, "handset", "ceasefire")["probability"], 1))
    war = outcome(before, "posterior_predictive", "war")
    expected.append(f"{pct(war['probability'], 1)}, draws {pct(war['draw_low'], 1)} – {pct(war['draw_high'], 1)}")
    missing = [s for s in expected if s not in text]
    assert not missing, f"docs/fitting.md does not show {missing} (from docs/fitting/results.json)"


def test_the_change_of_execution_noise_is_the_saved_one():
    medians = [next(r["median"] for r in load(name)["fit"]["intervals"] if r["parameter"] == "noise.execution")
               for name in ("results_before_allies.json", "results.json")]
    assert f"noise rose from {sig(medians[0])} to {sig(medians[1])}" in section()


def test_diagnostics_line_is_the_saved_fit():
    d, text = load("results.json")["fit"]["diagnostics"], section()
    tau, ess = d["autocorr_time"].values(), d["ess"].values()
    line = (f"{d['n_walkers']} walkers, {d['n_steps']:,} steps, autocorrelation times "
            f"{min(tau):.0f}–{max(tau):.0f} steps, effective sample sizes\n{min(ess):,.0f}–{max(ess):,.0f}, "
            f"acceptance {d['acceptance']:.2f}")
    assert line in text and d["converged"]


def test_the_real_run_compares_with_the_one_list_of_hand_set_values():
    sys.path.insert(0, str(FITTING))
    try:
        from seed_fit import HANDSET, PARAMS
    finally:
        sys.path.remove(str(FITTING))
    results = load("results.json")
    assert results["handset"] == HANDSET
    assert {k: tuple(v) for k, v in results["params"].items()} == PARAMS
