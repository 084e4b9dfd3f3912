"""BatchResult: its tables, their agreement with each other, and saving."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import escalation_sim as es
from escalation_sim.batch import wilson_interval


@pytest.fixture(scope="module")
def result():
    return es.simulate("us_iran_2020", 5000, rng=7, trajectories=True)


def test_runs_has_one_row_per_run_with_compact_dtypes(result):
    runs = result.runs
    assert len(runs) == 5000 and (runs["run"] == np.arange(5000)).all()
    assert set(runs["outcome"].cat.categories) == {"war", "ceasefire", "ongoing"}
    assert runs["peak_level"].dtype == np.int8 and runs["end_step"].dtype == np.int16
    for actor in result.scenario.actor_ids:
        for key in ("harm_inflicted", "harm_received", "payoff"):
            assert runs[f"{key}_{actor}"].dtype == np.float64


def test_harm_inflicted_and_received_balance(result):
    runs = result.runs
    ids = result.scenario.actor_ids
    inflicted = sum(runs[f"harm_inflicted_{a}"] for a in ids)
    received = sum(runs[f"harm_received_{a}"] for a in ids)
    assert np.allclose(inflicted, received)


def test_wilson_interval_matches_scipy():
    for k, n in [(0, 10), (3, 10), (50, 100), (999, 1000)]:
        ci = stats.binomtest(k, n).proportion_ci(method="wilson")
        low, high = wilson_interval(k, n)
        assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)


def test_summary_probabilities_sum_to_one_and_count_the_runs(result):
    summary = result.summary()
    outcomes = summary.outcomes.set_index("outcome")
    assert outcomes["probability"].sum() == pytest.approx(1.0)
    counts = result.runs["outcome"].value_counts()
    for name in ("war", "ceasefire", "ongoing"):
        assert outcomes.loc[name, "count"] == counts.get(name, 0)
        assert outcomes.loc[name, "low"] <= outcomes.loc[name, "probability"] <= outcomes.loc[name, "high"]
    assert summary.measures.loc["fatalities", "mean"] == pytest.approx(result.runs["fatalities"].mean())
    assert "war" in str(summary)


def test_survival_counts_the_wars_by_each_step(result):
    survival = result.survival()
    runs = result.runs
    for t in (0, 10, result.n_steps - 1):
        at_war = ((runs["outcome"] == "war") & (runs["end_step"] <= t)).mean()
        assert survival.loc[t, "survival"] == pytest.approx(1 - at_war)
    assert survival["survival"].is_monotonic_decreasing


def test_level_distribution_is_a_distribution_that_agrees_with_the_trajectories(result):
    dist = result.level_distribution()
    totals = dist.groupby(["step", "actor", "target"])["probability"].sum()
    assert np.allclose(totals, 1.0)
    # recount from the trajectories, holding ended runs at their final levels
    levels = result.levels.copy()
    end = result.runs["end_step"].to_numpy()
    for run in np.flatnonzero(result.runs["outcome"] != "ongoing"):
        levels[end[run] + 1 :, :, run] = levels[end[run], :, run]
    recount = np.stack([(levels == k).sum(axis=2) for k in range(len(result.scenario.ladder))], axis=2)
    assert np.array_equal(recount, result.counts)


def test_trajectory_stops_at_the_end_of_its_run(result):
    run = int(np.flatnonzero(result.runs["outcome"] == "ceasefire")[0])
    frame = result.trajectory(run)
    assert list(frame.columns) == ["step", "actor", "target", "level"]
    assert frame["step"].max() == result.runs.loc[run, "end_step"]
    with pytest.raises(IndexError):
        result.trajectory(result.n_runs)


def test_trajectory_needs_trajectories():
    with pytest.raises(ValueError, match="trajectories=True"):
        es.simulate("ipd_noise", 10, rng=1).trajectory(0)


def test_metadata_records_the_provenance(result):
    meta = result.metadata
    assert meta["version"] == es.__version__
    assert meta["scenario_hash"] == result.scenario.hash()
    assert meta["n_runs"] == 5000 and meta["seed"]["entropy"] == 7
    assert meta["created_at"].endswith("+00:00")


def test_save_and_load_round_trip_exactly(result, tmp_path):
    result.save(tmp_path / "out")
    back = es.load_result(tmp_path / "out")
    pd.testing.assert_frame_equal(back.runs, result.runs)
    assert np.array_equal(back.counts, result.counts)
    assert np.array_equal(back.levels, result.levels)
    assert back.metadata == result.metadata
    assert back.scenario == result.scenario
    pd.testing.assert_frame_equal(back.level_distribution(), result.level_distribution())


def test_loading_a_folder_that_is_not_a_result_says_so(tmp_path):
    with pytest.raises(es.batch.ResultError, match="runs.parquet"):
        es.load_result(tmp_path)


def test_columns_read_from_a_saved_folder_equal_the_table(result, tmp_path):
    result.save(tmp_path / "out")
    back = es.load_result(tmp_path / "out")
    for name in ["outcome", *result.measure_names()]:
        assert np.array_equal(back.column(name), result.column(name)), name
    assert back._frame is None  # nothing above loaded the whole table
    pd.testing.assert_frame_equal(back.summary().measures, result.summary().measures)


@pytest.mark.parametrize("values", [
    np.array([3, 1, 2, 2, 9, 0, 4], dtype=np.int16),
    np.random.default_rng(1).integers(0, 300, 10_001).astype(np.int32),
    np.array([7], dtype=np.int8),
    np.random.default_rng(2).normal(size=999).astype(np.float32),
])
def test_summary_quantiles_are_numpys(values):
    from escalation_sim.batch.result import _mean_and_quantiles

    q = (0.05, 0.25, 0.5, 0.75, 0.95)
    assert np.allclose(_mean_and_quantiles(values, q), [values.mean(dtype=np.float64), *np.quantile(values, q)],
                       rtol=0, atol=1e-9)
