"""Fitting a scenario's open parameters to what happened: ``fit`` and the ``Fit`` it returns.

MCMC runs emcee's affine-invariant ensemble sampler (Foreman-Mackey et al. 2013) on the exact
likelihood, every walker of a step evaluated in one vectorised call. The prior is uniform on
the given bounds. The chain grows in batches of steps until the integrated autocorrelation time
is stable and the chain is at least 50 times longer than it (emcee's advice), so the
diagnostics are part of the result. Each batch draws from its own child of the ``rng``
SeedSequence, which lets an interrupted fit resume (``batches``) and still give the chain an
uninterrupted one would have.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from .. import __version__
from .._rng import RngLike, seed_sequence
from ..scenario import Scenario, load_scenario, with_overrides
from ..scenario import as_scenario
from .exogenous import exogenous_acts
from .likelihood import Likelihood
from .params import check_keys
from .._text import show

def MOVES():
    """Differential-evolution proposals with a snooker share: on these likelihoods (bounded,
    skewed, some parameters pressed against a bound) they give shorter autocorrelation times
    than the default stretch move."""
    import emcee

    return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


#: Stop once the chain is this many autocorrelation times long and the estimate has settled.
TAU_FACTOR = 50
TAU_CHANGE = 0.05


def child(seq: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The ``k``-th child of ``seq``, made without advancing ``seq`` (SPEC 7)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, k))


def parse_params(params) -> dict[str, tuple[float, float]]:
    """``{key path: (low, high)}`` from a mapping, checked: finite numbers with low < high."""
    if not isinstance(params, Mapping) or not params:
        raise ValueError("params: expected a mapping of key paths to (low, high) bounds")
    out = {}
    for key, bounds in params.items():
        try:
            low, high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"params: {key}: expected (low, high), got {show(bounds)}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"params: {key}: expected finite bounds with low < high, got ({low}, {high})")
        out[str(key)] = (low, high)
    return out


@dataclass
class Fit:
    """A fitted scenario: posterior samples, the maximum-likelihood point and diagnostics.

    Attributes
    ----------
    scenario_base : Scenario
        The scenario fitted (with any exogenous acts scripted).
    bounds : dict
        ``{key path: (low, high)}``: the uniform prior.
    samples : DataFrame
        Posterior draws (after burn-in, thinned): one column per key path and
        ``log_likelihood``.
    mle : dict
        Maximum-likelihood point ``{key path: value}`` and its ``log_likelihood``; for ABC the
        particle with the smallest distance and its ``distance``.
    diagnostics : dict
        MCMC: ``autocorr_time`` and ``ess`` per key path, ``acceptance`` (mean fraction),
        ``n_steps``, ``n_walkers``, ``burn_in``, ``thin``, ``converged``.
    exogenous : DataFrame
        Acts the scenario could not produce, scripted before fitting (``exogenous_acts``).
    observed : ndarray
        The observed levels fitted, shape (n_steps, n_actors, n_actors).
    """

    scenario_base: Scenario
    bounds: dict
    samples: pd.DataFrame
    mle: dict
    diagnostics: dict
    method: str = "emcee"
    exogenous: pd.DataFrame = field(default_factory=pd.DataFrame)
    observed: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)
    chain: np.ndarray | None = field(default=None, repr=False)

    @property
    def keys(self) -> list[str]:
        return list(self.bounds)

    def point(self, point="median") -> dict:
        """A parameter set: ``"median"``, ``"mean"``, ``"mle"``, a sample index, or a mapping."""
        if isinstance(point, Mapping):
            return {k: float(point[k]) for k in self.keys}
        if point == "mle":
            return {k: self.mle[k] for k in self.keys}
        if point in ("median", "mean"):
            return {k: float(getattr(self.samples[k], point)()) for k in self.keys}
        if isinstance(point, (int, np.integer)):
            return {k: float(self.samples[k].iloc[int(point)]) for k in self.keys}
        raise ValueError(f"point: expected 'median', 'mean', 'mle', a sample index or a mapping, got {show(point)}")

    def scenario(self, point="median") -> Scenario:
        """The scenario at a point of the posterior (see ``point``)."""
        return scenario_at(self.scenario_base, self.point(point))

    def intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Posterior median and central interval of each parameter, with the bounds."""
        q = (1 - level) / 2
        rows = []
        for k in self.keys:
            column = self.samples[k]
            rows.append({"parameter": k, "low_bound": self.bounds[k][0], "high_bound": self.bounds[k][1],
                         "median": column.median(), "low": column.quantile(q), "high": column.quantile(1 - q),
                         "mle": self.mle[k], "autocorr_time": self.diagnostics.get("autocorr_time", {}).get(k),
                         "ess": self.diagnostics.get("ess", {}).get(k)})
        return pd.DataFrame(rows).set_index("parameter")

    def predict(self, n_runs: int, *, rng: RngLike = None, n_draws: int | None = None, scenario=None,
                executor=None, progress: bool = False):
        """Posterior predictive outcomes: runs whose parameters are drawn from the posterior.

        See ``escalation_sim.inference.predict.posterior_predictive``.
        """
        from .predict import posterior_predictive

        return posterior_predictive(self, n_runs, rng=rng, n_draws=n_draws, scenario=scenario, executor=executor,
                                    progress=progress)

    def save(self, folder) -> Path:
        """Write ``fit.json``, ``samples.parquet``, ``scenario.yaml``, ``observed.npy`` (and
        ``exogenous.csv``) into ``folder``; ``load_fit`` reads them back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.samples.to_parquet(folder / "samples.parquet", index=False)
        self.scenario_base.save(folder / "scenario.yaml")
        if self.observed is not None:
            np.save(folder / "observed.npy", self.observed)
        self.exogenous.to_csv(folder / "exogenous.csv", index=False)
        info = {"method": self.method, "bounds": {k: list(v) for k, v in self.bounds.items()}, "mle": self.mle,
                "diagnostics": self.diagnostics, "metadata": self.metadata}
        (folder / "fit.json").write_text(json.dumps(info, indent=2, default=_plain) + "\n")
        return folder

    # -- display -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        d = self.diagnostics
        if self.method == "abc":
            head = (f"Fit({self.scenario_base.name}, abc: {len(self.samples)} samples, {d['generations']} "
                    f"generations, final tolerance {d['tolerance'][-1]:.3g}, {d['n_simulations']:,} runs)")
        else:
            head = (f"Fit({self.scenario_base.name}, {self.method}: {len(self.samples)} samples, "
                    f"max log-likelihood {self.mle['log_likelihood']:.2f}, "
                    f"{'converged' if d.get('converged') else 'NOT converged'})")
        table = self.intervals()[["median", "low", "high", "mle", "ess"]]
        return head + "\n" + table.to_string(float_format=lambda x: f"{x:.4g}")

    def _repr_html_(self) -> str:
        table = self.intervals()[["median", "low", "high", "mle", "autocorr_time", "ess"]]
        head = html.escape(repr(self).splitlines()[0])
        return f"<p><b>{head}</b></p>" + table.to_html(float_format=lambda x: f"{x:.4g}")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def scenario_at(scenario: Scenario, point: Mapping[str, float]) -> Scenario:
    """``with_overrides`` with each value typed as the scenario holds it (integers rounded)."""
    scenario = as_scenario(scenario)
    from ..analysis.sweep import _integer_keys, _typed

    integer = _integer_keys(scenario, list(point))
    return with_overrides(scenario, {k: _typed(float(v), integer[k]) for k, v in point.items()})


def scenario_values(scenario: Scenario, keys) -> dict:
    """The scenario's own value at each key path (keys it does not hold are left out)."""
    scenario = as_scenario(scenario)
    data, out = scenario.to_dict(), {}
    for key in keys:
        node = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            out[key] = float(node)
    return out


