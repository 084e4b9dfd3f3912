"""Results show themselves: ``repr`` and ``_repr_html_`` of ``Summary``, ``BatchResult`` and
``SweepResult`` give the outcome probabilities in percent with their 95% intervals, as
``escalation-sim run`` and ``sweep`` print them."""

import html

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim import cli
from escalation_sim.analysis.sweep import sweep
from escalation_sim.batch import format as fmt
from escalation_sim.batch.result import wilson_interval


@pytest.fixture(scope="module")
def batch():
    return es.simulate("us_iran_2020", 3000, rng=5, n_steps=30)


def expected_lines(result) -> list[str]:
    """The outcome rows, computed from the runs table, in the CLI's words."""
    counts = result.runs["outcome"].value_counts()
    rows = []
    for outcome in ("war", "ceasefire", "ongoing"):
        k = int(counts.get(outcome, 0))
        low, high = wilson_interval(k, result.n_runs)
        rows.append((outcome, fmt.percent(k / result.n_runs), f"{fmt.percent(low)} - {fmt.percent(high)}", f"{k:,}"))
    return rows


@given(st.floats(0, 1))
def test_percent_has_two_decimals_or_two_significant_digits(p):
    text = fmt.percent(p)
    assert text.endswith("%")
    assert float(text[:-1]) == pytest.approx(100 * p, rel=0.05, abs=0.005 + 1e-10)


def test_the_summary_shows_every_outcome_in_percent_with_its_interval(batch):
    text = repr(batch.summary())
    assert str(batch.summary()) == text
    lines = [" ".join(line.split()) for line in text.splitlines()]
    for row in expected_lines(batch):
        assert " ".join(row) in lines
    for measure in batch.measure_names():
        assert any(line.startswith(measure + " ") for line in lines)


def test_a_batch_shows_its_header_and_outcomes_as_the_cli_prints_them(batch, capsys):
    text = repr(batch)
    assert "seed 5" in text and "3,000 runs of 30 steps" in text
    code = cli.main(["run", "us_iran_2020", "--runs", "3000", "--seed", "5", "--steps", "30"])
    printed = capsys.readouterr().out
    assert code == 0
    table = fmt.outcome_table(batch.summary().outcomes)
    assert table in text and table in printed


def test_the_html_of_each_result_holds_the_same_numbers(batch):
    for page in (batch._repr_html_(), batch.summary()._repr_html_()):
        assert page.count("<table") >= 1
        assert html.escape(batch.scenario.title) in page or "Summary of 3,000 runs" in page
        for outcome, probability, interval, runs in expected_lines(batch):
            for cell in (outcome, probability, interval, runs):
                assert f"<td>{cell}</td>" in page


def test_a_batch_read_from_a_folder_shows_itself_without_loading_its_runs_table(batch, tmp_path):
    loaded = es.load_result(batch.save(tmp_path / "b"))
    assert repr(loaded) == repr(batch)
    assert loaded._frame is None, "repr loaded the whole per-run table"


def test_a_sweep_shows_every_point_and_every_outcome_column():
    result = sweep("us_iran_2020", grid={"actors.USA.policy.ratio": np.linspace(0.5, 1.5, 5),
                                         "actors.IRN.policy.generosity": [0.0, 0.3, 0.6]},
                   n_runs=200, rng=1, n_steps=20)
    text = repr(result)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("point"))
    assert header.split()[:6] == ["point", *result.parameters, "war", "ceasefire", "ongoing"]
    for row in result.table.itertuples():
        p, low, high = row.p_war, row.p_war_low, row.p_war_high
        assert f"{fmt.percent(p)} ({fmt.percent(low)}-{fmt.percent(high)})" in text
    assert "..." not in text
    assert text == "SweepResult: " + cli.sweep.format_sweep(result)
    page = result._repr_html_()
    assert len(result.table) <= fmt.HTML_MAX_ROWS and page.count("<tr>") == len(result.table)  # body rows
