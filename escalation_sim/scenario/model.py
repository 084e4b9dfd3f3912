"""The validated, immutable scenario objects. Build them with ``load_scenario`` or
``Scenario.from_dict``; both validate, and inside the library they are trusted as they are."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..policies import Ladder, Policy

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Level:
    """One rung of the escalation ladder."""

    name: str
    severity: float
    fatalities: float
    goldstein: float | None = None
    cameo: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "severity": self.severity, "fatalities": self.fatalities}
        if self.goldstein is not None:
            out["goldstein"] = self.goldstein
        if self.cameo:
            out["cameo"] = list(self.cameo)
        return out


@dataclass(frozen=True)
class Spontaneous:
    """A militia's own sparks: each step, against each target independently, an attack at
    ``level`` with ``probability``."""

    probability: float
    level: int
    targets: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"probability": self.probability, "level": self.level, "targets": list(self.targets)}


@dataclass(frozen=True)
class Rates:
    """Noise rates of one actor, one pair or one alliance; ``None`` inherits the next rule out
    (pair, then alliance, then actor, then the scenario's ``noise``). ``perception``: a real
    (hostile) act perceived one rung off; ``false_alarm``: a quiet act perceived as hostile;
    ``execution``: an act executed one rung off."""

    perception: float | None = None
    false_alarm: float | None = None
    execution: float | None = None

    KEYS = ("perception", "false_alarm", "execution")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.KEYS if getattr(self, k) is not None}


#: Rates between allies unless their alliance gives others: allies do not misread each other.
ALLY_RATES = Rates(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Alliance:
    """Two actors that do not answer each other as enemies do (patron and proxy, host and
    guest): toward each other they play their ``policy_toward`` if one is given, else quiet,
    and their noise rates toward each other are ``noise`` (by default none)."""

    actors: tuple[str, str]
    relation: str = "allies"
    noise: Rates = ALLY_RATES

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"actors": list(self.actors), "relation": self.relation}
        if self.noise != ALLY_RATES:
            out["noise"] = self.noise.to_dict()
        return out


@dataclass(frozen=True)
class Actor:
    """A state or a militia, with its retaliation policies.

    ``policy`` applies toward every other actor except those named in ``policy_toward``
    (pairs ``(target, policy)``). ``protects`` holds pairs ``(actor, weight)``. ``codes`` are
    the actor's codes in event data (CAMEO actor codes such as ``USAGOV``, or ICEWS names), for
    reading timelines.
    """

    id: str
    name: str
    kind: str
    policy: Policy
    policy_toward: tuple[tuple[str, Policy], ...] = ()
    patron: str | None = None
    protects: tuple[tuple[str, float], ...] = ()
    control: float = 0.0
    spontaneous: Spontaneous | None = None
    codes: tuple[str, ...] = ()
    #: The actor's own noise rates (``Rates``; unset rates are the scenario's).
    noise: Rates = Rates()
    #: Pairs ``(target, Rates)``: rates toward one target, before every other rule.
    noise_toward: tuple[tuple[str, Rates], ...] = ()
    #: Ids of the actor's allies (from the scenario's ``allies``; not written by ``to_dict``).
    allies: tuple[str, ...] = ()

    def policy_for(self, target: str) -> Policy:
        """The actor's ``policy_toward`` the target, else quiet toward an ally, else ``policy``."""
        toward = dict(self.policy_toward)
        if target in toward:
            return toward[target]
        return _quiet() if target in self.allies else self.policy

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.patron is not None:
            out["patron"] = self.patron
        if self.protects:
            out["protects"] = dict(self.protects)
        if self.kind == "militia":
            out["control"] = self.control
        if self.spontaneous is not None:
            out["spontaneous"] = self.spontaneous.to_dict()
        out["policy"] = self.policy.to_dict()
        if self.policy_toward:
            out["policy_toward"] = {t: p.to_dict() for t, p in self.policy_toward}
        if self.codes:
            out["codes"] = list(self.codes)
        if self.noise != Rates():
            out["noise"] = self.noise.to_dict()
        if self.noise_toward:
            out["noise_toward"] = {t: r.to_dict() for t, r in self.noise_toward}
        return out


def _quiet() -> Policy:
    from ..policies import make_policy

    return make_policy({"family": "fixed", "level": 0})


@dataclass(frozen=True)
class Event:
    """A scripted act: in ``step``, ``actor`` acts toward ``target`` at ``level`` exactly."""

    step: int
    actor: str
    target: str
    level: int

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "actor": self.actor, "target": self.target, "level": self.level}


