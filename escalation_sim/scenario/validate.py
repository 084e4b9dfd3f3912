"""From a plain mapping (parsed YAML) to a validated ``Scenario``. Every check names the file,
the key path and what was expected; nothing else ever escapes as an exception."""

from __future__ import annotations

import datetime
import math
from typing import Any, Callable

from .._text import show
from ..policies import Ladder, PolicyError, make_policy
from .errors import ScenarioError
from .model import (
    SCHEMA_VERSION, Actor, Annotation, Event, Level, Noise, Outcomes, Payoffs, Scenario,
    Spontaneous, Time,
)
from .model import ALLY_RATES, Alliance, Rates

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

# The ranges of the scenario's numbers (docs/scenario-format.md, "Numbers and their ranges"),
# chosen so that every count the core keeps is exact in its dtype: levels in int8, steps in
# int32, fatalities in int64 (a Poisson draw whose mean, at most MAX_LEVEL_VALUE x
# MAX_STEPS x pairs, stays far below 2**53), harms and payoffs in float64 (see the docs for when exactly).
#: Magnitude bound of every real-valued field (severity, fatalities, payoffs, policy ratios).
LIMIT = 1e6
#: Bound of every count (steps, quiet steps).
COUNT_LIMIT = 10**6
MAX_STEPS = 10**6
MAX_LEVELS = 100
MAX_ACTORS = 100
MAX_ID = 64
MAX_EVENTS = 10**6
ANNOTATION_KEYS = ("source", "note")


class _Abort(Exception):
    """Stops the check of one part of a scenario; its problem is already recorded."""


class Reader:
    """Walks a mapping, keeping the key path for error messages, and collects every problem:
    a part that fails is recorded and skipped (``attempt``), and the checks go on, so that one
    ``ScenarioError`` names every problem of a file."""

    def __init__(self, file: str):
        self.file = file
        self.annotations: list[Annotation] = []
        self.errors: list[tuple[str, str]] = []

    def note(self, path: str, detail: str) -> None:
        """Record a problem and go on."""
        self.errors.append((path, detail))

    def fail(self, path: str, detail: str):
        """Record a problem and abandon the part being read."""
        self.note(path, detail)
        raise _Abort

    def attempt(self, read: Callable, *args, default=None, **kwargs):
        """``read(*args, **kwargs)``, or ``default`` if it failed (its problems recorded)."""
        try:
            return read(*args, **kwargs)
        except _Abort:
            return default

    def error(self) -> ScenarioError:
        return ScenarioError.many(self.file, self.errors)

    def mapping(self, value, path, allowed: tuple[str, ...], *, required=(), annotated=True) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_show(value)}")
        value = dict(value)
        if annotated:
            self.attempt(self._annotation, value, path)
        before = len(self.errors)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                self.note(_join(path, key), f"unknown key (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in value:
                self.note(_join(path, key), "missing")
        if len(self.errors) > before:
            raise _Abort
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

    def number(self, value, path, *, low=-LIMIT, high=LIMIT, what="a number", above=None) -> float:
        """A real number in ``[low, high]`` (``(above, high]`` when ``above`` is given). Every
        number of a scenario is read here, so one rule holds for all: an int or a float, not
        a boolean nor a string, finite, and within the field's range (``docs/scenario-format.md``)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            self.fail(path, f"expected {what}, got {_show(value)}")
        if isinstance(value, int) and not -1e308 < value < 1e308:
            self.fail(path, f"expected {what}, got an integer too large for a float")
        if above is not None and not (above < value <= high):
            self.fail(path, f"{_show(value)} is not in ({_num(above)}, {_num(high)}]")
        if above is None and not low <= value <= high:
            self.fail(path, f"{_show(value)} is not in [{_num(low)}, {_num(high)}]")
        return value

    def probability(self, value, path) -> float:
        return float(self.number(value, path, low=0.0, high=1.0, what="a probability"))

    def integer(self, value, path, *, low=0, high=COUNT_LIMIT) -> int:
        """A whole number in ``low..high`` (an int, not a boolean nor a float)."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {_show(value)}")
        if value < low:
            self.fail(path, f"{_show(value)} is less than {low}")
        if value > high:
            self.fail(path, f"{_show(value)} is not in {low}..{high}")
        return value


def _finite(x) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an int beyond float range: reported as such by the caller
        return True


def _join(path: str, key) -> str:
    key = key if isinstance(key, str) and len(key) <= 60 else _show(key)
    return f"{path}.{key}" if path else key


