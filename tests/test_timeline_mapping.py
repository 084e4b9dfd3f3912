"""Events onto the ladder: the CAMEO-to-Goldstein table, CAMEO prefixes, nearest Goldstein
values, actor codes in scenarios, and dates onto steps."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_sim import Scenario, ScenarioError, load_scenario
from escalation_sim.scenario.model import Level, Time
from escalation_sim.timeline import cameo_goldstein, goldstein_of
from escalation_sim.timeline.calendar import date_to_step, dates_to_steps, step_to_date
from escalation_sim.timeline.mapping import LevelMap, is_cameo

# The twenty root values as issue 12 and the project's FACTS list them (GDELT's table).
ROOTS = {"01": 0, "02": 3, "03": 4, "04": 1, "05": 3.5, "06": 6, "07": 7, "08": 5, "09": -2, "10": -5,
         "11": -2, "12": -4, "13": -6, "14": -6.5, "15": -7.2, "16": -4, "17": -7, "18": -9, "19": -10,
         "20": -10}


def test_the_table_pins_the_twenty_root_values():
    table = cameo_goldstein()
    assert {code: table[code] for code in ROOTS} == ROOTS


def test_the_table_keeps_codes_as_text_and_values_on_the_scale():
    table = cameo_goldstein()
    assert len(table) == 311 and table.index.is_unique
    assert all(is_cameo(code) and code[:2] in ROOTS for code in table.index)
    assert table.between(-10, 10).all()
    assert table["010"] == 0.0 and table["10"] == -5.0  # "010" (statement) is not "10" (demand)


def test_goldstein_of_falls_back_to_the_longest_listed_prefix():
    assert goldstein_of("1951") == cameo_goldstein()["195"]  # 1951 is not in the table
    assert goldstein_of("0874") == 10.0
    assert goldstein_of("21") is None and goldstein_of("1") is None and goldstein_of("") is None


def ladder(*levels):
    return tuple(Level(name, float(k), 0.0, g, tuple(codes)) for k, (name, g, codes) in enumerate(levels))


def test_the_most_specific_cameo_prefix_wins():
    lm = LevelMap(ladder(("quiet", 0.0, []), ("fight", -10.0, ["19"]), ("air", -10.0, ["195"])))
    assert lm.by_cameo("190") == 1 and lm.by_cameo("195") == 2 and lm.by_cameo("1951") == 2
    assert lm.by_cameo("18") is None


def test_a_code_on_two_levels_goes_to_the_higher():
    lm = LevelMap(ladder(("quiet", 0.0, []), ("a", -5.0, ["19"]), ("b", -9.0, ["19"])))
    assert lm.by_cameo("193") == 2


def test_goldstein_values_go_to_the_nearest_level_and_ties_to_the_lowest():
    s = load_scenario("us_iran_2020")
    lm = LevelMap(s.ladder)  # default: 0, -2, -5, -7, -9, -10, -10, -10
    assert [lm.by_goldstein(g) for g in (7.0, 0.0, -1.0, -2.0, -6.0, -7.2, -8.0, -9.2, -10.0)] == \
        [0, 0, 0, 1, 2, 3, 3, 4, 5]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-10, 10).map(float)), min_size=2, max_size=8),
       st.floats(-10, 10))
def test_goldstein_mapping_takes_the_lowest_of_the_nearest(values, g):
    lm = LevelMap(ladder(*[(f"l{k}", v, []) for k, v in enumerate(values)]))
    got = lm.by_goldstein(g)
    scored = [(abs(v - g), k) for k, v in enumerate(values) if v is not None]
    if not scored:
        assert got is None
    else:
        best = min(d for d, _ in scored)
        assert got == min(k for d, k in scored if d <= best + 1e-9)


def test_scenario_actor_codes_load_round_trip_and_are_checked():
    s = load_scenario("us_iran_2020_record")
    assert s.actor("USA").codes[:3] == ("USA", "USAGOV", "USAMIL") and "Military (United States)" in s.actor("USA").codes
    assert Scenario.from_dict(s.to_dict()) == s
    data = s.to_dict()
    data["actors"]["IRN"]["codes"] = ["IRN", "USAGOV"]
    with pytest.raises(ScenarioError, match=r"actors\.IRN\.codes\.1: 'USAGOV' is already a code of USA"):
        Scenario.from_dict(data)
    data["actors"]["IRN"]["codes"] = "IRN"
    with pytest.raises(ScenarioError, match=r"actors\.IRN\.codes: expected a list of actor codes"):
        Scenario.from_dict(data)
    data["actors"]["IRN"]["codes"] = ["IRN", "IRN"]
    with pytest.raises(ScenarioError, match=r"actors\.IRN\.codes\.1: 'IRN' is listed twice"):
        Scenario.from_dict(data)


def test_dates_fall_in_the_step_whose_span_holds_them():
    days = Time(n_steps=100, step_length=2, step_unit="days", start="2020-01-03")
    assert [date_to_step(pd.Timestamp(d), days) for d in ("2020-01-02", "2020-01-03", "2020-01-04", "2020-01-05")] == [-1, 0, 0, 1]
    months = Time(n_steps=100, step_unit="month", start="2020-01-31")
    assert [date_to_step(pd.Timestamp(d), months) for d in ("2020-02-28", "2020-02-29", "2020-03-30", "2020-03-31")] == [0, 1, 1, 2]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["hour", "day", "days", "week", "month", "year"]), st.integers(1, 3),
       st.integers(0, 400), st.dates(pd.Timestamp("1990-01-01").date(), pd.Timestamp("2030-01-01").date()))
def test_the_first_moment_of_a_step_falls_in_that_step(unit, length, step, start):
    time = Time(n_steps=1000, step_length=length, step_unit=unit, start=start.isoformat())
    date = step_to_date(step, time)
    assert date_to_step(date, time) == step
    assert dates_to_steps(pd.Series([date]), time).tolist() == [step]
    if unit not in ("month", "year"):  # the moment before belongs to the step before
        assert date_to_step(date - pd.Timedelta(seconds=1), time) == step - 1
