"""Objects show themselves in a terminal and a notebook (as Summary, BatchResult and SweepResult
do, tests/test_format.py): a short repr with the numbers a reader wants, and ``_repr_html_``."""

from __future__ import annotations

import html

import escalation_sim as es
from escalation_sim import games
from escalation_sim.agents import EscalationModel
from escalation_sim.batch.format import interval, percent


def test_a_scenario_shows_one_line_and_its_description_in_a_notebook():
    for name in es.list_scenarios():
        s = es.load_scenario(name)
        text = repr(s)
        assert "\n" not in text and len(text) < 120
        assert text.startswith(f"<Scenario {s.name}: {len(s.actors)} actors, {len(s.ladder)} levels, {s.n_steps:,} ")
        assert text.endswith(f"{len(s.events)} events>")
        assert html.escape(es.scenario.describe(s)) in s._repr_html_()
    assert repr(es.load_scenario("us_iran_2020")) == "<Scenario us_iran_2020: 4 actors, 8 levels, 60 days, 2 events>"


def test_a_model_says_which_run_how_far_and_how_it_stands():
    model = EscalationModel("us_iran_2020", rng=1, run=3)
    assert repr(model) == "<EscalationModel us_iran_2020, run 3: not started, ongoing>"
    model.run_model()
    assert repr(model) == (f"<EscalationModel us_iran_2020, run 3: {model.t + 1} of 60 steps played, "
                           f"{model.outcome}>")


def test_a_stage_game_shows_its_payoffs_as_plain_numbers():
    for game in games.STAGE_GAMES.values():
        text = repr(game) + game._repr_html_()
        assert "Fraction" not in text and game.name in text
        for a, b in zip(game.row[0], game.column[0]):
            assert f"{a}, {b}" in text  # str(Fraction(3, 1)) is "3", of 1/2 "1/2"


def test_tournament_and_moran_results_show_their_tables():
    t = games.tournament(["tit_for_tat", "always_defect", "always_cooperate"], turns=20, repetitions=3, rng=1)
    text, page = repr(t), t._repr_html_()
    assert text.startswith("TournamentResult: 3 strategies, 3 repetitions") and "TournamentResult(" not in text
    for row in t.ranking.itertuples():
        assert row.strategy in text and f"{row.score:.3f}" in text and row.strategy in page
    m = games.moran(["tit_for_tat", "always_defect"], [3, 3], n_runs=50, rng=1, turns=10)
    text, page = repr(m), m._repr_html_()
    assert text.startswith("MoranResult: 50 runs, 2 strategies") and "MoranResult(" not in text
    for row in m.fixation.itertuples():
        for shown in (percent(row.probability), interval(row.low, row.high)):
            assert shown in text and shown in page
    assert len(text) < 1000
