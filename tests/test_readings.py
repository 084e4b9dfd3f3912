"""Each rule that docs/model.md once left open to two readings, pinned to the reading it now
states (the section names are model.md's)."""

from __future__ import annotations

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.agents import EscalationModel
from escalation_sim.policies import make_policy
from escalation_sim.policies.base import Ladder

from conftest import two_player

LEVELS = [{"name": n} for n in ("quiet", "low", "mid", "high")]


def crisis(actors, *, n_steps=8, events=(), noise=None, war_level=None, quiet_steps=None):
    return es.Scenario.from_dict({
        "schema_version": 1, "time": {"n_steps": n_steps}, "ladder": LEVELS, "actors": actors,
        "events": list(events), "noise": noise or {},
        "outcomes": {"war_level": war_level, "quiet_steps": quiet_steps},
    })


def level_of(result, actor, target, run=0):
    """Executed levels of (actor -> target) in one run, step by step."""
    ids = result.scenario.actor_ids
    pair = [tuple(p) for p in result.pairs.tolist()].index((ids.index(actor), ids.index(target)))
    return result.levels[:, pair, run].tolist()


def state(policy, **extra):
    return {"kind": "state", "policy": policy, **extra}


# -- Measures: retaliations count executed acts, scripted ones included ------------------------

def test_a_scripted_hostile_act_under_a_hostile_stimulus_counts_as_a_retaliation():
    actors = {"A": state({"family": "fixed", "level": 0}), "B": state({"family": "fixed", "level": 1})}
    plain = es.simulate(crisis(actors, n_steps=6), 10, rng=0)
    scripted = es.simulate(crisis(actors, n_steps=6, events=[{"step": 3, "actor": "A", "target": "B", "level": 2}]), 10, rng=0)
    assert (plain.column("retaliations") == 0).all()
    # A's scripted act at step 3 answers B's act of step 2; B's act at step 4 answers it.
    assert (scripted.column("retaliations") == 2).all()


def test_an_intended_retaliation_that_control_holds_at_0_is_not_counted():
    actors = {"P": state({"family": "fixed", "level": 0}),
              "M": {"kind": "militia", "patron": "P", "control": 1.0, "policy": "tit_for_tat"},
              "B": state({"family": "fixed", "level": 1})}
    held = es.simulate(crisis(actors, n_steps=6), 10, rng=0, trajectories=True)
    assert level_of(held, "M", "B") == [0] * 6
    assert (held.column("retaliations") == 0).all()
    actors["M"]["control"] = 0.0
    free = es.simulate(crisis(actors, n_steps=6), 10, rng=0)
    assert (free.column("retaliations") > 0).all()


# -- Measures: the peak of a quiet run -----------------------------------------------------------

def test_a_run_without_a_hostile_act_has_peak_level_0_at_peak_step_0():
    actors = {"A": state("tit_for_tat"), "B": state("tit_for_tat")}
    result = es.simulate(crisis(actors), 50, rng=1)
    assert (result.column("peak_level") == 0).all() and (result.column("peak_step") == 0).all()


# -- Outcomes: any scripted event, level 0 included, delays a ceasefire ----------------------------

@pytest.mark.parametrize("quiet_event, end", [(False, 3), (True, 8)])
def test_a_scripted_event_of_level_0_delays_the_ceasefire_to_its_step(quiet_event, end):
    events = [{"step": 0, "actor": "A", "target": "B", "level": 2}]
    if quiet_event:
        events.append({"step": 8, "actor": "B", "target": "A", "level": 0})
    actors = {"A": state({"family": "fixed", "level": 0}), "B": state("tit_for_tat")}
    result = es.simulate(crisis(actors, n_steps=12, events=events, quiet_steps=2), 5, rng=0)
    assert (result.runs["outcome"] == "ceasefire").all()
    assert (result.column("end_step") == end).all()


# -- Ended runs: measures stop, trajectories hold 0, the level distribution holds the final levels

def test_an_ended_run_counts_nothing_more_holds_0_in_its_trajectory_and_its_final_levels_in_the_distribution():
    actors = {"A": state({"family": "fixed", "level": 3}), "B": state({"family": "fixed", "level": 1})}
    result = es.simulate(crisis(actors, n_steps=5, war_level=3), 20, rng=0, trajectories=True)
    assert (result.runs["outcome"] == "war").all() and (result.column("end_step") == 0).all()
    assert (result.column("hostile_steps") == 1).all()
    assert level_of(result, "A", "B") == [3, 0, 0, 0, 0]
    ids = result.scenario.actor_ids
    pair = [tuple(p) for p in result.pairs.tolist()].index((ids.index("A"), ids.index("B")))
    assert (result.counts[:, pair, 3] == 20).all()  # every later step: at war, as it ended


# -- Militia: a spark raises the intended level to the maximum of the two --------------------------

