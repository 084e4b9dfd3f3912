"""The dashboard page (Solara): the scenario and its parameters on the left; on the right the
outcome distribution of a batch, recomputed in the background as parameters change, and the
replay of one run by the Mesa model with Mesa's own play, step and reset controls.

``Dashboard`` is the page as a component (for ``show`` in Jupyter); ``Page`` is what
``solara-server`` serves, with the scenario given by ``escalation-sim dashboard SCENARIO``.
"""

from __future__ import annotations

import solara
import solara.lab  # noqa: F401  (Mesa's controller runs its play loop as a Solara task)

from .. import __version__
from ..plots import plot_survival
from ..scenario import Scenario, ScenarioError, list_scenarios, load_scenario
from . import estimate
from .controls import Control, apply, controls
from .replay import ReplayPanel
from .upload import read_upload

#: What ``Page`` shows first; the command line sets it before starting the server.
DEFAULTS = {"scenario": "us_iran_2020", "n_runs": 100_000, "seed": 2020}
MAX_RUNS = 10_000_000
#: Seconds between progress updates of a running batch (each one renders the page).
PROGRESS_SECONDS = 0.5


@solara.component
def Page():
    """The page ``solara-server`` serves (``escalation-sim dashboard``)."""
    solara.Title("escalation-sim dashboard")
    Dashboard(DEFAULTS["scenario"], n_runs=DEFAULTS["n_runs"], seed=DEFAULTS["seed"])


@solara.component
def Dashboard(scenario: Scenario | str = "us_iran_2020", n_runs: int = 100_000, seed: int = 2020):
    """The whole dashboard for ``scenario`` (a ``Scenario``, a bundled name or a YAML path)."""
    initial = solara.use_memo(lambda: scenario if isinstance(scenario, Scenario) else load_scenario(scenario), [])
    base = solara.use_reactive(initial)          # the file's scenario
    values = solara.use_reactive({})             # accepted overrides, by key path
    error = solara.use_reactive(None)            # the last refused input, as the CLI says it
    runs = solara.use_reactive(n_runs)
    seed_value = solara.use_reactive(seed)
    current = solara.use_memo(lambda: apply(base.value, values.value), [base.value, values.value])
    task, result = use_batch(current, runs.value, seed_value.value)
    fresh = is_fresh(result, current, seed_value.value)

    def set_value(path, value):
        try:
            apply(base.value, {**values.value, path: value})
        except ScenarioError as exc:
            error.set(str(exc))
            return
        error.set(None)
        values.set({**values.value, path: value})

    def set_scenario(new: Scenario):
        base.set(new)
        values.set({})
        error.set(None)

    with solara.Column(style={"padding": "12px"}):
        with solara.Row(style={"align-items": "baseline"}):
            solara.Text("escalation-sim dashboard", style={"font-size": "1.5em", "font-weight": "bold"})
            solara.Text(f"version {__version__}", style={"color": "#777"})
        with solara.Column():  # always there, so that the page below keeps its place (and state)
            if error.value:
                solara.Error(error.value, classes=["scenario-error"])
        with solara.Columns([2, 5]):
            with solara.Column():
                ScenarioPicker(base.value, set_scenario, error.set)
                BatchSettings(runs, seed_value, error.set)
                ControlsPanel(controls(base.value), values.value, set_value,
                              lambda: (values.set({}), error.set(None)))
            with solara.Column():
                Outcomes(task, result, fresh, runs.value)
                # The full batch only: the first estimate's render stays light (no replay to draw).
                final = fresh and task.value is not None and task.value.final
                ReplayPanel(current, seed_value.value, result if final else None)


