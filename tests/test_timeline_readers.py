"""read_timeline on good and malformed input, for every format: each unusable row a
TimelineError naming file, line and field, or with errors="report" a skipped row with its
reason."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation_sim import Scenario, load_scenario
from escalation_sim.timeline import Timeline, TimelineError, bundled_timeline, read_timeline

ICEWS_CODES = {"USA": ["United States", "Military (United States)", "Government (United States)"],
               "IRN": ["Iran", "Military (Iran)", "Government (Iran)"], "KH": ["Kata'ib Hezbollah"],
               "IRQ": ["Iraq"]}


@pytest.fixture(scope="module")
def record():
    return load_scenario("us_iran_2020_record")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def lines_of(name):
    return open(bundled_timeline(name)).read().splitlines()


def error_at(path, line, field):
    """A regex for a TimelineError message at this file, line and field."""
    return rf"^{re.escape(str(path))}:{line}: {re.escape(field)}: "


# -- the plain CSV ------------------------------------------------------------------------------

def test_csv_levels_by_name_number_cameo_and_goldstein(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,target,level,cameo,goldstein\n"
                 "2019-12-27,KH,USA,lethal_proxy,,\n"
                 "2019-12-28,USA,KH,5,,\n"
                 "2019-12-29,IRQ,USA,,111,\n"
                 "2019-12-30,IRQ,USA,,,-7.4\n")
    tl = read_timeline(path, record)
    assert list(tl.events["level"]) == [4, 5, 1, 3]
    assert list(tl.events["step"]) == [0, 1, 2, 3] and tl.window == (0, 4)
    assert tl.events["goldstein"].tolist()[2:] == [-2.0, -7.4]  # from the table for CAMEO 111


def test_csv_actor_codes_map_through_the_scenario_and_the_codes_argument(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,target,level\n2019-12-27,USAMIL,PMF,verbal\n")
    with pytest.raises(TimelineError, match=error_at(path, 2, "target") + "'PMF' is not an actor"):
        read_timeline(path, record)
    tl = read_timeline(path, record, codes={"KH": ["PMF"]})
    assert tl.events[["actor", "target"]].values.tolist() == [["USA", "KH"]]


def test_csv_several_acts_in_one_step_and_pair_keep_the_highest(record):
    tl = read_timeline(bundled_timeline("us_iran_2020_record"), record)
    cell = tl.events[(tl.events.step == 12) & (tl.events.actor == "IRN")]
    assert cell["level"].tolist() == [6] and cell["cameo"].tolist() == ["195"]  # not the quiet "010"


@pytest.mark.parametrize("row, field, reason", [
    ("2019-13-45,KH,USA,verbal", "date", "'2019-13-45' is not a date (expected 2020-01-03)"),
    ("2020-1-03,KH,USA,verbal", "date", "'2020-1-03' is not a date (expected 2020-01-03)"),
    ("2019-12-26,KH,USA,verbal", "date", "2019-12-26 (step -1) is outside the window (2019-12-27 to 2020-03-30, steps 0..94)"),
    ("2020-12-26,KH,USA,verbal", "date", "2020-12-26 (step 365) is outside the window"),
    ("2019-12-27,CHN,USA,verbal", "actor", "'CHN' is not an actor of scenario 'us_iran_2020_record'"),
    ("2019-12-27,KH,,verbal", "target", "missing actor code"),
    ("2019-12-27,KH,KH,verbal", "target", "actor and target are both KH"),
    ("2019-12-27,KH,USA,nuclear", "level", "'nuclear' is not a level"),
    ("2019-12-27,KH,USA,8", "level", "'8' is not a level"),
    ("2019-12-27,KH,USA,", "level", "missing: give a level, a CAMEO code or a Goldstein value"),
    (",KH,USA,verbal", "date", "missing: give a date or a step"),
    ("2019-12-27,KH,USA,verbal,extra", "line", "5 fields where 4 comma-separated fields were expected"),
    ("2019-12-27,KH", "line", "truncated line: 2 of 4 comma-separated fields"),
])
def test_csv_unusable_rows_name_file_line_and_field(tmp_path, record, row, field, reason):
    path = write(tmp_path, "bad.csv", "date,actor,target,level\n2019-12-27,KH,USA,verbal\n" + row + "\n")
    with pytest.raises(TimelineError, match=error_at(path, 3, field) + re.escape(reason)):
        read_timeline(path, record)


@pytest.mark.parametrize("row, field, reason", [
    ("2019-12-27,KH,USA,21", "cameo", "'21' is not a CAMEO event code"),
    ("2019-12-27,KH,USA,1a0", "cameo", "'1a0' is not a CAMEO event code"),
])
def test_csv_unknown_cameo_codes_are_named(tmp_path, record, row, field, reason):
    path = write(tmp_path, "bad.csv", "date,actor,target,cameo\n" + row + "\n")
    with pytest.raises(TimelineError, match=error_at(path, 2, field) + re.escape(reason)):
        read_timeline(path, record)


def test_csv_missing_columns_are_named(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,level\n2019-12-27,KH,verbal\n")
    with pytest.raises(TimelineError, match=error_at(path, 1, "target") + "missing column"):
        read_timeline(path, record)


def test_csv_report_keeps_going_and_lists_what_it_skipped(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,target,level\n2019-12-27,KH,USA,verbal\n"
                 "2019-13-01,KH,USA,verbal\n\n2019-12-28,CHN,USA,verbal\n2019-12-29,USA,KH,war\n")
    tl = read_timeline(path, record, errors="report")
    assert tl.events[["step", "actor", "level"]].values.tolist() == [[0, "KH", 1], [2, "USA", 7]]
    skipped = tl.skipped
    assert skipped["line"].tolist() == [3, 5] and skipped["field"].tolist() == ["date", "actor"]
    assert skipped["reason"].str.contains("not a date").iloc[0] and skipped["text"].iloc[1] == "2019-12-28,CHN,USA,verbal"
    assert "2 rows skipped" in repr(tl)


def test_dates_need_a_calendar(tmp_path):
    s = Scenario.from_dict({"schema_version": 1, "time": {"n_steps": 9, "step_unit": "turn", "start": "2020-01-01"},
                            "actors": {"A": {"kind": "state", "policy": "tit_for_tat"},
                                       "B": {"kind": "state", "policy": "tit_for_tat"}}})
    path = write(tmp_path, "t.csv", "date,actor,target,level\n2020-01-01,A,B,1\n")
    with pytest.raises(TimelineError, match=error_at(path, 2, "date") + "the scenario's step_unit 'turn'"):
        read_timeline(path, s)
    path = write(tmp_path, "s.csv", "step,actor,target,level\n3,A,B,1\n3.5,A,B,1\n")
    with pytest.raises(TimelineError, match=error_at(path, 3, "step") + "'3.5' is not a whole number"):
        read_timeline(path, s)


def test_a_window_by_dates_and_the_actors_observed(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,target,level\n2019-12-29,USA,KH,5\n2020-01-02,IRN,USA,1\n")
    tl = read_timeline(path, record, window=("2019-12-28", "2020-01-01"), actors=["USA", "KH"], errors="report")
    assert tl.window == (1, 6) and tl.actors == ("USA", "KH") and len(tl.events) == 1
    assert "outside the window (2019-12-28 to 2020-01-01, steps 1..5)" in tl.skipped["reason"].iloc[0]
    levels = tl.levels(record)
    assert levels.shape == (5, 4, 4) and (levels[:, 1, :] == -1).all() and levels[1, 0, 2] == 5


def test_codes_for_an_actor_the_scenario_lacks_are_refused(tmp_path, record):
    path = write(tmp_path, "t.csv", "date,actor,target,level\n2019-12-29,USA,KH,5\n")
    with pytest.raises(TimelineError, match=r"codes: 'ISR' is not an actor of scenario 'us_iran_2020_record'"):
        read_timeline(path, record, codes={"ISR": ["ISRMIL"]})


def test_a_timeline_naming_an_actor_the_scenario_lacks_is_refused(record):
    other = Scenario.from_dict({
        "schema_version": 1, "name": "two", "time": {"n_steps": 95, "start": "2019-12-27"},
        "actors": {"USA": {"kind": "state", "policy": "tit_for_tat"},
                   "IRN": {"kind": "state", "policy": "tit_for_tat"}}})
    path = bundled_timeline("us_iran_2020_record")
    with pytest.raises(TimelineError, match=error_at(path, 2, "actor") + "'KH' is not an actor of scenario 'two'"):
        read_timeline(path, other)


# -- GDELT 2.0 and 1.0 --------------------------------------------------------------------------

def by_goldstein_only(tmp_path, record):
    """The record CSV read by its CAMEO codes and Goldstein values alone (its levels dropped)."""
    table = pd.read_csv(bundled_timeline("us_iran_2020_record"), dtype=str).drop(columns="level")
    path = tmp_path / "no_levels.csv"
    table.to_csv(path, index=False)
    return read_timeline(path, record)


KEY = ["step", "actor", "target", "level", "date", "cameo", "goldstein"]


@pytest.mark.parametrize("name", ["us_iran_2020_record_gdelt", "us_iran_2020_record_gdelt1"])
def test_gdelt_tables_give_the_record_read_by_the_same_rules(tmp_path, record, name):
    tl = read_timeline(bundled_timeline(name), record)
    expected = by_goldstein_only(tmp_path, record)
    pd.testing.assert_frame_equal(tl.events[KEY], expected.events[KEY])
    assert tl.events["source"].str.startswith("https://").all()
    assert tl.events["note"].iloc[0] == "GDELT event 890000001: MILITIA -> UNITED STATES"


def test_gdelt_formats_are_told_apart_by_their_columns(record):
    assert read_timeline(bundled_timeline("us_iran_2020_record_gdelt"), record, format="gdelt2").window == (0, 77)
    with pytest.raises(TimelineError, match=r":1: line: 61 fields where 58 tab-separated fields were expected"):
        read_timeline(bundled_timeline("us_iran_2020_record_gdelt"), record, format="gdelt1")


def test_gdelt1_reads_the_57_column_files_without_sourceurl(tmp_path, record):
    rows = [line.rsplit("\t", 1)[0] for line in lines_of("us_iran_2020_record_gdelt1")]
    assert len(rows[0].split("\t")) == 57
    tl = read_timeline(write(tmp_path, "old.tsv", "\n".join(rows) + "\n"), record)
    assert len(tl.events) == 13 and tl.events["source"].isna().all()


def test_gdelt_keeps_codes_as_text(record):
    tl = read_timeline(bundled_timeline("us_iran_2020_record_gdelt"), record, errors="report")
    rows = lines_of("us_iran_2020_record_gdelt")
    assert "\t010\t010\t01\t" in rows[9]  # Iran's "concluded" statement: CAMEO 010, not 10
    assert len(tl.skipped) == 0


def edit(row, column, value):
    fields = row.split("\t")
    fields[column] = value
    return "\t".join(fields)


@pytest.mark.parametrize("change, field, reason", [
    (lambda r: "\t".join(r.split("\t")[:30]), "line", "truncated line: 30 of 61 tab-separated fields"),
    (lambda r: r + "\textra", "line", "62 fields where 61 tab-separated fields were expected"),
    (lambda r: edit(r, 1, "2019-12-30"), "SQLDATE", "'2019-12-30' is not a date (expected 20200103)"),
    (lambda r: edit(r, 1, "20190101"), "SQLDATE", "20190101 (step -360) is outside the window"),
    (lambda r: edit(r, 5, "CHNMIL"), "Actor1Code", "'CHNMIL' is not an actor of scenario"),
    (lambda r: edit(r, 15, ""), "Actor2Code", "missing actor code"),
    (lambda r: edit(r, 26, "10"), "", ""),  # a valid code (demand): no error, see below
    (lambda r: edit(r, 26, "999"), "EventCode", "'999' is not a CAMEO event code"),
    (lambda r: edit(r, 30, "high"), "GoldsteinScale", "'high' is not a Goldstein value"),
])
def test_gdelt_malformed_lines_name_file_line_and_field(tmp_path, record, change, field, reason):
    rows = lines_of("us_iran_2020_record_gdelt")
    rows[3] = change(rows[3])
    path = write(tmp_path, "bad.export.CSV", "\n".join(rows) + "\n")
    if not field:
        tl = read_timeline(path, record, format="gdelt2")
        assert tl.events.loc[tl.events.step == 4, "cameo"].tolist()[0] == "10"
        return
    with pytest.raises(TimelineError, match=error_at(path, 4, field) + re.escape(reason)):
        read_timeline(path, record, format="gdelt2")
    tl = read_timeline(path, record, format="gdelt2", errors="report")
    assert tl.skipped["line"].tolist() == [4] and len(tl.events) == 13 - (rows[3] != rows[4] and 1)


# -- ICEWS --------------------------------------------------------------------------------------

def test_icews_gives_the_record_read_by_the_same_rules(tmp_path, record):
    tl = read_timeline(bundled_timeline("us_iran_2020_record_icews"), record, codes=ICEWS_CODES)
    expected = by_goldstein_only(tmp_path, record)
    pd.testing.assert_frame_equal(tl.events[KEY], expected.events[KEY])


def test_icews_unknown_names_fall_back_to_the_country_else_fail(tmp_path, record):
    text = open(bundled_timeline("us_iran_2020_record_icews")).read()
    assert "Government (Iraq)" in text and "Government (Iraq)" not in sum(ICEWS_CODES.values(), [])
    tl = read_timeline(bundled_timeline("us_iran_2020_record_icews"), record, codes=ICEWS_CODES)
    assert (tl.events.loc[tl.events.step == 3, "actor"] == "IRQ").all()  # by Source Country
    path = write(tmp_path, "bad.tab", text.replace("Legislature (Iraq)\t\tIraq", "Legislature (Iraq)\t\tSyria"))
    with pytest.raises(TimelineError, match=error_at(path, 9, "Source Name") + "'Legislature \\(Iraq\\)' is not an actor"):
        read_timeline(path, record, codes=ICEWS_CODES)


def test_icews_bad_dates_and_missing_columns(tmp_path, record):
    text = open(bundled_timeline("us_iran_2020_record_icews")).read()
    path = write(tmp_path, "bad.tab", text.replace("2019-12-29", "29/12/2019"))
    with pytest.raises(TimelineError, match=error_at(path, 3, "Event Date") + "'29/12/2019' is not a date"):
        read_timeline(path, record, codes=ICEWS_CODES)
    path = write(tmp_path, "cols.tab", text.replace("CAMEO Code", "CAMEO"))
    with pytest.raises(TimelineError, match=error_at(path, 1, "CAMEO Code") + "missing column"):
        read_timeline(path, record, format="icews", codes=ICEWS_CODES)


# -- round trips --------------------------------------------------------------------------------

@st.composite
def timelines(draw, scenario):
    n = len(scenario.actor_ids)
    n_steps = draw(st.integers(1, 6))
    first = draw(st.integers(0, scenario.n_steps - n_steps))
    arr = np.array(draw(st.lists(st.integers(0, scenario.top), min_size=n_steps * n * n, max_size=n_steps * n * n)))
    arr = arr.reshape(n_steps, n, n)
    arr[:, np.arange(n), np.arange(n)] = -1
    return Timeline.from_levels(scenario, arr, first_step=first)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_csv_write_and_read_round_trip(tmp_path, record, data):
    tl = data.draw(timelines(record))
    path = tmp_path / "round.csv"
    tl.to_csv(path)
    again = read_timeline(path, record, window=tl.window)
    assert again.equals(tl)
    assert np.array_equal(again.levels(record), tl.levels(record))


def test_bundled_record_writes_and_reads_back_equal(tmp_path, record):
    tl = read_timeline(bundled_timeline("us_iran_2020_record"), record)
    tl.to_csv(tmp_path / "r.csv")
    assert read_timeline(tmp_path / "r.csv", record, window=tl.window).equals(tl)


def test_gdelt1_malformed_lines_name_file_line_and_field(tmp_path, record):
    rows = lines_of("us_iran_2020_record_gdelt1")
    truncated = rows[:2] + ["\t".join(rows[2].split("\t")[:40])] + rows[3:]
    path = write(tmp_path, "short.tsv", "\n".join(truncated) + "\n")
    with pytest.raises(TimelineError, match=error_at(path, 3, "line") + "truncated line: 40 of 58 tab-separated fields"):
        read_timeline(path, record, format="gdelt1")
    path = write(tmp_path, "date.tsv", "\n".join(rows[:4] + [edit(rows[4], 1, "2019123")] + rows[5:]) + "\n")
    with pytest.raises(TimelineError, match=error_at(path, 5, "SQLDATE") + "'2019123' is not a date"):
        read_timeline(path, record, format="gdelt1")


def test_icews_unknown_cameo_codes_are_named(tmp_path, record):
    lines = open(bundled_timeline("us_iran_2020_record_icews")).read().splitlines()
    lines[2] = edit(lines[2], 6, "999")
    path = write(tmp_path, "bad.tab", "\n".join(lines) + "\n")
    with pytest.raises(TimelineError, match=error_at(path, 3, "CAMEO Code") + "'999' is not a CAMEO event code"):
        read_timeline(path, record, codes=ICEWS_CODES)
