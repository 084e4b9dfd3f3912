"""Figures of batch results and sweeps (matplotlib).

Every function returns a ``matplotlib.figure.Figure`` and takes an optional ``ax`` to draw
into. Without ``ax`` the figure is made with ``Figure()`` rather than ``pyplot``, so it holds no
global state and needs no closing: it shows as the value of a notebook cell, and
``fig.savefig(path)`` writes it. To draw into a pyplot window, pass ``ax=plt.subplots()[1]``.
Font sizes are set explicitly (10 pt and up) so that figures stay legible on a slide.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .analysis.sweep import OUTCOMES, SweepResult, _sort_key, load_sweep
from ._progress import progress_bar
from .core.plan import OUTCOMES as OUTCOME_CODES  # the order of the codes in result.column("outcome")
from .batch import BatchResult, load_result, wilson_interval
from .labels import measure_label, parameter_label
from ._text import show

COLOURS = {"war": "#b2182b", "ceasefire": "#2166ac", "ongoing": "#878787"}
STATE_COLOURS = {"CC": "#1a9850", "CD": "#fdae61", "DC": "#f46d43", "DD": "#a50026"}
#: A pair gets a fan chart of its own when, at some step, at least this share of runs has its
#: actor acting above quiet toward its target; every pair is in the grid figure ``levels``.
ACTIVE_SHARE = 0.1
TITLE, LABEL, TICK = 13, 11, 10


# -- helpers ----------------------------------------------------------------------------------

def _axes(ax, figsize=(7.5, 4.5)):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _finish(ax, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=TITLE)
    ax.set_xlabel(xlabel, fontsize=LABEL)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _level_labels(scenario) -> list[str]:
    return [name.replace("_", " ") for name in scenario.level_names()]


def _step_label(scenario, what: str = "") -> str:
    """``Day (0 = 2020-01-03)``, ``Turn``, or ``Step (7 days)`` for steps longer than one unit."""
    t = scenario.time
    unit = t.step_unit if t.step_length == 1 else f"step ({t.step_length:g} {t.step_unit}s)"
    label = f"{unit[0].upper()}{unit[1:]}{what}"
    return f"{label} (0 = {t.start})" if t.start else label


def _unit_plural(scenario) -> str:
    t = scenario.time
    return f"{t.step_unit}s" if t.step_length == 1 else "steps"


def _subtitle(result: BatchResult) -> str:
    return f"{result.scenario.name}: {result.n_runs:,} runs over {result.n_steps} {_unit_plural(result.scenario)}"


def _percent_axis(axis, decimals=None) -> None:
    axis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def _outcome_table(result: BatchResult) -> pd.DataFrame:
    return result.summary(quantiles=()).outcomes.set_index("outcome").reindex(list(OUTCOMES))


# -- one batch --------------------------------------------------------------------------------

def plot_outcomes(result: BatchResult, *, ax=None) -> Figure:
    """Bar chart of the outcome probabilities (war, ceasefire, ongoing; 3 bars) with 95%
    Wilson intervals as error bars, each bar labelled with its percentage."""
    fig, ax = _axes(ax)
    table = _outcome_table(result)
    p = table["probability"].to_numpy()
    err = _errors(p, table["low"], table["high"])
    bars = ax.bar(range(len(OUTCOMES)), p, yerr=err, capsize=6, color=[COLOURS[o] for o in OUTCOMES])
    unit = _unit(result.scenario)
    ax.set_xticks(range(len(OUTCOMES)), [*OUTCOMES[:-1], f"ongoing\n(still going on {unit} {result.n_steps - 1})"])
    ax.bar_label(bars, labels=[_percent(v) for v in p], padding=4, fontsize=TICK)
    ax.set_ylim(0, min(1.0, max(table["high"].max() * 1.15, 0.05)))
    _percent_axis(ax.yaxis)
    _finish(ax, f"How the runs end\n{_subtitle(result)}", "Outcome",
            "Share of runs (95% interval)")
    return fig


def _percent(p: float) -> str:
    return f"{p:.1%}" if p >= 0.001 or p == 0 else f"{p:.2%}"


def plot_survival(result: BatchResult, *, ax=None) -> Figure:
    """P(no war by step t) over the horizon, with its 95% Wilson band (shaded, edges drawn),
    the y axis zoomed onto the band and the final value written out."""
    fig, ax = _axes(ax)
    s = result.survival()
    colour = COLOURS["war"]
    ax.fill_between(s["step"], s["low"], s["high"], step="post", color=colour, alpha=0.25,
                    linewidth=0, label="95% interval")
    for edge in ("low", "high"):
        ax.step(s["step"], s[edge], where="post", color=colour, linewidth=0.8, alpha=0.8)
    ax.step(s["step"], s["survival"], where="post", color=colour, linewidth=2.2, label="P(no war yet)")
    ax.set_xlim(0, result.n_steps - 1)
    bottom = float(s["low"].min())
    ax.set_ylim(bottom - 0.12 * (1 - bottom) - 1e-4, 1 + 0.04 * (1 - bottom) + 1e-4)
    _percent_axis(ax.yaxis)
    last = s.iloc[-1]
    unit = result.scenario.time.step_unit if result.scenario.time.step_length == 1 else "step"
    width = max(last["high"] - last["low"], 1e-9) * 100  # in percentage points: a quarter of it resolved
    d = int(np.clip(np.ceil(-np.log10(width / 4)), 1, 6))
    ax.text(0.98, 0.95, f"by {unit} {result.n_steps - 1}: {last['survival']:.{d}%}\n"
            f"(95% interval {last['low']:.{d}%} to {last['high']:.{d}%})",
            transform=ax.transAxes, ha="right", va="top", fontsize=TICK)
    ax.legend(fontsize=TICK, frameon=False, loc="lower left")
    _finish(ax, f"Probability that no war has broken out yet\n{_subtitle(result)}",
            _step_label(result.scenario), "P(no war by then)")
    return fig


def plot_levels(result: BatchResult, actor: str, target: str, *, ax=None) -> Figure:
    """Fan chart of one pair: for every step, the share of runs in which ``actor`` acted
    toward ``target`` at each level of the ladder (colour, square-root scale, so that rare
    high levels stay visible), and the mean level (line). Ended runs count at their last levels."""
    fig, ax = _axes(ax, figsize=(8, 4.8))
    scenario = result.scenario
    ids = list(scenario.actor_ids)
    match = np.flatnonzero((result.pairs[:, 0] == _index(ids, actor)) & (result.pairs[:, 1] == _index(ids, target)))
    share = result.counts[:, match[0], :].T / result.n_runs  # (n_levels, n_steps)
    n_levels, n_steps = share.shape
    image = ax.imshow(share, origin="lower", aspect="auto", cmap="magma_r", norm=PowerNorm(0.5, 0, 1),
                      extent=(-0.5, n_steps - 0.5, -0.5, n_levels - 0.5), interpolation="nearest")
    mean = share.T @ np.arange(n_levels)
    ax.plot(np.arange(n_steps), mean, color="#1b9e77", linewidth=2, label="mean level")
    ax.set_yticks(range(n_levels), _level_labels(scenario))
    ax.legend(fontsize=TICK, loc="upper right", framealpha=0.9)
    bar = fig.colorbar(image, ax=ax, pad=0.02)
    bar.set_label("Share of runs at that level", fontsize=LABEL)
    bar.set_ticks([0, 0.01, 0.05, 0.2, 0.5, 1])
    bar.ax.tick_params(labelsize=TICK)
    _percent_axis(bar.ax.yaxis, decimals=0)
    title = f"{scenario.actor(actor).name} toward {scenario.actor(target).name}: level over time"
    _finish(ax, f"{title}\n{_subtitle(result)}", _step_label(scenario), "")
    return fig


def plot_level_grid(result: BatchResult) -> Figure:
    """Every pair's fan chart in one figure: one row per actor, one panel per target, each
    the share of runs at each level per step (colour, square-root scale, as ``plot_levels``),
    with one colour bar for all."""
    scenario, ids = result.scenario, list(result.scenario.actor_ids)
    n, n_levels = len(ids), len(scenario.ladder)
    fig = Figure(figsize=(3.7 * (n - 1) + 2.6, 1.9 * n + 1.3), layout="constrained")
    axes = fig.subplots(n, n - 1, sharex=True, sharey=True, squeeze=False)
    pair_index = {(int(a), int(t)): k for k, (a, t) in enumerate(result.pairs)}
    image = None
    for i in range(n):
        for j, target in enumerate(t for t in range(n) if t != i):
            ax = axes[i, j]
            ax.set_title(f"{scenario.actor(ids[i]).name} toward {scenario.actor(ids[target]).name}", fontsize=TICK)
            ax.tick_params(labelsize=TICK)
            if (i, target) not in pair_index:
                continue
            share = result.counts[:, pair_index[i, target], :].T / result.n_runs
            image = ax.imshow(share, origin="lower", aspect="auto", cmap="magma_r", norm=PowerNorm(0.5, 0, 1),
                              interpolation="nearest", extent=(-0.5, result.n_steps - 0.5, -0.5, n_levels - 0.5))
    axes[0, 0].set_yticks(range(n_levels), _level_labels(scenario))
    for ax in axes[-1]:
        ax.set_xlabel(_step_label(scenario), fontsize=TICK)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.6, pad=0.01)
        bar.set_label("Share of runs at that level", fontsize=LABEL)
        bar.set_ticks([0, 0.01, 0.05, 0.2, 0.5, 1])
        bar.ax.tick_params(labelsize=TICK)
        _percent_axis(bar.ax.yaxis, decimals=0)
    fig.suptitle(f"Who acts at which level toward whom, over time\n{_subtitle(result)}", fontsize=TITLE)
    return fig


def active_pairs(result: BatchResult, threshold: float = ACTIVE_SHARE) -> list[tuple[str, str]]:
    """The (actor, target) pairs in which something happens: at some step, at least
    ``threshold`` of the runs have the actor acting above quiet toward the target."""
    above_quiet = (result.n_runs - result.counts[:, :, 0]).max(axis=0) / result.n_runs
    ids = result.scenario.actor_ids
    return [(ids[a], ids[t]) for (a, t), share in zip(result.pairs, above_quiet) if share >= threshold]


def _index(ids: list[str], actor: str) -> int:
    if actor not in ids:
        raise ValueError(f"no actor {show(actor)} in this scenario (actors: {', '.join(ids)})")
    return ids.index(actor)


def plot_peak_levels(result: BatchResult, *, ax=None) -> Figure:
    """Histogram of the peak level of each run, one bar per level of the ladder."""
    fig, ax = _axes(ax)
    labels = _level_labels(result.scenario)
    share = np.bincount(result.column("peak_level").astype(np.intp), minlength=len(labels)) / result.n_runs
    colours = [COLOURS["war"] if k == result.scenario.outcomes.war_level else "#4d4d4d" for k in range(len(labels))]
    bars = ax.bar(range(len(labels)), share, color=colours)
    ax.bar_label(bars, labels=[_percent(v) if v > 0 else "" for v in share], padding=3, fontsize=TICK)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    _percent_axis(ax.yaxis)
    _finish(ax, f"Highest level reached in a run\n{_subtitle(result)}", "Peak level", "Share of runs")
    return fig


def plot_durations(result: BatchResult, *, ax=None) -> Figure:
    """When the runs that ended early ended: per step (or bin of steps), the share of runs
    that ended in war and in a ceasefire, side by side, on a log scale so that rare wars show.

    Runs still going at the horizon have not ended (they are censored): they are not drawn
    as bars; a dashed line marks the horizon and the legend gives their share.
    """
    fig, ax = _axes(ax)
    # counted with bincount from two columns, so that a batch of any size draws in constant memory
    outcomes, end_steps = result.column("outcome"), result.column("end_step").astype(np.intp)
    width, unit = -(-result.n_steps // 100), _unit(result.scenario)  # at most 100 bins
    n_bins = -(-result.n_steps // width)
    edges = np.arange(n_bins + 1) * width - 0.5
    ending = [o for o in ("war", "ceasefire") if (outcomes == OUTCOME_CODES.index(o)).any()]
    slot = width / max(len(ending), 1)
    for k, outcome in enumerate(ending):
        ended = end_steps[outcomes == OUTCOME_CODES.index(outcome)]
        share = np.bincount(ended // width, minlength=n_bins)[:n_bins] / result.n_runs
        drawn = share > 0
        ax.bar((edges[:-1] + (k + 0.5) * slot)[drawn], share[drawn], slot, color=COLOURS[outcome],
               label=f"ended in {outcome}: {len(ended):,} runs ({_percent(len(ended) / result.n_runs)})")
    ongoing = int((outcomes == OUTCOME_CODES.index("ongoing")).sum())
    ax.axvline(edges[-1], color=COLOURS["ongoing"], linestyle="--", linewidth=2,
               label=f"still going at the horizon ({unit} {result.n_steps - 1}): {ongoing:,} runs "
                     f"({_percent(ongoing / result.n_runs)}), not drawn")
    ax.set_xlim(edges[0], edges[-1] + 0.5)
    if ending:
        ax.set_yscale("log")
        lowest = 1 / result.n_runs  # one run: the shortest bar, kept clear of the axis
        highest = max(p.get_height() for p in ax.patches)
        ax.set_ylim(lowest / 2, min(highest * (highest / lowest) ** 0.6, 2.0))  # room for the legend
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.4g}%"))
    handles, labels = ax.get_legend_handles_labels()  # the bars first, the horizon last
    ax.legend(handles[1:] + handles[:1], labels[1:] + labels[:1], fontsize=TICK, frameon=False, loc="upper left")
    _finish(ax, f"When the runs end\n{_subtitle(result)}", _step_label(result.scenario, " the run ended"),
            f"Share of runs ending that {unit} (log scale)" if width == 1 else
            f"Share of runs ending in each {width}-{unit} bin (log scale)")
    return fig


def _unit(scenario) -> str:
    t = scenario.time
    return t.step_unit if t.step_length == 1 else "step"


def plot_comparison(results: Sequence[BatchResult] | Mapping[str, BatchResult], *, ax=None) -> Figure:
    """Outcome probabilities of several batches side by side (3 groups of one bar per batch),
    with 95% Wilson intervals. ``results`` is a sequence (labelled by scenario name) or a
    mapping from label to result."""
    fig, ax = _axes(ax, figsize=(8, 4.8))
    items = list(results.items()) if isinstance(results, Mapping) else [(r.scenario.name, r) for r in results]
    if not items:
        raise ValueError("plot_comparison: expected at least one result")
    width = 0.8 / len(items)
    x = np.arange(len(OUTCOMES))
    for k, (label, result) in enumerate(items):
        table = _outcome_table(result)
        p = table["probability"].to_numpy()
        err = _errors(p, table["low"], table["high"])
        bars = ax.bar(x + (k - (len(items) - 1) / 2) * width, p, width, yerr=err, capsize=4,
                      label=f"{label} ({result.n_runs:,} runs)", color=f"C{k}")
        ax.bar_label(bars, labels=[_percent(v) for v in p], padding=3, fontsize=TICK)
    ax.set_xticks(x, [*OUTCOMES[:-1], "ongoing\n(still going at the horizon)"])
    ax.set_ylim(0, 1.1)
    _percent_axis(ax.yaxis)
    ax.legend(fontsize=TICK, frameon=False, loc="upper left")
    _finish(ax, "How the runs end, scenario by scenario", "Outcome", "Share of runs (95% interval)")
    return fig


# -- two players on two levels ----------------------------------------------------------------

def plot_match_states(result: BatchResult, *, ax=None) -> Figure:
    """A match's turns by state: the shares of CC, CD, DC and DD (4 bars, the first actor's
    act first) with 95% intervals, and the cooperation rate and payoffs per turn written out.
    For batches with ``result.is_match`` (two actors on two levels)."""
    fig, ax = _axes(ax)
    table, (a, b) = result.match_summary(), result.scenario.actor_ids
    name = {k: result.scenario.actor(k).name for k in (a, b)}
    states = ["CC", "CD", "DC", "DD"]
    p = table.loc[states, "mean"].to_numpy()
    err = _errors(p, table.loc[states, "low"], table.loc[states, "high"])
    bars = ax.bar(range(4), p, yerr=err, capsize=6, color=[STATE_COLOURS[k] for k in states])
    ax.bar_label(bars, labels=[_percent(v) for v in p], padding=4, fontsize=TICK)
    ax.set_xticks(range(4), ["both cooperate\n(CC)", f"only {name[b]}\ndefects (CD)",
                             f"only {name[a]}\ndefects (DC)", "both defect\n(DD)"])
    ax.set_ylim(0, min(1.0, max(table.loc[states, "high"].max() * 1.25, 0.05)))
    _percent_axis(ax.yaxis)
    c = table.loc["cooperation"]
    ax.text(0.98, 0.97, f"cooperation rate {_percent(c['mean'])}\npayoff per turn: "
            f"{name[a]} {table.loc[f'payoff_{a}', 'mean']:.2f}, {name[b]} {table.loc[f'payoff_{b}', 'mean']:.2f}",
            transform=ax.transAxes, ha="right", va="top", fontsize=TICK)
    _finish(ax, f"How the turns go\n{_subtitle(result)}", "State of a turn",
            "Share of turns (95% interval)")
    return fig


def plot_cooperation(result: BatchResult, *, ax=None) -> Figure:
    """Per turn, the share of runs in which each player cooperates (level 0), with 95% Wilson
    bands. For batches with ``result.is_match`` (two actors on two levels)."""
    fig, ax = _axes(ax)
    ids = result.scenario.actor_ids
    steps = np.arange(result.n_steps)
    for k, colour, style in zip(range(2), ("#1b9e77", "#7570b3"), ("-", "--")):  # dashed: both show when equal
        pair = int(np.flatnonzero((result.pairs[:, 0] == k) & (result.pairs[:, 1] == 1 - k))[0])
        cooperating = result.counts[:, pair, 0]
        low, high = wilson_interval(cooperating, result.n_runs)
        ax.fill_between(steps, low, high, color=colour, alpha=0.25, linewidth=0)
        ax.plot(steps, cooperating / result.n_runs, color=colour, linewidth=2, linestyle=style,
                label=f"{result.scenario.actor(ids[k]).name} cooperates")
    ax.set_xlim(0, result.n_steps - 1)
    ax.set_ylim(0, 1.02)
    _percent_axis(ax.yaxis)
    ax.legend(fontsize=TICK, frameon=False, loc="lower left")
    _finish(ax, f"Cooperation turn by turn\n{_subtitle(result)}", _step_label(result.scenario),
            "Share of runs (95% interval)")
    return fig


# -- populations ------------------------------------------------------------------------------

#: Distinct colours for up to 20 strategies (tab10, then ten more of other hues); past ten the
#: lines are also dashed, so that no two strategies look alike.
STRATEGY_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                    "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#6a3d9a", "#b15928", "#33a02c",
                    "#fb9a99", "#a6cee3", "#fdbf6f", "#cab2d6", "#b2df8a", "#e31a1c"]


def plot_ecological(cases: Mapping[str, pd.DataFrame], *, title: str = "Population shares over the generations") -> Figure:
    """Ecological (replicator) dynamics, one panel per case, each strategy in the same
    distinct colour in every panel and named once in a shared legend.

    Parameters
    ----------
    cases : mapping from panel title to DataFrame
        Shares per generation as returned by ``games.ecological`` (index ``generation``, one
        column per strategy).
    title : str
        The figure's title.
    """
    if not cases:
        raise ValueError("plot_ecological: expected at least one case")
    names = list(dict.fromkeys(name for shares in cases.values() for name in shares.columns))
    if len(names) > len(STRATEGY_COLOURS):
        raise ValueError(f"plot_ecological: at most {len(STRATEGY_COLOURS)} strategies, got {len(names)}")
    style = {name: (STRATEGY_COLOURS[k], "-" if k < 10 else "--") for k, name in enumerate(names)}
    fig = Figure(figsize=(5.2 * len(cases) + 3.2, 4.6), layout="constrained")
    axes = fig.subplots(1, len(cases), sharey=True, squeeze=False)[0]
    for ax, (panel, shares) in zip(axes, cases.items()):
        for name in shares.columns:
            colour, line = style[name]
            ax.plot(shares.index, shares[name], color=colour, linestyle=line, linewidth=2,
                    label=str(name).replace("_", " "))
        ax.set_ylim(-0.02, 1.02)
        _percent_axis(ax.yaxis)
        _finish(ax, panel, "Generation", "Share of the population" if ax is axes[0] else "")
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines()}
    fig.legend(handles.values(), handles.keys(), loc="outside right center", fontsize=TICK, frameon=False)
    fig.suptitle(title, fontsize=TITLE)
    return fig


# -- sweeps -----------------------------------------------------------------------------------

def _varying(sweep: SweepResult) -> list[str]:
    return [k for k in sweep.parameters if sweep.table[k].nunique() > 1]


def plot_sweep_heatmap(sweep: SweepResult, *, x: str | None = None, y: str | None = None,
                       outcome: str = "war", ax=None) -> Figure:
    """Heatmap of an outcome's probability over two swept parameters of a grid, each cell
    annotated with its percentage. ``x`` and ``y`` default to the two varying parameters."""
    fig, ax = _axes(ax, figsize=(8, 5.5))
    x, y = _two_parameters(sweep, x, y)
    table = sweep.table.pivot_table(index=y, columns=x, values=f"p_{outcome}", aggfunc="mean")
    cmap = {"war": "Reds", "ceasefire": "Blues", "ongoing": "Greys"}[outcome]  # the outcome's colour, as in the bars
    image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap=cmap, vmin=0, vmax=1)
    for (i, j), p in np.ndenumerate(table.to_numpy()):
        ax.text(j, i, _percent(p), ha="center", va="center", fontsize=TICK,
                color="white" if p > 0.6 else "black")
    ax.set_xticks(range(table.shape[1]), [_tick(v) for v in table.columns], rotation=30 if table.shape[1] > 6 else 0)
    ax.set_yticks(range(table.shape[0]), [_tick(v) for v in table.index])
    bar = fig.colorbar(image, ax=ax, pad=0.02)
    bar.set_label(f"P({outcome})", fontsize=LABEL)
    bar.ax.tick_params(labelsize=TICK)
    _percent_axis(bar.ax.yaxis)
    _finish(ax, f"P({outcome}) over the grid\n{_sweep_subtitle(sweep)}", parameter_label(x, sweep.scenario),
            parameter_label(y, sweep.scenario))
    ax.spines[["top", "right"]].set_visible(True)
    return fig


def _two_parameters(sweep: SweepResult, x, y) -> tuple[str, str]:
    varying = _varying(sweep)
    if x is None and y is None:
        if len(varying) != 2:
            raise ValueError(f"plot_sweep_heatmap: the sweep varies {len(varying)} parameters "
                             f"({', '.join(varying)}); name x= and y=")
        x, y = varying
    for name, key in (("x", x), ("y", y)):
        if key not in sweep.parameters:
            raise ValueError(f"plot_sweep_heatmap: {name}={show(key)} is not a swept parameter "
                             f"(swept: {', '.join(sweep.parameters)})")
    others = [k for k in varying if k not in (x, y)]
    if others or sweep.metadata.get("design") != "grid":
        raise ValueError(f"plot_sweep_heatmap: needs a grid over {x} and {y} alone; "
                         f"{', '.join(others) or 'the points'} vary too (use plot_sweep)")
    return x, y


def _tick(value) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def _sweep_subtitle(sweep: SweepResult) -> str:
    m = sweep.metadata
    return f"{sweep.scenario.name}: {m['n_runs']:,} runs per point over {m['n_steps']} {_unit_plural(sweep.scenario)}"


def plot_sweep(sweep: SweepResult, parameter: str | None = None, *,
               outcomes: Sequence[str] | None = None, ax=None) -> Figure:
    """Outcome probabilities against one swept parameter, with 95% Wilson intervals.

    On a one-parameter grid: a line and band per outcome (all three by default). On a grid
    over this and one more parameter: a line and band per value of the other, for one outcome
    (war by default). Otherwise (a Latin hypercube, larger grids): every point, with error bars.
    """
    fig, ax = _axes(ax)
    parameter, others = _sweep_axis(sweep, parameter)
    outcomes = outcomes or (OUTCOMES if not others else ("war",))
    series = [(f"p_{o}", f"p_{o}_low", f"p_{o}_high", COLOURS[o], o) for o in outcomes]
    _draw_sweep(ax, sweep, sweep.table, parameter, others, series)
    ax.set_ylim(-0.02, 1.02)
    _percent_axis(ax.yaxis)
    what = "Share of runs" if len(outcomes) > 1 else f"P({outcomes[0]})"
    title = f"How {'the outcomes change' if len(outcomes) > 1 else what + ' changes'} over the sweep"
    if others and not (sweep.metadata.get("design") == "grid" and len(others) == 1):
        title += " (other parameters vary too)"
    _finish(ax, f"{title}\n{_sweep_subtitle(sweep)}", parameter_label(parameter, sweep.scenario),
            f"{what} (95% interval)")
    return fig


def plot_sweep_measure(sweep: SweepResult, measure: str, parameter: str | None = None, *, ax=None) -> Figure:
    """The mean of a measure (one of the sweep's ``measures``) against one swept parameter,
    with 95% intervals (1.96 standard errors); laid out as ``plot_sweep``."""
    fig, ax = _axes(ax)
    parameter, others = _sweep_axis(sweep, parameter)
    if f"mean_{measure}" not in sweep.table:
        raise ValueError(f"plot_sweep_measure: the sweep has no measure {show(measure)} "
                         f"(measures: {', '.join(sweep.metadata['measures'])})")
    mean, se = sweep.table[f"mean_{measure}"], sweep.table[f"se_{measure}"]
    table = sweep.table.assign(_low=mean - 1.96 * se, _high=mean + 1.96 * se)
    _draw_sweep(ax, sweep, table, parameter, others, [(f"mean_{measure}", "_low", "_high", "#4d4d4d", "mean")])
    name = measure_label(measure, sweep.scenario)
    if measure == "peak_level":  # a level axis: the level names at every level the data reach
        _level_ticks(ax, sweep.scenario, table[[f"mean_{measure}", "_low", "_high"]].to_numpy())
    _finish(ax, f"{name}: mean over the sweep\n{_sweep_subtitle(sweep)}", parameter_label(parameter, sweep.scenario),
            f"{name}, mean (95% interval)")
    return fig


def _level_ticks(ax, scenario, values) -> None:
    """Ticks on every level from the one below the lowest value to the one above the highest
    (a mean of 6.88 is read between 6 and 7), the axis widened to show them."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    first = int(np.clip(np.floor(values.min()), 0, scenario.top))
    last = int(np.clip(np.ceil(values.max()), first, scenario.top))
    levels = list(range(first, last + 1))
    ax.set_ylim(first - 0.25, last + 0.25)
    names = _level_labels(scenario)
    ax.set_yticks(levels, [f"{k} {names[k]}" for k in levels])


def _sweep_axis(sweep: SweepResult, parameter) -> tuple[str, list[str]]:
    varying = _varying(sweep)
    parameter = parameter or (varying or sweep.parameters)[0]
    if parameter not in sweep.parameters:
        raise ValueError(f"{show(parameter)} is not a swept parameter (swept: {', '.join(sweep.parameters)})")
    return parameter, [k for k in varying if k != parameter]


def _draw_sweep(ax, sweep, table, parameter, others, series) -> None:
    """``series``: (value, low, high, colour, label) column names and style, one per curve."""
    grid = sweep.metadata.get("design") == "grid"
    table = table.sort_values(parameter)
    if grid and len(others) == 1 and len(series) == 1:
        value, low, high, _, _ = series[0]
        levels = sorted(table[others[0]].unique(), key=_sort_key)
        for level, colour in zip(levels, _ramp(len(levels))):
            _line(ax, table[table[others[0]] == level], parameter, (value, low, high), colour, _tick(level))
        ax.legend(title=parameter_label(others[0], sweep.scenario), fontsize=TICK, title_fontsize=TICK,
                  frameon=False)
        return
    for value, low, high, colour, label in series:
        if grid and not others:
            _line(ax, table, parameter, (value, low, high), colour, label)
        else:
            ax.errorbar(table[parameter], table[value], yerr=_errors(table[value], table[low], table[high]),
                        fmt="o", color=colour, alpha=0.7, markersize=4, label=label)
    if len(series) > 1:  # one curve is named by the y label
        ax.legend(fontsize=TICK, frameon=False)


def _line(ax, table, parameter, columns, colour, label) -> None:
    value, low, high = columns
    x = table[parameter]
    ax.fill_between(x, table[low], table[high], color=colour, alpha=0.2, linewidth=0)
    ax.plot(x, table[value], marker="o", color=colour, linewidth=2, label=label)


def _ramp(n: int) -> list:
    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.85, n)]


