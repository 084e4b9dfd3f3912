"""Numbers that validate simulate correctly (issue 16, item 3): every numeric field of a
scenario, drawn across the whole float and integer range, is either refused with a
``ScenarioError`` naming its key, or simulates to measures that are finite, non-negative where
they must be, and monotone where the rule says so. Also one rule per type of field (item 7)."""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim import Scenario, ScenarioError, with_overrides
from escalation_sim.scenario.validate import LIMIT

BASE = {
    "schema_version": 1, "name": "numbers",
    "time": {"n_steps": 12, "step_length": 1, "start": "2020-01-03"},
    "ladder": [
        {"name": "quiet", "severity": 0, "fatalities": 0, "goldstein": 0},
        {"name": "verbal", "severity": 1, "fatalities": 0, "goldstein": -2},
        {"name": "strike", "severity": 4, "fatalities": 2, "goldstein": -9},
        {"name": "war", "severity": 16, "fatalities": 50, "goldstein": -10},
    ],
    "actors": {
        "A": {"kind": "state", "protects": {"M": 1.0},
              "policy": {"family": "proportional", "ratio": 1.5, "cap": 3, "initial": 0}},
        "B": {"kind": "state", "policy": {"family": "ledger", "tolerance": 0.5, "overreaction": 1.2, "bias": 0.1}},
        "M": {"kind": "militia", "patron": "B", "control": 0.5,
              "spontaneous": {"probability": 0.2, "level": 1, "targets": ["A"]},
              "policy": {"family": "generous_tit_for_tat", "generosity": 0.3},
              "policy_toward": {"B": {"family": "escalate", "step": 1}}},
    },
    "noise": {"perception": 0.02, "execution": 0.02, "attribution": 0.2},
    "events": [{"step": 0, "actor": "M", "target": "A", "level": 2}],
    "outcomes": {"war_level": 3, "quiet_steps": 4},
    "payoffs": {"own_cost": 0.5},
}
TWO_LEVEL = {
    "schema_version": 1, "name": "pd", "time": {"n_steps": 10}, "ladder": "two_level",
    "actors": {
        "X": {"kind": "state", "policy": {"family": "memory_one", "vector": [1.0, 0.2, 0.9, 0.1]}},
        "Y": {"kind": "state", "policy": {"family": "memory_one",
                                          "response": [[[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.4, 0.6]]]}},
    },
    "noise": {"execution": 0.05},
    "payoffs": {"R": 3, "S": 0, "T": 5, "P": 1},
}
MATRIX = {**copy.deepcopy(BASE), "payoffs": {"matrix": [[0, -1, -4, -16], [1, 0, -3, -15], [2, 1, 0, -12], [4, 3, 2, 0]]}}

FIELDS = [(BASE, key) for key in (
    "time.n_steps", "time.step_length",
    *(f"ladder.{k}.{f}" for k in (1, 2, 3) for f in ("severity", "fatalities", "goldstein")),
    "noise.perception", "noise.execution", "noise.attribution",
    "actors.A.protects.M", "actors.A.policy.ratio", "actors.A.policy.cap", "actors.A.policy.initial",
    "actors.B.policy.tolerance", "actors.B.policy.overreaction", "actors.B.policy.bias",
    "actors.M.control", "actors.M.spontaneous.probability", "actors.M.spontaneous.level",
    "actors.M.policy.generosity", "actors.M.policy_toward.B.step",
    "events.0.step", "events.0.level", "outcomes.war_level", "outcomes.quiet_steps", "payoffs.own_cost",
)] + [(TWO_LEVEL, key) for key in (
    "actors.X.policy.vector.1", "actors.Y.policy.response.1.0.1", "payoffs.R", "payoffs.T", "payoffs.P",
)] + [(MATRIX, "payoffs.matrix.2.1"), (MATRIX, "payoffs.matrix.0.3")]

BASES = {id(BASE): Scenario.from_dict(BASE), id(TWO_LEVEL): Scenario.from_dict(TWO_LEVEL),
         id(MATRIX): Scenario.from_dict(MATRIX)}

EDGES = st.sampled_from([0, 1, -1, 0.5, 2, 3, LIMIT, LIMIT + 1, 10**6, 10**6 + 1, 1e-300, 5e-324, 1e8, 1e19,
                         10**30, -(10**30), 2**31, 2**63, 1e308])
NUMBERS = st.one_of(st.floats(), st.integers(), st.integers(-(2**200), 2**200), EDGES)


def simulated(scenario, n_runs=64):
    return es.simulate(scenario, n_runs, rng=5, n_steps=min(scenario.n_steps, 12))