@dataclass(frozen=True)
class Noise:
    """Per-step probabilities: a perceived level off by one rung (``perception``), an executed
    level off by one rung (``execution``), a militia's act also read as its patron's
    (``attribution``)."""

    perception: float = 0.0
    execution: float = 0.0
    attribution: float = 0.0
    #: A quiet act perceived as hostile; ``None``: at the ``perception`` rate, as real acts.
    false_alarm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"perception": self.perception, "execution": self.execution, "attribution": self.attribution}
        if self.false_alarm is not None:
            out["false_alarm"] = self.false_alarm
        return out


@dataclass(frozen=True)
class Time:
    n_steps: int
    step_length: float = 1
    step_unit: str = "day"
    start: str | None = None
    #: Each step a run ends with this probability (a random horizon); ``n_steps`` caps it.
    prob_end: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {"n_steps": self.n_steps, "step_length": self.step_length, "step_unit": self.step_unit}
        if self.start is not None:
            out["start"] = self.start
        if self.prob_end:
            out["prob_end"] = self.prob_end
        return out


@dataclass(frozen=True)
class Outcomes:
    """``war_level``: an executed level at or above it is war (``None``: never).
    ``quiet_steps``: that many all-quiet steps after the first hostile act (and after the last
    scripted event) are a ceasefire (``None``: never)."""

    war_level: int | None
    quiet_steps: int | None
    #: The highest level that counts as quiet for a ceasefire (words and votes may go on).
    quiet_level: int = 0
    #: The level whose first step ``threshold_step`` reports; ``None``: the rung below war.
    threshold_level: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"war_level": self.war_level, "quiet_steps": self.quiet_steps}
        if self.quiet_level:
            out["quiet_level"] = self.quiet_level
        if self.threshold_level is not None:
            out["threshold_level"] = self.threshold_level
        return out


@dataclass(frozen=True)
class Payoffs:
    """Per-step payoff of an actor toward each other actor, from the pair's two levels.

    Exactly one form is set: ``pd`` = (R, S, T, P) on two levels; ``matrix[own][other]``;
    or, by default on longer ladders, harm: ``-severity[other] - own_cost * severity[own]``.
    """

    pd: tuple[float, float, float, float] | None = None
    matrix: tuple[tuple[float, ...], ...] | None = None
    own_cost: float = 0.5

    def table(self, ladder: tuple[Level, ...]) -> np.ndarray:
        """Payoff matrix, shape ``(n_levels, n_levels)``: ``[own level, other's level]``."""
        if self.pd is not None:
            r, s, t, p = self.pd
            return np.array([[r, s], [t, p]], dtype=float)
        if self.matrix is not None:
            return np.array(self.matrix, dtype=float)
        severity = np.array([lv.severity for lv in ladder])
        return -severity[None, :] - self.own_cost * severity[:, None]

    def to_dict(self) -> dict[str, Any]:
        if self.pd is not None:
            return dict(zip("RSTP", self.pd))
        if self.matrix is not None:
            return {"matrix": [list(row) for row in self.matrix]}
        return {"own_cost": self.own_cost}


