"""Faults of one kind each, from the critic's report (issues 10 and 16): dates past the
calendar, unbounded work quoting values in messages, harms kept in too few bits, Sobol'
indices of one parameter, overflow warnings of a tiny ``prob_end``, and memory advice that
names the wrong cause."""

import copy
import datetime
import importlib
import math
import tracemalloc
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim import Scenario, ScenarioError, with_overrides
from escalation_sim._text import show
from escalation_sim.agents.story import when
from escalation_sim.policies import PolicyError, make_policy
from escalation_sim.scenario.validate import _UNIT_DAYS, CALENDAR, MAX_SPAN_DAYS
from escalation_sim.timeline.calendar import date_to_step, step_to_date

from test_robust_numbers import BASE

# -- 1. every step of a valid scenario has a date (or none), never a crash --------------------


def _largest_step_length(start: str, unit: str, n_steps: int) -> float:
    span = min(MAX_SPAN_DAYS, (CALENDAR[1] - datetime.date.fromisoformat(start)).days)
    return min(1e6, span / (n_steps * _UNIT_DAYS[unit.removesuffix("s")]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.sampled_from(["hour", "day", "days", "week", "month", "year", "turn"]),
       start=st.dates(datetime.date(1600, 1, 1), datetime.date(2300, 1, 1)).map(str),
       n_steps=st.integers(1, 10**6), fraction=st.floats(0.0, 1.2), at_bound=st.booleans())
def test_every_step_of_a_valid_scenario_turns_into_a_date_or_none(unit, start, n_steps, fraction, at_bound):
    """The critic's example: step_length 10^6 days (or 1000 years) from 2020 validated and then
    crashed ``replay``'s narrative. Now a scenario loads only if all its steps have dates, and
    every place that turns a step into a date works at the largest valid values."""
    data = copy.deepcopy(BASE)
    length = _largest_step_length(start, unit, n_steps) if unit != "turn" and start >= "1678" else 1e6
    length = length if at_bound else max(length * fraction, 1e-9)
    assume(length > 0)
    data["time"] = {"n_steps": n_steps, "step_length": length, "step_unit": unit, "start": start}
    data["events"] = []
    try:
        scenario = Scenario.from_dict(data)
    except ScenarioError as err:
        assert "time.step_length" in str(err)
        assert length > 1e6 or ("calendar" in str(err) and unit != "turn")
        return
    model = types.SimpleNamespace(scenario=scenario)
    for step in (0, 1, n_steps - 1, n_steps):
        assert when(model, step).startswith(unit.capitalize())
        date = step_to_date(step, scenario.time)
        if date is not None and unit.removesuffix("s") in ("hour", "day", "week"):
            assert date_to_step(date, scenario.time) in (step - 1, step)


def test_the_critics_step_lengths_are_refused_at_load():
    for over in ({"time.step_length": 10**6}, {"time.step_length": 1000, "time.step_unit": "year"}):
        with pytest.raises(ScenarioError, match=r"time\.step_length: .*leaves the calendar"):
            with_overrides(es.load_scenario("us_iran_2020"), over)
    with_overrides(es.load_scenario("us_iran_2020"), {"time.step_length": 10**6, "time.step_unit": "turn"})


# -- 2. messages quote a bounded part of a value --------------------------------------------------

class Counted:
    """An item whose ``repr`` counts its calls."""
    calls = 0

    def __repr__(self):
        Counted.calls += 1
        return "item"


def _bomb(item, depth=7, width=9):
    """``width ** depth`` references to ``item`` in nested lists sharing their parts, as YAML
    aliases build them."""
    level = [item] * width
    for _ in range(depth - 1):
        level = [level] * width
    return level


def _critics_yaml():
    lv = ["&a0 [" + ",".join(["xxxxxxxxxx"] * 9) + "]"]
    for k in range(1, 8):
        lv.append(f"&a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]")
    return ("schema_version: 1\ntime: {n_steps: 5}\nactors:\n  X: {kind: state, policy: tit_for_tat, "
            "policy_toward: {Y: [" + ", ".join(lv) + "]}}\n  Y: {kind: state, policy: tit_for_tat}\n")


def test_the_critics_alias_bomb_in_policy_toward_is_refused_with_bounded_work(tmp_path):
    """540 bytes within the alias budget; formatted in full the message took 17 s and 1.5 GB."""
    path = tmp_path / "bomb.yaml"
    path.write_text(_critics_yaml())
    tracemalloc.start()
    with pytest.raises(ScenarioError, match="policy_toward.Y") as info:
        es.load_scenario(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(str(info.value)) < 500 and peak < 50 * 10**6


CALLS = [
    lambda v: make_policy(v),
    lambda v: make_policy({"family": v}),
    lambda v: make_policy({"family": "generous_tit_for_tat", "generosity": v}),
    lambda v: make_policy({"family": "memory_one", "vector": v}),
    lambda v: es.games.match.match_turns(None, v),
    lambda v: es.analysis.markov.cooperation_vector(v),
    lambda v: es.analysis.sweep._count("n_runs", v),
    lambda v: with_overrides(Scenario.from_dict(BASE), {"actors.M.policy_toward.B": v}),
    lambda v: with_overrides(Scenario.from_dict(BASE), {"actors.A.policy": v}),
]


@pytest.mark.parametrize("call", range(len(CALLS)))
@pytest.mark.parametrize("shape", [list, tuple])
def test_an_error_quoting_a_huge_shared_value_formats_only_a_few_items(call, shape):
    """9^7 references to one item: a message quotes at most a few of them."""
    Counted.calls = 0
    bomb = _bomb(Counted())
    bomb = shape(bomb) if shape is tuple else bomb
    with pytest.raises((ValueError, TypeError, PolicyError, ScenarioError)) as info:
        CALLS[call](bomb)
    assert Counted.calls <= 50 and len(str(info.value)) < 1000


@given(value=st.recursive(st.one_of(st.integers(), st.floats(), st.text(max_size=500)),
                          lambda inner: st.lists(inner, max_size=20) | st.tuples(inner, inner)
                          | st.dictionaries(st.text(max_size=300), inner, max_size=10), max_leaves=200))
def test_show_is_short_whatever_the_value(value):
    assert len(show(value)) < 600


# -- 5. a tiny prob_end is warning-free -----------------------------------------------------------

@given(prob_end=st.floats(0.0, 1.0, exclude_max=True) | st.floats(5e-324, 1e-290),
       u=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=20))
def test_run_lengths_are_drawn_without_warnings_for_every_valid_prob_end(prob_end, u):
    """The critic's example: prob_end 1e-310 overflowed the quotient (a RuntimeWarning)."""
    from escalation_sim.core.horizon import geometric_lengths, last_steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lengths = geometric_lengths(np.array(u), prob_end)
        last = last_steps(np.random.SeedSequence(1), 0, 5, prob_end, 10)
    assert (lengths >= 1).all() and ((0 <= last) & (last <= 9)).all()
    if prob_end > 0:
        # the inverse distribution function, capped at 2^62 + 1 steps (inf included)
        quotients = [math.log1p(-x) / math.log1p(-prob_end) for x in u]
        expected = [2**62 + 1 if q >= 2**62 else math.floor(q) + 1 for q in quotients]
        assert lengths.tolist() == expected


def test_a_scenario_with_a_tiny_prob_end_simulates_without_warnings():
    scenario = with_overrides(Scenario.from_dict(BASE), {"time.prob_end": 1e-310})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = es.simulate(scenario, 10, rng=1)
    assert (result.runs["end_step"] <= scenario.n_steps - 1).all()


# -- 6. the memory refusal names what to cut ------------------------------------------------------

def test_the_memory_refusal_advises_cutting_what_is_large(monkeypatch):
    """The critic's example: per-step data of many actors and steps was refused with advice to
    use run --out, which keeps the same per-step counts in memory."""
    simulate_module = importlib.import_module("escalation_sim.batch.simulate")
    monkeypatch.setattr(simulate_module, "available_memory", lambda: 2 * 10**9)
    data = copy.deepcopy(BASE)
    data["time"] = {"n_steps": 10**6}
    data["ladder"] = [{"name": f"l{k}", "severity": k} for k in range(100)]
    data["actors"] = {f"S{k}": {"kind": "state", "policy": "tit_for_tat"} for k in range(12)}
    data["events"], data["outcomes"], data["payoffs"] = [], {}, {"own_cost": 0.5}
    many_steps = Scenario.from_dict(data)
    for keep_runs in (True, False):
        with pytest.raises(simulate_module.BatchTooLarge, match="fewer steps or actors") as info:
            simulate_module.Batch(many_steps, 1, keep_runs=keep_runs)
        assert "run --out" in str(info.value) and "whatever the output" in str(info.value)
    with pytest.raises(simulate_module.BatchTooLarge, match="fewer runs, or run_to_folder / run --out"):
        simulate_module.Batch("us_iran_2020", 10**9)
    with pytest.raises(simulate_module.BatchTooLarge, match="no trajectories"):
        simulate_module.Batch("us_iran_2020", 10**7, trajectories=True)


# -- 3. harms and payoffs are exact sums ----------------------------------------------------------

@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(halves=st.integers(1, 2 * 10**6), n_steps=st.integers(1, 40), own_cost=st.sampled_from([0, 0.25, 0.5, 1]))
def test_harms_and_payoffs_are_exact_sums_for_severities_in_range(halves, n_steps, own_cost):
    """The critic's example: severity 999999.5 for 17 steps gave 16999992.0 (float32) for
    16999991.5. Two actors that always act at level 1 (``escalate`` from 1, capped there)."""
    severity = halves / 2
    data = {"schema_version": 1, "name": "exact", "time": {"n_steps": n_steps},
            "ladder": [{"name": "quiet", "severity": 0}, {"name": "act", "severity": severity}],
            "actors": {k: {"kind": "state", "policy": {"family": "escalate", "step": 0, "initial": 1}}
                       for k in ("A", "B")},
            "outcomes": {}, "payoffs": {"own_cost": own_cost}}
    runs = es.simulate(Scenario.from_dict(data), 3, rng=1).runs
    assert (runs["harm_inflicted_A"] == n_steps * severity).all()
    assert (runs["harm_received_B"] == n_steps * severity).all()
    # payoff per step: -severity received - own_cost * severity inflicted, exact in halves
    assert (runs["payoff_A"] == -n_steps * severity * (1 + own_cost)).all()
    assert runs["payoff_A"].dtype == np.float64