def _show(value) -> str:
    """A value as quoted in a message, at most about 60 characters whatever its size."""
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return show(value)


def _num(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


TOP_KEYS = ("schema_version", "name", "title", "description", "document", "time", "ladder",
            "actors", "noise", "events", "outcomes", "payoffs")
TOP_KEYS += ("allies",)  # pairs that do not answer each other as enemies do


def build_scenario(data: Any, *, file: str) -> Scenario:
    """Validate ``data`` (parsed YAML, or ``to_dict()``'s mapping) into a ``Scenario``.

    Raises
    ------
    ScenarioError
        Naming every problem found (``errors``), each with its key path.
    """
    r = Reader(file)
    if data is None:
        raise ScenarioError(file, "", "the scenario is empty; expected a mapping with at least 'time' and 'actors'")
    if not isinstance(data, dict):
        # Say what it is, never what it holds: a file that is not a scenario may be private.
        what = "text" if isinstance(data, str) else f"a {type(data).__name__}"
        raise ScenarioError(file, "", f"not a scenario: expected a mapping, got {what} (a scenario has at "
                                      "least 'schema_version', 'time' and 'actors')")
    if not {"schema_version", "time", "actors"} & set(data):
        raise ScenarioError(file, "", "not a scenario: a mapping without 'schema_version', 'time' or 'actors'")
    try:
        scenario = _build(r, data, file)
    except _Abort:
        scenario = None
    if r.errors:
        raise r.error()
    return scenario


def _build(r: Reader, data: dict, file: str) -> Scenario:
    top = r.attempt(r.mapping, data, "", TOP_KEYS, required=("schema_version", "time", "actors"))
    if top is None:  # unknown or missing top-level keys: read what is there all the same
        top = {k: v for k, v in data.items() if k in TOP_KEYS}
    version = top.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        r.note("schema_version", f"{_show(version)} is not supported (expected {SCHEMA_VERSION})")
    ladder = r.attempt(_ladder, r, top.get("ladder", "default"))
    time = r.attempt(_time, r, top["time"]) if "time" in top else None
    noise = r.attempt(_noise, r, top.get("noise", {}))
    header = r.attempt(_header, r, top, file)
    if ladder is None or "actors" not in top:
        raise _Abort  # what follows refers to levels and actors
    levels = _level_parser(r, ladder)
    actors = r.attempt(_actors, r, top["actors"], ladder, levels)
    outcomes = r.attempt(_outcomes, r, top.get("outcomes", {}), ladder, levels)
    payoffs = r.attempt(_payoffs, r, top.get("payoffs"), ladder)
    ids = {k for k in top["actors"] if isinstance(k, str)} if isinstance(top["actors"], dict) else set()
    events = r.attempt(_events, r, top.get("events", []), ids, _horizon(time, top.get("time")), levels)
    allies = r.attempt(_allies, r, top.get("allies", []), ids)
    if r.errors:
        raise _Abort
    actors = tuple(_with_allies(a, allies) for a in actors)
    scenario = Scenario(
        **header, ladder=ladder, actors=actors, time=time, noise=noise, events=events, outcomes=outcomes,
        payoffs=payoffs, schema_version=version, path=None if file.startswith("<") else file, allies=allies,
    )
    return _with_annotations(scenario, r.annotations)


def _horizon(time: Time | None, raw) -> int | None:
    """The number of steps, also when another field of ``time`` has a problem."""
    if time is not None:
        return time.n_steps
    n = raw.get("n_steps") if isinstance(raw, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_STEPS else None


def _header(r: Reader, top: dict, file: str) -> dict:
    return {
        "name": r.attempt(r.string, top.get("name", _stem(file)), "name"),
        "title": r.attempt(r.string, top.get("title", top.get("name", _stem(file))), "title"),
        "description": r.attempt(_text, r, top.get("description", ""), "description"),
        "document": r.attempt(r.string, top.get("document"), "document", optional=True),
    }


def _noise(r: Reader, value) -> Noise:
    m = r.mapping(value, "noise", ("perception", "execution", "attribution", "false_alarm"))
    values = {k: r.attempt(r.probability, v, f"noise.{k}") for k, v in m.items()}
    if None in values.values():
        raise _Abort
    return Noise(**values)


def _rates(r: Reader, value, path, *, default=Rates()) -> Rates:
    """A mapping of noise rates (``perception``, ``false_alarm``, ``execution``), each a
    probability; a rate left out is ``default``'s."""
    m = r.mapping(value, path, Rates.KEYS, annotated=False)
    values = {k: r.attempt(r.probability, v, f"{path}.{k}") for k, v in m.items()}
    if None in values.values():
        raise _Abort
    return Rates(**{k: values.get(k, getattr(default, k)) for k in Rates.KEYS})


def _allies(r: Reader, value, ids) -> tuple[Alliance, ...]:
    """``allies``: a list of ``{actors: [a, b], relation: text, noise: rates}``."""
    if not isinstance(value, list):
        r.fail("allies", f"expected a list of alliances ({{actors: [IRN, KH]}}), got {_show(value)}")
    out, seen = [], set()
    for k, item in enumerate(value):
        path = f"allies.{k}"
        m = r.mapping(item, path, ("actors", "relation", "noise"), required=("actors",))
        pair = m["actors"]
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(a, str) for a in pair)):
            r.fail(f"{path}.actors", f"expected two actor ids, got {_show(pair)}")
        for a in pair:
            if a not in ids:
                r.fail(f"{path}.actors", f"{_show(a)} is not an actor (known: {', '.join(sorted(ids))})")
        if pair[0] == pair[1]:
            r.fail(f"{path}.actors", "an actor is not its own ally")
        if frozenset(pair) in seen:
            r.fail(f"{path}.actors", f"{pair[0]} and {pair[1]} are already allies")
        seen.add(frozenset(pair))
        relation = r.string(m.get("relation", "allies"), f"{path}.relation")
        noise = _rates(r, m.get("noise", {}), f"{path}.noise", default=ALLY_RATES)
        out.append(Alliance(tuple(pair), relation, noise))
    return tuple(out)


