"""Figures of fits: posterior marginals, pairs of parameters, and the posterior predictive fan
chart of levels per pair of actors with the observed acts drawn over it.

Like ``escalation_sim.plots``, each function returns a ``matplotlib.figure.Figure`` made
without pyplot (no global state), with font sizes legible on a slide.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..plots import LABEL, TICK, TITLE, _step_label

POSTERIOR, HANDSET, MLE = "#4d4d4d", "#b2182b", "#2166ac"


def _short(key: str) -> str:
    """``actors.USA.policy.ratio`` -> ``USA ratio``; ``noise.execution`` -> ``execution noise``."""
    parts = key.split(".")
    if parts[0] == "actors" and parts[-2] == "spontaneous":
        return f"{parts[1]} spark {parts[-1]}"
    if parts[0] == "actors":
        return f"{parts[1]} {parts[-1].replace('_', ' ')}"
    if parts[0] == "noise":
        return f"{parts[1]} noise"
    return key


def posterior_marginals(fit, *, handset=None, bins: int = 40) -> Figure:
    """One histogram per parameter over its prior bounds, with the 95% interval shaded, the
    maximum-likelihood point and (``handset``: the scenario's own values) the hand-set value."""
    keys = fit.keys
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, key in zip(axes, keys):
        low, high = fit.bounds[key]
        values = fit.samples[key].to_numpy()
        ax.hist(values, bins=np.linspace(low, high, bins + 1), color=POSTERIOR, alpha=0.75, density=True)
        q = np.quantile(values, [0.025, 0.975])
        ax.axvspan(*q, color=POSTERIOR, alpha=0.12, label="95% interval")
        ax.axvline(fit.mle[key], color=MLE, lw=2, label="max. likelihood")
        if handset is not None and key in handset:
            ax.axvline(handset[key], color=HANDSET, lw=2, ls="--", label="hand-set")
        ax.set_xlim(low, high)
        ax.set_yticks([])
        ax.set_xlabel(_short(key), fontsize=LABEL)
        ax.tick_params(labelsize=TICK)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=TICK,
               frameon=False)
    fig.suptitle(f"Posterior of {fit.scenario_base.name} given the record ({len(fit.samples)} draws)",
                 fontsize=TITLE)
    return fig


def posterior_pairs(fit, *, max_points: int = 2000) -> Figure:
    """Scatter of every pair of parameters (lower triangle) and the marginals (diagonal)."""
    keys = fit.keys
    k = len(keys)
    fig = Figure(figsize=(2.4 * k + 0.6, 2.4 * k + 0.6), layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    samples = fit.samples
    if len(samples) > max_points:  # every k-th draw: the chain is thinned already
        samples = samples.iloc[:: -(-len(samples) // max_points)]
    for i, yk in enumerate(keys):
        for j, xk in enumerate(keys):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(samples[xk], bins=30, range=fit.bounds[xk], color=POSTERIOR, alpha=0.75)
                ax.set_yticks([])
            else:
                ax.scatter(samples[xk], samples[yk], s=3, color=POSTERIOR, alpha=0.3, rasterized=True)
                ax.plot(fit.mle[xk], fit.mle[yk], "o", color=MLE, ms=5)
                ax.set_ylim(fit.bounds[yk])
            ax.set_xlim(fit.bounds[xk])
            ax.tick_params(labelsize=TICK - 2)
            if i == k - 1:
                ax.set_xlabel(_short(xk), fontsize=LABEL - 1)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(_short(yk), fontsize=LABEL - 1)
            elif j > 0:
                ax.set_yticklabels([])
    fig.suptitle("Posterior pairs (blue: maximum likelihood)", fontsize=TITLE)
    return fig


def fan_chart(predictive, observed, scenario, *, pairs=None, steps=None) -> Figure:
    """Posterior predictive level of each pair per step (median, 50% and 90% bands) with the
    observed executed levels drawn over it.

    Parameters
    ----------
    predictive : PosteriorPredictive
    observed : ndarray, shape (n_steps, n_actors, n_actors)
        Observed levels (``Timeline.levels``), -1 where unobserved.
    scenario : Scenario
        For actor ids, level names and the calendar.
    pairs : list of (actor, target), optional
        The pairs to draw; by default those with an observed act above quiet.
    steps : int, optional
        Steps to draw (default: the observed window).
    """
    ids = list(scenario.actor_ids)
    n_steps = min(predictive.counts.shape[0], steps or observed.shape[0])
    if pairs is None:
        pairs = [(ids[i], ids[j]) for i in range(len(ids)) for j in range(len(ids))
                 if i != j and (observed[:n_steps, i, j] > 0).any()]
    cols = 2 if len(pairs) > 1 else 1
    rows = -(-len(pairs) // cols)
    fig = Figure(figsize=(6.4 * cols, 2.5 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    cdf = np.cumsum(predictive.counts[:n_steps], axis=2) / predictive.counts[0].sum(axis=1)[None, :, None]
    index = {tuple(p): k for k, p in enumerate(predictive.pairs.tolist())}
    names = [n.replace("_", " ") for n in scenario.level_names()]
    t = np.arange(n_steps)
    for ax, (a, b) in zip(axes, pairs):
        c = cdf[:, index[(ids.index(a), ids.index(b))], :]
        band = {q: (c < q).sum(axis=1) for q in (0.05, 0.25, 0.5, 0.75, 0.95)}  # level quantiles
        ax.fill_between(t, band[0.05], band[0.95], step="mid", color=POSTERIOR, alpha=0.15, label="90% of runs")
        ax.fill_between(t, band[0.25], band[0.75], step="mid", color=POSTERIOR, alpha=0.35, label="50% of runs")
        mean = (c.shape[1] - c.sum(axis=1))  # E[level] = sum over l of P(level > l)
        ax.plot(t, mean, color=POSTERIOR, lw=1.2, label="mean level")
        seen = observed[:n_steps, ids.index(a), ids.index(b)]
        hostile = seen > 0
        ax.plot(t[hostile], seen[hostile], "o", color=HANDSET, ms=6, label="observed act")
        ax.set_ylim(-0.3, scenario.top + 0.3)
        ax.set_yticks(range(scenario.top + 1), names, fontsize=TICK - 2)
        ax.set_title(f"{a} → {b}", fontsize=LABEL)
        ax.tick_params(axis="x", labelsize=TICK)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    for ax in axes[: len(pairs)][-cols:]:
        ax.set_xlabel(_step_label(scenario), fontsize=LABEL)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4, fontsize=TICK,
               frameon=False)
    fig.suptitle(f"Posterior predictive levels ({predictive.n_runs:,} runs) and the record", fontsize=TITLE)
    return fig
