"""Scenario files: the bundled scenarios load and round-trip, quote the seed document verbatim,
and every kind of malformed file fails with a ``ScenarioError`` naming the file and key path."""

from __future__ import annotations

import copy
import datetime
import re
from pathlib import Path

import pytest
import yaml

import escalation_sim
from escalation_sim import Scenario, ScenarioError, list_scenarios, load_scenario, with_overrides
from escalation_sim.scenario import parse_override

ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
BUNDLED = list_scenarios()


# -- bundled scenarios ------------------------------------------------------------------------

def test_the_bundled_scenarios_include_the_seed_crisis_and_the_teaching_cases():
    expected = {"us_iran_2020", "us_iran_2020_record", "echo_generosity", "proxy_war", "ipd_noise"}
    assert expected <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_scenario_round_trips_through_a_dict(name):
    scenario = load_scenario(name)
    assert Scenario.from_dict(scenario.to_dict()) == scenario


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_scenario_saved_and_loaded_is_equal_with_the_same_hash(name, tmp_path):
    scenario = load_scenario(name)
    path = tmp_path / "x.yaml"
    scenario.save(path)
    loaded = load_scenario(path)
    assert loaded == scenario
    assert loaded.hash() == scenario.hash()
    assert loaded.path == str(path)


@pytest.mark.parametrize("name", BUNDLED)
def test_every_source_quote_occurs_verbatim_in_the_seed_document(name):
    scenario = load_scenario(name)
    for note in scenario.annotations:
        for quote in note.source:
            assert quote in SEED_TEXT, f"{name}: {note.path}: not in seeds/: {quote!r}"


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_scenario_names_a_document_that_exists(name):
    scenario = load_scenario(name)
    if scenario.document is not None:
        assert (ROOT / scenario.document).is_file()


