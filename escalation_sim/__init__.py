"""escalation_sim: agent-based simulation of escalation between states and militias.

Scenario files name the actors and their retaliation policies; a vectorized NumPy core runs
Monte Carlo batches of the tit-for-tat dynamics; Mesa agents replay any single run step by step.
"""

from importlib.metadata import PackageNotFoundError, version

from .scenario import Scenario, ScenarioError, list_scenarios, load_scenario, with_overrides

try:
    __version__ = version("escalation-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Scenario", "ScenarioError", "list_scenarios", "load_scenario", "with_overrides", "__version__"]
