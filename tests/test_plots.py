"""Figures: each plotting function returns a Figure with the labels, titles and number of
artists it promises, every text is at least 10 pt, axis labels are words (no key paths), legend
colours are the colours of what they name, and write_figures writes non-empty PNG and SVG files
for a batch, a saved batch folder and a saved sweep folder."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from escalation_sim import Scenario, load_scenario, simulate, with_overrides  # noqa: E402
from escalation_sim import plots  # noqa: E402
from escalation_sim.analysis.sensitivity import sensitivity  # noqa: E402
from escalation_sim.analysis.sweep import sweep  # noqa: E402
from escalation_sim.labels import measure_label, parameter_label  # noqa: E402


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
    assert [t.get_text() for t in ax.get_xticklabels()] == ["war", "ceasefire", "ongoing\n(still going on day 29)"]
    assert [b.get_facecolor() for b in bars(ax)] == [to_rgba(plots.COLOURS[o]) for o in ("war", "ceasefire", "ongoing")]
    heights = [b.get_height() for b in bars(ax)]
    expected = result.summary().outcomes.set_index("outcome")["probability"]
    np.testing.assert_allclose(heights, expected[["war", "ceasefire", "ongoing"]])
    assert "How the runs end" in ax.get_title() and "us_iran_2020" in ax.get_title()
    assert ax.get_ylabel() == "Share of runs (95% interval)"
    assert small_texts(fig) == []


def test_the_survival_curve_has_its_band_in_view_and_the_step_unit(result):
    fig = plots.plot_survival(result)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Day (0 = 2020-01-02)"
    assert "no war" in ax.get_title()
    survival = result.survival()
    curve = [line for line in ax.get_lines() if line.get_label() == "P(no war yet)"]
    np.testing.assert_allclose(curve[0].get_ydata(), survival["survival"])
    assert len(ax.collections) == 1  # the 95% band
    low, high = ax.get_ylim()
    band = survival["high"] - survival["low"]
    assert low <= survival["low"].min() and high >= 1
    assert band.max() > 0.2 * (high - low)  # the interval is wide enough to see, not a hairline
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["95% interval", "P(no war yet)"]
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


def test_durations_are_bars_side_by_side_whose_legend_colours_are_theirs(result):
    fig = plots.plot_durations(result)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("Day the run ended")
    assert "that day" in ax.get_ylabel()
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[0].startswith("ended in war") and texts[1].startswith("ended in ceasefire")
    assert texts[2].startswith("still going at the horizon (day 29)") and "not drawn" in texts[2]
    for handle, container in zip(legend.legend_handles, ax.containers):
        colours = {b.get_facecolor() for b in container}
        assert colours == {handle.get_facecolor()}  # each legend colour is its bars' colour
    # side by side: no two bars overlap, so no blended colour appears that the legend lacks
    spans = sorted((b.get_x(), b.get_x() + b.get_width()) for b in bars(ax))
    assert all(end <= start + 1e-9 for (_, end), (start, _) in zip(spans, spans[1:]))
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
    assert ax.get_xlabel() == "United States: retaliation ratio"
    assert ax.get_ylabel() == "Execution noise (chance an act is one rung off)"
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
    assert ax.get_legend().get_title().get_text() == parameter_label("noise.execution", grid.scenario)
    assert ax.get_ylabel() == "P(war) (95% interval)"
    assert ax.get_xlabel() == "United States: retaliation ratio"
    fig = plots.plot_sweep_measure(grid, "end_step", "noise.execution")
    assert len(fig.axes[0].get_lines()) == 2
    assert fig.axes[0].get_ylabel() == "Day the run ended, mean (95% interval)"


def test_a_mean_level_is_drawn_on_an_axis_of_level_names(grid):
    level_grid = sweep("us_iran_2020", grid={"actors.USA.policy.ratio": [1.0, 1.5]}, n_runs=200, rng=1,
                       n_steps=15, measures=("peak_level",))
    ax = plots.plot_sweep_measure(level_grid, "peak_level").axes[0]
    names = level_grid.scenario.level_names()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks and all(t.split(" ", 1)[1] in [n.replace("_", " ") for n in names] for t in ticks)
    assert [int(t.split(" ", 1)[0]) for t in ticks] == list(ax.get_yticks().astype(int))


@pytest.fixture(scope="module")
def indices():
    scenario = with_overrides(load_scenario("us_iran_2020"), {"noise.execution": 0.02})
    return sensitivity(scenario, {"actors.USA.policy.ratio": (0.5, 2.0), "noise.perception": (0.0, 0.05)},
                       n=4, n_runs=50, rng=1, n_steps=10, n_resamples=50)


def test_a_sensitivity_chart_has_two_bars_per_parameter(indices):
    fig = plots.plot_sensitivity(indices)
    ax = fig.axes[0]
    assert len(bars(ax)) == 4
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "United States: retaliation ratio", "Perception noise (chance a seen act is one rung off)"]
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
    assert set(plots.active_pairs(result)) == {("A", "B"), ("B", "A")}


def test_write_figures_reads_a_saved_batch_and_a_saved_sweep(tmp_path, grid):
    batch = simulate("ipd_noise", 200, rng=1, n_steps=10)
    batch.save(tmp_path / "run")
    paths = plots.write_figures(tmp_path / "run", tmp_path / "run_figs", formats=("png",), dpi=50)
    _check_files(paths)
    # ipd_noise is a match: its states and its cooperation turn by turn, not war and ceasefire
    assert {p.stem for p in paths} == {"outcomes", "cooperation"}
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


@pytest.mark.parametrize("n_steps", [60, 250])  # one bar per day, and bins of 3 days
def test_the_duration_bars_are_the_runs_that_ended_and_ongoing_runs_are_not_drawn(n_steps):
    result = simulate("us_iran_2020", 3000, rng=5, n_steps=n_steps)
    ax = plots.plot_durations(result).axes[0]
    shares = result.runs["outcome"].value_counts(normalize=True)
    drawn = {c.get_label().split(":")[0].removeprefix("ended in "): sum(b.get_height() for b in c)
             for c in ax.containers}
    assert set(drawn) == {k for k in ("war", "ceasefire") if shares[k] > 0}
    for outcome, total in drawn.items():
        assert total == pytest.approx(shares[outcome])
    ongoing = int((result.runs["outcome"] == "ongoing").sum())
    assert f"{ongoing:,} runs" in ax.get_legend().get_texts()[-1].get_text()
    assert max(b.get_x() + b.get_width() for b in bars(ax)) <= n_steps - 0.5 + 1e-9


# -- words, pairs, matches --------------------------------------------------------------------

def _all_texts(fig: Figure) -> list[str]:
    fig.draw_without_rendering()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_no_figure_of_a_sweep_or_a_sensitivity_table_shows_a_key_path(grid, indices, tmp_path):
    keys = [*grid.parameters, *indices["parameter"].unique(), "end_step", "peak_level", "fatalities"]
    figures = {**plots.figures(grid), **plots.figures(indices)}
    for stem, fig in figures.items():
        for text in _all_texts(fig):
            assert not any(key in text for key in keys), (stem, text)


@pytest.mark.parametrize("key, words", [
    ("actors.USA.policy.ratio", "United States: retaliation ratio"),
    ("actors.IRN.policy.generosity", "Iran: generosity (chance of forgiving)"),
    ("actors.KH.control", "Kata'ib Hezbollah: control by its patron (probability)"),
    ("actors.KH.spontaneous.probability", "Kata'ib Hezbollah: chance of an attack of its own, per day"),
    ("noise.perception", "Perception noise (chance a seen act is one rung off)"),
    ("outcomes.quiet_steps", "Quiet days that make a ceasefire"),
    ("actors.USA.policy_toward.KH.ratio", "United States toward Kata'ib Hezbollah: retaliation ratio"),
    ("events.1.level", "Scripted act 1 (United States toward Kata'ib Hezbollah, day 1): level"),
    ("time.n_steps", "Horizon (days)"),
    ("some.new_key", "Some: new key"),
])
def test_a_key_path_reads_as_words(key, words):
    assert parameter_label(key, load_scenario("us_iran_2020")) == words


def test_measures_read_as_words_in_the_scenario_unit():
    scenario = load_scenario("ipd_noise")
    assert measure_label("end_step", scenario) == "Turn the run ended"
    assert measure_label("payoff_A", scenario) == "Player A: payoff per run"
    assert measure_label("hostile_steps") == "Hostile steps per run"


def test_the_level_grid_has_a_panel_per_pair_and_level_names_on_the_left(result):
    fig = plots.plot_level_grid(result)
    panels = [ax for ax in fig.axes if ax.get_images()]
    n = len(result.scenario.actors)
    assert len(panels) == n * (n - 1) == len(result.pairs)
    titles = {ax.get_title() for ax in panels}
    assert "United States toward Iran" in titles and "Iraq toward Kata'ib Hezbollah" in titles
    for ax in panels:
        np.testing.assert_allclose(ax.get_images()[0].get_array().sum(axis=0), 1.0)
    names = [t.get_text() for t in panels[0].get_yticklabels()]
    assert names == [name.replace("_", " ") for name in result.scenario.level_names()]
    assert small_texts(fig) == []


def test_fan_charts_are_drawn_for_the_pairs_in_which_something_happens(result):
    table = result.level_distribution()
    acting = table[table["level"] > 0].groupby(["actor", "target", "step"])["probability"].sum()
    expected = {pair for pair, share in acting.groupby(level=[0, 1]).max().items() if share >= plots.ACTIVE_SHARE}
    assert set(plots.active_pairs(result)) == expected
    assert 0 < len(expected) < len(result.pairs)  # some pairs are quiet in this scenario
    stems = set(plots.figures(result))
    assert {s for s in stems if s.startswith("levels_")} == {f"levels_{a}_{t}" for a, t in expected}
    assert "levels" in stems


def test_a_match_shows_its_states_and_its_cooperation():
    match = simulate("echo_generosity", 400, rng=2, n_steps=40)
    table = match.match_summary()
    ax = plots.plot_match_states(match).axes[0]
    np.testing.assert_allclose([b.get_height() for b in bars(ax)], table.loc[["CC", "CD", "DC", "DD"], "mean"])
    assert "(CC)" in ax.get_xticklabels()[0].get_text()
    ax = plots.plot_cooperation(match).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["Player A cooperates", "Player B cooperates"]
    cooperating = match.counts[:, :, 0].sum(axis=1) / (2 * match.n_runs)
    np.testing.assert_allclose((lines[0].get_ydata() + lines[1].get_ydata()) / 2, cooperating)
    assert small_texts(ax.figure) == []


def test_ecological_dynamics_give_every_strategy_its_own_colour_in_every_panel():
    import pandas as pd

    from escalation_sim import games

    names = list(games.STRATEGIES)
    payoffs = np.random.default_rng(1).uniform(0.5, 5, size=(2, len(names), len(names)))
    matrix, noisy = (pd.DataFrame(m, index=names, columns=names) for m in payoffs)
    fig = plots.plot_ecological({"Without noise": games.ecological(matrix, generations=20),
                                 "With noise": games.ecological(noisy, generations=20)}, title="Dynamics")
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert [ax.get_title() for ax in panels] == ["Without noise", "With noise"]
    styles = [{line.get_label(): (line.get_color(), line.get_linestyle()) for line in ax.get_lines()} for ax in panels]
    assert styles[0] == styles[1]  # a strategy looks the same in both panels
    assert len(set(styles[0].values())) == len(names)  # and unlike any other
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [name.replace("_", " ") for name in names]
    assert fig._suptitle.get_text() == "Dynamics"
    assert small_texts(fig) == []


def test_the_survival_curve_writes_its_final_interval_with_enough_digits_to_tell_its_ends_apart():
    many = simulate("us_iran_2020", 20_000, rng=3, n_steps=30)
    ax = plots.plot_survival(many).axes[0]
    (note,) = [t.get_text() for t in ax.texts if t.get_text().startswith("by day 29")]
    low, high = note.split("interval ")[1].rstrip(")").split(" to ")
    assert low != high
    last = many.survival().iloc[-1]
    assert float(low.rstrip("%")) / 100 == pytest.approx(last["low"], abs=1e-4)


def test_a_mean_level_axis_ticks_every_level_from_below_the_lowest_to_above_the_highest_value():
    level_grid = sweep("us_iran_2020", grid={"actors.USA.policy.ratio": [1.0, 2.0]}, n_runs=100, rng=1,
                       n_steps=30, measures=("peak_level",))
    ax = plots.plot_sweep_measure(level_grid, "peak_level").axes[0]
    table = level_grid.table
    values = np.concatenate([table["mean_peak_level"] + s * 1.96 * table["se_peak_level"] for s in (-1, 0, 1)])
    first = max(0, int(np.floor(values.min())))
    last = min(level_grid.scenario.top, int(np.ceil(values.max())))
    assert list(ax.get_yticks().astype(int)) == list(range(first, last + 1))
    low, high = ax.get_ylim()
    assert low < first and high > last
