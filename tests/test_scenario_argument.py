"""Every public function with a ``scenario`` parameter takes a ``Scenario``, a bundled scenario's
name or a path to a scenario file (all read by ``escalation_sim.scenario.as_scenario``), and
refuses anything else with a ``TypeError`` that says what it expected.

The functions are found by walking the ``__all__`` of the package and its subpackages and reading
signatures (as tests/test_rng_contract.py does for ``rng``), so a new public function with a
``scenario`` parameter fails here until it has a small call in ``CALLS``.
"""

from __future__ import annotations

import importlib
import inspect
import tempfile
from importlib import resources
from pathlib import Path

import pytest

import escalation_sim as es
from escalation_sim import agents, batch, core, games, inference, timeline
from escalation_sim.inference import load_fit
from escalation_sim.inference.calibration import simulated_levels
from conftest import public_modules

ROOT = Path(__file__).resolve().parents[1]
RECORD = "us_iran_2020_record"


def scenario_functions() -> dict[str, object]:
    """Every callable in a public ``__all__`` (functions, classes, their public methods) with a
    parameter named ``scenario``, by its defining module and qualified name."""
    found = {}
    for package in public_modules(packages_only=True):
        for name in getattr(package, "__all__", ()):
            obj = getattr(package, name, None)
            candidates = [obj]
            if inspect.isclass(obj):
                candidates += [m for k, m in vars(obj).items() if not k.startswith("_") and callable(m)]
            for c in candidates:
                try:
                    takes = "scenario" in inspect.signature(c).parameters
                except (TypeError, ValueError):
                    continue
                if takes:
                    found[f"{c.__module__}.{c.__qualname__}"] = c
    return found


def _record_timeline():
    return timeline.read_timeline(timeline.bundled_timeline(RECORD), RECORD)


def _levels():
    return simulated_levels("us_iran_2020", 1, n_steps=5, rng=1)[0]


def _folder(fn, s):
    with tempfile.TemporaryDirectory() as folder:
        return fn(s, 20, Path(folder) / "run", rng=1, n_steps=5)


RECORD_FIT = ROOT / "docs" / "fitting" / "record_fit"
IPD = "ipd_noise"

