"""Sobol' sensitivity: which parameters of a scenario its outcome probabilities hinge on.

``sensitivity`` runs a scenario at the points of a Saltelli design (drawn by
``scipy.stats.sobol_indices``) and estimates first- and total-order Sobol' indices, with
seeded bootstrap intervals. A point is run exactly as in a sweep (overrides by key path, one
Monte Carlo batch each), so the point machinery is ``sweep``'s, imported from there.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._rng import RngLike, seed_sequence
from ..scenario import Scenario
from .sweep import (
    OUTCOMES, _bounds, _child, _children, _columns_to_points, _count, _evaluate, _load, _scenarios,
    check_measures,
)


def sensitivity(scenario: Scenario | str, bounds: Mapping[str, tuple[float, float]], *, n: int,
                n_runs: int, rng: RngLike = None, measures: Sequence[str] = ("war",),
                n_steps: int | None = None, executor: Executor | None = None,
                common_random_numbers: bool = True, confidence_level: float = 0.95,
                n_resamples: int = 999, progress: bool = False) -> pd.DataFrame:
    """Sobol' first- and total-order indices of outcome probabilities and mean measures.

    ``scipy.stats.sobol_indices`` draws its Saltelli design (``n * (d + 2)`` points for ``d``
    parameters, each uniform on its bounds) and calls back for the value at every point: a
    Monte Carlo batch of ``n_runs`` runs there. The estimates are Monte Carlo estimates, so
    their noise adds to the indices (see Notes).

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name for ``load_scenario``
    bounds : mapping of key path to (low, high)
        The parameters and their ranges. Integer parameters are drawn on
        ``[low - 0.5, high + 0.5)`` and rounded.
    n : int
        Base sample size, a power of 2.
    n_runs : int
        Runs per point.
    rng : None, int, SeedSequence or Generator
        Fixes the whole analysis: the first child of its ``SeedSequence`` draws the design,
        the second seeds the points.
    measures : sequence of str
        Outcomes (``"war"``, ``"ceasefire"``, ``"ongoing"``: their probabilities) and columns of
        ``BatchResult.runs`` (their means).
    n_steps : int, optional
        Horizon; the scenario's own by default.
    executor : concurrent.futures.Executor, optional
        Passed to ``simulate``, as in ``sweep``.
    common_random_numbers : bool
        True (default): every point uses the same seed, so two points differ by their
        parameters and not by the luck of their draws, and a parameter that changes nothing
        gets indices of exactly 0. False: each point gets its own spawned seed.
    confidence_level, n_resamples : float, int
        Percentile bootstrap intervals: the ``n`` base samples resampled ``n_resamples``
        times, with a generator spawned from ``rng``.
    progress : bool
        A progress bar over points, on standard error.

    Returns
    -------
    DataFrame
        One row per (parameter, measure), ``d * len(measures)`` rows: parameter, measure,
        first_order, total_order, and their bootstrap bounds first_order_low,
        first_order_high, total_order_low, total_order_high. ``attrs`` holds the provenance
        (scenario name and hash, n, n_runs, n_steps, seed).

    Notes
    -----
    Each value is itself a Monte Carlo estimate: with independent seeds it carries noise of
    variance ``s2`` (``p (1 - p) / n_runs`` for a probability ``p``). The estimators read that
    noise as a parameter effect: it adds about ``s2 / Var(Y)`` to every total-order index and
    scatters the first-order ones, so a parameter that does nothing still gets a positive
    total-order index. Use ``n_runs`` large enough that ``s2`` is small beside the variance
    of the measure over the bounds, and keep common random numbers on.
    """
    base = _load(scenario)
    measures = check_measures(base, measures)
    keys, lows, highs, integer = _bounds(base, bounds)
    n_runs = _count("n_runs", n_runs)
    seq = seed_sequence(rng)
    design_seq, points_seq = _children(seq, 2)
    columns = [f"p_{m}" if m in OUTCOMES else f"mean_{m}" for m in measures]
    calls = itertools.count()

    def func(x):  # x: (d, m) parameter values -> (len(measures), m) values
        points = _columns_to_points(keys, x, integer)
        # scipy calls back three times (A, B, then every AB): each call spawns its own seeds
        seeds = ([points_seq] * len(points) if common_random_numbers
                 else _children(_child(points_seq, next(calls)), len(points)))
        rows = _evaluate(_scenarios(base, keys, points), seeds, n_runs=n_runs, n_steps=n_steps,
                         measures=measures, executor=executor, progress=progress)
        return np.array([[row[c] for row in rows] for c in columns])

    estimates = _Saltelli2010()
    dists = [stats.uniform(lo, hi - lo) for lo, hi in zip(lows, highs)]
    stats.sobol_indices(func=func, n=n, dists=dists, method=estimates, rng=np.random.default_rng(design_seq))
    intervals = estimates.bootstrap(confidence_level, n_resamples, np.random.default_rng(_child(design_seq, 0)))
    table = _sensitivity_table(keys, measures, estimates.indices(), intervals)
    table.attrs = {"scenario": base.name, "scenario_hash": base.hash(), "n": n, "n_runs": n_runs,
                   "n_steps": n_steps or base.n_steps, "common_random_numbers": common_random_numbers,
                   "seed": {"entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}}
    return table


class _Saltelli2010:
    """The estimators of Saltelli et al. (2010), as scipy's default, keeping the evaluations
    so that the bootstrap can take a seeded generator (``SobolResult.bootstrap`` cannot)."""

    def __call__(self, f_A, f_B, f_AB):
        self.f_A, self.f_B, self.f_AB = f_A, f_B, f_AB
        # scipy squeezes what this returns and then assigns into it: one parameter and one
        # measure would leave scalars there. The indices are read from this object
        # (``indices``), not from scipy's result, so scipy gets placeholders it can squeeze.
        return np.zeros((2, 2)), np.zeros((2, 2))

    def estimate(self, idx) -> tuple[np.ndarray, np.ndarray]:
        """First and total order, each shape ``(s, d)``, from the base samples ``idx``."""
        f_A, f_B, f_AB = self.f_A[:, idx], self.f_B[:, idx], self.f_AB[..., idx]
        var = np.var([f_A, f_B], axis=(0, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.mean(f_B * (f_AB - f_A), axis=-1) / var
            total = 0.5 * np.mean((f_A - f_AB) ** 2, axis=-1) / var
        # a measure that does not vary (P(war) = 0 everywhere) depends on no parameter
        return _finite(first.T), _finite(total.T)

    def indices(self) -> np.ndarray:
        """Shape ``(2, s, d)``: first and total order."""
        return np.stack(self.estimate(np.arange(self.f_A.shape[-1])))

    def bootstrap(self, confidence_level, n_resamples, generator) -> np.ndarray:
        """Percentile intervals, shape ``(2, 2, s, d)``: (low, high) of (first, total)."""
        n = self.f_A.shape[-1]
        draws = np.stack([np.stack(self.estimate(generator.integers(0, n, n)))
                          for _ in range(n_resamples)])
        tail = (1 - confidence_level) / 2 * 100
        return np.percentile(draws, [tail, 100 - tail], axis=0)


def _finite(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def _sensitivity_table(keys, measures, indices, intervals) -> pd.DataFrame:
    rows = []
    for j, measure in enumerate(measures):
        for i, key in enumerate(keys):
            rows.append({"parameter": key, "measure": measure,
                         "first_order": indices[0, j, i], "total_order": indices[1, j, i],
                         "first_order_low": intervals[0, 0, j, i], "first_order_high": intervals[1, 0, j, i],
                         "total_order_low": intervals[0, 1, j, i], "total_order_high": intervals[1, 1, j, i]})
    return pd.DataFrame(rows)
