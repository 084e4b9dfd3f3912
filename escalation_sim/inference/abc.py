"""Approximate Bayesian computation: fitting by simulation where no exact likelihood exists.

Sequential Monte Carlo ABC in its population Monte Carlo form (Beaumont, Cornuet, Marin and
Robert 2009; Toni, Welch, Strelkowa, Ipsen and Stumpf 2009). Generation 0 draws
``n_particles`` parameter sets from the uniform prior on the bounds. Each later generation
resamples the previous one by weight, moves each draw by a Gaussian kernel with twice the
weighted covariance, and keeps it when its simulations come within the generation's tolerance
of the observed summary statistics; its weight is the prior over the kernel mixture density.
The tolerance of generation ``t + 1`` is the ``quantile`` of the accepted distances of
generation ``t``.

Each parameter set is simulated ``n_runs`` times in one call of the core (``simulate`` with
trajectories), so there is one Python call per parameter set, never per run. Its weight uses
the fraction of its runs within the tolerance, an unbiased estimate of the ABC likelihood
(the several-pseudo-samples form of Del Moral, Doucet and Jasra 2012), which makes the weights
far less noisy than a single run's accept-or-reject.

Summary statistics of a timeline, per ordered pair of actors (only observed cells count): the
number of hostile steps (level above 0), the sum of levels, the highest level, the first step
at or above each level of the ladder (the window's length when never), and the number of
responses (hostile in a step after the target was hostile toward it); and the total of hostile
acts. The distance is the root mean square of the differences, each divided by the spread of
that statistic over the prior predictive runs of generation 0 (1.4826 times the median absolute
deviation, else the standard deviation, else 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .._rng import seed_sequence
from ..batch import simulate
from .fit import child, scenario_at
from .likelihood import levels_array

#: The scale of a normal distribution's median absolute deviation.
MAD_SCALE = 1.4826


def observed_window(scenario, timeline) -> tuple[np.ndarray, int]:
    """Observed levels ``(n_steps, n_actors, n_actors)`` (-1 where unobserved) and the window's
    first step; unobserved cells are allowed (they are left out of the statistics).

    Raises
    ------
    ValueError
        A wrong shape, no steps, nothing observed, or a level above the ladder's top.
    """
    levels, first = levels_array(scenario, timeline)
    A = len(scenario.actors)
    if len(levels) == 0:
        raise ValueError("observed levels: the timeline has no steps; ABC needs at least one observed step")
    off = ~np.eye(A, dtype=bool)
    if not (levels[:, off] >= 0).any():
        raise ValueError("observed levels: no pair of actors is observed in any step")
    if (levels[:, off] > scenario.top).any():
        raise ValueError(f"observed levels above the top of the ladder ({scenario.top})")
    return levels, first


def summaries(levels: np.ndarray, observed: np.ndarray, reverse: np.ndarray, top: int) -> np.ndarray:
    """Summary statistics of runs.

    Parameters
    ----------
    levels : ndarray
        Executed levels, shape (n_runs, n_steps, n_cells); cell ``c`` is an ordered pair.
    observed : ndarray of bool
        Which (step, cell) are observed, shape (n_steps, n_cells).
    reverse : ndarray
        The cell of the reversed pair, shape (n_cells,).
    top : int
        The ladder's top level.

    Returns
    -------
    ndarray
        Shape (n_runs, n_cells * (4 + top) + 1): per cell hostile steps, sum of levels, highest
        level, responses, first step at or above each level 1..top; then total hostile acts.
    """
    x = np.where(observed, levels, 0).astype(np.int64)
    n_steps = x.shape[1]
    hostile = x > 0
    parts = [hostile.sum(axis=1), x.sum(axis=1), x.max(axis=1)]
    both = observed[1:] & observed[:-1, reverse]
    parts.append((hostile[:, 1:] & hostile[:, :-1][:, :, reverse] & both).sum(axis=1))
    for level in range(1, top + 1):
        reached = x >= level
        parts.append(np.where(reached.any(axis=1), reached.argmax(axis=1), n_steps))
    parts.append(hostile.sum(axis=(1, 2))[:, None])
    return np.concatenate(parts, axis=1).astype(float)


class _Simulator:
    """Summary statistics of ``n_runs`` simulated runs per parameter set."""

    def __init__(self, base, keys, observed, first, n_runs):
        self.base, self.keys, self.n_runs, self.first = base, keys, n_runs, first
        self.n_steps = first + len(observed)
        probe = simulate(base, 1, rng=0, n_steps=self.n_steps, trajectories=True)
        self.pairs = [(int(i), int(j)) for i, j in probe.pairs]
        index = {p: k for k, p in enumerate(self.pairs)}
        self.reverse = np.array([index[(j, i)] for i, j in self.pairs])
        cells = observed[:, [i for i, _ in self.pairs], [j for _, j in self.pairs]]
        self.mask = cells >= 0
        self.top = base.top
        self.observed = summaries(cells[None], self.mask, self.reverse, self.top)[0]

    def __call__(self, theta: np.ndarray, seq) -> np.ndarray:
        """Statistics of shape (n_sets, n_runs, n_stats); set ``k`` is fixed by ``seq``'s child ``k``."""
        out = []
        for k, row in enumerate(theta):
            scenario = scenario_at(self.base, dict(zip(self.keys, row)))
            result = simulate(scenario, self.n_runs, rng=child(seq, k), n_steps=self.n_steps, trajectories=True)
            levels = np.moveaxis(result.levels[self.first:], 2, 0)  # (n_runs, n_steps, n_cells)
            out.append(summaries(levels, self.mask, self.reverse, self.top))
        return np.stack(out) if out else np.zeros((0, self.n_runs, len(self.observed)))