def load_fit(folder) -> Fit:
    """Read a fit written by ``Fit.save`` (or by ``escalation-sim fit --out``)."""
    folder = Path(folder)
    info = json.loads((folder / "fit.json").read_text())
    observed = np.load(folder / "observed.npy") if (folder / "observed.npy").exists() else None
    exogenous = pd.read_csv(folder / "exogenous.csv") if (folder / "exogenous.csv").stat().st_size > 1 else pd.DataFrame()
    return Fit(load_scenario(folder / "scenario.yaml"), {k: tuple(v) for k, v in info["bounds"].items()},
               pd.read_parquet(folder / "samples.parquet"), info["mle"], info["diagnostics"], info["method"],
               exogenous, observed, info["metadata"])


# -- fitting -------------------------------------------------------------------------------------

def fit(scenario, timeline, params, *, method: str = "emcee", rng: RngLike = None, exogenous: bool = False,
        n_walkers: int | None = None, batch_steps: int = 250, max_steps: int = 20_000,
        batches: Callable | None = None, progress: bool = False, n_particles: int = 200, n_runs: int = 20,
        max_generations: int = 8) -> Fit:
    """Fit a scenario's open parameters to an observed timeline.

    Parameters
    ----------
    scenario : Scenario or str
    timeline : Timeline or ndarray
        What happened (see ``log_likelihood``).
    params : mapping
        ``{key path: (low, high)}``, the paths of ``--set`` and sweeps; the prior is uniform
        on these bounds.
    method : {"emcee", "abc"}
        ``"emcee"``: MCMC on the exact likelihood. ``"abc"``: sequential Monte Carlo
        approximate Bayesian computation on summary statistics (``inference.abc``), for
        scenarios without an exact likelihood (stateful policies under noise); its ``mle`` is
        the particle with the smallest distance, not a likelihood maximum.
    rng : None, int, SeedSequence or Generator
        Fixes the fit (SPEC 7; a SeedSequence given is not advanced).
    exogenous : bool
        Script the acts the scenario cannot produce (``exogenous_acts``) and fit the rest;
        otherwise such an act is an error.
    n_walkers : int, optional
        Walkers of the ensemble; ``max(32, 4 * n_params)`` by default.
    batch_steps, max_steps : int
        The chain grows ``batch_steps`` at a time until it has converged or has ``max_steps``.
    batches : callable, optional
        ``batches(k, run)`` returns batch ``k``'s ``(coords, log_prob)`` arrays, calling
        ``run()`` when it has none stored: the CLI's hook for resumable fits.
    progress : bool
        A progress bar of the batches (tqdm, on standard error).
    n_particles, n_runs, max_generations : int
        ABC only: particles per generation, runs simulated per parameter set (one call of the
        core each), and the most generations.

    Returns
    -------
    Fit

    Raises
    ------
    ValueError
        Bad bounds or key paths (naming them), or an observed act the scenario cannot produce
        (naming it) without ``exogenous``.
    """
    if method not in ("emcee", "abc"):
        raise ValueError(f"method: expected 'emcee' or 'abc', got {show(method)}")
    base = as_scenario(scenario)
    bounds = parse_params(params)
    keys = list(bounds)
    check_keys(base, keys, np.array([[b[0] for b in bounds.values()], [b[1] for b in bounds.values()]]))
    acts = pd.DataFrame(columns=["step", "actor", "target", "level", "reason"])
    if exogenous:
        base, acts = exogenous_acts(base, timeline)
    seq = seed_sequence(rng)
    if method == "abc":
        from .abc import smc_abc

        samples, mle, diagnostics, observed = smc_abc(base, timeline, bounds, rng=seq, n_particles=n_particles,
                                                      n_runs=n_runs, max_generations=max_generations,
                                                      progress=progress)
        return Fit(base, bounds, samples, mle, diagnostics, "abc", acts, observed, _metadata(base, seq))
    lik = Likelihood(base, timeline, keys)
    sampler = _Sampler(lik, bounds, n_walkers or max(32, 4 * len(keys)), seq)
    chain, log_prob, diagnostics = sampler.run(batch_steps, max_steps, batches, progress)
    samples, mle = _summaries(lik, bounds, chain, log_prob, diagnostics)
    return Fit(base, bounds, samples, mle, diagnostics, "emcee", acts, lik.observed, _metadata(base, seq), chain)


