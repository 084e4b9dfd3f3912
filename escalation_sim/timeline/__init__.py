"""Event timelines on a scenario's ladder: the acts observed between its actors, read from
plain CSV files or coded event data (GDELT 1.0 and 2.0, ICEWS), or from a scenario's script.

Depends downward only (on ``escalation_sim.scenario``)."""

from .errors import TimelineError
from .model import Timeline

__all__ = ["Timeline", "TimelineError"]
