"""Bounded work for bounded input (issue 16, item 4), and validation that names every problem
of a file (issue 11): alias bombs, oversized and non-YAML files, messages of bounded length,
linear-time checks, and batches refused before they take more memory than the machine has."""

import copy
import importlib
import json
import tracemalloc

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim import Scenario, ScenarioError, load_scenario, with_overrides
from escalation_sim.batch.simulate import Batch, BatchTooLarge, memory_estimate
from escalation_sim.scenario.io import MAX_ALIASES, MAX_FILE_BYTES, parse_yaml

from test_robust_numbers import BASE

# The module, not the function of the same name that escalation_sim.batch exports.
simulate_module = importlib.import_module("escalation_sim.batch.simulate")

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def test_an_alias_bomb_in_an_actor_kind_is_refused_at_parse(tmp_path):
    """The issue's example: 600 bytes that took 70 s and 6 GB before a MemoryError."""
    text = ("schema_version: 1\ntime: {n_steps: 5}\n" + ALIAS_BOMB.replace("\n", "\n  ").join(["x:\n  ", ""])
            + "actors:\n  X: {kind: *i, policy: tit_for_tat}\n  Y: {kind: state, policy: tit_for_tat}\n")
    with pytest.raises(ScenarioError, match=f"more than {MAX_ALIASES} aliases") as info:
        load_scenario(write(tmp_path, text))
    assert len(str(info.value)) < 300


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 3 * MAX_ALIASES))
def test_aliases_are_counted_and_refused_past_the_budget(n):
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * n) + "]\n"
    if n <= MAX_ALIASES:
        assert parse_yaml(text, "x.yaml")["b"] == [1] * n
    else:
        with pytest.raises(ScenarioError, match="aliases"):
            parse_yaml(text, "x.yaml")


def test_a_file_past_the_size_cap_is_refused_without_reading_it_all(tmp_path):
    path = write(tmp_path, "# " + "x" * MAX_FILE_BYTES + "\n")
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(path)


@pytest.mark.parametrize("content", [
    "root:$6$saltsalt$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",  # like /etc/shadow
    "SECRET TOKEN abc123\n",
    "[SECRET, list]\n",
    b"\x89PNG\r\n\x1a\n\x00\x00SECRET",
    b"\xff\xfeS\x00E\x00C\x00R\x00E\x00T\x00",
    "key: value\n\tSECRET: tab\n",
    "'SECRET unclosed\n",
])
def test_a_file_that_is_not_a_scenario_is_refused_without_echoing_its_contents(tmp_path, content):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, content, "private"))
    assert "SECRET" not in str(info.value) and "salt" not in str(info.value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(["name", "actors.A.kind", "actors.A.policy", "noise.execution", "time.n_steps",
                             "events.0.actor", "ladder.1.name", "outcomes.war_level", "actors.A.protects"]),
       value=st.one_of(st.text(min_size=1000, max_size=5000), st.binary(min_size=1000, max_size=3000),
                       st.lists(st.text(min_size=200), min_size=50, max_size=200),
                       st.dictionaries(st.text(min_size=300), st.integers(), min_size=20, max_size=60),
                       st.integers(min_value=10**1000, max_value=10**1200)))
def test_every_message_quotes_a_value_in_bounded_length(path, value):
    """The issue's example: a message that embedded the offending value was 52 MB long."""
    try:
        with_overrides(Scenario.from_dict(BASE), {path: value})
    except ScenarioError as err:
        for line in str(err).splitlines():
            assert len(line) < 700, line[:200]


def test_a_huge_key_is_quoted_short(tmp_path):
    data = copy.deepcopy(BASE)
    data["actors"]["A" * 100_000] = {"kind": "state", "policy": "tit_for_tat"}
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    assert len(str(info.value)) < 1500


def test_ten_thousand_events_validate_and_a_repeat_among_them_is_found():
    """Duplicate events were checked pairwise (10,000 events: 15 s); now with a set."""
    data = copy.deepcopy(BASE)
    data["time"]["n_steps"] = 10_000
    data["events"] = [{"step": k, "actor": "A", "target": "B", "level": 1} for k in range(10_000)]
    assert len(Scenario.from_dict(data).events) == 10_000
    data["events"].append({"step": 9_999, "actor": "A", "target": "B", "level": 2})
    with pytest.raises(ScenarioError, match="a second event for A -> B in step 9999") as info:
        Scenario.from_dict(data)
    assert info.value.key == "events.10000"


# -- every problem of a file ----------------------------------------------------------------------

