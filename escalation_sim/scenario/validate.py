"""From a plain mapping (parsed YAML) to a validated ``Scenario``. Every check names the file,
the key path and what was expected; nothing else ever escapes as an exception."""

from __future__ import annotations

import datetime
import math
from typing import Any, Callable

from ..policies import Ladder, PolicyError, make_policy
from .errors import ScenarioError
from .model import (
    SCHEMA_VERSION, Actor, Annotation, Event, Level, Noise, Outcomes, Payoffs, Scenario,
    Spontaneous, Time,
)

DEFAULT_LADDER = (
    # name, severity, expected fatalities, Goldstein value
    ("quiet", 0, 0, 0.0),
    ("verbal", 1, 0, -2.0),
    ("coercive", 2, 0, -5.0),
    ("harassment", 4, 0, -7.0),
    ("lethal_proxy", 8, 1, -9.0),
    ("state_strike", 16, 5, -10.0),
    ("direct_strike", 32, 10, -10.0),
    ("war", 64, 100, -10.0),
)
TWO_LEVEL_LADDER = (("cooperate", 0, 0, None), ("defect", 1, 0, None))
ANNOTATION_KEYS = ("source", "note")


class Reader:
    """Walks a mapping, keeping the key path for error messages."""

    def __init__(self, file: str):
        self.file = file
        self.annotations: list[Annotation] = []

    def fail(self, path: str, detail: str):
        raise ScenarioError(self.file, path, detail)

    def mapping(self, value, path, allowed: tuple[str, ...], *, required=(), annotated=True) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_show(value)}")
        value = dict(value)
        if annotated:
            self._annotation(value, path)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                self.fail(_join(path, key), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "missing")
        return value

    def _annotation(self, value: dict, path: str):
        source = value.pop("source", None)
        note = value.pop("note", None)
        if source is None and note is None:
            return
        quotes = [source] if isinstance(source, str) else [] if source is None else source
        if not isinstance(quotes, list) or (source is not None and not quotes) or not all(isinstance(q, str) and q for q in quotes):
            self.fail(_join(path, "source"), "expected a quotation (a string) or a list of them")
        if note is not None and not isinstance(note, str):
            self.fail(_join(path, "note"), f"expected text, got {_show(note)}")
        self.annotations.append(Annotation(path, tuple(quotes), note))

    def string(self, value, path, *, optional=False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected a non-empty string, got {_show(value)}")
        return value

    def number(self, value, path, *, low=-math.inf, high=math.inf, what="a number") -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            self.fail(path, f"expected {what}, got {_show(value)}")
        if isinstance(value, int) and not -1e308 < value < 1e308:
            self.fail(path, f"expected {what}, got an integer too large for a float")
        if not low <= value <= high:
            self.fail(path, f"{value!r} is not in [{_num(low)}, {_num(high)}]")
        return value

    def probability(self, value, path) -> float:
        return float(self.number(value, path, low=0.0, high=1.0, what="a probability"))

    def integer(self, value, path, *, low=0, high=None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {_show(value)}")
        if value < low or (high is not None and value > high):
            upper = "" if high is None else f"..{high}"
            self.fail(path, f"{value} is not in {low}{upper}" if high is not None else f"{value} is less than {low}")
        return value


def _finite(x) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an int beyond float range: reported as such by the caller
        return True


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _show(value) -> str:
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return repr(value)


def _num(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


TOP_KEYS = ("schema_version", "name", "title", "description", "document", "time", "ladder",
            "actors", "noise", "events", "outcomes", "payoffs")


def build_scenario(data: Any, *, file: str) -> Scenario:
    r = Reader(file)
    if data is None:
        r.fail("", "the scenario is empty; expected a mapping with at least 'time' and 'actors'")
    top = r.mapping(data, "", TOP_KEYS, required=("schema_version", "time", "actors"))
    version = top["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        r.fail("schema_version", f"{version!r} is not supported (expected {SCHEMA_VERSION})")
    ladder = _ladder(r, top.get("ladder", "default"))
    time = _time(r, top["time"])
    levels = _level_parser(r, ladder)
    actors = _actors(r, top["actors"], ladder, levels)
    noise = r.mapping(top.get("noise", {}), "noise", ("perception", "execution", "attribution"))
    scenario = Scenario(
        name=r.string(top.get("name", _stem(file)), "name"),
        title=r.string(top.get("title", top.get("name", _stem(file))), "title"),
        description=_text(r, top.get("description", ""), "description"),
        document=r.string(top.get("document"), "document", optional=True),
        ladder=ladder,
        actors=actors,
        time=time,
        noise=Noise(**{k: r.probability(v, f"noise.{k}") for k, v in noise.items()}),
        events=_events(r, top.get("events", []), actors, time, levels),
        outcomes=_outcomes(r, top.get("outcomes", {}), ladder, levels),
        payoffs=_payoffs(r, top.get("payoffs"), ladder),
        schema_version=version,
        path=None if file.startswith("<") else file,
    )
    return _with_annotations(scenario, r.annotations)


def _with_annotations(scenario: Scenario, annotations) -> Scenario:
    from dataclasses import replace

    return replace(scenario, annotations=tuple(sorted(annotations, key=lambda a: a.path)))


def _stem(file: str) -> str:
    name = file.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name or "scenario"


def _text(r: Reader, value, path) -> str:
    if not isinstance(value, str):
        r.fail(path, f"expected text, got {_show(value)}")
    return value


def _ladder(r: Reader, value) -> tuple[Level, ...]:
    presets = {"default": DEFAULT_LADDER, "two_level": TWO_LEVEL_LADDER}
    if isinstance(value, str):
        if value not in presets:
            r.fail("ladder", f"{value!r} is not a ladder (known: {', '.join(presets)}, or a list of levels)")
        return tuple(Level(n, float(s), float(f), g) for n, s, f, g in presets[value])
    if not isinstance(value, list) or len(value) < 2:
        r.fail("ladder", f"expected 'default', 'two_level' or a list of at least two levels, got {_show(value)}")
    levels = []
    for k, item in enumerate(value):
        path = f"ladder.{k}"
        m = r.mapping(item, path, ("name", "severity", "fatalities", "goldstein", "cameo"), required=("name",))
        default_severity = 0.0 if k == 0 else float(2 ** (k - 1))
        cameo = m.get("cameo", [])
        if not isinstance(cameo, list) or not all(isinstance(c, (str, int)) for c in cameo):
            r.fail(f"{path}.cameo", f"expected a list of CAMEO codes, got {_show(cameo)}")
        level = Level(
            name=r.string(m["name"], f"{path}.name"),
            severity=float(r.number(m.get("severity", default_severity), f"{path}.severity", low=0)),
            fatalities=float(r.number(m.get("fatalities", 0), f"{path}.fatalities", low=0)),
            goldstein=None if m.get("goldstein") is None else float(r.number(m["goldstein"], f"{path}.goldstein", low=-10, high=10)),
            cameo=tuple(str(c) for c in cameo),
        )
        if k == 0 and (level.severity or level.fatalities):
            r.fail(path, "level 0 is quiet: its severity and fatalities must be 0")
        if k > 0 and level.severity < levels[-1].severity:
            r.fail(f"{path}.severity", f"{level.severity:g} is below the level beneath it ({levels[-1].severity:g}); severities must not decrease")
        if level.name in [lv.name for lv in levels]:
            r.fail(f"{path}.name", f"{level.name!r} names two levels")
        levels.append(level)
    if len(levels) > 100:
        r.fail("ladder", f"{len(levels)} levels; at most 100 are supported")
    return tuple(levels)


def _level_parser(r: Reader, ladder) -> Callable[[Any, str], int]:
    names = [lv.name for lv in ladder]

    def level(value, path) -> int:
        if isinstance(value, str):
            if value not in names:
                r.fail(path, f"{value!r} is not a level (known: {', '.join(names)})")
            return names.index(value)
        if isinstance(value, bool) or not isinstance(value, int):
            r.fail(path, f"expected a level name or number, got {_show(value)}")
        if not 0 <= value < len(ladder):
            r.fail(path, f"{value} is outside the ladder (levels 0..{len(ladder) - 1})")
        return value

    return level


def _time(r: Reader, value) -> Time:
    m = r.mapping(value, "time", ("n_steps", "step_length", "step_unit", "start", "prob_end"), required=("n_steps",))
    start = m.get("start")
    if isinstance(start, datetime.date):
        start = start.isoformat()  # YAML reads an unquoted ISO date as a date
    elif start is not None and not isinstance(start, str):
        r.fail("time.start", f"expected a date (2020-01-03), got {_show(start)}")
    return Time(
        n_steps=r.integer(m["n_steps"], "time.n_steps", low=1, high=10**6),
        step_length=r.number(m.get("step_length", 1), "time.step_length", low=1e-9),
        step_unit=r.string(m.get("step_unit", "day"), "time.step_unit"),
        start=start,
        prob_end=_prob_end(r, m.get("prob_end", 0.0)),
    )


def _prob_end(r: Reader, value) -> float:
    """``time.prob_end``: a probability below 1 (at 1 every run would end after one step)."""
    p = r.probability(value, "time.prob_end")
    if p >= 1:
        r.fail("time.prob_end", f"{value!r} is not in [0, 1); a run ends after each step with this probability")
    return p


ACTOR_KEYS = ("name", "kind", "patron", "protects", "control", "spontaneous", "policy", "policy_toward")
ACTOR_KEYS += ("codes",)  # event-data codes of the actor, for reading timelines


def _actors(r: Reader, value, ladder, level) -> tuple[Actor, ...]:
    if not isinstance(value, dict) or not value:
        r.fail("actors", f"expected a mapping of actor ids to actors, got {_show(value)}")
    if len(value) < 2:
        r.fail("actors", "a scenario needs at least two actors")
    ids = [str(k) for k in value]
    known = f"(known: {', '.join(sorted(ids))})"
    raw = {}
    for actor_id, item in value.items():
        path = f"actors.{actor_id}"
        if not isinstance(actor_id, str) or not actor_id.isidentifier():
            r.fail(path, "an actor id must be a name of letters, digits and underscores")
        raw[actor_id] = r.mapping(item, path, ACTOR_KEYS, required=("kind", "policy"))
        if raw[actor_id]["kind"] not in ("state", "militia"):
            r.fail(f"{path}.kind", f"{raw[actor_id]['kind']!r} is not a kind (expected 'state' or 'militia')")
    policy_ladder = Ladder(tuple(lv.severity for lv in ladder))
    actors = []
    for actor_id, m in raw.items():
        path = f"actors.{actor_id}"
        kind = m["kind"]
        patron = m.get("patron")
        if kind == "militia":
            if patron is None:
                r.fail(f"{path}.patron", "missing: a militia needs a patron (a state)")
            if not isinstance(patron, str) or patron not in raw:
                r.fail(f"{path}.patron", f"{patron!r} is not an actor {known}")
            if raw[patron]["kind"] != "state":
                r.fail(f"{path}.patron", f"{patron!r} is a {raw[patron]['kind']}, not a state")
        elif patron is not None:
            r.fail(f"{path}.patron", "only a militia has a patron")
        if "control" in m and kind != "militia":
            r.fail(f"{path}.control", "only a militia has 'control'")
        protects = _protects(r, m.get("protects", {}), f"{path}.protects", actor_id, raw, known)
        policy = _policy(r, m["policy"], f"{path}.policy", policy_ladder)
        toward = r.mapping(m.get("policy_toward", {}), f"{path}.policy_toward", tuple(raw), annotated=False)
        toward_pairs = []
        for target, spec in toward.items():
            if target == actor_id:
                r.fail(f"{path}.policy_toward.{target}", "an actor has no policy toward itself")
            toward_pairs.append((target, _policy(r, spec, f"{path}.policy_toward.{target}", policy_ladder)))
        actors.append(Actor(
            id=actor_id,
            name=r.string(m.get("name", actor_id), f"{path}.name"),
            kind=kind,
            policy=policy,
            policy_toward=tuple(toward_pairs),
            patron=patron,
            protects=protects,
            control=r.probability(m.get("control", 0.0), f"{path}.control"),
            spontaneous=_spontaneous(r, m.get("spontaneous"), f"{path}.spontaneous", actor_id, kind, patron, raw, level),
            codes=_codes(r, m.get("codes", []), f"{path}.codes"),
        ))
    _distinct_codes(r, actors)
    return tuple(actors)


def _distinct_codes(r: Reader, actors) -> None:
    owner: dict[str, str] = {}
    for actor in actors:
        for k, code in enumerate(actor.codes):
            if owner.setdefault(code, actor.id) != actor.id:
                r.fail(f"actors.{actor.id}.codes.{k}", f"{code!r} is already a code of {owner[code]}")


def _codes(r, value, path) -> tuple[str, ...]:
    """An actor's codes in event data: a list of distinct non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        r.fail(path, f"expected a list of actor codes (strings such as USAGOV), got {_show(value)}")
    for k, code in enumerate(value):
        if code in value[:k]:
            r.fail(f"{path}.{k}", f"{code!r} is listed twice")
    return tuple(value)


def _protects(r, value, path, actor_id, raw, known):
    if not isinstance(value, dict):
        r.fail(path, f"expected a mapping of actor ids to weights, got {_show(value)}")
    pairs = []
    for other, weight in value.items():
        if other not in raw:
            r.fail(f"{path}.{other}", f"{other!r} is not an actor {known}")
        if other == actor_id:
            r.fail(f"{path}.{other}", "an actor does not protect itself")
        pairs.append((other, float(r.number(weight, f"{path}.{other}", low=0, high=10, what="a weight"))))
    return tuple(pairs)


def _policy(r: Reader, spec, path, ladder):
    if isinstance(spec, dict):
        spec = r.mapping(spec, path, tuple(k for k in spec if isinstance(k, str)), annotated=True)
    try:
        policy = make_policy(spec)
        policy.check(ladder)
    except PolicyError as exc:
        key = path if exc.key == "family" and not isinstance(spec, dict) else f"{path}.{exc.key}"
        r.fail(key, exc.detail)
    return policy


def _spontaneous(r, value, path, actor_id, kind, patron, raw, level):
    if value is None:
        return None
    if kind != "militia":
        r.fail(path, "only a militia attacks spontaneously")
    m = r.mapping(value, path, ("probability", "level", "targets"), required=("probability", "level"))
    default = [a for a in raw if a not in (actor_id, patron)]
    targets = m.get("targets", default)
    if not isinstance(targets, list) or not targets:
        got = "an empty list" if targets == [] else _show(targets)
        r.fail(f"{path}.targets", f"expected a non-empty list of actor ids, got {got}")
    for k, t in enumerate(targets):
        if not isinstance(t, str) or t not in raw or t == actor_id:
            r.fail(f"{path}.targets.{k}", f"{t!r} is not another actor (known: {', '.join(sorted(raw))})")
    return Spontaneous(
        probability=r.probability(m["probability"], f"{path}.probability"),
        level=level(m["level"], f"{path}.level"),
        targets=tuple(targets),
    )


def _events(r, value, actors, time, level) -> tuple[Event, ...]:
    if not isinstance(value, list):
        r.fail("events", f"expected a list of events, got {_show(value)}")
    ids = [a.id for a in actors]
    known = f"(known: {', '.join(sorted(ids))})"
    events = []
    for k, item in enumerate(value):
        path = f"events.{k}"
        m = r.mapping(item, path, ("step", "actor", "target", "level"), required=("step", "actor", "target", "level"))
        step = r.integer(m["step"], f"{path}.step")
        if step >= time.n_steps:
            r.fail(f"{path}.step", f"{step} is outside the horizon (steps 0..{time.n_steps - 1})")
        for key in ("actor", "target"):
            if m[key] not in ids:
                r.fail(f"{path}.{key}", f"{m[key]!r} is not an actor {known}")
        if m["actor"] == m["target"]:
            r.fail(f"{path}.target", "an actor does not act toward itself")
        event = Event(step, m["actor"], m["target"], level(m["level"], f"{path}.level"))
        if any((e.step, e.actor, e.target) == (step, event.actor, event.target) for e in events):
            r.fail(path, f"a second event for {event.actor} -> {event.target} in step {step}")
        events.append(event)
    return tuple(events)


def _outcomes(r, value, ladder, level) -> Outcomes:
    m = r.mapping(value, "outcomes", ("war_level", "quiet_steps"))
    war = m.get("war_level", len(ladder) - 1 if len(ladder) > 2 else None)
    quiet = m.get("quiet_steps", 14 if len(ladder) > 2 else None)
    return Outcomes(
        war_level=None if war is None else level(war, "outcomes.war_level"),
        quiet_steps=None if quiet is None else r.integer(quiet, "outcomes.quiet_steps", low=1),
    )


def _payoffs(r, value, ladder) -> Payoffs:
    n = len(ladder)
    if value is None:
        return Payoffs(pd=(3.0, 0.0, 5.0, 1.0)) if n == 2 else Payoffs()
    m = r.mapping(value, "payoffs", ("R", "S", "T", "P", "matrix", "own_cost"))
    forms = [k for k in ("matrix", "own_cost") if k in m] + (["R, S, T, P"] if set(m) & set("RSTP") else [])
    if len(forms) > 1:
        r.fail("payoffs", f"give one form of payoffs, not {' and '.join(forms)}")
    if set(m) & set("RSTP"):
        if n != 2:
            r.fail("payoffs", f"R, S, T, P are for two-level ladders; this ladder has {n} levels (give 'matrix')")
        missing = [k for k in "RSTP" if k not in m]
        if missing:
            r.fail(f"payoffs.{missing[0]}", "missing (give all of R, S, T, P)")
        return Payoffs(pd=tuple(float(r.number(m[k], f"payoffs.{k}")) for k in "RSTP"))
    if "matrix" in m:
        rows = m["matrix"]
        if not isinstance(rows, list) or len(rows) != n or not all(isinstance(row, list) and len(row) == n for row in rows):
            r.fail("payoffs.matrix", f"expected {n} rows of {n} numbers (own level x other's level)")
        return Payoffs(matrix=tuple(tuple(float(r.number(x, f"payoffs.matrix.{i}.{j}")) for j, x in enumerate(row)) for i, row in enumerate(rows)))
    return Payoffs(own_cost=float(r.number(m.get("own_cost", 0.5), "payoffs.own_cost", low=0)))
