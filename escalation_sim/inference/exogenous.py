"""Acts a scenario cannot produce, taken as given so that the rest can be fitted.

A record rarely fits a model exactly: an act may come a day later than any policy answers, or
at a level no rule reaches. Its probability is then 0 and so is that of the whole record,
whatever the parameters. ``exogenous_acts`` finds such acts one at a time (the first act the
scenario cannot produce, then the first one after scripting it, ...) and returns the scenario
with each of them scripted, so that the log-likelihood of the record is conditional on them and
finite. The list of acts is itself a result: it says where the model and the record part ways.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import Scenario, with_overrides
from ..scenario import as_scenario
from .likelihood import Likelihood
from .params import as_table


def exogenous_acts(scenario: Scenario, timeline, params=None, *, max_acts: int = 50):
    """Script the observed acts the scenario cannot produce.

    Parameters
    ----------
    scenario : Scenario
    timeline : Timeline or ndarray
        As for ``log_likelihood``.
    params : mapping, optional
        One parameter set (key path to value) at which acts are tested; the scenario's own
        values by default. Noise rates above 0 make more acts possible than rates of 0.
    max_acts : int
        Stop with an error after this many acts.

    Returns
    -------
    scenario : Scenario
        The scenario with every impossible act scripted (``events``).
    acts : DataFrame
        One row per scripted act: ``step``, ``actor``, ``target``, ``level`` and ``reason``
        (why the scenario could not produce it).
    """
    scenario = as_scenario(scenario)
    keys, table = ([], np.zeros((1, 0))) if params is None else as_table(params)
    rows = []
    current = scenario
    for _ in range(max_acts):
        lik = Likelihood(current, timeline, keys)
        values = lik.values(table[:1])
        if np.isfinite(lik.log_likelihood(values)[0]):
            return current, pd.DataFrame(rows, columns=["step", "actor", "target", "level", "reason"])
        step, cell, reason = _first_impossible(lik, values)
        i, j = lik.structure.pairs[cell]
        act = {"step": step, "actor": lik.structure.ids[i], "target": lik.structure.ids[j],
               "level": int(lik.path[step, cell])}
        rows.append({**act, "reason": reason})
        events = [e.to_dict() for e in current.events if (e.step, e.actor, e.target) != (step, act["actor"], act["target"])]
        current = with_overrides(current, {"events": sorted([*events, act], key=lambda e: e["step"])})
    raise ValueError(f"{scenario.name}: more than {max_acts} observed acts are impossible under the scenario")


def _first_impossible(lik: Likelihood, values) -> tuple[int, int, str]:
    """Step, cell and reason of the first act with probability 0."""
    message = lik.explain(values, 0)
    end = int(lik.end_steps(values)[0])
    for t in range(len(lik.path)):
        if t > end and lik.path[t].max() > 0:
            return t, int(np.flatnonzero(lik.path[t])[0]), message.split(": ", 1)[1]
        if t <= end and lik.transition_probability(values, lik.step_transition[t])[0] == 0:
            k = lik.step_transition[t]
            for cell in range(lik.path.shape[1]):
                if lik.transition_probability(values, k, only=cell)[0] == 0:
                    return t, cell, message.split(": ", 1)[1]
            return t, int(np.flatnonzero(lik.path[t])[0]), message
    raise AssertionError("no impossible act found in a path of probability 0")