#: qualified name -> (bundled scenario to pass, call taking the scenario argument), or a reason
#: why the parameter is not a user's scenario argument (a record of an already read scenario).
CALLS = {
    "escalation_sim.agents.model.EscalationModel": (IPD, lambda s: agents.EscalationModel(s, rng=1, n_steps=5)),
    "escalation_sim.agents.replay.replay_runs": (IPD, lambda s: list(agents.replay_runs(s, [0, 1], rng=1, n_steps=5))),
    "escalation_sim.analysis.sensitivity.sensitivity":
        (IPD, lambda s: es.sensitivity(s, {"noise.execution": (0.0, 0.1), "payoffs.R": (3.0, 4.0)}, n=4, n_runs=20, rng=1, n_steps=5)),
    "escalation_sim.analysis.sweep.sweep": (IPD, lambda s: es.sweep(s, grid={"noise.execution": [0.0]}, n_runs=20, rng=1, n_steps=5)),
    "escalation_sim.batch.simulate.Batch": (IPD, lambda s: batch.Batch(s, 20, rng=1, n_steps=5)),
    "escalation_sim.batch.simulate.simulate": (IPD, lambda s: es.simulate(s, 20, rng=1, n_steps=5)),
    "escalation_sim.batch.store.run_to_folder": (IPD, lambda s: _folder(batch.run_to_folder, s)),
    "escalation_sim.core.plan.compile_plan": (IPD, lambda s: core.compile_plan(s)),
    "escalation_sim.dashboard.show": (IPD, lambda s: pytest.importorskip("solara") and
                                      importlib.import_module("escalation_sim.dashboard").show(s, n_runs=4096)),
    "escalation_sim.games.stage.dyad_game": (IPD, lambda s: games.dyad_game(s, "A", "B")),
    "escalation_sim.inference.exogenous.exogenous_acts": (RECORD, lambda s: inference.exogenous_acts(s, _record_timeline())),
    "escalation_sim.inference.fit.Fit.predict": (RECORD, lambda s: load_fit(RECORD_FIT).predict(20, rng=1, n_draws=2, scenario=s)),
    "escalation_sim.inference.fit.fit":
        ("us_iran_2020", lambda s: inference.fit(s, _levels(), {"actors.USA.policy.ratio": (0.9, 1.1)}, rng=1,
                                                 exogenous=True, batch_steps=20, max_steps=20)),
    "escalation_sim.inference.fit.scenario_at": (IPD, lambda s: inference.scenario_at(s, {"noise.execution": 0.05})),
    "escalation_sim.inference.fit.scenario_values": (IPD, lambda s: inference.scenario_values(s, ["noise.execution"])),
    "escalation_sim.inference.likelihood.Likelihood": (RECORD, lambda s: inference.Likelihood(s, _record_timeline())),
    "escalation_sim.inference.likelihood.log_likelihood": (RECORD, lambda s: inference.log_likelihood(s, _record_timeline(), warn=False)),
    "escalation_sim.inference.predict.plug_in": (IPD, lambda s: inference.plug_in(s, 20, rng=1)),
    "escalation_sim.inference.predict.posterior_predictive":
        (RECORD, lambda s: inference.posterior_predictive(load_fit(RECORD_FIT), 20, rng=1, n_draws=2, scenario=s)),
    "escalation_sim.scenario.io.as_scenario": (IPD, lambda s: es.scenario.as_scenario(s)),
    "escalation_sim.scenario.io.with_overrides": (IPD, lambda s: es.with_overrides(s, {"noise.execution": 0.05})),
    "escalation_sim.scenario.text.describe": (IPD, lambda s: es.scenario.describe(s)),
    "escalation_sim.timeline.model.Timeline.check": (RECORD, lambda s: _record_timeline().check(s) or "checked"),
    "escalation_sim.timeline.model.Timeline.levels": (RECORD, lambda s: _record_timeline().levels(s)),
    "escalation_sim.timeline.readers.read_timeline":
        (RECORD, lambda s: timeline.read_timeline(timeline.bundled_timeline(RECORD), s)),
    # Records the library builds from a scenario it has already read:
    "escalation_sim.analysis.sweep.SweepResult": "a sweep's result, built by sweep()",
    "escalation_sim.batch.result.BatchResult": "a batch's result, built by simulate()",
    "escalation_sim.core.plan.Plan": "a compiled scenario, built by compile_plan()",
}

FOUND = scenario_functions()


def test_every_public_function_with_a_scenario_parameter_has_a_call():
    missing = sorted(set(FOUND) - set(CALLS))
    assert not missing, f"add a small call to CALLS for: {missing}"
    assert len(FOUND) > 20  # the walk found the public API


def _spellings(name: str):
    bundled = resources.files("escalation_sim.bundled") / f"{name}.yaml"
    return {"Scenario": es.load_scenario(name), "bundled name": name, "path": str(bundled), "Path": Path(str(bundled))}


@pytest.mark.parametrize("qualname", sorted(q for q in FOUND if isinstance(CALLS.get(q), tuple)))
def test_takes_a_scenario_a_bundled_name_or_a_path(qualname):
    name, call = CALLS[qualname]
    for how, spec in _spellings(name).items():
        assert call(spec) is not None, f"{qualname} with a scenario given as a {how}"


@pytest.mark.parametrize("qualname", sorted(q for q in FOUND if isinstance(CALLS.get(q), tuple)))
def test_refuses_anything_else_with_a_clear_type_error(qualname):
    _, call = CALLS[qualname]
    with pytest.raises(TypeError, match="scenario must be a Scenario, a bundled scenario's name or a path.*got int '7'"):
        call(7)