def _errors(p, low, high) -> np.ndarray:
    """Error bar lengths, shape ``(2, n)``; a Wilson bound can miss ``p`` by a rounding error."""
    p, low, high = (np.asarray(v, dtype=float) for v in (p, low, high))
    return np.clip(np.vstack([p - low, high - p]), 0, None)


def plot_sensitivity(table: pd.DataFrame, *, measure: str = "war", scenario=None, ax=None) -> Figure:
    """Sobol' first- and total-order indices of one measure (a table from ``sensitivity``),
    two bars per parameter with their bootstrap intervals. ``scenario`` names the parameters'
    actors (by default the bundled scenario named in ``table.attrs``, if there is one)."""
    fig, ax = _axes(ax, figsize=(10, 4.8))  # room for parameter names in words
    rows = table[table["measure"] == measure]
    if rows.empty:
        raise ValueError(f"plot_sensitivity: no measure {show(measure)} (measures: {', '.join(table['measure'].unique())})")
    y = np.arange(len(rows))
    for k, order in enumerate(("first_order", "total_order")):
        v = rows[order].to_numpy()
        err = _errors(v, rows[f"{order}_low"], rows[f"{order}_high"])
        ax.barh(y + (k - 0.5) * 0.38, v, 0.38, xerr=err, capsize=4, color=f"C{k}",
                label=order.replace("_", " "))
    scenario = scenario if scenario is not None else _attrs_scenario(table)
    ax.set_yticks(y, [parameter_label(k, scenario) for k in rows["parameter"]])
    ax.invert_yaxis()  # the table's first parameter on top, first order above total order
    ax.axvline(0, color="black", linewidth=0.8)
    if ax.get_xlim()[1] > 1:  # a share of variance is at most 1: beyond is the estimators' scatter
        ax.axvline(1, color="#878787", linewidth=1, linestyle=":", label="1 (all of the variance)")
    ax.legend(fontsize=TICK, frameon=False)
    name = f"P({measure})" if measure in OUTCOMES else f"the mean of {measure_label(measure, scenario).lower()}"
    a = table.attrs
    subtitle = (f"\n{a['scenario']}: n = {a['n']} base samples, {a['n_runs']:,} runs per point"
                if {"scenario", "n", "n_runs"} <= set(a) else "")
    _finish(ax, f"Sobol' sensitivity of {name}{subtitle}", "Index (share of variance, 95% bootstrap interval)", "")
    return fig