@pytest.mark.parametrize("name", BUNDLED)
def test_a_bundled_file_starts_with_a_comment_saying_what_it_is_for(name):
    text = (ROOT / "scenarios" / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# ")


def test_us_iran_2020_scripts_the_attack_then_the_strikes():
    s = load_scenario("us_iran_2020")
    names = s.level_names()
    assert [(e.step, e.actor, e.target, names[e.level]) for e in s.events] == [
        (0, "KH", "USA", "lethal_proxy"),
        (1, "USA", "KH", "state_strike"),
    ]
    assert s.actor("KH").patron == "IRN"
    assert dict(s.actor("IRN").protects)["KH"] > 0
    assert s.actor("USA").policy.family == "proportional"
    assert (s.time.n_steps, s.time.step_unit, s.time.start) == (60, "day", "2020-01-03")
    assert names[s.outcomes.war_level] == "war" and s.outcomes.quiet_steps == 14


def test_us_iran_2020_says_where_the_record_differs_on_every_scripted_event():
    s = load_scenario("us_iran_2020")
    notes = {a.path: a for a in s.annotations}
    for k in range(len(s.events)):
        assert notes[f"events.{k}"].source and notes[f"events.{k}"].note


def test_the_record_has_the_same_actors_and_noise_as_the_document():
    story, record = load_scenario("us_iran_2020"), load_scenario("us_iran_2020_record")
    assert record.actors == story.actors
    assert record.noise == story.noise
    assert record.ladder == story.ladder


def test_every_event_of_the_record_is_dated_by_its_step():
    s = load_scenario("us_iran_2020_record")
    start = datetime.date.fromisoformat(s.time.start)
    notes = {a.path: a.note for a in s.annotations}
    for k, event in enumerate(s.events):
        date = start + datetime.timedelta(days=event.step)
        assert notes[f"events.{k}"].startswith(date.isoformat()), (k, event)


def test_the_record_puts_8_january_at_step_12_and_11_march_at_step_75():
    s = load_scenario("us_iran_2020_record")
    names = s.level_names()
    acts = {(e.step, e.actor, e.target): names[e.level] for e in s.events}
    assert acts[12, "IRN", "USA"] == "direct_strike"
    assert acts[12, "USA", "IRN"] == "coercive"
    assert acts[75, "KH", "USA"] == "lethal_proxy"
    assert acts[76, "USA", "KH"] == "state_strike"


# -- malformed files --------------------------------------------------------------------------

BASE = {
    "schema_version": 1,
    "time": {"n_steps": 10},
    "actors": {
        "A": {"kind": "state", "policy": "tit_for_tat"},
        "M": {"kind": "militia", "patron": "A", "control": 0.5, "policy": "tit_for_tat",
              "spontaneous": {"probability": 0.1, "level": 4, "targets": ["B"]}},
        "B": {"kind": "state", "policy": {"family": "proportional", "ratio": 1.0}},
    },
    "events": [{"step": 0, "actor": "M", "target": "B", "level": "lethal_proxy"}],
    "noise": {"perception": 0.01},
    "outcomes": {"war_level": "war", "quiet_steps": 5},
}


def patched(path: str, value) -> dict:
    """A copy of BASE with the value at a dotted key path replaced, added or appended."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list) and int(last) == len(node):
        node.append(value)
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return data


def load_error(tmp_path: Path, data_or_text) -> ScenarioError:
    """Write a file, load it, and return the error it must raise."""
    text = data_or_text if isinstance(data_or_text, str) else yaml.safe_dump(data_or_text, sort_keys=False)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


def test_the_base_of_the_malformed_cases_is_valid(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False), encoding="utf-8")
    assert load_scenario(path).actor_ids == ("A", "M", "B")


MALFORMED = {
    # unknown keys, at every depth
    "unknown top key": ("colour", "red", "colour", "unknown key"),
    "unknown actor key": ("actors.A.colour", "red", "actors.A.colour", "unknown key"),
    "unknown policy parameter": ("actors.B.policy.speed", 2, "actors.B.policy.speed", "not a parameter of proportional"),
    "unknown noise key": ("noise.jitter", 0.1, "noise.jitter", "unknown key"),
    "unknown time key": ("time.calendar", "julian", "time.calendar", "unknown key"),
    "unknown event key": ("events.0.when", 3, "events.0.when", "unknown key"),
    "unknown spontaneous key": ("actors.M.spontaneous.rate", 0.1, "actors.M.spontaneous.rate", "unknown key"),
    "unknown outcome key": ("outcomes.peace_level", 0, "outcomes.peace_level", "unknown key"),
    # wrong types
    "n_steps not an integer": ("time.n_steps", "ten", "time.n_steps", "expected an integer"),
    "n_steps a float": ("time.n_steps", 2.5, "time.n_steps", "expected an integer"),
    "name not a string": ("actors.A.name", 5, "actors.A.name", "expected a non-empty string"),
    "noise not a number": ("noise.execution", "high", "noise.execution", "expected a probability"),
    "noise a boolean": ("noise.execution", True, "noise.execution", "expected a probability"),
    "noise not a mapping": ("noise", [0.1], "noise", "expected a mapping"),
    "events not a list": ("events", "none", "events", "expected a list"),
    "actors a list": ("actors", ["A", "B"], "actors", "expected a mapping"),
    "protects a list": ("actors.A.protects", ["M"], "actors.A.protects", "expected a mapping"),
    "protects weight not a number": ("actors.A.protects", {"M": "much"}, "actors.A.protects.M", "expected a weight"),
    "policy a number": ("actors.A.policy", 3, "actors.A.policy", "expected a policy name"),
    "policy ratio a string": ("actors.B.policy.ratio", "big", "actors.B.policy.ratio", "expected a number"),
    "kind unknown": ("actors.A.kind", "empire", "actors.A.kind", "not a kind"),
    "ladder a number": ("ladder", 5, "ladder", "expected 'default'"),
    "ladder preset unknown": ("ladder", "short", "ladder", "is not a ladder"),
    "start a list": ("time.start", [2020, 1, 3], "time.start", "expected a date"),
    "source a number": ("noise.source", 5, "noise.source", "expected a quotation"),
    "source empty": ("noise.source", [], "noise.source", "expected a quotation"),
    "schema version": ("schema_version", 2, "schema_version", "not supported"),
    # probabilities outside [0, 1]
    "perception above 1": ("noise.perception", 1.5, "noise.perception", "1.5 is not in [0, 1]"),
    "attribution negative": ("noise.attribution", -0.1, "noise.attribution", "-0.1 is not in [0, 1]"),
    "control above 1": ("actors.M.control", 2, "actors.M.control", "2 is not in [0, 1]"),
    "spontaneous above 1": ("actors.M.spontaneous.probability", 1.01, "actors.M.spontaneous.probability", "not in [0, 1]"),
    "generosity above 1": ("actors.A.policy", {"family": "generous_tit_for_tat", "generosity": 1.4},
                           "actors.A.policy.generosity", "1.4 is not in [0, 1]"),
    # policies
    "unknown family by name": ("actors.A.policy", "nice_guy", "actors.A.policy", "'nice_guy' is not a policy"),
    "unknown family in a mapping": ("actors.A.policy", {"family": "nice_guy"}, "actors.A.policy.family", "'nice_guy' is not a policy"),
    "family missing": ("actors.A.policy", {"ratio": 1}, "actors.A.policy.family", "expected a policy name"),
    # references to unknown actors
    "unknown patron": ("actors.M.patron", "Z", "actors.M.patron", "'Z' is not an actor"),
    "unknown protected actor": ("actors.A.protects", {"Z": 1}, "actors.A.protects.Z", "'Z' is not an actor"),
    "unknown policy_toward target": ("actors.A.policy_toward", {"Z": "tit_for_tat"}, "actors.A.policy_toward.Z", "unknown key"),
    "unknown event actor": ("events.0.actor", "Z", "events.0.actor", "'Z' is not an actor"),
    "unknown event target": ("events.0.target", "Z", "events.0.target", "'Z' is not an actor"),
    "unknown spontaneous target": ("actors.M.spontaneous.targets", ["B", "Z"], "actors.M.spontaneous.targets.1", "'Z' is not another actor"),
    "patron a list": ("actors.M.patron", ["A"], "actors.M.patron", "is not an actor"),
    "spontaneous target a list": ("actors.M.spontaneous.targets", [["B"]], "actors.M.spontaneous.targets.0", "is not another actor"),
    # structure
    "state with a patron": ("actors.A.patron", "B", "actors.A.patron", "only a militia has a patron"),
    "state with control": ("actors.A.control", 0.5, "actors.A.control", "only a militia has 'control'"),
    "event toward itself": ("events.0.target", "M", "events.0.target", "does not act toward itself"),
    "policy toward itself": ("actors.A.policy_toward", {"A": "tit_for_tat"}, "actors.A.policy_toward.A", "no policy toward itself"),
    # levels outside the ladder
    "event level too high": ("events.0.level", 8, "events.0.level", "8 is outside the ladder (levels 0..7)"),
    "event level unknown name": ("events.0.level", "nuclear", "events.0.level", "'nuclear' is not a level"),
    "policy cap too high": ("actors.B.policy.cap", 9, "actors.B.policy.cap", "9 is not a level on the ladder"),
    "spontaneous level too high": ("actors.M.spontaneous.level", 8, "actors.M.spontaneous.level", "outside the ladder"),
    "war level too high": ("outcomes.war_level", 8, "outcomes.war_level", "outside the ladder"),
    "war level unknown name": ("outcomes.war_level", "armageddon", "outcomes.war_level", "is not a level"),
    # scripted events outside the horizon
    "event after the horizon": ("events.0.step", 10, "events.0.step", "10 is outside the horizon (steps 0..9)"),
    "event before step 0": ("events.0.step", -1, "events.0.step", "-1 is less than 0"),
}


@pytest.mark.parametrize("path, value, key, detail", MALFORMED.values(), ids=list(MALFORMED))
def test_a_malformed_file_raises_a_scenario_error_naming_the_file_and_key(tmp_path, path, value, key, detail):
    err = load_error(tmp_path, patched(path, value))
    assert isinstance(err, ValueError)
    assert err.key == key
    assert f": {key}: " in str(err)
    assert detail in err.detail


def test_a_missing_required_key_is_named(tmp_path):
    data = copy.deepcopy(BASE)
    del data["time"]
    assert load_error(tmp_path, data).key == "time"


def test_a_militia_whose_patron_is_a_militia_is_refused(tmp_path):
    data = patched("actors.N", {"kind": "militia", "patron": "M", "policy": "tit_for_tat"})
    err = load_error(tmp_path, data)
    assert err.key == "actors.N.patron"
    assert "'M' is a militia, not a state" in str(err)


def test_a_second_event_for_the_same_step_and_pair_is_refused(tmp_path):
    data = patched("events.1", dict(BASE["events"][0]))
    assert load_error(tmp_path, data).key == "events.1"


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    err = load_error(tmp_path, "schema_version: 1\ntime: {n_steps: 10\nactors: {}\n")
    assert re.search(r"line \d+, column \d+: invalid YAML", str(err))


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    err = load_error(tmp_path, "schema_version: 1\ntime: {n_steps: 10}\ntime: {n_steps: 20}\n")
    assert "line 3" in str(err) and "'time' is given twice" in str(err)


def test_an_empty_file_is_refused(tmp_path):
    assert "empty" in str(load_error(tmp_path, ""))
    assert "empty" in str(load_error(tmp_path, "# only a comment\n"))


def test_a_file_holding_a_list_is_refused(tmp_path):
    assert "expected a mapping, got a list" in str(load_error(tmp_path, "- a\n- b\n"))


def test_a_missing_file_is_refused(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="no such file") as info:
        load_scenario(path)
    assert str(info.value).startswith(str(path))


def test_an_unknown_bundled_name_lists_the_bundled_ones():
    with pytest.raises(ScenarioError, match="us_iran_2020"):
        load_scenario("no_such_scenario")


def test_a_yaml_date_is_refused_where_it_is_impossible(tmp_path):
    # PyYAML raises a plain ValueError for an impossible date; the loader must wrap it.
    err = load_error(tmp_path, "schema_version: 1\ntime: {n_steps: 10, start: 2020-02-30}\n")
    assert "line 2" in str(err)


def test_a_yaml_date_is_read_as_its_iso_text(tmp_path):
    data = patched("time.start", datetime.date(2020, 1, 3))
    path = tmp_path / "good.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_scenario(path).time.start == "2020-01-03"


def test_a_list_used_as_a_yaml_key_is_refused(tmp_path):
    err = load_error(tmp_path, "? [a, b]\n: 1\n")
    assert "line 1" in str(err)


def test_yaml_anchors_and_merge_keys_are_allowed(tmp_path):
    # A merge key may repeat a key of the merged mapping; that is not a duplicate.
    text = (
        "schema_version: 1\n"
        "time: {n_steps: 10}\n"
        "actors:\n"
        "  A: &state {kind: state, name: A, policy: tit_for_tat}\n"
        "  B:\n"
        "    <<: *state\n"
        "    name: B\n"
    )
    path = tmp_path / "merge.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.actor("B").kind == "state" and scenario.actor("B").name == "B"


def test_a_number_too_large_for_a_float_is_refused(tmp_path):
    err = load_error(tmp_path, patched("noise.execution", 10**400))
    assert err.key == "noise.execution"
    err = load_error(tmp_path, patched("actors.B.policy.ratio", 10**400))
    assert err.key == "actors.B.policy.ratio"


def test_from_dict_names_the_file_it_is_given():
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(patched("noise.execution", 2), file="x.yaml")
    assert str(info.value).startswith("x.yaml: noise.execution: ")


def test_scenario_error_is_a_value_error():
    assert issubclass(escalation_sim.ScenarioError, ValueError)


# -- overrides --------------------------------------------------------------------------------

def test_an_override_replaces_a_policy_parameter_and_leaves_the_original_alone():
    scenario = load_scenario("us_iran_2020")
    changed = with_overrides(scenario, {"actors.USA.policy.ratio": 1.5, "noise.execution": 0.1})
    assert changed.actor("USA").policy.ratio == 1.5
    assert changed.noise.execution == 0.1
    assert scenario.actor("USA").policy.ratio == 1.0
    assert changed.hash() != scenario.hash()


def test_an_override_may_add_a_policy_parameter_and_address_list_items():
    scenario = load_scenario("us_iran_2020")
    changed = with_overrides(scenario, {"actors.USA.policy.cap": 6, "events.0.level": "harassment"})
    assert changed.actor("USA").policy.cap == 6
    assert changed.events[0].level == changed.level_names().index("harassment")


def test_an_override_may_replace_a_whole_policy():
    changed = with_overrides(load_scenario("echo_generosity"), {"actors.B.policy": "tit_for_tat"})
    assert changed.actor("B").policy.family == "tit_for_tat"


@pytest.mark.parametrize("key, value, detail", [
    ("actors.USA.policy.ratio", -1, "-1 is not in [0, "),
    ("noise.execution", 2, "2 is not in [0, 1]"),
    ("actors.KH.control", "most", "expected a probability"),
    ("outcomes.war_level", 9, "outside the ladder"),
])
def test_a_bad_override_value_raises_a_scenario_error_naming_the_key(key, value, detail):
    with pytest.raises(ScenarioError) as info:
        with_overrides(load_scenario("us_iran_2020"), {key: value})
    assert info.value.key == key
    assert detail in str(info.value)
    assert str(info.value).startswith("us_iran_2020.yaml (with overrides): ")


@pytest.mark.parametrize("key", ["actors.XYZ.policy", "nothing.here", "events.9.level", "events.x.level", "events.²"])
def test_an_override_of_a_path_that_does_not_exist_raises_a_scenario_error(key):
    with pytest.raises(ScenarioError):
        with_overrides(load_scenario("us_iran_2020"), {key: 1})


@pytest.mark.parametrize("text, expected", [
    ("a.b=1.5", ("a.b", 1.5)),
    ("noise.execution=0", ("noise.execution", 0)),
    ("x=true", ("x", True)),
    ("x=[1, 2]", ("x", [1, 2])),
    ("x=tit_for_tat", ("x", "tit_for_tat")),
    ("x={family: fixed, level: 2}", ("x", {"family": "fixed", "level": 2})),
    (" x = 3 ", ("x", 3)),
    ("x=", ("x", None)),
])
def test_parse_override_reads_the_value_as_yaml(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize("text", ["no_equals_sign", "=3", "x=[1, 2"])
def test_parse_override_refuses_what_is_not_key_equals_value(text):
    with pytest.raises(ScenarioError):
        parse_override(text)


def test_parsed_overrides_apply_like_a_mapping():
    overrides = dict(parse_override(t) for t in ["actors.USA.policy.ratio=1.5", "noise.attribution=0.9"])
    changed = with_overrides(load_scenario("us_iran_2020"), overrides)
    assert (changed.actor("USA").policy.ratio, changed.noise.attribution) == (1.5, 0.9)