def spread(stats: np.ndarray) -> np.ndarray:
    """Per statistic: 1.4826 x median absolute deviation, else standard deviation, else 1."""
    flat = stats.reshape(-1, stats.shape[-1])
    mad = MAD_SCALE * np.median(np.abs(flat - np.median(flat, axis=0)), axis=0)
    std = flat.std(axis=0)
    return np.where(mad > 0, mad, np.where(std > 0, std, 1.0))


def smc_abc(base, timeline, bounds, *, rng=None, n_particles: int = 200, n_runs: int = 20, quantile: float = 0.5,
            max_generations: int = 8, min_acceptance: float = 0.05, progress: bool = False):
    """Population Monte Carlo ABC; see the module's docstring and ``fit(method="abc")``.

    Parameters
    ----------
    base : Scenario
    timeline : Timeline or ndarray
        What happened: observed levels (n_steps, n_actors, n_actors), -1 where unobserved.
    bounds : dict
        ``{key path: (low, high)}``, checked (``fit.parse_params``): the uniform prior.
    rng : None, int, SeedSequence or Generator
        Fixes the result (SPEC 7; a SeedSequence given is not advanced).
    n_particles, n_runs, max_generations : int
        Particles per generation, runs per parameter set, most generations.
    quantile : float
        The next tolerance is this quantile of the accepted distances.
    min_acceptance : float
        A generation that accepts fewer of its proposals stops the fit (the one before is the
        result).
    progress : bool
        A progress bar of the generations.

    Returns
    -------
    samples : DataFrame
        ``n_particles`` equal-weight draws (the final population resampled by weight): one column
        per key path and ``distance`` (the particle's mean distance over its runs).
    mle : dict
        The particle of the final population with the smallest mean distance, and ``distance``.
    diagnostics : dict
        ``tolerance`` and ``acceptance`` per generation, ``n_simulations`` (runs),
        ``n_parameter_sets``, ``ess`` (effective sample size of the final weights, per key),
        ``stopped`` (why), ``generations``, ``spread`` (the divisor of each statistic).
    observed : ndarray
        The observed levels.
    """
    from .._progress import progress_bar

    for name, value in (("quantile", quantile), ("min_acceptance", min_acceptance)):
        if not (0 < value < 1):
            raise ValueError(f"{name}: expected a number in (0, 1), got {value!r}")
    for name, value, least in (("n_particles", n_particles, 2), ("n_runs", n_runs, 1),
                               ("max_generations", max_generations, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"{name}: expected an integer of at least {least}, got {value!r}")
    seq = seed_sequence(rng)
    observed, first = observed_window(base, timeline)
    keys = list(bounds)
    low = np.array([b[0] for b in bounds.values()])
    high = np.array([b[1] for b in bounds.values()])
    sim = _Simulator(base, keys, observed, first, n_runs)
    gen_seq = lambda g: child(seq, g + 1)  # noqa: E731  (child 0: the final resampling)

    # Generation 0: the prior; its runs fix the statistics' spread.
    rng = np.random.default_rng(child(gen_seq(0), 0))
    theta = low + (high - low) * rng.random((n_particles, len(keys)))
    stats = sim(theta, child(gen_seq(0), 1))
    scale = sim.scale = spread(stats)
    dist = _distance(stats, sim.observed, scale)
    weights = np.full(n_particles, 1.0 / n_particles)
    # Generation 0 accepts every draw: its tolerance is its largest distance.
    tolerance, acceptance, n_sets = [float(dist.max())], [1.0], n_particles
    stopped = f"reached max_generations ({max_generations})"
    bar = progress_bar(max_generations, enabled=progress, unit="generation", desc="abc")
    bar.update(1)
    try:
        for g in range(1, max_generations):
            within = dist <= tolerance[-1]
            eps = float(np.quantile(dist[within], quantile))
            if eps >= tolerance[-1]:
                stopped = f"the tolerance stopped shrinking at generation {g}"
                break
            step = _generation(sim, theta, weights, eps, low, high, gen_seq(g), n_particles, min_acceptance)
            n_sets += step[-1]
            if step[0] is None:
                stopped = (f"generation {g} accepted under {min_acceptance:.0%} of its proposals (tolerance "
                           f"{eps:.4g}); the previous generation is the result")
                break
            theta, weights, dist, rate, _ = step
            tolerance.append(eps)
            acceptance.append(rate)
            bar.update(1)
    finally:
        bar.close()
    return _result(keys, theta, weights, dist, tolerance, acceptance, n_sets, n_runs, stopped, scale, seq, observed)


def _distance(stats, observed, scale) -> np.ndarray:
    return np.sqrt((((stats - observed) / scale) ** 2).mean(axis=-1))


def _generation(sim, theta, weights, eps, low, high, seq, n_particles, min_acceptance):
    """One population: rounds of ``n_particles`` proposals until ``n_particles`` are accepted
    or ``n_particles / min_acceptance`` have been simulated."""
    rng = np.random.default_rng(child(seq, 0))
    cov = 2 * np.atleast_2d(np.cov(theta, rowvar=False, aweights=weights))
    cov += np.diag(1e-12 * (high - low) ** 2)  # a population on one point still moves
    chol = np.linalg.cholesky(cov)
    kept_theta, kept_frac, kept_dist, n_sets, k = [], [], [], 0, 0
    cap = math.ceil(n_particles / min_acceptance)
    while sum(len(t) for t in kept_theta) < n_particles and n_sets < cap:
        pick = rng.choice(len(theta), n_particles, p=weights)
        moved = theta[pick] + rng.standard_normal((n_particles, len(low))) @ chol.T
        moved = moved[((moved >= low) & (moved <= high)).all(axis=1)]
        dist = _distance(sim(moved, child(seq, 1 + k)), sim.observed, sim.scale)
        k, n_sets = k + 1, n_sets + len(moved)
        frac = (dist <= eps).mean(axis=1)
        kept_theta.append(moved[frac > 0])
        kept_frac.append(frac[frac > 0])
        kept_dist.append(dist[frac > 0])
    new = np.concatenate(kept_theta)[:n_particles]
    if len(new) < n_particles:
        return None, None, None, None, n_sets
    frac = np.concatenate(kept_frac)[:n_particles]
    # Weight: prior (uniform, a constant) over the kernel mixture density that proposed it.
    inv = np.linalg.inv(cov)
    diff = new[:, None, :] - theta[None, :, :]
    kernel = np.exp(-0.5 * np.einsum("npi,ij,npj->np", diff, inv, diff))
    w = frac / (kernel @ weights)
    accepted = sum(len(t) for t in kept_theta) / n_sets
    return new, w / w.sum(), np.concatenate(kept_dist)[:n_particles], accepted, n_sets


def _result(keys, theta, weights, dist, tolerance, acceptance, n_sets, n_runs, stopped, scale, seq, observed):
    rng = np.random.default_rng(child(seq, 0))
    pick = np.sort(rng.choice(len(theta), len(theta), p=weights))
    mean_dist = dist.mean(axis=1)
    samples = pd.DataFrame(theta[pick], columns=keys)
    samples["distance"] = mean_dist[pick]
    best = int(np.argmin(mean_dist))
    mle = {**dict(zip(keys, map(float, theta[best]))), "distance": float(mean_dist[best])}
    ess = float(1 / np.sum(weights**2))
    diagnostics = {"n_particles": len(theta), "n_runs": n_runs, "tolerance": [float(t) for t in tolerance],
                   "acceptance": [float(a) for a in acceptance], "n_parameter_sets": int(n_sets),
                   "n_simulations": int(n_sets * n_runs), "ess": {k: ess for k in keys}, "stopped": stopped,
                   "generations": len(tolerance), "spread": [float(s) for s in scale]}
    return samples, mle, diagnostics, observed
