"""Fitting: recovery of known parameters, diagnostics, reproducibility, resuming, saving, the
posterior predictive against plain simulation, and simulation-based calibration."""

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim.inference import Fit, fit, load_fit, plug_in, posterior_predictive
from escalation_sim.inference import predict as predict_module
from escalation_sim.inference.calibration import sbc, simulated_levels, uniformity

PARAMS = {"actors.A.policy.generosity": (0.0, 1.0), "noise.execution": (0.0, 0.3)}
TRUE = {"actors.A.policy.generosity": 0.5, "noise.execution": 0.1}


@pytest.fixture(scope="module")
def game():
    return es.with_overrides(es.load_scenario("echo_generosity"), {"time.n_steps": 150})


@pytest.fixture(scope="module")
def record(game):
    return simulated_levels(es.with_overrides(game, TRUE), 1, rng=3)[0]


@pytest.fixture(scope="module")
def fitted(game, record):
    return fit(game, record, PARAMS, rng=7)


def test_fit_recovers_known_parameters_with_passing_diagnostics(fitted):
    d = fitted.diagnostics
    assert d["converged"] and d["n_steps"] >= 50 * max(d["autocorr_time"].values())
    assert min(d["ess"].values()) > 400 and 0.1 < d["acceptance"] < 0.9
    table = fitted.intervals()
    for key, value in TRUE.items():
        assert table.loc[key, "low"] <= value <= table.loc[key, "high"]
        assert PARAMS[key][0] <= fitted.mle[key] <= PARAMS[key][1]
    assert list(fitted.samples.columns) == [*PARAMS, "log_likelihood"]
    assert fitted.mle["log_likelihood"] >= fitted.samples["log_likelihood"].max() - 1e-9
    assert "converged" in repr(fitted) and "<table" in fitted._repr_html_()


def test_same_seed_same_fit_and_the_callers_seed_sequence_is_untouched(game, record):
    seq = np.random.SeedSequence(11)
    a = fit(game, record, PARAMS, rng=seq, batch_steps=100, max_steps=200)
    assert seq.n_children_spawned == 0
    b = fit(game, record, PARAMS, rng=np.random.SeedSequence(11), batch_steps=100, max_steps=200)
    pd.testing.assert_frame_equal(a.samples, b.samples)


def test_an_interrupted_fit_resumes_to_the_same_chain(game, record):
    store = {}

    def batches(k, run):
        if k not in store:
            if k == 2 and not store.get("resumed"):
                raise KeyboardInterrupt
            store[k] = run()
        return store[k]

    with pytest.raises(KeyboardInterrupt):
        fit(game, record, PARAMS, rng=5, batch_steps=50, max_steps=200, batches=batches)
    assert sorted(k for k in store if isinstance(k, int)) == [0, 1]
    store["resumed"] = True
    resumed = fit(game, record, PARAMS, rng=5, batch_steps=50, max_steps=200, batches=batches)
    straight = fit(game, record, PARAMS, rng=5, batch_steps=50, max_steps=200)
    np.testing.assert_array_equal(resumed.chain, straight.chain)


def test_save_and_load_round_trip(fitted, tmp_path):
    back = load_fit(fitted.save(tmp_path / "fit"))
    pd.testing.assert_frame_equal(back.samples, fitted.samples)
    assert back.bounds == fitted.bounds and back.mle == fitted.mle and back.diagnostics == fitted.diagnostics
    assert back.scenario_base == fitted.scenario_base
    np.testing.assert_array_equal(back.observed, fitted.observed)
    assert back.scenario("mle") == fitted.scenario("mle")


def test_scenario_at_a_point(fitted):
    s = fitted.scenario("median")
    assert s.actor("A").policy.generosity == pytest.approx(fitted.samples["actors.A.policy.generosity"].median())
    assert fitted.scenario({"actors.A.policy.generosity": 0.2, "noise.execution": 0.05}).noise.execution == 0.05
    with pytest.raises(ValueError, match="point"):
        fitted.point("best")


def test_posterior_predictive_of_a_point_posterior_is_plain_simulation():
    scenario = es.load_scenario("us_iran_2020")
    point = {"actors.USA.policy.ratio": 1.3, "actors.IRN.policy.generosity": 0.2}
    samples = pd.DataFrame({k: [v] * 10 for k, v in point.items()})
    fitted = Fit(scenario, {k: (0.0, 2.0) for k in point}, samples, {**point, "log_likelihood": 0.0}, {})
    n = 20_000
    predicted = posterior_predictive(fitted, n, rng=1, n_draws=4).summary()
    direct = plug_in(es.with_overrides(scenario, point), n, rng=2)
    for outcome in ("war", "ceasefire"):
        p, q = predicted.loc[outcome, "probability"], direct.loc[outcome, "probability"]
        assert abs(p - q) <= 4 * np.sqrt(max(q * (1 - q), 1e-4) * 2 / n)


def test_posterior_predictive_runs_in_groups_and_counts_every_run(fitted, monkeypatch):
    monkeypatch.setattr(predict_module, "GROUP_RUNS", 4096)
    result = fitted.predict(10_001, rng=3, n_draws=3)
    assert result.draws["n_runs"].tolist() == [3334, 3334, 3333]
    assert (result.counts.sum(axis=2) == 10_001).all()
    summary = result.summary()
    assert summary["probability"].sum() == pytest.approx(1.0)
    assert (summary["low"] <= summary["probability"]).all() and (summary["probability"] <= summary["high"]).all()


def test_simulation_based_calibration_small(game):
    """Talts et al. (2018) on the exact grid posterior: 100 synthetic records of 60 steps."""
    short = es.with_overrides(game, {"time.n_steps": 60})
    ranks = sbc(short, {"actors.A.policy.generosity": (0.0, 1.0)}, n_datasets=100, n_draws=99, rng=3)
    assert uniformity(ranks["rank"], 99) > 0.01
    coverage = ranks["covered"].mean()
    assert abs(coverage - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / 100)


def test_bad_input_is_a_clear_error(game, record):
    with pytest.raises(ValueError, match="low < high"):
        fit(game, record, {"noise.execution": (0.3, 0.1)})
    with pytest.raises(es.ScenarioError, match="actors.Z"):
        fit(game, record, {"actors.Z.control": (0.0, 1.0)})
    with pytest.raises(ValueError, match="method"):
        fit(game, record, PARAMS, method="nuts")
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"), {"noise.execution": 0.0, "noise.perception": 0.0})
    observed = simulated_levels(scenario, 1, n_steps=5, rng=1)[0]
    observed[4, 3, 0] = 6  # the last step: nothing after it answers the act
    with pytest.raises(ValueError, match="step 4, IRQ -> USA, level 6"):
        fit(scenario, observed, {"actors.USA.policy.ratio": (0.9, 1.1)}, rng=1)
    taken = fit(scenario, observed, {"actors.USA.policy.ratio": (0.9, 1.1)}, rng=1, exogenous=True, max_steps=200)
    assert taken.exogenous[["step", "actor", "target", "level"]].values.tolist() == [[4, "IRQ", "USA", 6]]
