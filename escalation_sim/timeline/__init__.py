"""Event timelines on a scenario's ladder: the acts observed between its actors, read from
plain CSV files or coded event data (GDELT 1.0 and 2.0, ICEWS), or from a scenario's script.

Depends downward only (on ``escalation_sim.scenario``)."""

from .bundled import bundled_timeline, list_timelines, timeline_scenario
from .errors import TimelineError
from .mapping import cameo_goldstein, goldstein_of
from .model import Timeline
from .readers import read_timeline

__all__ = ["Timeline", "TimelineError", "read_timeline", "bundled_timeline", "list_timelines",
           "timeline_scenario", "cameo_goldstein", "goldstein_of"]