@pytest.mark.parametrize("decided, executed", [(0, 2), (3, 3)])
def test_a_spontaneous_attack_never_lowers_the_intended_level(decided, executed):
    actors = {"P": state({"family": "fixed", "level": 0}),
              "M": {"kind": "militia", "patron": "P", "policy": {"family": "fixed", "level": decided},
                    "spontaneous": {"probability": 1.0, "level": 2, "targets": ["B"]}},
              "B": state({"family": "fixed", "level": 0})}
    result = es.simulate(crisis(actors, n_steps=3), 5, rng=0, trajectories=True)
    assert level_of(result, "M", "B") == [executed] * 3


# -- contrite tit-for-tat on longer ladders --------------------------------------------------------

def test_a_scripted_act_of_a_contrite_actor_is_no_accident_in_the_core_or_the_story():
    actors = {"A": state("contrite_tit_for_tat"), "B": state("tit_for_tat")}
    scenario = crisis(actors, n_steps=6, events=[{"step": 0, "actor": "A", "target": "B", "level": 2}])
    result = es.simulate(scenario, 5, rng=0, trajectories=True)
    # Not contrite: A echoes B's answer, and the echo goes on.
    assert level_of(result, "A", "B") == [2, 0, 2, 0, 2, 0]
    assert level_of(result, "B", "A") == [0, 2, 0, 2, 0, 2]
    model = EscalationModel(scenario, rng=0, run=0)
    model.run_model()
    first = model.timeline().iloc[0]
    assert (first.actor, first.why) == ("A", "scripted")
    assert np.array_equal(model._levels, result.levels[:, :, 0])


def test_after_an_accident_contrite_tit_for_tat_accepts_one_retaliation_of_any_level():
    kernel = make_policy("contrite_tit_for_tat").compile(Ladder((0.0, 1.0, 2.0, 4.0)))
    cell = lambda v: np.array([[v]], dtype=np.int8)  # noqa: E731
    state = kernel.initial_state((1, 1))
    kernel.decide(0, cell(0), cell(0), state, None)  # meant 0 ...
    kernel.remember(state, cell(0))
    # ... but executed 2 against a quiet adversary: an accident.
    assert kernel.decide(1, cell(2), cell(0), state, None)[0, 0] == 0
    kernel.remember(state, cell(0))
    # Its act is quiet again: the retaliation at level 3 is accepted, once.
    assert kernel.decide(2, cell(0), cell(3), state, None)[0, 0] == 0
    kernel.remember(state, cell(0))
    assert kernel.decide(3, cell(0), cell(3), state, None)[0, 0] == 3


def test_an_accident_by_execution_noise_makes_the_contrite_actor_accept_the_answer():
    # Two levels: the Axelrod rule (tests/test_axelrod_crosscheck.py checks it move by move).
    # On four levels, replayed: wherever A's act is an accident against a quiet B, A's next act
    # is quiet and B answers, A means 0 in the step after, and then answers in kind again.
    actors = {"A": state("contrite_tit_for_tat"), "B": state("tit_for_tat")}
    scenario = crisis(actors, n_steps=30, noise={"execution": 0.1})
    checked = 0
    for run in range(60):
        model = EscalationModel(scenario, rng=3, run=run)
        model.run_model()
        a, b = model.plan.pairs.tolist().index([0, 1]), model.plan.pairs.tolist().index([1, 0])
        levels, why = model._levels, model._why
        for t in range(1, 27):
            accident = why[t, a] == 2 and levels[t, a] > model._intended[t, a] and levels[t, b] == 0
            if accident and levels[t + 1, a] == 0 and levels[t + 1, b] > 0:
                assert model._intended[t + 2, a] == 0  # the answer accepted ...
                if levels[t + 2, a] == 0 and levels[t + 2, b] > 0:
                    assert model._intended[t + 3, a] == levels[t + 2, b]  # ... once
                checked += 1
    assert checked > 0


# -- initial: the state still learns from step 0 -----------------------------------------------------

def test_a_stateful_policy_with_initial_still_updates_its_state_in_step_0():
    # Perception noise 1 on two levels: A perceives B's quiet past as hostile in step 0.
    grim = {"family": "grim_trigger", "initial": 0}
    result = es.simulate(two_player(grim, "always_cooperate", n_steps=3, perception=1.0), 5, rng=0, trajectories=True)
    assert level_of(result, "A", "B") == [0, 1, 1]


# -- the alternator preset opens with 0 ------------------------------------------------------------

def test_the_alternator_preset_is_the_four_vector_with_initial_0_and_alternates_from_0():
    policy = make_policy("alternator")
    assert policy.vector == (0.0, 0.0, 1.0, 1.0) and policy.initial == 0
    result = es.simulate(two_player("alternator", "always_defect", n_steps=6), 5, rng=0, trajectories=True)
    assert level_of(result, "A", "B") == [0, 1, 0, 1, 0, 1]
