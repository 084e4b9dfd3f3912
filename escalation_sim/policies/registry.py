"""Every policy by name: the families of MODEL.md and the named presets built from them."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from .base import Policy, PolicyError
from .memory_one import Escalate, Fixed, GenerousTitForTat, MemoryOne, Proportional, Threshold, TitForTat
from .stateful import ContriteTitForTat, GrimTrigger, Ledger, TitForTwoTats
from .first_tournament import FIRST_TOURNAMENT_FAMILIES
from .._text import show

FAMILIES: dict[str, type[Policy]] = {
    cls.family: cls
    for cls in (
        TitForTat, GenerousTitForTat, Proportional, Escalate, Threshold, Fixed, MemoryOne,
        GrimTrigger, Ledger, TitForTwoTats, ContriteTitForTat,
    )
}

#: Named presets: (family, parameters). Each is equivalent to the Axelrod strategy of that
#: name on two levels (tested in tests/test_axelrod_crosscheck.py).
PRESETS: dict[str, tuple[type[Policy], dict[str, Any]]] = {
    "always_cooperate": (Fixed, {"level": 0}),
    "always_defect": (Fixed, {"level": 1}),
    "suspicious_tit_for_tat": (TitForTat, {"initial": 1}),
    "win_stay_lose_shift": (MemoryOne, {"vector": (1.0, 0.0, 0.0, 1.0)}),
    "alternator": (MemoryOne, {"vector": (0.0, 0.0, 1.0, 1.0), "initial": 0}),
    "random": (MemoryOne, {"vector": (0.5, 0.5, 0.5, 0.5)}),
    "grudger": (GrimTrigger, {"threshold": 1}),
}
FAMILIES.update({cls.family: cls for cls in FIRST_TOURNAMENT_FAMILIES})


def policy_names() -> list[str]:
    """Every name ``make_policy`` accepts: families first, then presets."""
    return [*FAMILIES, *PRESETS]


def make_policy(spec: str | Mapping[str, Any] | Policy) -> Policy:
    """Build a policy from a name, a mapping ``{"family": name, **parameters}`` or a policy.

    Raises
    ------
    PolicyError
        Unknown family or parameter, or an invalid value; ``key`` names the offending key.
    """
    if isinstance(spec, Policy):
        return spec
    if isinstance(spec, str):
        spec = {"family": spec}
    if not isinstance(spec, Mapping):
        raise PolicyError("family", f"expected a policy name or a mapping, got {show(spec)}")
    params = dict(spec)
    name = params.pop("family", None)
    if not isinstance(name, str):
        raise PolicyError("family", f"expected a policy name, got {show(name)} (known: {', '.join(policy_names())})")
    if name in FAMILIES:
        cls, preset = FAMILIES[name], {}
    elif name in PRESETS:
        cls, preset = PRESETS[name]
        preset = {**preset, "label": name}
    else:
        raise PolicyError("family", f"{show(name)} is not a policy (known: {', '.join(policy_names())})")
    allowed = [f.name for f in fields(cls)]
    for key in params:
        if key not in allowed:
            raise PolicyError(key, f"not a parameter of {name} (allowed: {', '.join(allowed)})")
    try:
        return cls(**{**preset, **params})
    except PolicyError:
        raise
    except (TypeError, ValueError) as exc:
        raise PolicyError("family", f"invalid parameters for {name}: {exc}") from None
