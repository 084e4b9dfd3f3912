"""escalation_sim: agent-based simulation of escalation between states and militias.

Scenario files name the actors and their retaliation policies; a vectorized NumPy core runs
Monte Carlo batches of the tit-for-tat dynamics; Mesa agents replay any single run step by step.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escalation-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from . import games  # noqa: E402
from .analysis.sensitivity import sensitivity  # noqa: E402
from .analysis.sweep import SweepResult, load_sweep, sweep  # noqa: E402
from .batch.store import run_to_folder  # noqa: E402
from .games import STRATEGIES, dyad_game, ecological, match_scores, tournament  # noqa: E402
from .batch import BatchResult, load_result, simulate  # noqa: E402
from .policies import make_policy, policy_names  # noqa: E402
from .scenario import Scenario, ScenarioError, list_scenarios, load_scenario, with_overrides  # noqa: E402
from .inference import Fit, fit, load_fit, log_likelihood  # noqa: E402

# Importing Mesa is slow and sets the process-wide multiprocessing start method, so the Mesa
# side is imported only when one of its names is first used.
_LAZY = {
    "EscalationModel": "escalation_sim.agents",
    "StateAgent": "escalation_sim.agents",
    "MilitiaAgent": "escalation_sim.agents",
    "replay_runs": "escalation_sim.agents",
}

__all__ = [
    "BatchResult", "Scenario", "ScenarioError", "__version__", "list_scenarios", "load_result",
    "load_scenario", "make_policy", "policy_names", "simulate", "with_overrides", "sweep",
    "sensitivity", "SweepResult", "load_sweep", "run_to_folder", "games", "match_scores",
    "tournament", "ecological", "STRATEGIES", "dyad_game", *_LAZY,
    "log_likelihood", "fit", "Fit", "load_fit",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'escalation_sim' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
