"""The classic strategies of the iterated prisoner's dilemma, as presets of the policy families
on two levels (0 = cooperate, 1 = defect), with the name of each in the Axelrod library."""

from __future__ import annotations

from typing import Any, Mapping

from ..policies import Policy, make_policy

#: Policy specification of each strategy (see ``escalation_sim.policies.make_policy``).
_SPECS: dict[str, Any] = {
    "always_cooperate": "always_cooperate",
    "always_defect": "always_defect",
    "tit_for_tat": "tit_for_tat",
    # Generosity 1/3 is the best one for (R, S, T, P) = (3, 0, 5, 1), Axelrod's default for GTFT.
    "generous_tit_for_tat": {"family": "generous_tit_for_tat", "generosity": 1 / 3},
    "tit_for_two_tats": "tit_for_two_tats",
    "grudger": "grudger",
    "win_stay_lose_shift": "win_stay_lose_shift",
    "alternator": "alternator",
    "random": "random",
    "suspicious_tit_for_tat": "suspicious_tit_for_tat",
    "contrite_tit_for_tat": "contrite_tit_for_tat",
}

#: Name -> policy, for ``match_scores``, ``tournament`` and the exact Markov analysis.
STRATEGIES: dict[str, Policy] = {name: make_policy(spec) for name, spec in _SPECS.items()}

#: Name -> class name of the same strategy in the Axelrod library (``axelrod.<name>()``).
AXELROD_NAMES: dict[str, str] = {
    "always_cooperate": "Cooperator",
    "always_defect": "Defector",
    "tit_for_tat": "TitForTat",
    "generous_tit_for_tat": "GTFT",
    "tit_for_two_tats": "TitFor2Tats",
    "grudger": "Grudger",
    "win_stay_lose_shift": "WinStayLoseShift",
    "alternator": "Alternator",
    "random": "Random",
    "suspicious_tit_for_tat": "SuspiciousTitForTat",
    "contrite_tit_for_tat": "ContriteTitForTat",
}

#: Other names accepted by ``strategy``.
ALIASES = {"grim_trigger": "grudger", "cooperator": "always_cooperate", "defector": "always_defect"}


def strategy(spec: str | Mapping[str, Any] | Policy) -> Policy:
    """A strategy by name (``STRATEGIES``, an alias, or any policy name), policy mapping or policy.

    A name that is not a classic strategy goes to ``make_policy``, so every registered
    family and preset can play, with its defaults.
    """
    if isinstance(spec, str):
        name = ALIASES.get(spec, spec)
        if name in STRATEGIES:
            return STRATEGIES[name]
    return make_policy(spec)


def strategy_name(policy: Policy) -> str:
    """The key of ``policy`` in ``STRATEGIES`` if it is one of them, else its display name."""
    for name, known in STRATEGIES.items():
        if known == policy:
            return name
    return policy.name
