"""Fuzzing the scenario loader: whatever the input, it returns a valid ``Scenario`` or raises
``ScenarioError``; no other exception escapes, and whatever loads round-trips."""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation_sim import Scenario, ScenarioError, list_scenarios, load_scenario
from escalation_sim.scenario.io import parse_yaml

ROOT = Path(__file__).resolve().parents[1]

# Valid starting points in both forms: the canonical dict, and the compact form the files use
# (policy names as strings, ladder presets, flow mappings).
BASES = [load_scenario(name).to_dict() for name in list_scenarios()] + [
    parse_yaml((ROOT / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8"), name)
    for name in list_scenarios()
]

# Values that look right somewhere in a scenario, so that mutations reach deep checks.
PLAUSIBLE = st.sampled_from([
    "USA", "KH", "IRN", "IRQ", "A", "B", "war", "quiet", "lethal_proxy", "state", "militia",
    "tit_for_tat", "proportional", "ledger", "memory_one", "default", "two_level", "family",
    0, 1, 2, 7, 8, 0.5, -1, 1.5,
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**400),
    st.floats(), st.text(max_size=8), PLAUSIBLE,
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=6), PLAUSIBLE, st.integers()), inner, max_size=4),
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every key path in a nested structure of dicts and lists, the root included."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, prefix + (key,))


def _mutate(data, draw):
    path = draw(st.sampled_from(list(_paths(data))))
    if not path:
        return draw(JUNK) if draw(st.integers(0, 9)) == 0 else data
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    how = draw(st.sampled_from(["delete", "replace", "add"]))
    if how == "delete":
        del parent[path[-1]]
    elif how == "replace":
        parent[path[-1]] = draw(JUNK)
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]][draw(st.one_of(st.text(max_size=6), PLAUSIBLE))] = draw(JUNK)
    else:
        parent[path[-1]] = draw(JUNK)
    return data


def _check_loads_or_fails_cleanly(data):
    try:
        scenario = Scenario.from_dict(data, file="x.yaml")
    except ScenarioError as err:
        assert str(err).startswith("x.yaml: ")
        return
    assert Scenario.from_dict(scenario.to_dict()) == scenario


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_scenario_loads_or_raises_scenario_error(data):
    scenario = copy.deepcopy(data.draw(st.sampled_from(BASES)))
    for _ in range(data.draw(st.integers(1, 4))):
        scenario = _mutate(scenario, data.draw)
    _check_loads_or_fails_cleanly(scenario)


# Text built from YAML's punctuation, so that the parser sees flow collections, anchors,
# tags, merge keys and block scalars, not just plain words.
YAML_TEXT = st.lists(
    st.sampled_from([*"ab01:-?[]{},&*!<>|'\"#%.@ \n\t", "<<: *a", "&a ", "!!int ", "!!bool ", "2020-02-30"]),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), YAML_TEXT))
def test_any_text_parses_and_builds_or_raises_scenario_error(text):
    try:
        data = parse_yaml(text, "x.yaml")
    except ScenarioError as err:
        assert str(err).startswith("x.yaml: ")
        return
    _check_loads_or_fails_cleanly(data)
