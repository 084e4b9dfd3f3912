"""Posterior predictive outcomes: runs whose parameters are drawn from a fit's posterior.

The runs are split over ``n_draws`` posterior draws; each draw's runs go through ``simulate``
in groups of at most ``GROUP_RUNS``, and only tallies are kept (outcome counts per draw, level
counts per step and cell), so memory does not grow with the number of runs. P(war) then carries
the parameters' uncertainty: it is the mean over the posterior of P(war | parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._progress import progress_bar
from .._rng import RngLike, seed_sequence
from ..batch import simulate
from ..batch.result import wilson_interval
from ..core.plan import OUTCOMES
from ..scenario import as_scenario
from .fit import child, scenario_at
from .._text import show

#: Runs of one ``simulate`` call at most: one posterior draw's runs are simulated in groups.
GROUP_RUNS = 2**16


@dataclass
class PosteriorPredictive:
    """Tallies of a posterior predictive batch.

    Attributes
    ----------
    draws : DataFrame
        One row per posterior draw: its parameters, ``n_runs``, and the counts of each outcome
        (``ongoing``, ``war``, ``ceasefire``).
    counts : ndarray, shape (n_steps, n_pairs, n_levels)
        Runs at each level per step and cell, ended runs counted at their final levels as in
        ``BatchResult.level_distribution``.
    pairs : ndarray, shape (n_pairs, 2)
        Actor indices of each cell.
    actor_ids, level_names : tuple of str
    metadata : dict
        Seed and the fit's provenance.
    """

    draws: pd.DataFrame
    counts: np.ndarray
    pairs: np.ndarray
    actor_ids: tuple
    level_names: tuple
    metadata: dict

    @property
    def n_runs(self) -> int:
        return int(self.draws["n_runs"].sum())

    def summary(self) -> pd.DataFrame:
        """P(outcome) over all runs, with a 95% Wilson interval (Monte Carlo error of the
        posterior predictive probability) and the 2.5% and 97.5% quantiles across posterior
        draws of each draw's own frequency (the spread the parameters' uncertainty makes)."""
        rows = []
        for outcome in OUTCOMES:
            count = int(self.draws[outcome].sum())
            low, high = wilson_interval(count, self.n_runs)
            share = self.draws[outcome] / self.draws["n_runs"]
            rows.append({"outcome": outcome, "probability": count / self.n_runs, "low": float(low),
                         "high": float(high), "draw_low": share.quantile(0.025), "draw_high": share.quantile(0.975)})
        return pd.DataFrame(rows).set_index("outcome")

    def level_distribution(self) -> pd.DataFrame:
        """Tidy table: step, actor, target, level, probability (over all runs)."""
        n_steps, n_pairs, n_levels = self.counts.shape
        ids = np.array(self.actor_ids, dtype=object)
        step, pair, level = np.meshgrid(np.arange(n_steps), np.arange(n_pairs), np.arange(n_levels), indexing="ij")
        return pd.DataFrame({"step": step.ravel(), "actor": ids[self.pairs[pair.ravel(), 0]],
                             "target": ids[self.pairs[pair.ravel(), 1]], "level": level.ravel(),
                             "probability": self.counts.ravel() / self.n_runs})

    def __repr__(self) -> str:
        s = self.summary()
        parts = ", ".join(f"P({o}) = {s.loc[o, 'probability']:.3f} [{s.loc[o, 'low']:.3f}, {s.loc[o, 'high']:.3f}]"
                          for o in ("war", "ceasefire"))
        return f"PosteriorPredictive({self.n_runs} runs over {len(self.draws)} posterior draws: {parts})"


def posterior_predictive(fit, n_runs: int, *, rng: RngLike = None, n_draws: int | None = None,
                         scenario=None, executor=None, progress: bool = False) -> PosteriorPredictive:
    """Simulate ``n_runs`` runs whose parameters are drawn from ``fit``'s posterior.

    Parameters
    ----------
    fit : Fit
    n_runs : int
        Runs in all, at least ``n_draws``.
    rng : None, int, SeedSequence or Generator
        Fixes which posterior draws are used and every run (SPEC 7).
    n_draws : int, optional
        Posterior draws used (sampled without replacement when the posterior has enough);
        ``min(200, n_runs, len(fit.samples))`` by default.
    scenario : Scenario, optional
        Apply the posterior draws to this scenario (it must have the fitted key paths) instead
        of the one fitted: for instance the crisis from its spark alone, without the record's
        exogenous acts scripted.
    executor : concurrent.futures.Executor, optional
        Passed to ``simulate``.
    progress : bool
        A progress bar over the draws.

    Returns
    -------
    PosteriorPredictive
    """
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"n_runs must be a positive integer, got {show(n_runs)}")
    seq = seed_sequence(rng)
    samples = fit.samples
    n_draws = int(n_draws or min(200, n_runs, len(samples)))
    pick = np.random.default_rng(child(seq, 0)).choice(len(samples), n_draws, replace=n_draws > len(samples))
    per_draw = np.full(n_draws, n_runs // n_draws)
    per_draw[: n_runs % n_draws] += 1
    base = fit.scenario_base if scenario is None else as_scenario(scenario)
    counts, rows = None, []
    bar = progress_bar(n_draws, enabled=progress, unit="draw", desc="posterior predictive")
    try:
        for d, (index, runs) in enumerate(zip(pick, per_draw)):
            point = {k: float(samples[k].iloc[index]) for k in fit.keys}
            drawn = scenario_at(base, point)
            tally = np.zeros(len(OUTCOMES), dtype=np.int64)
            for g, first in enumerate(range(0, int(runs), GROUP_RUNS)):
                n = int(min(GROUP_RUNS, runs - first))
                result = simulate(drawn, n, rng=child(child(seq, 1 + d), g), executor=executor)
                tally += np.bincount(result.column("outcome"), minlength=len(OUTCOMES))
                counts = result.counts.copy() if counts is None else counts + result.counts
                pairs = result.pairs
            rows.append({**point, "sample": int(index), "n_runs": int(runs), **dict(zip(OUTCOMES, tally.tolist()))})
            bar.update(1)
    finally:
        bar.close()
    metadata = {"seed": {"entropy": seq.entropy, "spawn_key": list(seq.spawn_key)}, "fit": fit.metadata}
    return PosteriorPredictive(pd.DataFrame(rows), counts, np.asarray(pairs), base.actor_ids,
                               tuple(base.level_names()), metadata)


def plug_in(scenario, n_runs: int, *, rng: RngLike = None) -> pd.DataFrame:
    """P(outcome) with a 95% Wilson interval for one scenario (no parameter uncertainty): the
    before-fitting figure to set beside ``PosteriorPredictive.summary``."""
    result = simulate(scenario, n_runs, rng=rng)
    tally = np.bincount(result.column("outcome"), minlength=len(OUTCOMES))
    rows = []
    for outcome, count in zip(OUTCOMES, tally):
        low, high = wilson_interval(int(count), n_runs)
        rows.append({"outcome": outcome, "probability": count / n_runs, "low": float(low), "high": float(high)})
    return pd.DataFrame(rows).set_index("outcome")