def _with_allies(actor: Actor, allies) -> Actor:
    from dataclasses import replace

    mine = tuple(b for a in allies for b in a.actors if actor.id in a.actors and b != actor.id)
    return replace(actor, allies=mine) if mine else actor


def _noise_toward(r: Reader, value, path, actor_id, ids):
    toward = r.mapping(value, f"{path}.noise_toward", tuple(k for k in ids if isinstance(k, str)), annotated=False)
    pairs = []
    for target, spec in toward.items():
        if target == actor_id:
            r.fail(f"{path}.noise_toward.{target}", "an actor has no noise toward itself")
        pairs.append((target, _rates(r, spec, f"{path}.noise_toward.{target}")))
    return tuple(pairs)


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
            r.fail("ladder", f"{_show(value)} is not a ladder (known: {', '.join(presets)}, or a list of levels)")
        return tuple(Level(n, float(s), float(f), g) for n, s, f, g in presets[value])
    if not isinstance(value, list) or len(value) < 2:
        r.fail("ladder", f"expected 'default', 'two_level' or a list of at least two levels, got {_show(value)}")
    if len(value) > MAX_LEVELS:
        r.fail("ladder", f"{len(value)} levels; at most {MAX_LEVELS} are supported")
    # A level with a problem is recorded and stands in by its name, so that the actors and
    # events that refer to the ladder are still checked.
    levels = [r.attempt(_level, r, k, item) for k, item in enumerate(value)]
    standing_in = {k for k, level in enumerate(levels) if level is None}
    levels = [_stand_in(item, k) if k in standing_in else level for k, (item, level) in enumerate(zip(value, levels))]
    names = set()
    for k, level in enumerate(levels):
        path = f"ladder.{k}"
        if k in standing_in or k - 1 in standing_in:
            continue
        if k == 0 and (level.severity or level.fatalities):
            r.note(path, "level 0 is quiet: its severity and fatalities must be 0")
        if k > 0 and level.severity < levels[k - 1].severity:
            r.note(f"{path}.severity", f"{level.severity:g} is below the level beneath it "
                                       f"({levels[k - 1].severity:g}); severities must not decrease")
        if level.name in names:
            r.note(f"{path}.name", f"{_show(level.name)} names two levels")
        names.add(level.name)
    return tuple(levels)


def _stand_in(item, k: int) -> Level:
    name = item.get("name") if isinstance(item, dict) else None
    return Level(name if isinstance(name, str) else f"<level {k}>", 0.0 if k == 0 else float(2 ** (k - 1)), 0.0)


