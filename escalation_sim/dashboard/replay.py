"""The replay panel: pick a run of the batch (the first that went to war, the first ceasefire,
or any run number) and watch the Mesa model play it with Mesa's own controls.

The model is ``EscalationModel(scenario, rng=seed, run=run)``: run ``run`` of the batch that the
outcome table summarises, step for step. Mesa's ``ModelController`` plays, steps and resets it;
after every step it bumps Mesa's ``update_counter``, which the graph, the level timeline and
the story read, so that they redraw as the run unfolds.
"""

from __future__ import annotations

import warnings

import solara

with warnings.catch_warnings():  # Solara's hook check flags a component of Mesa's own, not ours
    warnings.filterwarnings("ignore", message=".*ComponentsView", category=UserWarning)
    from mesa.visualization.solara_viz import ModelController
    from mesa.visualization.utils import update_counter

from ..agents import EscalationModel
from ..scenario import Scenario
from .figures import actor_graph, level_timeline

CHOICES = ("first war", "first ceasefire", "run number")
#: Milliseconds between steps while playing: slow enough to read the story as it grows.
PLAY_INTERVAL = 400
#: The story's heading (title, run and seed) and how many of its latest lines are shown.
STORY_HEAD, STORY_LINES = 2, 14


def pick_run(result, choice: str, number: int) -> tuple[int | None, str]:
    """The run to replay and a line saying which it is; ``None`` and the reason when there is
    none (no run of the batch ended that way, or the batch is still running)."""
    if choice == "run number":
        return number, f"run {number}"
    if result is None:
        return None, "waiting for the batch, to find its runs"
    outcome = choice.split()[-1]
    runs = result.runs
    found = runs.loc[runs["outcome"] == outcome, "run"]
    if found.empty:
        return None, f"no run of the {result.n_runs:,} ended in {outcome}"
    run = int(found.iloc[0])
    return run, f"run {run}, the first of the {len(found):,} runs that ended in {outcome}"


@solara.component
def ReplayPanel(scenario: Scenario, seed: int, result):
    """Choose a run of ``result`` (the batch of ``scenario`` with ``seed``) and replay it."""
    choice = solara.use_reactive(CHOICES[0])
    number = solara.use_reactive(0)
    run, line = pick_run(result, choice.value, number.value)
    with solara.Card("Watch one run"):
        with solara.Row(style={"align-items": "center"}):
            solara.ToggleButtonsSingle(value=choice, values=list(CHOICES))
            if choice.value == "run number":
                solara.InputInt("run", value=number, continuous_update=False)
        solara.Text(line, classes=["replay-choice"])
        if run is not None and run >= 0:
            ReplayView(scenario, seed, run).key(f"{scenario.hash()}-{seed}-{run}")
        elif run is not None:
            solara.Error(f"run must be an integer >= 0, got {run}")


@solara.component
def ReplayView(scenario: Scenario, seed: int, run: int):
    """Mesa's play, step and reset controls over the model of one run, and what it shows."""
    first = solara.use_memo(lambda: EscalationModel(scenario, rng=seed, run=run), [])
    model = solara.use_reactive(first)
    parameters = solara.use_reactive({"scenario": scenario, "rng": seed, "run": run})
    play_interval = solara.use_reactive(PLAY_INTERVAL)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    with solara.Row(style={"align-items": "center"}, classes=["replay-controls"]):
        ModelController(model, model_parameters=parameters, play_interval=play_interval,
                        render_interval=render_interval, use_threads=use_threads)
        StepLine(model.value)
    with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
        ActorGraph(model.value)
        LevelTimeline(model.value)
    Story(model.value)


@solara.component
def StepLine(model: EscalationModel):
    update_counter.get()
    state = "ended: " + model.outcome if not model.running else f"{model.steps} of {model.n_steps} steps played"
    solara.Text(state, classes=["replay-step"], style={"margin-left": "16px"})


@solara.component
def ActorGraph(model: EscalationModel):
    Figure(model, actor_graph)


@solara.component
def LevelTimeline(model: EscalationModel):
    Figure(model, level_timeline)


@solara.component
def Figure(model: EscalationModel, draw):
    """``draw(model)`` as an image, drawn again only after a step or a reset, not whenever the
    page renders (the batch's progress renders it several times a second)."""
    version = update_counter.get()
    figure = solara.use_memo(lambda: draw(model), [model, version])
    solara.FigureMatplotlib(figure, dependencies=[id(model), version], format="png", dpi=72)


@solara.component
def Story(model: EscalationModel):
    """The run's story so far, as ``escalation-sim replay`` tells it: its latest lines, so that
    each new act shows as it happens, and the whole story on demand."""
    update_counter.get()
    text = model.narrate()
    solara.Text("the story so far", style={"font-weight": "bold"})
    solara.Preformatted(story_tail(text), class_="replay-story",
                        style_="font-size: 0.85em; white-space: pre-wrap; margin: 4px 0")
    if text.count("\n") + 1 > STORY_HEAD + STORY_LINES:
        with solara.Details("the whole story"):
            solara.Preformatted(text, style_="font-size: 0.85em; white-space: pre-wrap")


def story_tail(text: str, lines: int = None) -> str:
    """The story's heading and its last ``lines`` lines (``STORY_LINES``), with a line saying
    how many were left out."""
    lines = STORY_LINES if lines is None else lines
    head, rest = text.splitlines()[:STORY_HEAD], text.splitlines()[STORY_HEAD:]
    if len(rest) <= lines:
        return text
    return "\n".join([*head, f"... ({len(rest) - lines} earlier lines)", *rest[-lines:]])