@solara.component
def ScenarioPicker(scenario: Scenario, on_scenario, on_error):
    """A bundled scenario from the list, or a YAML file dropped on the page."""
    names = list_scenarios()
    shown = scenario.name if scenario.name in names and scenario.path == f"{scenario.name}.yaml" else None

    def pick(name):
        if name:
            on_scenario(load_scenario(name))

    with solara.Card("Scenario"):
        solara.Select("bundled scenario", values=names, value=shown, on_value=pick)
        solara.FileDrop(label="or drop a scenario YAML file here", lazy=False,
                        on_file=lambda info: dropped(info, on_scenario, on_error))
        solara.Text(scenario.title or scenario.name, style={"font-size": "0.9em"})
        if shown is None:
            solara.Text(f"from {scenario.path or scenario.name}", style={"color": "#777", "font-size": "0.85em"})


def dropped(info: dict, on_scenario, on_error) -> None:
    """A file dropped on the page (Solara's ``FileInfo``): its scenario, or the message that
    ``escalation-sim validate`` gives for it."""
    try:
        scenario = read_upload(info["name"], info["data"])
    except ScenarioError as exc:
        on_error(str(exc))
        return
    on_scenario(scenario)


@solara.component
def BatchSettings(runs: solara.Reactive[int], seed: solara.Reactive[int], on_error):
    """The batch's size and seed."""
    def set_runs(value):
        if value is None or not 1 <= value <= MAX_RUNS:
            on_error(f"runs: {value} is not in [1, {MAX_RUNS:,}]")
            return
        runs.set(int(value))

    def set_seed(value):
        if value is None or value < 0:
            on_error(f"seed: {value} is not a whole number of at least 0")
            return
        seed.set(int(value))

    with solara.Card("Batch"):
        with solara.Row():
            solara.InputInt("runs", value=runs.value, on_value=set_runs)
            solara.InputInt("seed", value=seed.value, on_value=set_seed)


@solara.component
def ControlsPanel(items: list[Control], values: dict, on_value, on_reset):
    """Sliders and exact inputs for every control, grouped as the scenario groups them."""
    with solara.Card("Parameters"):
        with solara.Column(gap="2px"):
            solara.Button("reset to the file's values", on_click=on_reset, outlined=True,
                          disabled=not values, classes=["reset-button"])
            groups: dict[str, list[Control]] = {}
            for item in items:
                groups.setdefault(item.group, []).append(item)
            for group, members in groups.items():
                solara.Text(group, style={"font-weight": "bold", "margin-top": "12px"})
                for item in members:
                    ControlInput(item, values.get(item.path, item.value), on_value)


@solara.component
def ControlInput(item: Control, value, on_value):
    """A slider over the usual range and a box for an exact value (which the scenario's
    validation accepts or refuses)."""
    def set_value(new):
        if new is not None:
            on_value(item.path, int(new) if item.integer else float(new))

    slider = solara.SliderInt if item.integer else solara.SliderFloat
    exact = solara.InputInt if item.integer else solara.InputFloat
    in_range = item.low <= value <= item.high
    with solara.Column(gap="0px", classes=["control"]):
        solara.Text(item.label, style={"font-size": "0.9em"}, classes=["control-label"])
        with solara.Row(style={"align-items": "center"}, gap="8px"):
            with solara.Column(style={"flex": "3"}):
                slider("", value=value if in_range else item.high, min=item.low, max=item.high,
                       step=item.step, on_value=set_value, thumb_label=False)
            with solara.Column(style={"flex": "1", "min-width": "90px"}):
                exact(item.path.split(".")[-1], value=value, on_value=set_value, continuous_update=False,
                      classes=["control-exact"])


def use_batch(scenario: Scenario, n_runs: int, seed: int):
    """A hook: the batch of ``scenario``, computed in a thread and redone when an argument
    changes. Returns the thread's ``Result`` (its value the latest ``estimate.Snapshot``) and
    the newest finished batch, of these arguments or, while they compute, of the last ones."""
    last = solara.use_ref(None)

    def work(cancel):
        yield from estimate.estimates(scenario, n_runs, seed, cancel=cancel, poll=PROGRESS_SECONDS)

    task = solara.use_thread(work, dependencies=[scenario, n_runs, seed], intrusive_cancel=False)
    if task.value is not None and task.value.result is not None:
        last.current = task.value.result
    return task, last.current


