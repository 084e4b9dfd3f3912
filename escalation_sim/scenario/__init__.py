"""Scenario files: the format, its validation, loading by path or bundled name, and a
scenario's readable description."""

from .errors import ScenarioError
from .io import list_scenarios, load_scenario, parse_override, with_overrides
from .io import as_scenario  # noqa: E402  the one reading of a ``scenario`` argument
from .model import Actor, Annotation, Event, Level, Noise, Outcomes, Payoffs, Scenario, Spontaneous, Time
from .text import describe
from .model import Alliance, Rates  # noqa: E402  allies and per-actor or per-pair noise rates

__all__ = [
    "ScenarioError", "load_scenario", "list_scenarios", "with_overrides", "parse_override",
    "Scenario", "Actor", "Annotation", "Event", "Level", "Noise", "Outcomes", "Payoffs",
    "Spontaneous", "Time", "describe",
]
__all__ += ["Alliance", "Rates"]
__all__ += ["as_scenario"]