def test_validation_names_every_problem_of_a_file():
    data = copy.deepcopy(BASE)
    data["noise"]["execution"] = 2
    data["time"]["start"] = "someday"
    data["actors"]["A"]["policy"]["ratio"] = "big"
    data["actors"]["M"]["control"] = -1
    data["events"][0]["level"] = 9
    data["colour"] = "red"
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, file="x.yaml")
    keys = [key for key, _ in info.value.errors]
    assert sorted(keys) == sorted(["noise.execution", "time.start", "actors.A.policy.ratio", "actors.M.control",
                                   "events.0.level", "colour"])
    assert len(str(info.value).splitlines()) == 6
    assert all(line.startswith("x.yaml: ") for line in str(info.value).splitlines())


PROBLEMS = {
    "noise.perception": 3, "time.step_length": -1, "actors.B.policy.bias": -2, "outcomes.quiet_steps": 0,
    "ladder.2.severity": "high", "actors.M.spontaneous.probability": 7, "events.0.step": 99,
    "payoffs.own_cost": -1, "actors.A.protects.M": 11, "ladder.1.goldstein": 20,
}


@settings(max_examples=40, deadline=None)
@given(chosen=st.sets(st.sampled_from(sorted(PROBLEMS)), min_size=1, max_size=len(PROBLEMS)))
def test_any_set_of_independent_problems_is_reported_whole(chosen):
    scenario = Scenario.from_dict(BASE)
    data = scenario.to_dict()
    for key in chosen:
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = PROBLEMS[key]
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data)
    assert {key for key, _ in info.value.errors} == set(chosen)


def test_validate_prints_every_problem_and_lists_them_in_json(tmp_path, capsys):
    from escalation_sim import cli

    data = copy.deepcopy(BASE)
    data["noise"]["execution"] = 2
    data["outcomes"]["war_level"] = 0
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(data))
    assert cli.main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"INVALID  {path}: 2 problems" in out and "noise.execution" in out and "outcomes.war_level" in out
    assert cli.main(["validate", str(path), "--json"]) == 2
    rows = json.loads(capsys.readouterr().out)
    assert [e["key"] for e in rows[0]["errors"]] == ["noise.execution", "outcomes.war_level"]


# -- memory before allocation ---------------------------------------------------------------------

def test_a_batch_larger_than_memory_is_refused_with_the_estimate_and_the_memory(monkeypatch):
    """The issue's example: Batch(s, 3e8) reserved 19 GB on a 23 GB machine."""
    monkeypatch.setattr(simulate_module, "available_memory", lambda: 16 * 10**9)
    with pytest.raises(BatchTooLarge, match=r"needs about [\d.]+ GB of memory, but this machine has 16.0 GB"):
        Batch("us_iran_2020", 3 * 10**8)
    with pytest.raises(BatchTooLarge):
        es.simulate("us_iran_2020", 10**13)


def test_a_small_scenario_within_the_limits_that_needs_too_much_for_one_run_is_refused(monkeypatch):
    """The issue's example: a 1.5 KB scenario within the documented limits needed 18 GB for one run."""
    monkeypatch.setattr(simulate_module, "available_memory", lambda: 16 * 10**9)
    data = copy.deepcopy(BASE)
    data["time"] = {"n_steps": 10**6}  # no start date: 10^6 days would leave the calendar
    data["ladder"] = [{"name": f"l{k}", "severity": k} for k in range(100)]
    data["actors"] = {f"S{k}": {"kind": "state", "policy": "tit_for_tat"} for k in range(12)}
    data["events"], data["outcomes"], data["payoffs"] = [], {}, {"own_cost": 0.5}
    scenario = Scenario.from_dict(data)
    assert len(yaml.safe_dump(data, default_flow_style=True)) < 4096  # a few kB of YAML
    with pytest.raises(BatchTooLarge, match="1,000,000 steps"):
        es.simulate(scenario, 1)


@pytest.mark.parametrize("name, n_runs, trajectories", [("us_iran_2020", 60_000, False), ("proxy_war", 30_000, True),
                                                         ("ipd_noise", 100_000, False)])
def test_the_memory_estimate_is_within_a_factor_of_three_of_what_a_batch_uses(name, n_runs, trajectories):
    scenario = load_scenario(name)
    tracemalloc.start()
    es.simulate(scenario, n_runs, rng=1, trajectories=trajectories)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    batch = Batch(scenario, 1)
    estimate = memory_estimate(n_runs, scenario.n_steps, batch.plan.n_pairs, batch.plan.n_levels,
                               len(scenario.actors), chunk_runs=batch.chunk_runs(), trajectories=trajectories)
    assert peak / 3 < estimate < 3 * peak, (estimate, peak)