def _level(r: Reader, k: int, item) -> Level:
    path = f"ladder.{k}"
    m = r.mapping(item, path, ("name", "severity", "fatalities", "goldstein", "cameo"), required=("name",))
    default_severity = 0.0 if k == 0 else float(2 ** (k - 1))
    cameo = m.get("cameo", [])
    if not isinstance(cameo, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in cameo):
        r.fail(f"{path}.cameo", f"expected a list of CAMEO codes, got {_show(cameo)}")
    goldstein = m.get("goldstein")
    parts = (
        r.attempt(r.string, m["name"], f"{path}.name"),
        r.attempt(r.number, m.get("severity", default_severity), f"{path}.severity", low=0),
        r.attempt(r.number, m.get("fatalities", 0), f"{path}.fatalities", low=0),
        None if goldstein is None else r.attempt(r.number, goldstein, f"{path}.goldstein", low=-10, high=10),
    )
    if None in parts[:3] or (goldstein is not None and parts[3] is None):
        raise _Abort
    name, severity, fatalities, goldstein = parts
    return Level(name=name, severity=float(severity), fatalities=float(fatalities),
                 goldstein=None if goldstein is None else float(goldstein), cameo=tuple(str(c) for c in cameo))


def _level_parser(r: Reader, ladder) -> Callable[[Any, str], int]:
    names = {lv.name: k for k, lv in enumerate(ladder)}

    def level(value, path, *, low: int = 0) -> int:
        if isinstance(value, str):
            if value not in names:
                r.fail(path, f"{_show(value)} is not a level (known: {', '.join(names)})")
            value = names[value]
        elif isinstance(value, bool) or not isinstance(value, int):
            r.fail(path, f"expected a level name or number, got {_show(value)}")
        elif not 0 <= value < len(ladder):
            r.fail(path, f"{_show(value)} is outside the ladder (levels 0..{len(ladder) - 1})")
        if value < low:
            r.fail(path, f"{ladder[value].name} ({value}) is below level {low}: level 0 is quiet, "
                         f"so it cannot be {path.rsplit('.', 1)[-1]}")
        return value

    return level


def _time(r: Reader, value) -> Time:
    m = r.mapping(value, "time", ("n_steps", "step_length", "step_unit", "start", "prob_end"), required=("n_steps",))
    parts = (
        r.attempt(r.integer, m["n_steps"], "time.n_steps", low=1, high=MAX_STEPS),
        r.attempt(r.number, m.get("step_length", 1), "time.step_length", above=0),
        r.attempt(r.string, m.get("step_unit", "day"), "time.step_unit"),
        r.attempt(_date, r, m.get("start"), "time.start"),
        r.attempt(_prob_end, r, m.get("prob_end", 0.0), default=0.0),
    )
    if None in parts[:3] or parts[4] is None:
        raise _Abort
    _calendar_bound(r, *parts[:4])
    return Time(*parts)


#: Days in one step unit, rounded up, for the calendar bound; other units have no dates.
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 31, "year": 366}
#: The range of the dates computed from a start date (pandas' nanosecond Timestamp), with a
#: margin, and the longest horizon in days (its Timedelta holds about 292 years).
CALENDAR = (datetime.date(1678, 1, 1), datetime.date(2262, 1, 1))
MAX_SPAN_DAYS = 105_000


def _calendar_bound(r: Reader, n_steps: int, step_length: float, step_unit: str, start: str | None) -> None:
    """With a start date and a calendar unit, steps 0 .. n_steps must all have dates."""
    days = _UNIT_DAYS.get(step_unit.lower().removesuffix("s"))
    if start is None or days is None:
        return
    first = datetime.date.fromisoformat(start)
    span = n_steps * step_length * days
    if not CALENDAR[0] <= first or span > min(MAX_SPAN_DAYS, (CALENDAR[1] - first).days):
        r.fail("time.step_length", f"time.start {start} plus n_steps x step_length = {n_steps * step_length:g} "
                                   f"{step_unit} leaves the calendar ({CALENDAR[0]} .. {CALENDAR[1]}, at most "
                                   f"{MAX_SPAN_DAYS:,} days); use fewer or shorter steps, or no time.start")


def _prob_end(r: Reader, value) -> float:
    """``time.prob_end``: a probability below 1 (at 1 every run would end after one step)."""
    p = r.probability(value, "time.prob_end")
    if p >= 1:
        r.fail("time.prob_end", f"{_show(value)} is not in [0, 1); a run ends after each step with this probability")
    return p


