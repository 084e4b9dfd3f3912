"""ABC fitting (``fit(method="abc")``): recovery on a stateful scenario under noise, agreement
with MCMC on the exact likelihood where both apply, reproducibility and bad inputs."""

import json

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim.inference import fit
from escalation_sim.inference.abc import observed_window, summaries
from escalation_sim.inference.calibration import simulated_levels

PARAMS = {"actors.B.policy.generosity": (0.0, 1.0), "noise.execution": (0.0, 0.3)}
TRUE = {"actors.B.policy.generosity": 0.5, "noise.execution": 0.1}
SETTINGS = {"n_particles": 60, "n_runs": 30, "max_generations": 4}


@pytest.fixture(scope="module")
def stateful():
    """Tit for two tats against a noisy generous tit-for-tat, with perception noise: no exact
    likelihood (the exact one refuses it)."""
    return es.with_overrides(es.load_scenario("echo_generosity"),
                             {"time.n_steps": 60, "actors.A.policy": "tit_for_two_tats", "noise.perception": 0.1})


@pytest.fixture(scope="module")
def record(stateful):
    return simulated_levels(es.with_overrides(stateful, TRUE), 1, rng=3)[0]


@pytest.fixture(scope="module")
def fitted(stateful, record):
    return fit(stateful, record, PARAMS, method="abc", rng=7, **SETTINGS)


def test_the_exact_likelihood_refuses_this_scenario(stateful, record):
    with pytest.raises(NotImplementedError, match="memory beyond one step"):
        fit(stateful, record, PARAMS, rng=1, max_steps=10)


def test_abc_recovers_known_parameters_of_a_stateful_scenario(fitted):
    table = fitted.intervals(0.95)
    for key, value in TRUE.items():
        assert table.loc[key, "low"] <= value <= table.loc[key, "high"]
        assert PARAMS[key][0] <= fitted.mle[key] <= PARAMS[key][1]
    # The data say something: the execution-noise interval is narrower than the prior's.
    width = table.loc["noise.execution", "high"] - table.loc["noise.execution", "low"]
    assert width < 0.8 * 0.3 * 0.95
    d = fitted.diagnostics
    assert all(np.diff(d["tolerance"]) < 0) and d["generations"] >= 3
    assert len(d["acceptance"]) == len(d["tolerance"]) == d["generations"]
    assert d["n_simulations"] == d["n_parameter_sets"] * SETTINGS["n_runs"]
    assert list(fitted.samples.columns) == [*PARAMS, "distance"] and len(fitted.samples) == 60
    assert fitted.mle["distance"] <= fitted.samples["distance"].min() + 1e-12
    assert "abc" in repr(fitted) and fitted.method == "abc"


def test_an_abc_fit_saves_loads_and_predicts(fitted, tmp_path):
    back = es.load_fit(fitted.save(tmp_path / "fit"))
    pd.testing.assert_frame_equal(back.samples, fitted.samples)
    assert back.method == "abc" and back.mle == fitted.mle and back.diagnostics == fitted.diagnostics
    assert "NaN" not in (tmp_path / "fit" / "fit.json").read_text()
    assert "Infinity" not in (tmp_path / "fit" / "fit.json").read_text()
    summary = fitted.predict(200, rng=1, n_draws=5).summary()
    assert abs(summary["probability"].sum() - 1) < 1e-9


def test_same_seed_same_abc_fit_and_the_callers_seed_sequence_is_untouched(stateful, record):
    small = {"n_particles": 20, "n_runs": 5, "max_generations": 2}
    seq = np.random.SeedSequence(11)
    a = fit(stateful, record, PARAMS, method="abc", rng=seq, **small)
    assert seq.n_children_spawned == 0
    b = fit(stateful, record, PARAMS, method="abc", rng=np.random.SeedSequence(11), **small)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    c = fit(stateful, record, PARAMS, method="abc", rng=12, **small)
    assert not a.samples.equals(c.samples)


def test_abc_agrees_with_mcmc_on_the_exact_likelihood():
    game = es.with_overrides(es.load_scenario("echo_generosity"), {"time.n_steps": 80})
    params = {"noise.execution": (0.0, 0.3)}
    record = simulated_levels(es.with_overrides(game, {"noise.execution": 0.1}), 1, rng=5)[0]
    mcmc = fit(game, record, params, rng=1, batch_steps=100, max_steps=200).intervals(0.9)
    abc = fit(game, record, params, method="abc", rng=2, n_particles=60, n_runs=30,
              max_generations=4).intervals(0.9)
    key = "noise.execution"
    assert abc.loc[key, "low"] <= mcmc.loc[key, "high"] and mcmc.loc[key, "low"] <= abc.loc[key, "high"]
    assert abs(abc.loc[key, "median"] - mcmc.loc[key, "median"]) < 0.05


def test_summaries_of_a_known_path():
    # cells (A->B, B->A); A hostile at steps 1 and 2, B answers at step 2.
    levels = np.array([[[0, 0], [1, 0], [1, 1]]])
    stats = summaries(levels, np.ones((3, 2), bool), np.array([1, 0]), 1)[0]
    # hostile, sum, max, responses, first >= 1 (per cell), then total hostile acts
    np.testing.assert_array_equal(stats, [2, 1, 2, 1, 1, 1, 0, 1, 1, 2, 3])


def test_bad_inputs_get_clear_errors(stateful, record):
    with pytest.raises(ValueError, match="method: expected 'emcee' or 'abc', got 'smc'"):
        fit(stateful, record, PARAMS, method="smc")
    with pytest.raises(ValueError, match="no steps"):
        observed_window(stateful, record[:0])
    with pytest.raises(ValueError, match="no steps"):
        fit(stateful, record[:0], PARAMS, method="abc")
    with pytest.raises(ValueError, match="n_particles: expected an integer of at least 2, got 1"):
        fit(stateful, record, PARAMS, method="abc", n_particles=1)
    with pytest.raises(ValueError, match="n_runs: expected an integer of at least 1, got 0"):
        fit(stateful, record, PARAMS, method="abc", n_runs=0)
    with pytest.raises(ValueError, match="no pair of actors is observed"):
        fit(stateful, np.full_like(record, -1), PARAMS, method="abc")


def test_the_command_line_fits_by_abc_as_the_library_does(stateful, record, tmp_path, capsys):
    from escalation_sim.cli import main
    from escalation_sim.timeline import Timeline, read_timeline

    path = tmp_path / "record.csv"
    Timeline.from_levels(stateful, record).to_csv(path)
    args = ["fit", "echo_generosity", str(path), "--steps", "60", "--set", "actors.A.policy=tit_for_two_tats",
            "--set", "noise.perception=0.1", "--param", "noise.execution=0:0.3", "--method", "abc", "--seed", "4",
            "--particles", "20", "--particle-runs", "5", "--generations", "2", "--no-figures",
            "--out", str(tmp_path / "fit"), "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["diagnostics"]["tolerance"]) == data["diagnostics"]["generations"]
    back = es.load_fit(tmp_path / "fit")
    direct = fit(stateful, read_timeline(path, stateful), {"noise.execution": (0.0, 0.3)}, method="abc", rng=4, n_particles=20, n_runs=5,
                 max_generations=2)
    assert back.method == "abc"
    np.testing.assert_allclose(back.samples.to_numpy(), direct.samples.to_numpy())