def _attrs_scenario(table: pd.DataFrame):
    from .scenario import load_scenario

    try:
        return load_scenario(table.attrs["scenario"])
    except Exception:  # a scenario that is not bundled: the labels use actor ids
        return None


# -- files ------------------------------------------------------------------------------------

def figures(source) -> dict[str, Figure]:
    """Every figure that applies to ``source``, by file stem.

    ``source`` is a ``BatchResult``, a ``SweepResult``, a ``sensitivity`` table, or a folder
    saved by ``BatchResult.save`` or ``SweepResult.save``. A folder may also hold
    ``sensitivity.parquet`` (a ``sensitivity`` table saved with ``to_parquet``), alone or
    beside a sweep.
    """
    if isinstance(source, (str, os.PathLike)):
        return _folder_figures(Path(source))
    if isinstance(source, SweepResult):
        return _sweep_figures(source)
    if isinstance(source, BatchResult):
        return _batch_figures(source)
    if isinstance(source, pd.DataFrame) and {"parameter", "measure", "first_order"} <= set(source.columns):
        return _sensitivity_figures(source)
    raise TypeError("expected a BatchResult, a SweepResult, a sensitivity table or a result folder, "
                    f"got {type(source).__name__}")


def _folder_figures(folder: Path) -> dict[str, Figure]:
    sweep_file, sensitivity_file = folder / "sweep.json", folder / "sensitivity.parquet"
    if not (sweep_file.is_file() or sensitivity_file.is_file()):
        return _batch_figures(load_result(folder))  # its error names what is missing
    sweep = load_sweep(folder) if sweep_file.is_file() else None
    out = _sweep_figures(sweep) if sweep is not None else {}
    if sensitivity_file.is_file():
        out.update(_sensitivity_figures(pd.read_parquet(sensitivity_file), sweep.scenario if sweep else None))
    return out