@dataclass(frozen=True)
class Annotation:
    """Where an element comes from: ``source`` quotes the seed document verbatim; ``note`` says
    how the public record differs. ``path`` is the key path of the annotated mapping."""

    path: str
    source: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A whole, validated scenario. ``to_dict()`` gives a mapping that loads back equal."""

    name: str
    title: str
    description: str
    ladder: tuple[Level, ...]
    actors: tuple[Actor, ...]
    time: Time
    noise: Noise = Noise()
    events: tuple[Event, ...] = ()
    outcomes: Outcomes = Outcomes(None, None)
    payoffs: Payoffs = Payoffs()
    document: str | None = None
    annotations: tuple[Annotation, ...] = ()
    allies: tuple[Alliance, ...] = ()
    schema_version: int = SCHEMA_VERSION
    path: str | None = field(default=None, compare=False)

    # -- conveniences ----------------------------------------------------------------------
    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.actors)

    @property
    def n_steps(self) -> int:
        return self.time.n_steps

    @property
    def top(self) -> int:
        return len(self.ladder) - 1

    def __repr__(self) -> str:
        """One line: name, actors, levels, horizon and events (``describe`` gives the whole)."""
        t = self.time
        horizon = f"{t.n_steps:,} {t.step_unit}s" if t.step_length == 1 else \
            f"{t.n_steps:,} steps of {t.step_length:g} {t.step_unit}s"
        return (f"<Scenario {self.name}: {len(self.actors)} actors, {len(self.ladder)} levels, {horizon}, "
                f"{len(self.events)} events>")

    def _repr_html_(self) -> str:
        from html import escape

        from .text import describe  # text imports this module

        return f"<pre>{escape(describe(self))}</pre>"

    def actor(self, actor_id: str) -> Actor:
        return self.actors[self.actor_ids.index(actor_id)]

    def rates(self, actor_id: str, target_id: str) -> tuple[float, float, float]:
        """``(perception, false_alarm, execution)`` of the cell ``actor -> target``: how the
        actor perceives the target's acts (real ones, quiet ones) and executes its own toward
        it. The first rule that sets a rate wins: the actor's ``noise_toward`` the target, their
        alliance, the actor's ``noise``, the scenario's ``noise`` (``false_alarm`` unset
        everywhere is the cell's perception rate)."""
        actor = self.actor(actor_id)
        rules = [dict(actor.noise_toward).get(target_id, Rates())]
        rules += [a.noise for a in self.allies if set(a.actors) == {actor_id, target_id}]
        rules += [actor.noise, Rates(self.noise.perception, self.noise.false_alarm, self.noise.execution)]
        out = {}
        for key in Rates.KEYS:
            out[key] = next((getattr(r, key) for r in rules if getattr(r, key) is not None), None)
        if out["false_alarm"] is None:
            out["false_alarm"] = out["perception"]
        return out["perception"], out["false_alarm"], out["execution"]

    def policy_ladder(self) -> Ladder:
        return Ladder(tuple(lv.severity for lv in self.ladder))

    def level_names(self) -> list[str]:
        return [lv.name for lv in self.ladder]

    # -- serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema_version": self.schema_version, "name": self.name,
                               "title": self.title, "description": self.description}
        if self.document is not None:
            out["document"] = self.document
        out["time"] = self.time.to_dict()
        out["ladder"] = [lv.to_dict() for lv in self.ladder]
        out["actors"] = {a.id: a.to_dict() for a in self.actors}
        out["noise"] = self.noise.to_dict()
        if self.allies:
            out["allies"] = [a.to_dict() for a in self.allies]
        out["events"] = [e.to_dict() for e in self.events]
        out["outcomes"] = self.outcomes.to_dict()
        out["payoffs"] = self.payoffs.to_dict()
        for note in self.annotations:
            target = _at_path(out, note.path)
            if note.source:
                target["source"] = note.source[0] if len(note.source) == 1 else list(note.source)
            if note.note is not None:
                target["note"] = note.note
        return out

    def hash(self) -> str:
        """SHA-256 of the canonical form of the scenario (the first 16 hex digits)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def save(self, path) -> None:
        """Write the scenario as YAML; ``load_scenario(path)`` reads back an equal scenario."""
        from .io import dump_yaml

        dump_yaml(self.to_dict(), path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, file: str = "<dict>") -> Scenario:
        from .validate import build_scenario

        return build_scenario(data, file=file)


def _at_path(tree: Any, path: str) -> Any:
    node = tree
    for part in path.split(".") if path else []:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
