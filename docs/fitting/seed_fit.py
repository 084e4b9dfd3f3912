"""Fit the seed scenario's open parameters to the document's own story, and the record
scenario's to the record, for the `note:`s of scenarios/us_iran_2020.yaml and
scenarios/us_iran_2020_fitted.yaml. Run from the repository root:

    python docs/fitting/seed_fit.py

Prints, per fit, each parameter's hand-set value, posterior median and 95% interval, and the
log-likelihood of the timeline (its acts the model cannot produce taken as given) at the
hand-set values and at the posterior median; writes docs/fitting/seed_fit.json.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import escalation_sim as es
from escalation_sim.inference import ImpossibleObservation, Likelihood, exogenous_acts, fit, scenario_at, scenario_values
from escalation_sim.timeline import bundled_timeline, read_timeline

HERE = Path(__file__).parent
SEED = 2020
#: The assumptions of the seed scenario that the likelihood takes as arrays, uniform priors.
PARAMS = {
    "actors.USA.policy.ratio": (0.5, 2.0),
    "actors.IRN.policy.generosity": (0.0, 1.0),
    "actors.KH.control": (0.0, 1.0),
    "actors.KH.spontaneous.probability": (0.0, 0.1),
    "noise.execution": (0.0, 0.1),
}

#: The values the scenario files held before fitting (their comments call them assumptions).
HANDSET = {
    "actors.USA.policy.ratio": 1.0,
    "actors.IRN.policy.generosity": 0.3,
    "actors.KH.control": 0.5,
    "actors.KH.spontaneous.probability": 0.01,
    "noise.execution": 0.005,
}


def given_log_lik(scenario, timeline, point=None) -> float:
    """Log-likelihood of the timeline with the acts the scenario cannot produce scripted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpossibleObservation)
        if point is not None:
            scenario = scenario_at(scenario, point)
        given, _ = exogenous_acts(scenario, timeline)
        lik = Likelihood(given, timeline)
        return float(lik.log_likelihood(lik.values([[]]))[0])


def one(name: str, scenario, timeline) -> dict:
    scenario = es.with_overrides(scenario, HANDSET)  # the fit starts from the hand-set file
    result = fit(scenario, timeline, PARAMS, rng=SEED, exogenous=True)
    median = result.point("median")
    table = result.intervals()
    return {
        "scenario": name,
        "handset": scenario_values(scenario, PARAMS),
        "intervals": table.reset_index().to_dict(orient="records"),
        "mle": {k: result.mle[k] for k in PARAMS},
        "median": median,
        "log_likelihood": {"handset": given_log_lik(scenario, timeline),
                           "median": given_log_lik(scenario, timeline, median)},
        "diagnostics": result.diagnostics,
    }


def main() -> None:
    seed = es.load_scenario("us_iran_2020")
    document = read_timeline(bundled_timeline("us_iran_2020_document"), seed)
    record_scenario = es.load_scenario("us_iran_2020_record")
    record_scenario = es.with_overrides(record_scenario, {"events": [record_scenario.events[0].to_dict()]})
    record = read_timeline(bundled_timeline("us_iran_2020_record"), record_scenario)
    out = [one("us_iran_2020 / document story", seed, document),
           one("us_iran_2020_record (opening scripted) / record", record_scenario, record)]
    (HERE / "seed_fit.json").write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
