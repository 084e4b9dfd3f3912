"""A scenario as readable text: what ``escalation-sim describe`` prints.

``describe`` renders the header (name, title, time, source document), the ladder, each actor
with its policies, the noise and outcome rules, and the scripted events. It reads the validated
``Scenario`` only, so the library, the CLI and a notebook show a scenario the same way.
"""

from __future__ import annotations

import textwrap

from .io import as_scenario
from .model import Scenario


def describe(scenario: Scenario) -> str:
    """A scenario in readable text, as printed by ``escalation-sim describe``.

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    str
        Blocks separated by blank lines: the header, the ladder, the actors and their
        policies, the noise and outcome rules, and the scripted events (when there are any).
    """
    scenario = as_scenario(scenario)
    parts = [_describe_header(scenario), _describe_ladder(scenario), _describe_actors(scenario),
             _describe_rules(scenario)]
    if scenario.events:
        parts.append(_describe_events(scenario))
    return "\n\n".join(parts)


def _describe_header(s) -> str:
    start = f", from {s.time.start}" if s.time.start else ""
    lines = [f"{s.name}: {s.title}" if s.title else s.name]
    if s.description:
        lines.append(textwrap.fill(" ".join(s.description.split()), 100))
    lines.append(f"time: {s.time.n_steps} steps of {s.time.step_length:g} {s.time.step_unit}{start}")
    if s.time.prob_end:
        lines.append(f"random horizon: each step ends a run with probability {s.time.prob_end:g} "
                     f"(mean length {1 / s.time.prob_end:g} steps, capped at {s.time.n_steps})")
    if s.document:
        lines.append(f"source document: {s.document}")
    return "\n".join(lines)


def _describe_ladder(s) -> str:
    rows = [f"ladder ({len(s.ladder)} levels)", f"  {'level':<18}{'severity':>10}{'fatalities':>12}"]
    for k, level in enumerate(s.ladder):
        rows.append(f"  {k} {level.name:<16}{level.severity:>10g}{level.fatalities:>12g}")
    return "\n".join(rows)


def _describe_actors(s) -> str:
    rows = ["actors"]
    for actor in s.actors:
        rows.append(f"  {actor.id}: {actor.name} ({_actor_kind(actor)})")
        rows.extend(f"    {line}" for line in _actor_lines(s, actor))
    return "\n".join(rows)


def _actor_kind(actor) -> str:
    if actor.kind != "militia":
        return actor.kind
    return f"militia of {actor.patron}, acting as its patron wants with probability {actor.control:g}"


def _actor_lines(s, actor) -> list[str]:
    by_policy: dict[str, list[str]] = {}
    others = [t for t in s.actor_ids if t != actor.id]
    for target in others:
        by_policy.setdefault(_policy_text(actor.policy_for(target)), []).append(target)
    if len(by_policy) == 1:
        lines = [f"policy: {next(iter(by_policy))} toward every other actor"]
    else:
        lines = [f"policy: {text} toward {', '.join(targets)}" for text, targets in by_policy.items()]
    if actor.protects:
        lines.append("protects: " + ", ".join(f"{a} (weight {w:g})" for a, w in actor.protects))
    if actor.spontaneous is not None:
        sp = actor.spontaneous
        lines.append(f"attacks on its own: {_level(s, sp.level)} toward {', '.join(sp.targets)} "
                     f"with probability {sp.probability:g} per step")
    return lines


def _policy_text(policy) -> str:
    """``name(param=value, ...)``, long values shortened."""
    params = {k: v for k, v in policy.params().items() if k != "label"}
    inner = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
    return f"{policy.name}({inner})" if inner else policy.name


def _short(value, limit: int = 40) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _level(s, level: int) -> str:
    return f"{s.ladder[level].name} ({level})"


def _describe_rules(s) -> str:
    n = s.noise
    war = "never" if s.outcomes.war_level is None else f"an executed level at or above {_level(s, s.outcomes.war_level)}"
    calm = ("never" if s.outcomes.quiet_steps is None
            else f"{s.outcomes.quiet_steps} all-quiet steps after the first hostile act and the last scripted event")
    return "\n".join([
        f"noise per step: perception {n.perception:g}, execution {n.execution:g}, attribution {n.attribution:g}",
        f"war: {war}",
        f"ceasefire: {calm}",
        f"payoffs: {_payoff_text(s.payoffs)}",
    ])


def _payoff_text(p) -> str:
    if p.pd is not None:
        return "prisoner's dilemma " + ", ".join(f"{k}={v:g}" for k, v in zip("RSTP", p.pd))
    if p.matrix is not None:
        return f"matrix [own level][other's level], {len(p.matrix)} x {len(p.matrix)}"
    return f"harm: -severity(other's level) - {p.own_cost:g} x severity(own level), per step"


def _describe_events(s) -> str:
    rows = ["scripted events"]
    rows += [f"  step {e.step}: {e.actor} -> {e.target} at {_level(s, e.level)}" for e in s.events]
    return "\n".join(rows)
