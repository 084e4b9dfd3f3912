"""Figures: each plotting function returns a Figure with the labels, titles and number of
artists it promises, every text is at least 10 pt, and write_figures writes non-empty PNG and
SVG files for a batch, a saved batch folder and a saved sweep folder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from escalation_sim import Scenario, load_scenario, simulate, with_overrides  # noqa: E402
from escalation_sim import plots  # noqa: E402
from escalation_sim.analysis.sensitivity import sensitivity  # noqa: E402
from escalation_sim.analysis.sweep import sweep  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result():
    return simulate("us_iran_2020", 4096, rng=1, n_steps=30)


@pytest.fixture(scope="module")
def record():
    return simulate("us_iran_2020_record", 4096, rng=1, n_steps=30)


@pytest.fixture(scope="module")
def grid():
    return sweep("us_iran_2020", grid={"actors.USA.policy.ratio": [1.0, 1.5], "noise.execution": [0.0, 0.05, 0.1]},
                 n_runs=200, rng=1, n_steps=15, measures=("end_step",))


def duel() -> Scenario:
    """Two states that can go to war or stand down: the smallest set of figures."""
    return Scenario.from_dict({
        "schema_version": 1, "name": "duel", "title": "A duel", "description": "Two states.",
        "time": {"n_steps": 20, "step_unit": "day"},
        "actors": {
            "A": {"name": "State A", "kind": "state", "policy": {"family": "proportional", "ratio": 1.0}},
            "B": {"name": "State B", "kind": "state", "policy": {"family": "generous_tit_for_tat", "generosity": 0.2}},
        },
        "events": [{"step": 0, "actor": "A", "target": "B", "level": 4}],
        "noise": {"execution": 0.1},
        "outcomes": {"war_level": 7, "quiet_steps": 3},
    })


def bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def small_texts(fig: Figure) -> list[str]:
    """Every visible, non-empty text of the figure smaller than 10 pt."""
    fig.draw_without_rendering()  # lays out the ticks as a saved file would have them
    texts = fig.findobj(Text)
    return [t.get_text() for t in texts if t.get_visible() and t.get_text().strip() and t.get_fontsize() < 10]


# -- one batch --------------------------------------------------------------------------------

def test_outcomes_are_three_bars_with_their_percentages(result):
    fig = plots.plot_outcomes(result)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert len(bars(ax)) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["war", "ceasefire", "ongoing"]
    heights = [b.get_height() for b in bars(ax)]
    expected = result.summary().outcomes.set_index("outcome")["probability"]
    np.testing.assert_allclose(heights, expected[["war", "ceasefire", "ongoing"]])
    assert "How the runs end" in ax.get_title() and "us_iran_2020" in ax.get_title()
    assert ax.get_ylabel() == "Share of runs (95% interval)"
    assert small_texts(fig) == []


def test_the_survival_curve_has_its_band_and_the_step_unit(result):
    fig = plots.plot_survival(result)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Day (0 = 2020-01-02)"
    assert "no war" in ax.get_title()
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), result.survival()["survival"])
    assert len(ax.collections) == 1  # the 95% band
    assert small_texts(fig) == []


def test_a_fan_chart_names_the_levels_and_the_actors(result):
    fig = plots.plot_levels(result, "USA", "IRN")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [name.replace("_", " ") for name in result.scenario.level_names()]
    assert "United States toward Iran" in ax.get_title()
    image = ax.get_images()[0].get_array()
    assert image.shape == (len(labels), result.n_steps)
    np.testing.assert_allclose(image.sum(axis=0), 1.0)  # each step's levels cover every run
    assert small_texts(fig) == []


def test_a_fan_chart_of_an_unknown_actor_names_the_actors(result):
    with pytest.raises(ValueError, match="no actor 'XX'.*USA, IRN, KH, IRQ"):
        plots.plot_levels(result, "XX", "IRN")


def test_peak_levels_are_one_bar_per_level(result):
    fig = plots.plot_peak_levels(result)
    ax = fig.axes[0]
    n_levels = len(result.scenario.ladder)
    assert len(bars(ax)) == n_levels
    assert sum(b.get_height() for b in bars(ax)) == pytest.approx(1.0)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "war"
    assert small_texts(fig) == []


def test_durations_are_histograms_by_outcome_in_the_step_unit(result):
    fig = plots.plot_durations(result)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("Day the run ended")
    assert "that day" in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("ongoing") for text in legend)
    assert small_texts(fig) == []


def test_a_comparison_has_one_bar_per_outcome_and_scenario(result, record):
    fig = plots.plot_comparison({"document": result, "record": record})
    ax = fig.axes[0]
    assert len(bars(ax)) == 6
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["document (4,096 runs)", "record (4,096 runs)"]
    assert small_texts(fig) == []


def test_a_plot_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    out = plots.plot_outcomes(simulate("ipd_noise", 100, rng=1, n_steps=5), ax=ax)
    assert out is fig
    assert len(bars(ax)) == 3


# -- sweeps -----------------------------------------------------------------------------------

def test_a_sweep_heatmap_annotates_every_cell(grid):
    fig = plots.plot_sweep_heatmap(grid)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "actors.USA.policy.ratio"
    assert ax.get_ylabel() == "noise.execution"
    assert len(ax.texts) == 6
    assert ax.get_images()[0].get_array().shape == (3, 2)
    assert "P(war)" in ax.get_title()
    assert small_texts(fig) == []


def test_a_heatmap_needs_two_parameters():
    one = sweep("ipd_noise", grid={"noise.execution": [0.0, 0.1]}, n_runs=50, rng=1, n_steps=5)
    with pytest.raises(ValueError, match="varies 1 parameters"):
        plots.plot_sweep_heatmap(one)


def test_a_sweep_line_has_one_curve_per_value_of_the_other_parameter(grid):
    fig = plots.plot_sweep(grid, "actors.USA.policy.ratio")
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert ax.get_legend().get_title().get_text() == "noise.execution"
    assert ax.get_ylabel() == "P(war) (95% interval)"
    fig = plots.plot_sweep_measure(grid, "end_step", "noise.execution")
    assert len(fig.axes[0].get_lines()) == 2
    assert fig.axes[0].get_ylabel() == "Mean end step (95% interval)"


@pytest.fixture(scope="module")
def indices():
    scenario = with_overrides(load_scenario("us_iran_2020"), {"noise.execution": 0.02})
    return sensitivity(scenario, {"actors.USA.policy.ratio": (0.5, 2.0), "noise.perception": (0.0, 0.05)},
                       n=4, n_runs=50, rng=1, n_steps=10, n_resamples=50)


def test_a_sensitivity_chart_has_two_bars_per_parameter(indices):
    fig = plots.plot_sensitivity(indices)
    ax = fig.axes[0]
    assert len(bars(ax)) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == ["actors.USA.policy.ratio", "noise.perception"]
    assert "Sobol'" in ax.get_title() and "n = 4" in ax.get_title()
    assert small_texts(fig) == []


# -- files ------------------------------------------------------------------------------------

def _check_files(paths):
    assert paths
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 500
        if path.suffix == ".png":
            assert data.startswith(b"\x89PNG")
        else:
            assert b"<svg" in data[:1000]


def test_write_figures_writes_every_figure_of_a_batch(tmp_path):
    result = simulate(duel(), 500, rng=1)
    assert set(result.runs["outcome"]) == {"war", "ceasefire", "ongoing"}
    paths = plots.write_figures(result, tmp_path / "figs", dpi=50)
    _check_files(paths)
    stems = [p.stem for p in paths]
    assert set(stems) == {"outcomes", "survival", "peak_level", "duration", "levels_A_B", "levels_B_A"}
    assert sorted(p.suffix for p in paths) == [".png"] * 6 + [".svg"] * 6


def test_write_figures_reads_a_saved_batch_and_a_saved_sweep(tmp_path, grid):
    batch = simulate("ipd_noise", 200, rng=1, n_steps=10)
    batch.save(tmp_path / "run")
    paths = plots.write_figures(tmp_path / "run", tmp_path / "run_figs", formats=("png",), dpi=50)
    _check_files(paths)
    # ipd_noise has neither war nor ceasefire: no survival curve, no durations
    assert {p.stem for p in paths} == {"outcomes", "peak_level", "levels_A_B", "levels_B_A"}
    grid.save(tmp_path / "sweep")
    paths = plots.write_figures(tmp_path / "sweep", tmp_path / "sweep_figs", formats=("png",), dpi=50)
    _check_files(paths)
    assert {"sweep_heatmap", "sweep_noise.execution", "sweep_actors.USA.policy.ratio"} <= {p.stem for p in paths}


def test_write_figures_reads_a_saved_sensitivity_table(tmp_path, indices):
    indices.to_parquet(tmp_path / "sensitivity.parquet")
    paths = plots.write_figures(tmp_path, tmp_path / "figs", formats=("svg",), dpi=50)
    _check_files(paths)
    assert [p.name for p in paths] == ["sensitivity_war.svg"]


def test_write_figures_of_a_folder_that_holds_no_result_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="runs.parquet"):
        plots.write_figures(tmp_path, tmp_path / "figs")


def test_the_duration_histogram_shares_match_the_runs_table():
    result = simulate("us_iran_2020", 3000, rng=5)
    fig = plots.plot_durations(result)
    shares = result.runs["outcome"].value_counts(normalize=True)
    drawn = {patch.get_label().split(" (")[0]: patch.get_data().values.sum() for patch in fig.axes[0].patches}
    assert set(drawn) == {k for k, v in shares.items() if v > 0}
    for outcome, total in drawn.items():
        assert total == pytest.approx(shares[outcome])
    plt.close(fig)
