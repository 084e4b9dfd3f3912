import importlib
import pkgutil

import pytest

import escalation_sim as es
from escalation_sim import Scenario


def public_modules(*, packages_only: bool = False):
    """``escalation_sim`` and every module (or only every subpackage) under it with no private
    part in its name. One whose optional third-party dependency is not installed is left out
    (it cannot be called here either); a failing import of the package's own code is an error."""
    yield es
    for info in pkgutil.walk_packages(es.__path__, "escalation_sim.", onerror=lambda name: None):
        if (packages_only and not info.ispkg) or any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            yield importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] == "escalation_sim":
                raise


def two_player(a="tit_for_tat", b="tit_for_tat", *, n_steps=200, execution=0.0, perception=0.0, **extra):
    """An in-memory iterated prisoner's dilemma between players A and B."""
    data = {
        "schema_version": 1,
        "name": "ipd",
        "time": {"n_steps": n_steps, "step_unit": "turn"},
        "ladder": "two_level",
        "actors": {"A": {"kind": "state", "policy": a}, "B": {"kind": "state", "policy": b}},
        "noise": {"execution": execution, "perception": perception},
        "outcomes": {"war_level": None, "quiet_steps": None},
        **extra,
    }
    return Scenario.from_dict(data)


@pytest.fixture
def ipd():
    return two_player
