"""An interactive dashboard on Mesa's Solara visualisation: move a slider, watch the outcome
probabilities change and one run unfold.

Needs the ``dashboard`` extra (``pip install 'escalation-sim[dashboard]'``, or from a checkout
``pip install '.[dashboard]'``). In a browser:
``escalation-sim dashboard [SCENARIO]``; in Jupyter: ``escalation_sim.dashboard.show(scenario)``.
"""

from __future__ import annotations

INSTALL = "pip install 'escalation-sim[dashboard]' (from a checkout of the source: pip install '.[dashboard]')"


def require() -> None:
    """Raise ``ImportError`` naming the extra to install when Solara or the rest of Mesa's
    visualisation is missing."""
    from importlib.util import find_spec

    for name in ("solara", "altair", "networkx", "mesa"):
        if find_spec(name) is None:
            raise ImportError(f"the dashboard needs the dashboard extra ({name} is missing): "
                              f"install it with {INSTALL}")


def show(scenario="us_iran_2020", *, n_runs: int = 100_000, seed: int = 2020):
    """Show the dashboard in a Jupyter notebook, as a widget.

    Parameters
    ----------
    scenario : Scenario, bundled name or path to a YAML file
    n_runs : int
        Runs of the batch behind the outcome table (default 100,000).
    seed : int
        The batch's seed; runs replay as ``EscalationModel(scenario, rng=seed, run=r)``.

    Returns
    -------
    The Solara element, displayed already (``IPython.display.display``).

    Raises
    ------
    ImportError
        Without the dashboard extra.
    ScenarioError
        If the scenario file is missing or invalid.
    """
    require()
    from IPython.display import display

    from ..scenario import Scenario, load_scenario
    from .app import Dashboard

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    element = Dashboard(scenario, n_runs=n_runs, seed=seed)
    display(element)
    return element


__all__ = ["INSTALL", "require", "show"]
