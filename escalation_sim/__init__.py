"""escalation_sim: agent-based simulation of escalation between states and militias.

Scenario files name the actors and their retaliation policies; a vectorized NumPy core runs
Monte Carlo batches of the tit-for-tat dynamics; Mesa agents replay any single run step by step.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("escalation-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from .batch import BatchResult, load_result, simulate  # noqa: E402
from .policies import make_policy, policy_names  # noqa: E402
from .scenario import Scenario, ScenarioError, list_scenarios, load_scenario, with_overrides  # noqa: E402

__all__ = [
    "BatchResult", "Scenario", "ScenarioError", "__version__", "list_scenarios", "load_result",
    "load_scenario", "make_policy", "policy_names", "simulate", "with_overrides",
]
