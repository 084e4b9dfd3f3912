"""The Mesa model: its agents are adapters over the core's policy kernels, and it replays any run
of a Monte Carlo batch exactly, step for step, with the story of what happened."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest
import yaml

import escalation_sim as es
from escalation_sim import ScenarioError, list_scenarios, load_scenario, with_overrides
from escalation_sim.agents import EscalationModel, MilitiaAgent, StateAgent, replay_runs
from escalation_sim.core.draws import STREAM_BLOCK
from escalation_sim.core.step import WHY

N_RUNS = 500
REPLAY_STEPS = 36_000  # run-steps replayed per bundled scenario, at most
COUNTS = ("end_step", "peak_level", "peak_step", "hostile_steps", "retaliations", "fatalities")


def assert_replays(model: EscalationModel, result, levels: np.ndarray) -> None:
    """The played model is run ``model.run`` of ``result``: levels, outcome and measures."""
    run, end = model.run, model.end_step
    row = result.runs.iloc[run]
    assert model.outcome == row["outcome"], f"run {run}"
    assert np.array_equal(model._levels[: end + 1], levels[: end + 1, :, run]), f"run {run}: levels"
    measures = model.measures()
    for key in COUNTS:
        assert measures[key] == row[key], f"run {run}: {key}"
    for key in ("peak_after_script", "threshold_step"):
        assert measures[key] == row[key], f"run {run}: {key}"
    for key in (k for k in measures if k.startswith(("harm_", "payoff_", "escalation_"))):
        assert measures[key] == pytest.approx(float(row[key]), rel=1e-6, abs=1e-4), f"run {run}: {key}"


# -- exact replay ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list_scenarios())
def test_every_run_of_a_batch_of_a_bundled_scenario_replays_exactly(name):
    # The model plays a few thousand run-steps a second: long horizons get fewer runs (proxy_war
    # still about a hundred, with wars, ceasefires and ongoing runs among them).
    n_runs = min(N_RUNS, REPLAY_STEPS // load_scenario(name).n_steps)
    result = es.simulate(name, n_runs, rng=20260101, trajectories=True)
    levels = result._levels
    for model in replay_runs(name, range(n_runs), rng=20260101):
        model.run_model()
        assert_replays(model, result, levels)


@pytest.fixture(scope="module")
def stateful():
    """proxy_war with every stateful policy and a stochastic table, on top of perception noise,
    attribution, protection, militia control and sparks."""
    return with_overrides(load_scenario("proxy_war"), {
        "time.n_steps": 120,
        "actors.PATRON.policy": {"family": "ledger", "tolerance": 2, "overreaction": 1.5, "bias": 0.2},
        "actors.PROXY.policy": "contrite_tit_for_tat",
        "actors.RIVAL.policy_toward.HOST": {"family": "grim_trigger", "threshold": 2, "level": 3},
        "actors.HOST.policy": "tit_for_two_tats",
        "noise.execution": 0.05,
    })


def test_stateful_policies_replay_exactly(stateful):
    result = es.simulate(stateful, 200, rng=5, trajectories=True)
    for model in replay_runs(stateful, range(200), rng=5):
        model.run_model()
        assert_replays(model, result, result._levels)


def test_runs_past_the_first_stream_block_replay_one_by_one():
    scenario = with_overrides(load_scenario("us_iran_2020"), {"time.n_steps": 30})
    result = es.simulate(scenario, STREAM_BLOCK + 8, rng=99, trajectories=True)
    for run in (1, STREAM_BLOCK - 1, STREAM_BLOCK, STREAM_BLOCK + 7):
        model = EscalationModel(scenario, rng=99, run=run)
        model.run_model()
        assert_replays(model, result, result._levels)
        assert model.trajectory().equals(result.trajectory(run))


def test_a_batch_saved_and_loaded_replays_with_from_result(tmp_path):
    result = es.simulate("us_iran_2020", 50, rng=None, trajectories=True)
    loaded = es.load_result(result.save(tmp_path / "batch"))
    model = EscalationModel.from_result(loaded, 17)
    model.run_model()
    assert model.seed == result.metadata["seed"]
    assert model.trajectory().equals(result.trajectory(17))


def test_fresh_entropy_is_recorded_and_replays():
    first = EscalationModel("us_iran_2020", run=3)
    first.run_model()
    again = EscalationModel("us_iran_2020", rng=np.random.SeedSequence(first.seed["entropy"]), run=3)
    again.run_model()
    assert again.trajectory().equals(first.trajectory())


def test_a_shorter_horizon_replays_a_batch_run_with_that_horizon():
    result = es.simulate("proxy_war", 20, rng=4, n_steps=40, trajectories=True)
    model = EscalationModel("proxy_war", rng=4, run=11, n_steps=40)
    model.run_model()
    assert model.end_step <= 39
    assert_replays(model, result, result._levels)


def test_mesas_own_generators_do_not_change_the_run():
    plain = EscalationModel("proxy_war", rng=8, run=2)
    plain.run_model()
    disturbed = EscalationModel("proxy_war", rng=8, run=2)
    disturbed.random.random(), disturbed.rng.random(1000)
    disturbed.run_model()
    assert disturbed.trajectory().equals(plain.trajectory())
    other_run = EscalationModel("proxy_war", rng=8, run=3)
    assert other_run.rng.random() != EscalationModel("proxy_war", rng=8, run=2).rng.random()


# -- agents --------------------------------------------------------------------------------------

def test_each_actor_is_an_agent_of_its_kind_holding_its_policy_toward_each_target():
    model = EscalationModel("us_iran_2020", rng=1)
    scenario = model.scenario
    assert len(model.agents) == len(scenario.actors)
    for actor in scenario.actors:
        agent = model.actor_agent(actor.id)
        assert isinstance(agent, MilitiaAgent if actor.kind == "militia" else StateAgent)
        assert set(agent.policies) == set(scenario.actor_ids) - {actor.id}
        for target, slot in agent.policies.items():
            assert slot.policy == actor.policy_for(target)
            assert any(slot.kernel is group.kernel for group in model.plan.groups)  # the core's own
    assert model.actor_agent("KH").patron == "IRN"


def test_an_agents_state_per_target_is_the_state_its_kernel_updates(stateful):
    model = EscalationModel(stateful, rng=2)
    model.run_model()
    patron = model.actor_agent("PATRON")
    scores = {t: slot.state["score"].item() for t, slot in patron.policies.items()}
    assert all(slot.state["score"].shape == (1, 1) for slot in patron.policies.values())
    assert any(score > 0 for score in scores.values()), scores


def test_the_agents_totals_are_the_runs_measures():
    model = EscalationModel("us_iran_2020_record", rng=6, run=1)
    model.run_model()
    measures = model.measures()
    for agent in model.agents:
        for key in ("harm_inflicted", "harm_received", "payoff"):
            assert getattr(agent, key) == pytest.approx(measures[f"{key}_{agent.actor_id}"], rel=1e-6)
    hostile = (model._levels[: model.end_step + 1] > 0).sum()
    assert sum(agent.hostile_acts for agent in model.agents) == hostile


# -- running and collecting ----------------------------------------------------------------------

def test_run_model_stops_when_the_run_ends_and_a_further_step_is_refused():
    result = es.simulate("us_iran_2020", 40, rng=12)
    ended = result.runs.query("outcome != 'ongoing'")
    assert len(ended), "the batch should hold a run that ends before the horizon"
    run = int(ended["run"].iloc[0])
    model = EscalationModel("us_iran_2020", rng=12, run=run)
    model.run_model()
    assert not model.running and model.steps == model.end_step + 1 == ended["end_step"].iloc[0] + 1
    with pytest.raises(RuntimeError, match="has ended"):
        model.step()


def test_the_datacollector_holds_the_levels_and_the_agents_measures_of_every_step():
    model = EscalationModel("us_iran_2020", rng=2, run=9)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == model.steps + 1  # row 0: before the first step
    trajectory = model.trajectory()
    for (actor, target), levels in trajectory.groupby(["actor", "target"], sort=False)["level"]:
        assert frame[f"{actor}->{target}"].iloc[1:].tolist() == levels.tolist()
    assert frame["outcome"].iloc[-1] == model.outcome and frame["outcome"].iloc[0] == "ongoing"
    agents = model.datacollector.get_agent_vars_dataframe()
    last = agents.xs(model.steps, level="Step").set_index("actor")
    measures = model.measures()
    for actor in model.scenario.actor_ids:
        assert last.loc[actor, "payoff"] == pytest.approx(measures[f"payoff_{actor}"], rel=1e-6)


def test_mesa_batch_run_with_one_seed_and_a_run_index_per_run_replays_distinct_runs():
    # Mesa 3.4+ seeds each model with batch_run's own rng=, Mesa 3.3 with the parameter.
    seed = {"rng": 7} if "rng" in inspect.signature(mesa.batch_run).parameters else {}
    rows = pd.DataFrame(mesa.batch_run(EscalationModel, {"scenario": "us_iran_2020", "rng": 7, "run": [0, 1, 2]},
                                       number_processes=1, display_progress=False, **seed))
    assert sorted(rows["run"].unique()) == [0, 1, 2]
    for run, group in rows.groupby("run"):
        model = EscalationModel("us_iran_2020", rng=7, run=int(run))
        model.run_model()
        frame = model.datacollector.get_model_vars_dataframe()
        step = int(group["Step"].iloc[0])
        assert group["USA->KH"].iloc[0] == frame["USA->KH"].iloc[step]
        agents = model.datacollector.get_agent_vars_dataframe().xs(step, level="Step").set_index("actor")
        assert group.set_index("actor")["payoff"].to_dict() == agents["payoff"].to_dict()
    courses = {tuple(g["payoff"]) + (g["Step"].iloc[0],) for _, g in rows.groupby("run")}
    assert len(courses) == 3, "one seed with three run indices gave the same run twice"


# -- the story -----------------------------------------------------------------------------------

def test_the_timeline_lists_every_hostile_act_with_its_reason():
    model = EscalationModel("us_iran_2020_record", rng=3, run=9)
    model.run_model()
    acts = model.timeline()
    trajectory = model.trajectory()
    hostile = trajectory[trajectory["level"] > 0]
    merged = hostile.merge(acts, on=["step", "actor", "target", "level"], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert set(acts["why"].astype(str)) <= set(WHY)
    scripted = acts[acts["why"] == "scripted"]
    events = {(e.step, e.actor, e.target, e.level) for e in model.scenario.events if e.step <= model.end_step}
    assert set(scripted[["step", "actor", "target", "level"]].itertuples(index=False, name=None)) == events
    decided = acts[acts["why"] == "decided"]
    assert (decided["level"] == decided["intended"]).all()
    names = model.scenario.level_names()
    assert (acts["level_name"] == [names[k] for k in acts["level"]]).all()
    assert acts["fatalities"].sum() == pytest.approx(model.expected_fatalities)


def test_restrained_and_spontaneous_acts_are_told_apart():
    scenario = with_overrides(load_scenario("proxy_war"), {"actors.PROXY.control": 1.0, "time.n_steps": 200})
    reasons = set()
    for model in replay_runs(scenario, range(30), rng=1):
        model.run_model()
        acts = model.timeline()
        reasons |= set(acts["why"].astype(str))
        restrained = acts[acts["why"] == "restrained"]
        assert (restrained["level"] < restrained["intended"]).all()
        assert (restrained["actor"] == "PROXY").all()
    assert {"restrained", "spontaneous", "decided", "accident"} <= reasons


def test_narrate_tells_the_run_in_the_scenarios_words():
    model = EscalationModel("us_iran_2020", rng=3, run=1)
    model.run_model()
    text = model.narrate()
    lines = text.splitlines()
    assert lines[0] == model.scenario.title
    assert "Day 0 (2020-01-02): Kata'ib Hezbollah attacks United States (lethal_proxy; as scripted)" in lines
    assert "Day 1 (2020-01-03): United States strikes Kata'ib Hezbollah (state_strike; as scripted)" in lines
    assert lines[-1].startswith(f"Day {model.end_step} ")
    assert {"war": "war", "ceasefire": "ceasefire", "ongoing": "ongoing"}[model.outcome] in lines[-1]


def test_narrate_without_a_start_date_counts_turns():
    model = EscalationModel("ipd_noise", rng=3, run=5)
    for _ in range(12):
        model.step()
    lines = model.narrate().splitlines()
    acts = model.timeline()
    assert len(acts), "a dozen noisy turns should hold an act"
    for row in acts.itertuples():
        verb = "defects against" if row.level else "cooperates with"
        assert any(line.startswith(f"Turn {row.step}: Player {row.actor} {verb} Player {row.target}") for line in lines)
    assert lines[-1] == "Turn 11: the run goes on"


# -- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("run, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError),
                                        (None, TypeError)])
def test_a_bad_run_index_is_refused(run, error):
    with pytest.raises(error, match="run must be an integer"):
        EscalationModel("ipd_noise", rng=1, run=run)


def test_a_bad_horizon_is_refused():
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        EscalationModel("ipd_noise", rng=1, n_steps=0)


def test_an_invalid_scenario_fails_when_loaded(tmp_path):
    path = tmp_path / "bad.yaml"
    data = load_scenario("ipd_noise").to_dict()
    data["noise"]["execution"] = 1.4
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=r"noise\.execution"):
        EscalationModel(path, rng=1)
    with pytest.raises(ScenarioError, match="not a bundled scenario"):
        EscalationModel("no_such_scenario", rng=1)
    with pytest.raises(TypeError, match="scenario must be"):
        EscalationModel(42, rng=1)


def test_measures_before_the_end_and_runs_outside_a_batch_are_refused():
    model = EscalationModel("ipd_noise", rng=1)
    with pytest.raises(RuntimeError, match="has not ended"):
        model.measures()
    result = es.simulate("ipd_noise", 5, rng=1)
    with pytest.raises(ValueError, match="not a run of this batch"):
        EscalationModel.from_result(result, 5)
