"""Timeline: the array view levels(), its inverse from_levels(), and from_scenario()."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from escalation_sim import Scenario, load_scenario
from escalation_sim.timeline import Timeline, TimelineError


def three_actors(n_steps=30):
    return Scenario.from_dict({
        "schema_version": 1, "name": "trio", "time": {"n_steps": n_steps},
        "actors": {"A": {"kind": "state", "policy": "tit_for_tat"},
                   "B": {"kind": "state", "policy": "tit_for_tat"},
                   "C": {"kind": "state", "policy": "tit_for_tat"}},
        "events": [{"step": 2, "actor": "A", "target": "B", "level": 3},
                   {"step": 5, "actor": "B", "target": "C", "level": "verbal"}],
    })


def test_from_scenario_holds_the_script_and_quiet_elsewhere():
    s = three_actors()
    tl = Timeline.from_scenario(s)
    assert tl.actors == ("A", "B", "C") and tl.window == (0, 6)
    lv = tl.levels(s)
    assert lv.shape == (6, 3, 3) and lv.dtype == np.int16
    assert lv[2, 0, 1] == 3 and lv[5, 1, 2] == 1
    assert (np.diagonal(lv, axis1=1, axis2=2) == -1).all()
    off = ~np.eye(3, dtype=bool)
    assert (lv[:, off] >= 0).all() and lv[:, off].sum() == 4


def test_from_scenario_matches_every_scripted_event_of_the_record():
    s = load_scenario("us_iran_2020_record")
    tl = Timeline.from_scenario(s)
    lv = tl.levels(s)
    ids = s.actor_ids
    assert tl.window == (0, max(e.step for e in s.events) + 1)
    for e in s.events:
        assert lv[e.step, ids.index(e.actor), ids.index(e.target)] == e.level
    assert (lv > 0).sum() == len(s.events)


def test_levels_marks_actors_outside_the_timeline_unobserved():
    s = three_actors()
    tl = Timeline.from_scenario(s, actors=("A", "B"), window=(1, 4))
    lv = tl.levels(s)
    assert lv.shape == (3, 3, 3)
    assert (lv[:, 2, :] == -1).all() and (lv[:, :, 2] == -1).all()
    assert lv[1, 0, 1] == 3 and lv[0, 0, 1] == 0 and lv[0, 1, 0] == 0


def test_levels_rejects_a_timeline_naming_an_actor_the_scenario_lacks():
    s = three_actors()
    tl = Timeline.from_scenario(s)
    other = Scenario.from_dict({
        "schema_version": 1, "name": "pair", "time": {"n_steps": 30},
        "actors": {"A": {"kind": "state", "policy": "tit_for_tat"},
                   "B": {"kind": "state", "policy": "tit_for_tat"}}})
    with pytest.raises(TimelineError, match="'C' is not an actor of scenario 'pair'"):
        tl.levels(other)


def test_levels_rejects_a_window_past_the_horizon():
    tl = Timeline.from_scenario(three_actors(n_steps=30), window=(0, 20))
    with pytest.raises(TimelineError, match=r"steps 0..19 reach past the horizon of 'trio' \(steps 0..9\)"):
        tl.levels(three_actors(n_steps=10))
    with pytest.raises(TimelineError, match="past the horizon"):
        Timeline.from_scenario(three_actors(n_steps=30), window=(0, 40))


def test_from_levels_rejects_bad_shapes_and_holes():
    s = three_actors()
    with pytest.raises(TimelineError, match=r"shape \(n_steps, 3, 3\)"):
        Timeline.from_levels(s, np.zeros((4, 2, 2), dtype=int))
    holed = np.zeros((4, 3, 3), dtype=int)
    holed[1, 0, 1] = -1
    with pytest.raises(TimelineError, match="unobserved"):
        Timeline.from_levels(s, holed, actors=("A", "B", "C"))
    with pytest.raises(TimelineError, match="0..7"):
        Timeline.from_levels(s, np.full((2, 3, 3), 8))


def test_from_levels_infers_the_observed_actors():
    s = three_actors()
    arr = np.full((3, 3, 3), -1)
    arr[:, 0, 2] = [0, 2, 0]
    arr[:, 2, 0] = 0
    tl = Timeline.from_levels(s, arr, first_step=4)
    assert tl.actors == ("A", "C") and tl.window == (4, 7)
    assert list(tl.events.itertuples(index=False, name=None))[0][:4] == (5, "A", "C", 2)


@st.composite
def observed_levels(draw):
    n_steps = draw(st.integers(0, 8))
    observed = draw(st.lists(st.booleans(), min_size=3, max_size=3).filter(lambda m: sum(m) != 1))
    arr = draw(hnp.arrays(np.int16, (n_steps, 3, 3), elements=st.integers(0, 7)))
    mask = np.array(observed)
    arr[:, ~mask, :] = -1
    arr[:, :, ~mask] = -1
    arr[:, np.arange(3), np.arange(3)] = -1
    first = draw(st.integers(0, 30 - n_steps))
    return arr, first, tuple(a for a, m in zip("ABC", observed) if m)


@settings(max_examples=60, deadline=None)
@given(observed_levels())
def test_levels_inverts_from_levels(case):
    arr, first, actors = case
    s = three_actors()
    tl = Timeline.from_levels(s, arr, first_step=first, actors=actors)
    assert tl.window == (first, first + len(arr))
    assert np.array_equal(tl.levels(s), arr)
    again = Timeline.from_levels(s, tl.levels(s), first_step=first, actors=actors)
    assert again.equals(tl)


def test_repr_names_scenario_actors_and_acts():
    s = load_scenario("us_iran_2020_record")
    tl = Timeline.from_scenario(s)
    text = repr(tl)
    assert text.startswith("Timeline of 'us_iran_2020_record': 12 acts among USA, IRN, KH, IRQ; steps 0..76")
    assert "4 lethal_proxy" in text and "direct_strike" in text
    html = tl._repr_html_()
    assert "<table" in html and "us_iran_2020_record" in html


def test_events_have_the_agreed_columns_and_dtypes():
    tl = Timeline.from_scenario(three_actors())
    ev = tl.events
    assert list(ev.columns) == ["step", "actor", "target", "level", "date", "cameo", "goldstein", "source", "note"]
    assert ev["step"].dtype == np.int64 and ev["level"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(ev["date"]) and ev["goldstein"].dtype == np.float64