def _date(r: Reader, value, path) -> str | None:
    """An ISO calendar date (``2020-01-03``), as YAML's date or as text; ``None`` if absent."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        r.fail(path, f"expected a date (2020-01-03), got a date and time {_show(value)}")
    if isinstance(value, datetime.date):
        return value.isoformat()  # YAML reads an unquoted ISO date as a date
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    r.fail(path, f"expected a date (2020-01-03), got {_show(value)}")


ACTOR_KEYS = ("name", "kind", "patron", "protects", "control", "spontaneous", "policy", "policy_toward")
ACTOR_KEYS += ("codes",)  # event-data codes of the actor, for reading timelines
ACTOR_KEYS += ("noise", "noise_toward")  # the actor's own noise rates, and per target


def _actors(r: Reader, value, ladder, level) -> tuple[Actor, ...]:
    if not isinstance(value, dict) or not value:
        r.fail("actors", f"expected a mapping of actor ids to actors, got {_show(value)}")
    if len(value) < 2:
        r.fail("actors", "a scenario needs at least two actors")
    if len(value) > MAX_ACTORS:
        r.fail("actors", f"{len(value)} actors; at most {MAX_ACTORS} are supported")
    raw = {}
    for actor_id, item in value.items():
        m = r.attempt(_raw_actor, r, actor_id, item)
        if m is not None:
            raw[actor_id] = m
    known = f"(known: {', '.join(sorted(str(k) for k in value))})"
    policy_ladder = Ladder(tuple(lv.severity for lv in ladder))
    actors = [r.attempt(_actor, r, actor_id, m, raw, value, known, policy_ladder, level) for actor_id, m in raw.items()]
    if None in actors or len(actors) < len(value):
        raise _Abort
    _distinct_codes(r, actors)
    return tuple(actors)


def _raw_actor(r: Reader, actor_id, item) -> dict:
    path = f"actors.{_key(actor_id)}"
    if not isinstance(actor_id, str) or not actor_id.isidentifier() or len(actor_id) > MAX_ID:
        r.fail(path, f"an actor id must be a name of letters, digits and underscores, at most {MAX_ID} long")
    m = r.mapping(item, path, ACTOR_KEYS, required=("kind", "policy"))
    if m["kind"] not in ("state", "militia"):
        r.fail(f"{path}.kind", f"{_show(m['kind'])} is not a kind (expected 'state' or 'militia')")
    return m


def _actor(r: Reader, actor_id, m, raw, ids, known, policy_ladder, level) -> Actor:
    path = f"actors.{actor_id}"
    kind = m["kind"]
    patron = m.get("patron")
    before = len(r.errors)
    if kind == "militia":
        if patron is None:
            r.note(f"{path}.patron", "missing: a militia needs a patron (a state)")
        elif not isinstance(patron, str) or patron not in ids:
            r.note(f"{path}.patron", f"{_show(patron)} is not an actor {known}")
        elif patron in raw and raw[patron]["kind"] != "state":
            r.note(f"{path}.patron", f"{_show(patron)} is a {raw[patron]['kind']}, not a state")
    elif patron is not None:
        r.note(f"{path}.patron", "only a militia has a patron")
    if "control" in m and kind != "militia":
        r.note(f"{path}.control", "only a militia has 'control'")
    protects = r.attempt(_protects, r, m.get("protects", {}), f"{path}.protects", actor_id, ids, known)
    policy = r.attempt(_policy, r, m["policy"], f"{path}.policy", policy_ladder)
    toward_pairs = r.attempt(_policy_toward, r, m.get("policy_toward", {}), path, actor_id, ids, policy_ladder)
    name = r.attempt(r.string, m.get("name", actor_id), f"{path}.name")
    control = r.attempt(r.probability, m.get("control", 0.0), f"{path}.control")
    spontaneous = r.attempt(_spontaneous, r, m.get("spontaneous"), f"{path}.spontaneous", actor_id, kind, patron, ids, level)
    codes = r.attempt(_codes, r, m.get("codes", []), f"{path}.codes")
    noise = r.attempt(_rates, r, m.get("noise", {}), f"{path}.noise")
    noise_toward = r.attempt(_noise_toward, r, m.get("noise_toward", {}), path, actor_id, ids)
    if len(r.errors) > before:
        raise _Abort
    return Actor(id=actor_id, name=name, kind=kind, policy=policy, policy_toward=tuple(toward_pairs),
                 patron=patron, protects=protects, control=control, spontaneous=spontaneous, codes=codes,
                 noise=noise, noise_toward=noise_toward)


def _distinct_codes(r: Reader, actors) -> None:
    owner: dict[str, str] = {}
    for actor in actors:
        for k, code in enumerate(actor.codes):
            if owner.setdefault(code, actor.id) != actor.id:
                r.note(f"actors.{actor.id}.codes.{k}", f"{_show(code)} is already a code of {owner[code]}")


def _codes(r, value, path) -> tuple[str, ...]:
    """An actor's codes in event data: a list of distinct non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        r.fail(path, f"expected a list of actor codes (strings such as USAGOV), got {_show(value)}")
    seen = set()  # checked in linear time
    for k, code in enumerate(value):
        if code in seen:
            r.fail(f"{path}.{k}", f"{_show(code)} is listed twice")
        seen.add(code)
    return tuple(value)