def _batch_figures(result: BatchResult) -> dict[str, Figure]:
    """A match (two actors on two levels): its states and cooperation turn by turn. Otherwise
    outcomes and peak levels; the survival curve where war can happen, the durations where a
    run can end early; every pair's levels in one grid (more than two actors) and a fan chart
    for each pair in which something happens (``active_pairs``)."""
    if result.is_match:
        return {"outcomes": plot_match_states(result), "cooperation": plot_cooperation(result)}
    outcomes = result.scenario.outcomes
    out = {"outcomes": plot_outcomes(result)}
    if outcomes.war_level is not None:
        out["survival"] = plot_survival(result)
    out["peak_level"] = plot_peak_levels(result)
    if outcomes.war_level is not None or outcomes.quiet_steps is not None:
        out["duration"] = plot_durations(result)
    if len(result.scenario.actors) > 2:
        out["levels"] = plot_level_grid(result)
    for actor, target in active_pairs(result):
        out[f"levels_{actor}_{target}"] = plot_levels(result, actor, target)
    return out


def _sweep_figures(sweep: SweepResult) -> dict[str, Figure]:
    """The heatmap of a two-parameter grid, and per parameter the outcome probabilities and
    each measure's mean, leaving out what does not vary (P(war) where war cannot happen)."""
    t, out = sweep.table, {}
    varies = {c: t[c].nunique() > 1 for c in t.columns}
    if len(_varying(sweep)) == 2 and sweep.metadata.get("design") == "grid" and varies["p_war"]:
        out["sweep_heatmap"] = plot_sweep_heatmap(sweep)
    for parameter in sweep.parameters:
        if any(varies[f"p_{o}"] for o in OUTCOMES):
            out[f"sweep_{parameter}"] = plot_sweep(sweep, parameter)
        for m in sweep.metadata["measures"]:
            if varies[f"mean_{m}"]:
                out[f"sweep_{parameter}_{m}"] = plot_sweep_measure(sweep, m, parameter)
    return out


