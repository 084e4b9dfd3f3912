"""The dashboard's inputs, read from a scenario's own key paths: noise rates, each actor's
policy parameters (also those toward one target), a militia's control and sparks.

Nothing here imports Solara: a ``Control`` says what to show (a label, the slider's range and
step, the file's value); ``apply`` turns the values a user set into a scenario with
``with_overrides``, which validates them exactly as ``--set`` does on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..scenario import Scenario, with_overrides

#: Policy parameters that hold a level of the ladder (integer sliders over the ladder).
LEVEL_PARAMETERS = ("cap", "threshold", "level", "step")
#: Slider ranges of the other numeric policy parameters: (low, high, step). A value outside
#: the range can still be typed; the scenario's validation decides whether it is allowed.
NUMBER_RANGES = {
    "generosity": (0.0, 1.0, 0.01),
    "ratio": (0.0, 3.0, 0.05),
    "tolerance": (0.0, 20.0, 0.5),
    "overreaction": (0.0, 3.0, 0.05),
    "bias": (-0.9, 2.0, 0.05),
}
#: Probabilities that are small in every bundled scenario get a finer slider.
FINE = (0.0, 0.05, 0.001)
PROBABILITY = (0.0, 1.0, 0.01)


@dataclass(frozen=True)
class Control:
    """One input of the dashboard.

    Attributes
    ----------
    path : str
        The key path for ``with_overrides`` (``"actors.IRN.policy.generosity"``).
    group : str
        The heading it is shown under: ``"Noise"`` or an actor's name.
    label : str
        What the input is called on the page.
    value : int or float
        The scenario file's value.
    low, high, step : int or float
        The slider's range and step, widened to include the file's value.
    integer : bool
        An integer input (a level of the ladder).
    """

    path: str
    group: str
    label: str
    value: float
    low: float
    high: float
    step: float
    integer: bool = False


def controls(scenario: Scenario) -> list[Control]:
    """The inputs for ``scenario``, noise first, then each actor in the file's order."""
    data = scenario.to_dict()
    top = scenario.top
    out = [_number(f"noise.{key}", "Noise", f"{key} noise", data["noise"][key],
                   PROBABILITY if key == "attribution" else FINE)
           for key in ("perception", "execution", "attribution")]
    for actor_id, actor in data["actors"].items():
        group = f"{actor['name']} ({actor_id})"
        base = f"actors.{actor_id}"
        out += _policy(f"{base}.policy", group, actor["policy"], "", top)
        for target, policy in actor.get("policy_toward", {}).items():
            out += _policy(f"{base}.policy_toward.{target}", group, policy, f" toward {target}", top)
        if "control" in actor:
            out.append(_number(f"{base}.control", group, "control by its patron", actor["control"], PROBABILITY))
        if "spontaneous" in actor:
            out.append(_number(f"{base}.spontaneous.probability", group, "spark probability per step",
                               actor["spontaneous"]["probability"], FINE))
    return out


def _policy(path: str, group: str, policy: Mapping[str, Any], toward: str, top: int) -> list[Control]:
    family = policy["family"].replace("_", " ")
    out = []
    for key, value in policy.items():
        label = f"{family}{toward}: {key}"
        if key in LEVEL_PARAMETERS and isinstance(value, int):
            out.append(Control(f"{path}.{key}", group, label, value, 0, max(top, value), 1, integer=True))
        elif key in NUMBER_RANGES and isinstance(value, (int, float)):
            out.append(_number(f"{path}.{key}", group, label, value, NUMBER_RANGES[key]))
    return out


def _number(path: str, group: str, label: str, value: float, bounds) -> Control:
    low, high, step = bounds
    if value > high:  # a file's value beyond the usual range: the slider reaches it
        high = PROBABILITY[1] if high < PROBABILITY[1] and value <= 1 else 2 * value
        step = max(step, 0.01) if high <= 1 else step
    return Control(path, group, label, float(value), min(low, float(value)), high, step)


def apply(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """``scenario`` with ``values`` (key path to value) set; the scenario itself without any.

    Raises
    ------
    ScenarioError
        If a value is not allowed: the message is the command line's for ``--set``.
    """
    return with_overrides(scenario, values) if values else scenario