def _metadata(base, seq) -> dict:
    return {"package": "escalation-sim", "version": __version__, "scenario": base.name,
            "scenario_hash": base.hash(), "seed": {"entropy": seq.entropy, "spawn_key": list(seq.spawn_key)},
            "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


class _Sampler:
    def __init__(self, lik: Likelihood, bounds, n_walkers, seq):
        self.lik, self.n_walkers, self.seq = lik, n_walkers, seq
        self.low = np.array([b[0] for b in bounds.values()])
        self.high = np.array([b[1] for b in bounds.values()])

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        inside = ((theta >= self.low) & (theta <= self.high)).all(axis=1)
        out = np.full(len(theta), -np.inf)
        if inside.any():
            out[inside] = self.lik(theta[inside])
        return out

    def start(self) -> tuple[np.ndarray, np.ndarray]:
        """Walkers drawn uniformly in the bounds, keeping those of finite likelihood."""
        rng = np.random.default_rng(child(self.seq, 0))
        coords, values = [], []
        for _ in range(100):
            theta = self.low + (self.high - self.low) * rng.random((8 * self.n_walkers, len(self.low)))
            lp = self.log_prob(theta)
            coords.append(theta[np.isfinite(lp)])
            values.append(lp[np.isfinite(lp)])
            if sum(len(c) for c in coords) >= self.n_walkers:
                return np.concatenate(coords)[: self.n_walkers], np.concatenate(values)[: self.n_walkers]
        middle = self.lik.values(((self.low + self.high) / 2)[None])
        raise ValueError("no parameter set drawn inside the bounds gives the observed path a positive probability "
                         f"(at their middle: {self.lik.explain(middle)}); fit with exogenous=True to take such "
                         "acts as given")

    def batch(self, k: int, coords, log_prob, n_steps):
        import emcee

        sampler = emcee.EnsembleSampler(self.n_walkers, len(self.low), self.log_prob, vectorize=True,
                                        moves=MOVES())
        seed = child(self.seq, k + 1).generate_state(1)[0]
        # emcee draws from a legacy RandomState and takes its state, not a Generator: it is
        # seeded here from the fit's own SeedSequence child, so the chain is fixed by `rng`.
        state = emcee.State(coords, log_prob=log_prob, random_state=np.random.RandomState(seed).get_state())
        sampler.run_mcmc(state, n_steps)
        return sampler.get_chain(), sampler.get_log_prob()

    def run(self, batch_steps, max_steps, batches, progress):
        import emcee

        from .._progress import progress_bar

        coords, log_prob = self.start()
        chains, probs, previous, tau = [], [], None, None
        bar = progress_bar(max(1, max_steps // batch_steps), enabled=progress, unit="batch", desc="fit")
        try:
            for k in range(max(1, max_steps // batch_steps)):
                def run(k=k, coords=coords, log_prob=log_prob):
                    return self.batch(k, coords, log_prob, batch_steps)
                chain, lp = batches(k, run) if batches is not None else run()
                chains.append(chain)
                probs.append(lp)
                bar.update(1)
                coords, log_prob = chain[-1], lp[-1]
                full = np.concatenate(chains)
                tau = emcee.autocorr.integrated_time(full, tol=0)
                settled = previous is not None and np.all(np.abs(tau - previous) <= TAU_CHANGE * tau)
                if settled and len(full) >= TAU_FACTOR * tau.max():
                    break
                previous = tau
        finally:
            bar.close()
        full, lp = np.concatenate(chains), np.concatenate(probs)
        return full, lp, self._diagnostics(full, lp, tau, settled and len(full) >= TAU_FACTOR * tau.max())

    def _diagnostics(self, chain, log_prob, tau, converged) -> dict:
        n_steps = len(chain)
        burn = int(min(n_steps // 2, math.ceil(2 * tau.max())))
        thin = max(1, int(tau.min() // 2))
        moved = (np.diff(chain, axis=0) != 0).any(axis=2)
        keys = self.lik.keys
        return {"n_walkers": self.n_walkers, "n_steps": n_steps, "burn_in": burn, "thin": thin,
                "autocorr_time": dict(zip(keys, map(float, tau))),
                "ess": dict(zip(keys, (float((n_steps - burn) * self.n_walkers / t) for t in tau))),
                "acceptance": float(moved.mean()), "converged": bool(converged),
                "rule": f"chain >= {TAU_FACTOR} autocorrelation times and the estimate changed < "
                        f"{TAU_CHANGE:.0%} over the last batch"}


def _summaries(lik, bounds, chain, log_prob, diagnostics):
    burn, thin = diagnostics["burn_in"], diagnostics["thin"]
    flat = chain[burn::thin].reshape(-1, chain.shape[2])
    samples = pd.DataFrame(flat, columns=list(bounds))
    samples["log_likelihood"] = log_prob[burn::thin].reshape(-1)
    best = np.unravel_index(np.argmax(log_prob), log_prob.shape)
    point = _polish(lik, bounds, chain[best], float(log_prob[best]))
    return samples, point


def _polish(lik, bounds, start, value) -> dict:
    """The best point of the chain, refined by a bounded Powell search on the likelihood."""
    from scipy.optimize import minimize

    low = np.array([b[0] for b in bounds.values()])
    high = np.array([b[1] for b in bounds.values()])

    def objective(x):
        inside = np.clip(x, low, high)
        v = lik(inside[None])[0]
        return -v if np.isfinite(v) else 1e300

    result = minimize(objective, start, method="Powell", bounds=list(zip(low, high)))
    best, best_value = (result.x, -result.fun) if -result.fun > value else (start, value)
    return {**dict(zip(bounds, map(float, best))), "log_likelihood": float(best_value)}