def check_measures(result):
    runs, scenario = result.runs, result.scenario
    numeric = runs.drop(columns=["outcome"])
    assert np.isfinite(numeric.to_numpy(dtype=float)).all()
    for column in ["fatalities", "hostile_steps", "retaliations", "peak_level", "end_step", "peak_step",
                   *(f"{k}_{a}" for k in ("harm_inflicted", "harm_received") for a in scenario.actor_ids)]:
        assert (runs[column] >= 0).all(), column
    assert (runs["end_step"] < result.n_steps).all() and (runs["peak_level"] <= scenario.top).all()
    assert (result.counts >= 0).all() and (result.counts.sum(axis=2) == result.n_runs).all()
    summary = result.summary()
    assert np.isfinite(summary.measures.to_numpy()).all()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=NUMBERS)
def test_every_numeric_field_is_refused_naming_its_key_or_simulates_soundly(field, value):
    base, key = field
    try:
        scenario = with_overrides(BASES[id(base)], {key: value})
    except ScenarioError as err:
        # The key itself, or one that a rule ties to it (the next level's severity, an event
        # past a shorter horizon).
        assert err.key and all(line.startswith(f"{base['name']}.yaml") for line in str(err).splitlines())
        assert len(str(err)) < 1000
        return
    check_measures(simulated(scenario))


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(FIELDS), value=st.sampled_from(["1", "yes", True, False, "0.5", "1e3", None, [1]]))
def test_no_numeric_field_takes_a_string_a_boolean_or_a_list(field, value):
    """One rule for every number: response tables refused '1' and yes where others did not."""
    base, key = field
    if value is None and key in ("actors.A.policy.cap", "actors.A.policy.initial", "outcomes.war_level",
                                 "outcomes.quiet_steps", "ladder.1.goldstein", "ladder.2.goldstein",
                                 "ladder.3.goldstein"):
        return  # these fields are optional: None is "not given"
    with pytest.raises(ScenarioError):
        with_overrides(BASES[id(base)], {key: value})


@settings(max_examples=25, deadline=None)
@given(low=st.floats(0, LIMIT), high=st.floats(0, LIMIT), level=st.sampled_from([2, 3]))
def test_fatalities_per_run_grow_with_a_levels_expected_fatalities(low, high, level):
    """The same seed, a larger expected number of fatalities at a level: no run has fewer."""
    low, high = sorted((low, high))
    few = simulated(with_overrides(BASES[id(BASE)], {f"ladder.{level}.fatalities": low}), 200)
    many = simulated(with_overrides(BASES[id(BASE)], {f"ladder.{level}.fatalities": high}), 200)
    assert (many.runs["fatalities"].to_numpy() >= few.runs["fatalities"].to_numpy()).all()
    assert many.runs["fatalities"].dtype == np.int64


@settings(max_examples=25, deadline=None)
@given(low=st.floats(0, LIMIT), high=st.floats(0, LIMIT))
def test_payoffs_fall_as_the_own_cost_rises(low, high):
    low, high = sorted((low, high))
    cheap = simulated(with_overrides(BASES[id(BASE)], {"payoffs.own_cost": low}), 100)
    costly = simulated(with_overrides(BASES[id(BASE)], {"payoffs.own_cost": high}), 100)
    for actor in ("A", "B", "M"):
        assert (costly.runs[f"payoff_{actor}"].to_numpy() <= cheap.runs[f"payoff_{actor}"].to_numpy()).all()


@settings(max_examples=40, deadline=None)
@given(ratios=st.lists(NUMBERS, min_size=2, max_size=2))
def test_a_proportional_answer_never_falls_as_the_ratio_rises(ratios):
    """The issue's example: a ratio of 1e19 behaved like 0."""
    tables = []
    for ratio in ratios:
        try:
            scenario = with_overrides(BASES[id(BASE)], {"actors.A.policy.ratio": ratio})
        except ScenarioError as err:
            assert err.key == "actors.A.policy.ratio"
            return
        policy = scenario.actor("A").policy
        tables.append((float(ratio), policy.table(scenario.policy_ladder()).argmax(axis=2)))
    (r1, t1), (r2, t2) = sorted(tables, key=lambda pair: pair[0])
    assert (t2 >= t1).all()


@pytest.mark.parametrize("key, value", [
    ("ladder.3.fatalities", 1.0e8),  # wrapped int32 to negative counts
    ("actors.A.policy.ratio", 1e19),  # behaved like 0
    ("actors.A.policy.ratio", 10**30),  # OverflowError in simulate
    ("actors.M.policy_toward.B.step", 10**30),
    ("payoffs.own_cost", 1e300),
])
def test_the_issues_numbers_are_refused_at_load_naming_the_key(key, value):
    with pytest.raises(ScenarioError) as info:
        with_overrides(BASES[id(BASE)], {key: value})
    assert info.value.key == key


