"""The command line of inference: `likelihood` and `fit` (resumable, figures, errors)."""

import json

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim.cli import main
from escalation_sim.inference.calibration import simulated_levels
from escalation_sim.timeline import Timeline

FIT = ["--param", "noise.execution=0:0.3", "--param", "actors.A.policy.generosity=0:1", "--seed", "4",
       "--batch-steps", "50", "--no-figures"]


@pytest.fixture(scope="module")
def timeline_file(tmp_path_factory):
    scenario = es.with_overrides(es.load_scenario("echo_generosity"), {"time.n_steps": 60, "noise.execution": 0.1})
    path = tmp_path_factory.mktemp("timeline") / "echo.csv"
    Timeline.from_levels(scenario, simulated_levels(scenario, 1, rng=2)[0]).to_csv(path)
    return str(path)


def test_likelihood_of_the_record_names_the_first_impossible_act(capsys):
    assert main(["likelihood", "us_iran_2020", "us_iran_2020_document", "--exogenous", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["log_likelihood"] == -np.inf
    assert data["impossible"].startswith("step 3, USA -> KH, level 5")
    assert data["exogenous"][0] == {**data["exogenous"][0], "step": 3, "actor": "USA", "target": "KH", "level": 5}
    assert np.isfinite(data["log_likelihood_given_exogenous"])


def test_likelihood_text_matches_the_library(timeline_file, capsys):
    assert main(["likelihood", "echo_generosity", timeline_file, "--steps", "60"]) == 0
    out = capsys.readouterr().out
    scenario = es.with_overrides(es.load_scenario("echo_generosity"), {"time.n_steps": 60})
    from escalation_sim.timeline import read_timeline

    expected = es.log_likelihood(scenario, read_timeline(timeline_file, scenario))
    assert f"{expected:.4f}" in out


def test_fit_writes_a_loadable_fit_and_resumes_where_it_stopped(timeline_file, tmp_path, capsys):
    args = ["fit", "echo_generosity", timeline_file, "--steps", "60", *FIT]
    assert main([*args, "--out", str(tmp_path / "a"), "--max-steps", "100"]) == 0
    assert sorted(p.name for p in (tmp_path / "a" / "chain").iterdir()) == ["batch_00000.npz", "batch_00001.npz"]
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "a"), "--max-steps", "200"]) == 0
    assert "resuming: 2 batches" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "b"), "--max-steps", "200"]) == 0
    resumed, straight = es.load_fit(tmp_path / "a"), es.load_fit(tmp_path / "b")
    pd.testing.assert_frame_equal(resumed.samples, straight.samples)
    assert set(resumed.bounds) == {"noise.execution", "actors.A.policy.generosity"}


def test_fit_refuses_a_folder_with_other_settings(timeline_file, tmp_path, capsys):
    args = ["fit", "echo_generosity", timeline_file, "--steps", "60", *FIT, "--out", str(tmp_path), "--max-steps", "50"]
    assert main(args) == 0
    assert main([*args[:-2], "--max-steps", "50", "--walkers", "40"]) == 2
    assert "other settings (walkers)" in capsys.readouterr().err
    assert main([*args, "--walkers", "40", "--force"]) == 0


def test_fit_figures_and_bad_input(timeline_file, tmp_path, capsys):
    out = tmp_path / "fig"
    assert main(["fit", "echo_generosity", timeline_file, "--steps", "60", "--param", "noise.execution=0:0.3",
                 "--seed", "1", "--max-steps", "100", "--batch-steps", "50", "--predict", "2000",
                 "--out", str(out)]) == 0
    assert {p.name for p in (out / "figures").iterdir()} == {"posterior_marginals.png", "posterior_pairs.png",
                                                             "fan_chart.png"}
    assert "P(war)" in capsys.readouterr().out
    assert main(["fit", "echo_generosity", timeline_file, "--param", "noise.execution=0.3:0.1",
                 "--out", str(tmp_path / "x")]) == 2
    assert "lo must be less than hi" in capsys.readouterr().err
    assert main(["fit", "echo_generosity", "no_such_timeline.csv", "--param", "noise.execution=0:0.1",
                 "--out", str(tmp_path / "y")]) == 2


def test_fit_refuses_a_folder_another_writer_holds(timeline_file, tmp_path, capsys):
    from escalation_sim.batch.lock import folder_lock

    with folder_lock(tmp_path / "held"):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            code = pool.apply(main, (["fit", "echo_generosity", timeline_file, "--steps", "60", *FIT,
                                      "--out", str(tmp_path / "held"), "--max-steps", "50"],))
    assert code == 2