def _sensitivity_figures(table: pd.DataFrame, scenario=None) -> dict[str, Figure]:
    return {f"sensitivity_{m}": plot_sensitivity(table, measure=m, scenario=scenario) for m in table["measure"].unique()}


def write_figures(source, out_dir, formats: Sequence[str] = ("png", "svg"), *, dpi: int = 150,
                  progress: bool = False) -> list[Path]:
    """Write every figure that applies to ``source`` into ``out_dir`` (created if needed).

    Parameters
    ----------
    source : BatchResult, SweepResult, sensitivity table, or a folder saved by one of them
        See ``figures``.
    out_dir : path
    formats : sequence of str
        File formats, one file per figure and format.
    dpi : int
        Resolution of raster formats.
    progress : bool
        Show a progress bar over the files on standard error (tqdm).

    Returns
    -------
    list of Path
        The files written, ``n_figures * len(formats)`` of them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    drawn = figures(source)
    bar = progress_bar(len(drawn) * len(formats), enabled=progress, unit="file", desc="figures",
                       unit_scale=False)
    for stem, fig in drawn.items():
        for fmt in formats:
            path = out_dir / f"{stem}.{fmt}"
            fig.savefig(path, dpi=dpi)
            written.append(path)
            bar.update(1)
    bar.close()
    return written