def _key(key) -> str:
    return key if isinstance(key, str) and len(key) <= 60 else _show(key)


def _policy_toward(r: Reader, value, path, actor_id, ids, policy_ladder):
    toward = r.mapping(value, f"{path}.policy_toward", tuple(k for k in ids if isinstance(k, str)), annotated=False)
    pairs = []
    for target, spec in toward.items():
        if target == actor_id:
            r.note(f"{path}.policy_toward.{target}", "an actor has no policy toward itself")
            continue
        pairs.append((target, r.attempt(_policy, r, spec, f"{path}.policy_toward.{target}", policy_ladder)))
    if any(p is None for _, p in pairs) or len(pairs) < len(toward):
        raise _Abort
    return pairs


def _protects(r, value, path, actor_id, ids, known):
    if not isinstance(value, dict):
        r.fail(path, f"expected a mapping of actor ids to weights, got {_show(value)}")
    pairs = []
    for other, weight in value.items():
        if other not in ids:
            r.fail(f"{path}.{_key(other)}", f"{_show(other)} is not an actor {known}")
        if other == actor_id:
            r.fail(f"{path}.{other}", "an actor does not protect itself")
        pairs.append((other, float(r.number(weight, f"{path}.{other}", low=0, high=10, what="a weight"))))
    return tuple(pairs)


#: Policy parameters that are levels or counts (whole numbers); every other number is real.
POLICY_LEVELS = ("initial", "cap", "step", "threshold", "level")
#: Policy parameters that hold nested lists of probabilities.
POLICY_TABLES = ("vector", "response")
#: Policy parameters that hold a list of real numbers (the (R, S, T, P) payoffs an entry of
#: Axelrod's first tournament keeps score with).
POLICY_NUMBER_LISTS = ("payoffs",)
#: Lower bounds of the real policy parameters the families do not bound themselves to [0, 1].
POLICY_REALS = {"ratio": 0.0, "tolerance": 0.0, "overreaction": 0.0, "bias": -1.0}


def _policy(r: Reader, spec, path, ladder):
    if isinstance(spec, dict):
        spec = r.mapping(spec, path, tuple(k for k in spec if isinstance(k, str)), annotated=True)
        _policy_numbers(r, spec, path, ladder)
    try:
        policy = make_policy(spec)
        policy.check(ladder)
    except PolicyError as exc:
        key = path if exc.key == "family" and not isinstance(spec, dict) else f"{path}.{exc.key}"
        r.fail(key, exc.detail)
    return policy


def _policy_numbers(r: Reader, spec: dict, path: str, ladder) -> None:
    """The numbers of a policy by the scenario's one rule (``Reader.number``), before the
    family checks its own meaning of them: probabilities in tables are numbers, never the
    strings ``'1'`` or ``yes``; levels and steps are whole numbers on the ladder; real
    parameters lie in ``[-LIMIT, LIMIT]``."""
    before = len(r.errors)
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key in POLICY_TABLES:
            _probabilities(r, value, where)
        elif key in POLICY_NUMBER_LISTS:
            if not isinstance(value, (list, tuple)):
                r.attempt(r.fail, where, f"expected a list of numbers, got {_show(value)}")
            else:
                for k, item in enumerate(value):
                    r.attempt(r.number, item, f"{where}.{k}")
        elif key in POLICY_LEVELS:
            if key == "step":
                r.attempt(r.integer, value, where, low=0, high=ladder.top)
        elif key == "bias":  # the weight of a stimulus is 1 + bias, which must be positive
            r.attempt(r.number, value, where, above=-1.0)
        elif key in POLICY_REALS:
            r.attempt(r.number, value, where, low=POLICY_REALS[key])
        elif key not in ("family", "label") and not isinstance(value, str):
            r.attempt(r.number, value, where)
    if len(r.errors) > before:
        raise _Abort


