"""Words for figures and tables: key paths and per-run measures as a reader would say them.

``parameter_label("actors.USA.policy.ratio", scenario)`` is ``"United States: retaliation
ratio"``; ``measure_label("fatalities", scenario)`` is ``"Fatalities per run"``. The plots use
these for every axis, legend and tick that would otherwise show a key path or a column name.
A key the tables below do not know is still turned into words (``a.b_c`` -> ``a: b c``).
"""

from __future__ import annotations

POLICY_WORDS = {
    "ratio": "retaliation ratio",
    "generosity": "generosity (chance of forgiving)",
    "cap": "highest level it answers with",
    "step": "escalation step (levels)",
    "threshold": "threshold level (ignores lesser acts)",
    "level": "level it plays",
    "tolerance": "tolerance (harm units)",
    "overreaction": "overreaction (harm returned per harm felt)",
    "bias": "bias (extra weight on harm felt)",
    "initial": "opening level",
    "family": "policy",
}
NOISE_WORDS = {
    "execution": "Execution noise (chance an act is one rung off)",
    "perception": "Perception noise (chance a seen act is one rung off)",
    "attribution": "Attribution (chance a militia's act is blamed on its patron)",
}
PAYOFF_WORDS = {"R": "Payoff R (both cooperate)", "S": "Payoff S (cooperating against a defector)",
                "T": "Payoff T (defecting against a cooperator)", "P": "Payoff P (both defect)",
                "own_cost": "Cost of one's own acts (share of their severity)"}
MEASURE_WORDS = {
    "end_step": "{Unit} the run ended",
    "peak_level": "Peak level of the run",
    "peak_step": "{Unit} the peak level was first reached",
    "hostile_steps": "Hostile {unit}s per run",
    "retaliations": "Retaliations per run",
    "fatalities": "Fatalities per run",
    "harm_inflicted": "{actor}: harm inflicted per run (harm units)",
    "harm_received": "{actor}: harm received per run (harm units)",
    "payoff": "{actor}: payoff per run",
}


def parameter_label(key: str, scenario=None) -> str:
    """A scenario key path in words, with its unit where it has one.

    Parameters
    ----------
    key : str
        A key path as in ``with_overrides`` and ``sweep`` (``actors.USA.policy.ratio``,
        ``noise.execution``, ``outcomes.quiet_steps``, ``events.0.level``).
    scenario : Scenario, optional
        Gives actors their display names and steps their unit; without it, actor ids and
        "step" are used.

    Returns
    -------
    str
        E.g. ``"United States: retaliation ratio"``,
        ``"Execution noise (chance an act is one rung off)"``, ``"Quiet days that make a
        ceasefire"``.
    """
    parts = key.split(".")
    unit = _unit(scenario)
    head = parts[0]
    if head == "actors" and len(parts) >= 3:
        return _actor_label(parts[1:], scenario, unit)
    if head == "noise" and len(parts) == 2 and parts[1] in NOISE_WORDS:
        return NOISE_WORDS[parts[1]]
    if head == "payoffs" and len(parts) == 2 and parts[1] in PAYOFF_WORDS:
        return PAYOFF_WORDS[parts[1]]
    if key == "outcomes.quiet_steps":
        return f"Quiet {unit}s that make a ceasefire"
    if key == "outcomes.war_level":
        return "Level that counts as war"
    if key == "time.n_steps":
        return f"Horizon ({unit}s)"
    if head == "events" and len(parts) == 3 and parts[1].isdigit():
        return f"{_event_words(int(parts[1]), scenario, unit)}: {parts[2].replace('_', ' ')}"
    return _plain(key)


def _actor_label(parts: list[str], scenario, unit: str) -> str:
    actor, rest = _name(parts[0], scenario), parts[1:]
    if rest[0] == "policy" and len(rest) == 2:
        return f"{actor}: {POLICY_WORDS.get(rest[1], rest[1].replace('_', ' '))}"
    if rest[0] == "policy_toward" and len(rest) == 3:
        return f"{actor} toward {_name(rest[1], scenario)}: {POLICY_WORDS.get(rest[2], rest[2].replace('_', ' '))}"
    if rest == ["control"]:
        return f"{actor}: control by its patron (probability)"
    if rest == ["spontaneous", "probability"]:
        return f"{actor}: chance of an attack of its own, per {unit}"
    if rest == ["spontaneous", "level"]:
        return f"{actor}: level of its own attacks"
    if rest[0] == "protects" and len(rest) == 2:
        return f"{actor}: weight of attacks on {_name(rest[1], scenario)}"
    return f"{actor}: {_plain('.'.join(rest))}"


def _event_words(k: int, scenario, unit: str) -> str:
    events = getattr(scenario, "events", ())
    if k < len(events):
        e = events[k]
        return f"Scripted act {k} ({_name(e.actor, scenario)} toward {_name(e.target, scenario)}, {unit} {e.step})"
    return f"Scripted act {k}"


def measure_label(measure: str, scenario=None) -> str:
    """A per-run measure (a column of ``BatchResult.runs``) in words, with its unit.

    ``end_step`` -> ``"Day the run ended"``; ``payoff_USA`` -> ``"United States: payoff per
    run"``; an unknown name is turned into words (``a_b`` -> ``A b``).
    """
    unit = _unit(scenario)
    if measure in MEASURE_WORDS:
        return MEASURE_WORDS[measure].format(unit=unit, Unit=unit[:1].upper() + unit[1:])
    for key in ("harm_inflicted", "harm_received", "payoff"):
        if measure.startswith(key + "_"):
            return MEASURE_WORDS[key].format(actor=_name(measure[len(key) + 1:], scenario))
    return _plain(measure)


def _unit(scenario) -> str:
    t = getattr(scenario, "time", None)
    return t.step_unit if t is not None and t.step_length == 1 else "step"


def _name(actor_id: str, scenario) -> str:
    try:
        return scenario.actor(actor_id).name
    except (AttributeError, ValueError):
        return actor_id


def _plain(key: str) -> str:
    words = key.replace("_", " ").replace(".", ": ")
    return words[:1].upper() + words[1:]
