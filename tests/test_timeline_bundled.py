"""The bundled timelines: the public record and the seed document's story, hand-coded, each
loading against the scenario it belongs to."""

from pathlib import Path

import pandas as pd
import pytest

from escalation_sim import load_scenario
from escalation_sim.timeline import (
    Timeline, bundled_timeline, goldstein_of, list_timelines, read_timeline, timeline_scenario,
)

DOCUMENT = Path(__file__).resolve().parents[1] / "seeds" / "000_b673b6618455b886.txt"


@pytest.mark.parametrize("name", list_timelines())
def test_every_bundled_timeline_loads_against_its_scenario(name):
    scenario = load_scenario(timeline_scenario(name))
    # By the scenario's own actor codes alone, as docs/timelines.md reads them (ICEWS by name).
    tl = read_timeline(bundled_timeline(name), scenario)
    assert len(tl.events) and tl.levels(scenario).shape == (tl.n_steps, 4, 4)


def test_an_unknown_bundled_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="us_iran_2020_record"):
        bundled_timeline("us_iran_2019")


def hand_coded(name):
    return pd.read_csv(bundled_timeline(name), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", ["us_iran_2020_record", "us_iran_2020_document"])
def test_hand_coded_rows_carry_code_value_level_and_source(name):
    rows = hand_coded(name)
    assert (rows[["actor", "target", "level", "cameo", "goldstein", "source"]] != "").all().all()
    # Each row's Goldstein value is the standard table's value for its CAMEO code.
    assert [float(g) for g in rows["goldstein"]] == [goldstein_of(c) for c in rows["cameo"]]


def test_the_record_is_the_scripted_record_plus_the_rocket_attack_of_26_january():
    scenario = load_scenario("us_iran_2020_record")
    tl = read_timeline(bundled_timeline("us_iran_2020_record"), scenario)
    assert tl.window == (0, 77)  # 27 December 2019 to 12 March 2020
    observed = tl.levels(scenario)
    ids = scenario.actor_ids
    for e in scenario.events:
        assert observed[e.step, ids.index(e.actor), ids.index(e.target)] == e.level, e
    script = Timeline.from_scenario(scenario).levels(scenario)
    differ = [tuple(int(x) for x in cell) for cell in zip(*((observed[: len(script)] != script).nonzero()))]
    assert differ == [(30, ids.index("KH"), ids.index("USA"))]
    assert tl.events.set_index("step").loc[30, "date"] == pd.Timestamp("2020-01-26")


def test_the_record_dates_fall_on_the_scenario_steps_of_its_notes():
    scenario = load_scenario("us_iran_2020_record")
    tl = read_timeline(bundled_timeline("us_iran_2020_record"), scenario)
    scripted = Timeline.from_scenario(scenario).events
    both = tl.events.merge(scripted, on=["step", "actor", "target"], suffixes=("", "_script"))
    assert len(both) == len(scenario.events)
    assert (both["date"] == both["date_script"]).all()
    assert all(note.startswith(f"{d:%Y-%m-%d}:") for note, d in zip(both["note_script"], both["date"]))


def test_every_document_row_quotes_the_document_verbatim():
    text = " ".join(DOCUMENT.read_text().split())
    rows = hand_coded("us_iran_2020_document")
    for quote in rows["source"]:
        assert quote in text, quote


def test_the_document_story_agrees_with_the_scenario_script():
    scenario = load_scenario("us_iran_2020")
    tl = read_timeline(bundled_timeline("us_iran_2020_document"), scenario)
    observed = tl.levels(scenario)
    ids = scenario.actor_ids
    for e in scenario.events:
        assert observed[e.step, ids.index(e.actor), ids.index(e.target)] == e.level
    assert tl.window == (0, 7)
    dated = tl.events.dropna(subset=["date"])
    assert sorted(set(dated["date"])) == [pd.Timestamp("2020-01-03"), pd.Timestamp("2020-01-08")]


def test_from_scenario_carries_dates_and_notes():
    scenario = load_scenario("us_iran_2020_record")
    ev = Timeline.from_scenario(scenario).events
    assert ev["date"].iloc[0] == pd.Timestamp("2019-12-27") and ev["note"].iloc[0].startswith("2019-12-27: about 30 rockets")
    doc = Timeline.from_scenario(load_scenario("us_iran_2020")).events
    assert doc["source"].iloc[0].startswith("The group had been responsible for the rocket attack")