def _probabilities(r: Reader, value, path: str, depth: int = 0) -> None:
    if isinstance(value, list) and depth < 3:
        for k, item in enumerate(value):
            _probabilities(r, item, f"{path}.{k}", depth + 1)
    elif not isinstance(value, list):
        r.attempt(r.probability, value, path)


def _spontaneous(r, value, path, actor_id, kind, patron, ids, level):
    if value is None:
        return None
    if kind != "militia":
        r.fail(path, "only a militia attacks spontaneously")
    m = r.mapping(value, path, ("probability", "level", "targets"), required=("probability", "level"))
    default = [a for a in ids if a not in (actor_id, patron)]
    targets = m.get("targets", default)
    if not isinstance(targets, list) or not targets:
        got = "an empty list" if targets == [] else _show(targets)
        r.fail(f"{path}.targets", f"expected a non-empty list of actor ids, got {got}")
    for k, t in enumerate(targets):
        if not isinstance(t, str) or t not in ids or t == actor_id:
            r.fail(f"{path}.targets.{k}", f"{_show(t)} is not another actor (known: {', '.join(sorted(map(str, ids)))})")
    return Spontaneous(
        probability=r.probability(m["probability"], f"{path}.probability"),
        level=level(m["level"], f"{path}.level", low=1),
        targets=tuple(targets),
    )


def _events(r, value, ids, horizon, level) -> tuple[Event, ...]:
    if not isinstance(value, list):
        r.fail("events", f"expected a list of events, got {_show(value)}")
    if len(value) > MAX_EVENTS:
        r.fail("events", f"{len(value):,} events; at most {MAX_EVENTS:,} are supported")
    known = f"(known: {', '.join(sorted(ids))})"
    seen = set()  # (step, actor, target): one event each, checked in constant time
    events = []
    for k, item in enumerate(value):
        event = r.attempt(_event, r, k, item, ids, known, horizon, level)
        if event is None:
            continue
        if (event.step, event.actor, event.target) in seen:
            r.note(f"events.{k}", f"a second event for {event.actor} -> {event.target} in step {event.step}")
            continue
        seen.add((event.step, event.actor, event.target))
        events.append(event)
    if len(events) < len(value):
        raise _Abort
    return tuple(events)


def _event(r, k, item, ids, known, horizon, level) -> Event:
    path = f"events.{k}"
    m = r.mapping(item, path, ("step", "actor", "target", "level"), required=("step", "actor", "target", "level"))
    step = r.integer(m["step"], f"{path}.step", high=MAX_STEPS)
    if horizon is not None and step >= horizon:
        r.fail(f"{path}.step", f"{step} is outside the horizon (steps 0..{horizon - 1})")
    for key in ("actor", "target"):
        if not isinstance(m[key], str) or m[key] not in ids:
            r.fail(f"{path}.{key}", f"{_show(m[key])} is not an actor {known}")
    if m["actor"] == m["target"]:
        r.fail(f"{path}.target", "an actor does not act toward itself")
    return Event(step, m["actor"], m["target"], level(m["level"], f"{path}.level"))


def _outcomes(r, value, ladder, level) -> Outcomes:
    m = r.mapping(value, "outcomes", ("war_level", "quiet_steps", "quiet_level", "threshold_level"))
    war = m.get("war_level", len(ladder) - 1 if len(ladder) > 2 else None)
    quiet = m.get("quiet_steps", 14 if len(ladder) > 2 else None)
    out = Outcomes(
        war_level=None if war is None else level(war, "outcomes.war_level", low=1),
        quiet_steps=None if quiet is None else r.integer(quiet, "outcomes.quiet_steps", low=1, high=MAX_STEPS),
        quiet_level=level(m.get("quiet_level", 0), "outcomes.quiet_level"),
        threshold_level=None if m.get("threshold_level") is None else level(m["threshold_level"], "outcomes.threshold_level", low=1),
    )
    if out.war_level is not None and out.quiet_level >= out.war_level:
        r.fail("outcomes.quiet_level", f"level {out.quiet_level} is not below the war level {out.war_level}: "
                                       "a quiet step cannot be a war")
    return out


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