def test_the_largest_fatalities_allowed_give_non_negative_exact_counts():
    scenario = with_overrides(BASES[id(BASE)], {"ladder.3.fatalities": LIMIT, "ladder.2.fatalities": LIMIT})
    result = es.simulate(scenario, 500, rng=1, n_steps=12)
    fatalities = result.runs["fatalities"].to_numpy()
    assert fatalities.dtype == np.int64 and (fatalities >= 0).all()
    assert result.summary().measures.loc["fatalities", "q05"] >= 0


def test_a_huge_ratio_within_range_escalates_to_the_cap():
    scenario = with_overrides(BASES[id(BASE)], {"actors.A.policy.ratio": LIMIT})
    table = scenario.actor("A").policy.table(scenario.policy_ladder())
    assert (table.argmax(axis=2)[:, 1:] == 3).all()


# -- 7. one rule per type of field ----------------------------------------------------------------

@pytest.mark.parametrize("start", ["not a date", "2020-02-30", "2020-13-01", "yesterday", 20200103, "2020-01-03T10:00"])
def test_a_start_that_is_not_a_date_is_refused(start):
    with pytest.raises(ScenarioError, match="time.start: expected a date"):
        with_overrides(BASES[id(BASE)], {"time.start": start})


def test_a_start_given_as_text_or_a_yaml_date_reads_the_same():
    import datetime

    text = with_overrides(BASES[id(BASE)], {"time.start": "2020-01-03"})
    date = with_overrides(BASES[id(BASE)], {"time.start": datetime.date(2020, 1, 3)})
    assert text == date and text.time.start == "2020-01-03"


@pytest.mark.parametrize("key", ["outcomes.war_level", "actors.M.spontaneous.level"])
@pytest.mark.parametrize("value", [0, "quiet"])
def test_a_level_that_must_be_hostile_cannot_be_level_0(key, value):
    """The issue's example: war_level 0 made every run a war at step 0."""
    with pytest.raises(ScenarioError) as info:
        with_overrides(BASES[id(BASE)], {key: value})
    assert info.value.key == key and "below level 1" in info.value.detail


@pytest.mark.parametrize("value", ["1", "yes", True])
def test_a_response_table_refuses_what_every_other_number_refuses(value):
    response = copy.deepcopy(TWO_LEVEL["actors"]["Y"]["policy"]["response"])
    response[0][0][0] = value
    with pytest.raises(ScenarioError) as info:
        with_overrides(BASES[id(TWO_LEVEL)], {"actors.Y.policy.response": response})
    assert info.value.key == "actors.Y.policy.response.0.0.0"


@pytest.mark.parametrize("key, value", [
    ("noise.execution", np.float64(0.1)), ("noise.execution", np.float32(0.25)),
    ("time.n_steps", np.int64(20)), ("time.n_steps", np.int32(20)),
    ("actors.A.policy.ratio", np.float16(2.0)), ("actors.A.policy.cap", np.int8(2)),
    ("ladder.2.fatalities", np.uint16(3)), ("outcomes.war_level", np.int64(2)),
    ("actors.X.policy.vector", np.array([1.0, 0.0, 1.0, 0.0])),
])
def test_with_overrides_takes_numpy_values_as_the_numbers_they_hold(key, value):
    base = BASES[id(TWO_LEVEL)] if key.startswith("actors.X") else BASES[id(BASE)]
    plain = value.tolist() if isinstance(value, np.ndarray) else value.item()
    assert with_overrides(base, {key: value}) == with_overrides(base, {key: plain})


def test_with_overrides_refuses_a_numpy_boolean_like_a_boolean():
    with pytest.raises(ScenarioError, match="noise.execution"):
        with_overrides(BASES[id(BASE)], {"noise.execution": np.bool_(True)})


@pytest.mark.parametrize("key", [1, None, ("noise", "execution"), ""])
def test_with_overrides_refuses_a_key_that_is_not_a_key_path(key):
    with pytest.raises(ScenarioError, match="key path"):
        with_overrides(BASES[id(BASE)], {key: 0.1})


@pytest.mark.parametrize("text, value", [("1e-3", 0.001), ("2E-2", 0.02), ("1.0e-3", 0.001), ("0.05", 0.05)])
def test_set_and_grid_read_a_number_the_same_way(text, value):
    from escalation_sim.analysis.sweep import parse_grid
    from escalation_sim.scenario import parse_override

    assert parse_override(f"noise.execution={text}") == ("noise.execution", value)
    assert parse_grid(f"noise.execution={text}") == ("noise.execution", [value])
