"""The replay panel's figures (matplotlib, networkx): the actors as a graph whose edges carry
the levels of the last step, and every pair's levels over time, both coloured by the ladder.

Each function takes a played or playing ``EscalationModel`` and returns a ``Figure`` made
without pyplot, so that it holds no global state.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

QUIET = "#d9d9d9"
STATE, MILITIA = "#4a6fa5", "#c9a227"
TITLE, LABEL, TICK = 12, 10, 9


def ladder_colours(n_levels: int) -> list[str]:
    """One colour per level: grey for quiet (0), then yellow through dark red to the top."""
    ramp = colormaps["YlOrRd"](np.linspace(0.2, 1.0, max(n_levels - 1, 1)))
    return [QUIET, *(to_hex(c) for c in ramp[: n_levels - 1])]


def ladder_cmap(n_levels: int) -> tuple[ListedColormap, BoundaryNorm]:
    """A discrete colour map of the ladder, one band per level, and its norm."""
    cmap = ListedColormap(ladder_colours(n_levels))
    cmap.set_bad("white")  # steps not played yet
    return cmap, BoundaryNorm(np.arange(-0.5, n_levels), n_levels)


def actor_graph(model, *, figsize=(5.6, 4.4)) -> Figure:
    """The actors as nodes (states round, militias square) and, for each pair, an arrow from
    actor to target coloured by the level it executed in the last step played; quiet pairs
    are thin grey arrows. Each hostile arrow is labelled with its level's name."""
    import networkx as nx

    scenario = model.scenario
    colours = ladder_colours(len(scenario.ladder))
    names = [name.replace("_", " ") for name in scenario.level_names()]
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(scenario.actor_ids)
    levels = model.levels.tolist() if model.t >= 0 else [0] * len(model.plan.pairs)
    edges = [(scenario.actor_ids[a], scenario.actor_ids[t], lv) for (a, t), lv in zip(model.plan.pairs.tolist(), levels)]
    pos = nx.circular_layout(graph)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for kind, shape, colour in (("state", "o", STATE), ("militia", "s", MILITIA)):
        nodes = [a.id for a in scenario.actors if a.kind == kind]
        nx.draw_networkx_nodes(graph, pos, nodelist=nodes, node_shape=shape, node_color=colour,
                               node_size=1500, ax=ax)
    nx.draw_networkx_labels(graph, pos, font_size=LABEL, font_color="white", font_weight="bold", ax=ax)
    for actor, target, level in sorted(edges, key=lambda e: e[2]):  # hostile arrows on top
        nx.draw_networkx_edges(graph, pos, edgelist=[(actor, target)], ax=ax, node_size=1500,
                               edge_color=colours[level], width=1.0 if level == 0 else 1.5 + 0.6 * level,
                               arrowsize=12 + 2 * level, connectionstyle="arc3,rad=0.18")
        if level:
            _edge_label(ax, pos[actor], pos[target], names[level], colours[level])
    ax.set_title(f"{_when(model)}: who does what to whom", fontsize=TITLE)
    ax.legend(handles=_legend(names, colours, levels), loc="lower left", bbox_to_anchor=(1.0, 0.0),
              fontsize=TICK, frameon=False, title="level", title_fontsize=TICK)
    ax.margins(0.18)
    ax.set_axis_off()
    return fig


def _edge_label(ax, source, target, text: str, colour: str) -> None:
    """A label near the arrow's middle, pushed to its side as ``arc3`` bends it."""
    source, target = np.asarray(source), np.asarray(target)
    middle, along = (source + target) / 2, target - source
    side = np.array([along[1], -along[0]]) * 0.18 * 0.5
    ax.annotate(text, middle + side, ha="center", va="center", fontsize=TICK,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": colour, "alpha": 0.9})


def _legend(names: list[str], colours: list[str], levels: list[int]) -> list[Line2D]:
    shown = sorted({0, *levels})
    return [Line2D([], [], color=colours[k], linewidth=3, label=f"{k} {names[k]}") for k in shown]


def level_timeline(model, *, figsize=(7.0, 4.4)) -> Figure:
    """Every pair's executed level over the horizon (one row per pair, one column per step),
    coloured by the ladder; the steps not played yet are blank."""
    scenario = model.scenario
    n_levels, n_steps = len(scenario.ladder), model.n_steps
    ids = scenario.actor_ids
    pairs = model.plan.pairs.tolist()
    grid = np.full((len(pairs), n_steps), np.nan)
    played = model.trajectory()
    if len(played):
        row = {(ids[a], ids[t]): k for k, (a, t) in enumerate(pairs)}
        rows = [row[key] for key in zip(played["actor"], played["target"])]
        grid[rows, played["step"].to_numpy()] = played["level"].to_numpy()
    cmap, norm = ladder_cmap(n_levels)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_yticks(range(len(pairs)), [f"{ids[a]} → {ids[t]}" for a, t in pairs], fontsize=TICK)
    ax.set_xlabel(_step_axis(scenario), fontsize=LABEL)
    ax.tick_params(axis="x", labelsize=TICK)
    if model.t >= 0:
        ax.axvline(model.t + 0.5, color="black", linewidth=1)
    ax.set_title(f"Levels of each pair, step by step ({_when(model)})", fontsize=TITLE)
    bar = fig.colorbar(image, ax=ax, ticks=range(n_levels), pad=0.01)
    bar.ax.set_yticklabels([name.replace("_", " ") for name in scenario.level_names()], fontsize=TICK)
    return fig


def _step_axis(scenario) -> str:
    t = scenario.time
    unit = t.step_unit if t.step_length == 1 else f"step ({t.step_length:g} {t.step_unit}s)"
    return f"{unit[0].upper()}{unit[1:]}" + (f" (0 = {t.start})" if t.start else "")


def _when(model) -> str:
    if model.t < 0:
        return "before the first step"
    t = model.scenario.time
    return f"{t.step_unit.capitalize()} {model.t * t.step_length:g}"