def is_fresh(result, scenario: Scenario, seed: int) -> bool:
    """``result`` is a batch of ``scenario`` with ``seed`` (not one left from before a change)."""
    return result is not None and result.scenario == scenario and result.metadata["seed"]["entropy"] == seed


@solara.component
def Outcomes(task, result, fresh: bool, n_runs: int):
    """The outcome table and survival curve of the newest batch, with the computation's
    progress; a batch left from before a change is shown faded until the new one arrives."""
    snapshot = task.value
    with solara.Card("How the runs end"):
        _status(task, snapshot, fresh, n_runs)
        with solara.Column():
            if task.error is not None and task.state == solara.ResultState.ERROR:
                solara.Error(f"the batch failed: {task.error}")
        if result is not None:
            with solara.Row(style={"align-items": "flex-start", "opacity": "1" if fresh else "0.45"}):
                with solara.Column(style={"flex": "1"}):
                    OutcomeTable(result)
                with solara.Column(style={"flex": "2"}):
                    SurvivalCurve(result)


@solara.component
def SurvivalCurve(result):
    """P(no war by step t), drawn once per batch (not at every render of the page)."""
    def draw():
        figure = plot_survival(result)
        figure.axes[0].legend(fontsize=9, frameon=False, loc="best")  # clear of the curve, which may fall far
        return figure

    figure = solara.use_memo(draw, [result])
    solara.FigureMatplotlib(figure, dependencies=[id(result)], format="png", dpi=80)


def _status(task, snapshot, fresh: bool, n_runs: int) -> None:
    running = task.state in (solara.ResultState.STARTING, solara.ResultState.WAITING, solara.ResultState.RUNNING)
    final = snapshot is not None and snapshot.final and fresh
    if final and not running:
        text = f"{n_runs:,} runs: done"
    elif snapshot is not None and snapshot.result is not None and fresh:
        text = f"first estimate from {snapshot.result.n_runs:,} runs; refining to {n_runs:,} runs"
    else:
        text = f"simulating {n_runs:,} runs"
    solara.Text(text, classes=["batch-status"], style={"font-size": "0.9em", "color": "#555"})
    fraction = snapshot.fraction if snapshot is not None and running else 0
    solara.ProgressLinear(100 * fraction if running else False)


@solara.component
def OutcomeTable(result):
    """Outcome, probability, 95% Wilson interval and count of runs, for every outcome."""
    table = solara.use_memo(lambda: result.summary(quantiles=()).outcomes, [result])
    head = ["outcome", "probability", "95% interval", "runs"]
    rows = [[r.outcome, _percent(r.probability), f"{_percent(r.low)} – {_percent(r.high)}", f"{r.count:,}"]
            for r in table.itertuples(index=False)]
    html = solara.v.Html
    cell = "padding: 4px 14px 4px 0; text-align: left; white-space: nowrap"
    html(tag="table", class_="outcome-table", style_="border-collapse: collapse; font-size: 1.05em", children=[
        html(tag="thead", children=[html(tag="tr", children=[
            html(tag="th", style_=cell + "; border-bottom: 1px solid #999", children=[h]) for h in head])]),
        html(tag="tbody", children=[html(tag="tr", children=[
            html(tag="td", style_=cell, children=[text]) for text in row]) for row in rows]),
    ])
    seed = result.metadata["seed"]["entropy"]
    solara.Text(f"{result.n_runs:,} runs of {result.n_steps} steps, seed {seed}",
                style={"font-size": "0.85em", "color": "#777"})


def _percent(p: float) -> str:
    """As the command line prints probabilities (``run``'s table)."""
    if abs(p) < 1e-12:
        return "0.00%"
    return f"{100 * p:.2f}%" if p >= 1e-4 else f"{100 * p:.2g}%"
