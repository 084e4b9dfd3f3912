"""Mesa agents for states and militias, and ``EscalationModel``: one run of a scenario, step by
step, replaying run ``run`` of a ``simulate`` batch exactly."""

from .actors import ActorAgent, MilitiaAgent, PolicySlot, StateAgent
from .model import AGENT_MEASURES, EscalationModel
from .replay import replay_runs

__all__ = ["AGENT_MEASURES", "ActorAgent", "EscalationModel", "MilitiaAgent", "PolicySlot", "StateAgent",
           "replay_runs"]
