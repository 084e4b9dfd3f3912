import pytest

from escalation_sim import Scenario


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
