"""The escalation measures (docs/model.md, "Escalation measures"), recomputed independently
from each run's stored trajectory: peak after the script, time to the threshold level, escalation
velocity and the Rivera et al. (2024) score. The Mesa side is held to them by tests/test_agents.py
(exact replay of every bundled scenario)."""

from __future__ import annotations

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.core.engine import rivera_classes

WEIGHTS = {"status_quo": 0, "posturing": 4, "non_violent": 12, "violent": 28, "top": 60}


def recompute(scenario, levels: np.ndarray, end_step: int) -> dict:
    """From one run's levels ``(n_steps, n_pairs)`` (0 after its end) and its end step."""
    top = levels.max(axis=1)[: end_step + 1].astype(int)
    last_script = max((e.step for e in scenario.events), default=-1)
    war = scenario.outcomes.war_level
    threshold = scenario.outcomes.threshold_level or (scenario.top if war is None or war <= 1 else war - 1)
    reached = np.flatnonzero(top >= threshold)
    ladder = scenario.ladder
    classes = rivera_classes([lv.severity for lv in ladder], [lv.fatalities for lv in ladder], war)
    weight = np.array([WEIGHTS[c] for c in classes])
    return {
        "peak_after_script": int(top[last_script + 1 :].max(initial=0)),
        "threshold_step": int(reached[0]) if reached.size else -1,
        "escalation_velocity": float(np.mean(np.diff(top))) if end_step > 0 else 0.0,
        "escalation_score": float(weight[levels[: end_step + 1]].sum()),
    }


@pytest.mark.parametrize("name", ["us_iran_2020", "us_iran_2020_record", "proxy_war"])
def test_every_run_s_measures_are_those_of_its_trajectory(name):
    scenario = es.load_scenario(name)
    result = es.simulate(scenario, 600, rng=5, trajectories=True)
    runs = result.runs
    for run in range(result.n_runs):
        expected = recompute(scenario, result.levels[:, :, run], int(runs["end_step"].iloc[run]))
        for key, value in expected.items():
            assert runs[key].iloc[run] == pytest.approx(value, rel=1e-5, abs=1e-5), (run, key)


def test_the_default_ladder_maps_onto_rivera_classes_by_severity():
    ladder = es.load_scenario("us_iran_2020").ladder
    classes = rivera_classes([lv.severity for lv in ladder], [lv.fatalities for lv in ladder], 7)
    assert classes == ["status_quo", "posturing", "non_violent", "non_violent", "violent", "violent", "violent", "top"]


def test_the_seed_scenario_counts_2_january_as_step_0_and_can_end_on_8_january():
    # The document's stand-down on 8 January (step 6), two quiet steps after Iran's missile
    # attacks (step 4), is a ceasefire under the scenario's rule.
    from escalation_sim.timeline import bundled_timeline, read_timeline
    from escalation_sim.inference.likelihood import _end_step

    scenario = es.load_scenario("us_iran_2020")
    assert scenario.time.start == "2020-01-02"
    story = read_timeline(bundled_timeline("us_iran_2020_document"), scenario).levels(scenario)
    top = story.reshape(len(story), -1).max(axis=1)
    o = scenario.outcomes
    assert _end_step(top, o.war_level, o.quiet_steps, 1, len(top), o.quiet_level) == 6
    result = es.simulate(scenario, 4096, rng=2020)
    assert ((result.runs["outcome"] == "ceasefire") & (result.runs["end_step"] == 6)).any()
