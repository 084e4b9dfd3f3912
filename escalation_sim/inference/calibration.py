"""Evidence that fits are right: synthetic records from known parameters, parameter recovery
and simulation-based calibration (Talts, Betancourt, Simpson, Vehtari and Gelman 2018).

SBC draws a parameter set from the prior, simulates a record with it, and ranks the true value
among ``L`` posterior draws given that record. If the likelihood and the sampler are right the
ranks are uniform on ``0..L``; a chi-squared test on binned ranks checks it. Coverage of the
central 95% intervals (the recovery check) follows from the same fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._rng import RngLike, seed_sequence
from ..batch import simulate
from ..scenario import as_scenario
from .fit import child, fit, scenario_at
from .likelihood import Likelihood


def simulated_levels(scenario, n_runs: int, *, n_steps: int | None = None, rng: RngLike = None) -> np.ndarray:
    """Records simulated by the core: executed levels of shape
    ``(n_runs, n_steps, n_actors, n_actors)`` in the scenario's actor order, -1 on the
    diagonal (the layout of ``Timeline.levels``)."""
    scenario = as_scenario(scenario)
    result = simulate(scenario, n_runs, rng=rng, n_steps=n_steps, trajectories=True)
    A = len(scenario.actors)
    out = np.full((n_runs, result.n_steps, A, A), -1, dtype=np.int16)
    for p, (i, j) in enumerate(result.pairs):
        out[:, :, i, j] = result.levels[:, p, :].T
    return out


def _grid_posterior_draws(scenario, observed, key: str, bounds, n_draws: int, rng, *, n_grid: int = 400):
    """Draws from the posterior of one parameter under a uniform prior, by the exact
    likelihood on a fine grid (cells sampled by their mass, then uniformly inside the cell)."""
    low, high = bounds
    width = (high - low) / n_grid
    centres = low + width * (np.arange(n_grid) + 0.5)
    log_lik = Likelihood(scenario, observed, [key])(centres[:, None])
    weight = np.exp(log_lik - log_lik.max())
    cells = rng.choice(n_grid, n_draws, p=weight / weight.sum())
    return centres[cells] + width * (rng.random(n_draws) - 0.5)


def sbc(scenario, params: dict, *, n_datasets: int = 100, n_steps: int | None = None, n_draws: int = 99,
        method: str = "grid", rng: RngLike = None, **fit_options) -> pd.DataFrame:
    """Simulation-based calibration over ``n_datasets`` synthetic records.

    Parameters
    ----------
    scenario : Scenario
    params : dict
        ``{key path: (low, high)}``: the uniform prior. ``method="grid"`` takes one key.
    n_datasets, n_steps, n_draws : int
        Synthetic records, their length, and posterior draws ranked against (``L``).
    method : {"grid", "emcee"}
        Exact grid posterior (one parameter) or ``fit`` with emcee.
    rng : None, int, SeedSequence or Generator

    Returns
    -------
    DataFrame
        One row per dataset and parameter: ``dataset``, ``parameter``, ``true``, ``rank``
        (0..n_draws), ``low``, ``high`` (central 95% interval) and ``covered``.
    """
    seq = seed_sequence(rng)
    keys = list(params)
    low = np.array([params[k][0] for k in keys])
    high = np.array([params[k][1] for k in keys])
    rows = []
    for d in range(n_datasets):
        gen = np.random.default_rng(child(seq, 2 * d))
        truth = low + (high - low) * gen.random(len(keys))
        point = dict(zip(keys, truth))
        observed = simulated_levels(scenario_at(scenario, point), 1, n_steps=n_steps, rng=child(seq, 2 * d + 1))[0]
        if method == "grid":
            draws = _grid_posterior_draws(scenario, observed, keys[0], params[keys[0]], n_draws, gen)[:, None]
        else:
            result = fit(scenario, observed, params, rng=gen, **fit_options)
            take = gen.choice(len(result.samples), n_draws, replace=len(result.samples) < n_draws)
            draws = result.samples[keys].to_numpy()[take]
        for k, key in enumerate(keys):
            interval = np.quantile(draws[:, k], [0.025, 0.975])
            rows.append({"dataset": d, "parameter": key, "true": truth[k], "rank": int((draws[:, k] < truth[k]).sum()),
                         "low": interval[0], "high": interval[1],
                         "covered": bool(interval[0] <= truth[k] <= interval[1])})
    return pd.DataFrame(rows)


def uniformity(ranks: np.ndarray, n_draws: int, n_bins: int = 10) -> float:
    """p-value of the chi-squared test that ranks on ``0..n_draws`` are uniform, in
    ``n_bins`` equal bins (``n_draws + 1`` must be a multiple of ``n_bins``)."""
    if (n_draws + 1) % n_bins:
        raise ValueError(f"n_draws + 1 = {n_draws + 1} is not a multiple of n_bins = {n_bins}")
    counts = np.bincount(np.asarray(ranks) * n_bins // (n_draws + 1), minlength=n_bins)
    return float(stats.chisquare(counts).pvalue)
