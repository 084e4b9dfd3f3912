"""The dashboard without a browser: its controls, its background batch, its bad-input messages
(the command line's own), and its components rendered and clicked with Solara's test tools
(``solara.render`` and the render context's ``find``), as Solara's testing guide recommends."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.cli import main
from escalation_sim.dashboard import controls as ctl
from escalation_sim.dashboard import estimate

os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")  # Solara's hook check flags a component of Mesa's
solara = pytest.importorskip("solara", reason="needs the dashboard extra: pip install -e '.[dashboard]'")
v = pytest.importorskip("ipyvuetify")

from escalation_sim.dashboard.app import Dashboard, dropped  # noqa: E402
from escalation_sim.dashboard.replay import ReplayView, pick_run, story_tail  # noqa: E402
from escalation_sim.dashboard.upload import read_upload  # noqa: E402

RUNS = 8192  # one stage (below estimate.FIRST_RUNS): quick, and still with war runs in the seed scenario


def _wait(condition, what: str, timeout: float = 60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _done(rc) -> bool:
    """The batch has finished and the page has rendered its result (and is quiet again)."""
    status = rc.find(v.Html, class_="batch-status").widgets
    return bool(status) and status[0].children[0].endswith("done") and len(_cells(rc)) == 12


def _cells(rc) -> list[str]:
    return [w.children[0] for w in rc.find(v.Html, tag="td").widgets]


def _cli_error(capsys, argv) -> str:
    assert main(argv) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("escalation-sim: error: ")
    return line.removeprefix("escalation-sim: error: ")


# -- controls -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", es.list_scenarios())
def test_every_control_is_a_key_path_that_takes_the_files_value(name):
    scenario = es.load_scenario(name)
    items = ctl.controls(scenario)
    assert items and len({c.path for c in items}) == len(items)
    for item in items:
        assert item.low <= item.value <= item.high
        assert ctl.apply(scenario, {item.path: item.value}) == scenario


def test_controls_cover_noise_policies_control_and_sparks():
    paths = {c.path for c in ctl.controls(es.load_scenario("us_iran_2020"))}
    assert {"noise.perception", "noise.execution", "noise.attribution", "actors.USA.policy.ratio",
            "actors.USA.policy_toward.IRQ.threshold", "actors.IRN.policy.generosity", "actors.KH.control",
            "actors.KH.spontaneous.probability", "actors.IRQ.policy_toward.USA.cap"} <= paths


def test_a_changed_control_changes_the_scenario_it_names():
    scenario = es.load_scenario("us_iran_2020")
    changed = ctl.apply(scenario, {"actors.IRN.policy.generosity": 0.8})
    assert changed.actor("IRN").policy.generosity == 0.8
    assert changed.actor("USA") == scenario.actor("USA")


# -- the background batch -------------------------------------------------------------------------

def test_the_estimates_are_the_first_runs_and_then_the_whole_batch_of_simulate():
    scenario = es.load_scenario("us_iran_2020")
    snaps = estimate.wait_final(scenario, 3 * 4096, 7, first=4096)
    finished = [s.result for s in snaps if s.result is not None]
    first, final = finished[0], snaps[-1].result
    assert snaps[-1].final and snaps[-1].done == snaps[-1].total == 4 * 4096
    direct_first, direct = es.simulate(scenario, 4096, rng=7), es.simulate(scenario, 3 * 4096, rng=7)
    assert first.n_runs == 4096 and final.n_runs == 3 * 4096
    for name in ("outcome", "end_step", "peak_level", "fatalities"):
        assert np.array_equal(first.column(name), direct_first.column(name))
        assert np.array_equal(final.column(name), direct.column(name))
    fractions = [s.fraction for s in snaps]
    assert fractions == sorted(fractions) and fractions[-1] == 1


def test_a_cancelled_batch_stops_without_a_final_result():
    cancel = threading.Event()
    snaps = []
    for snap in estimate.estimates(es.load_scenario("us_iran_2020"), 200_000, 1, cancel=cancel, poll=0.01):
        snaps.append(snap)
        cancel.set()
    assert snaps and not any(s.final for s in snaps)


# -- bad input: the command line's message ---------------------------------------------------------

def test_a_value_out_of_bounds_shows_the_clis_message_and_the_page_keeps_working(capsys):
    expected = _cli_error(capsys, ["run", "us_iran_2020", "--set", "actors.IRN.policy.generosity=1.4", "--runs", "10"])
    box, rc = solara.render(Dashboard("us_iran_2020", n_runs=RUNS), handle_error=False)
    _wait(lambda: _done(rc), "the outcome table")
    field = rc.find(v.TextField, label="generosity").widget
    field.v_model = "1.4"
    field.fire_event("focusout", None)
    _wait(lambda: [w.children[0] for w in rc.find(v.Alert).widgets] == [expected], "the message")
    before = _cells(rc)
    field.v_model = "0.9"  # a good value after a bad one: the page goes on
    field.fire_event("focusout", None)
    _wait(lambda: not rc.find(v.Alert).widgets and _done(rc) and _cells(rc) != before, "the new table")


def test_an_invalid_upload_shows_the_clis_message(tmp_path, capsys):
    text = es.load_scenario("us_iran_2020").to_dict()
    text["noise"]["execution"] = 2
    import yaml

    bad = tmp_path / "crisis.yaml"
    bad.write_text(yaml.safe_dump(text))
    assert main(["validate", str(bad)]) == 2
    expected = capsys.readouterr().out.strip().removeprefix("INVALID  ").replace(str(bad), "crisis.yaml")
    with pytest.raises(es.ScenarioError) as info:
        read_upload("crisis.yaml", bad.read_bytes())
    assert str(info.value) == expected == "crisis.yaml: noise.execution: 2 is not in [0, 1]"
    with pytest.raises(es.ScenarioError, match=r"^broken.yaml: line 2, column 1: invalid YAML"):
        read_upload("broken.yaml", b"actors: [unclosed\n")


def test_a_dropped_file_replaces_the_scenario_or_says_what_is_wrong():
    import yaml

    scenarios, errors = [], []
    dropped({"name": "broken.yaml", "data": b"name: [\n"}, scenarios.append, errors.append)
    assert not scenarios and errors[0].startswith("broken.yaml: line ")
    good = yaml.safe_dump(es.load_scenario("proxy_war").to_dict(), sort_keys=False).encode()
    dropped({"name": "mine.yaml", "data": good}, scenarios.append, errors.append)
    assert scenarios[0] == es.load_scenario("proxy_war") and scenarios[0].path == "mine.yaml"


# -- the page, rendered and clicked ---------------------------------------------------------------

def test_a_slider_recomputes_the_table_and_reset_restores_the_files_values():
    box, rc = solara.render(Dashboard("us_iran_2020", n_runs=RUNS), handle_error=False)
    _wait(lambda: _done(rc), "the outcome table")
    start = _cells(rc)
    direct = es.simulate("us_iran_2020", RUNS, rng=2020).summary().outcomes
    assert start[3] == f"{direct['count'].iloc[0]:,}"  # war runs, as simulate counts them
    slider = [w for w in rc.find(v.Slider).widgets][3]  # USA's ratio (noise has three before it)
    slider.v_model = 1.5
    _wait(lambda: _done(rc) and _cells(rc) != start, "the table of ratio 1.5")
    harder = es.simulate(es.with_overrides(es.load_scenario("us_iran_2020"), {"actors.USA.policy.ratio": 1.5}),
                         RUNS, rng=2020).summary().outcomes
    _wait(lambda: _done(rc) and _cells(rc)[3] == f"{harder['count'].iloc[0]:,}", "the war count of ratio 1.5")
    rc.find(v.Btn, children=["reset to the file's values"]).widget.click()
    _wait(lambda: _done(rc) and _cells(rc) == start, "the table of the file's values")


def test_pick_run_finds_the_first_war_and_the_model_replays_it_to_war():
    result = es.simulate("us_iran_2020", RUNS, rng=2020)
    run, line = pick_run(result, "first war", 0)
    wars = result.runs.query("outcome == 'war'")["run"]
    assert run == int(wars.iloc[0]) and f"{len(wars):,} runs" in line
    model = es.EscalationModel("us_iran_2020", rng=2020, run=run)
    model.run_model()
    assert model.outcome == "war"
    assert pick_run(None, "first war", 0)[0] is None
    assert pick_run(result, "run number", 17)[0] == 17


def test_mesas_step_and_reset_drive_the_replay_and_its_story():
    result = es.simulate("us_iran_2020", RUNS, rng=2020)
    run = pick_run(result, "first war", 0)[0]
    scenario = es.load_scenario("us_iran_2020")
    box, rc = solara.render(ReplayView(scenario, 2020, run), handle_error=False)

    def story():
        return rc.find(v.Html, tag="pre").widgets[0].children[0]

    assert story().endswith("not played yet")
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    step.click()
    model = es.EscalationModel(scenario, rng=2020, run=run)
    model.step()
    model.step()
    assert story() == story_tail(model.narrate())
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert story().endswith("not played yet")


def test_show_displays_the_dashboard(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    from escalation_sim.dashboard import show

    element = show("proxy_war", n_runs=4096, seed=1)
    assert shown == [element] and element.component.f is Dashboard.f


# -- the command line -------------------------------------------------------------------------------

def test_the_command_says_how_to_install_the_extra_when_it_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)
    assert main(["dashboard", "us_iran_2020"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'escalation-sim[dashboard]'" in err and "pip install '.[dashboard]'" in err


def test_the_command_refuses_an_invalid_scenario_before_starting(tmp_path, capsys):
    assert main(["dashboard", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err
