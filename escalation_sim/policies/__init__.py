"""Retaliation policies: defined once, used by the vectorized core and the Mesa agents alike.

See ``base`` for the kernel contract and ``registry`` for every name.
"""

from .base import Ladder, Policy, PolicyError
from .memory_one import (
    Escalate, Fixed, GenerousTitForTat, MemoryOne, MemoryOnePolicy, Proportional, Threshold, TitForTat,
)
from .registry import FAMILIES, PRESETS, make_policy, policy_names
from .stateful import ContriteTitForTat, GrimTrigger, Ledger, TitForTwoTats

__all__ = [
    "Ladder", "Policy", "PolicyError", "MemoryOnePolicy", "TitForTat", "GenerousTitForTat",
    "Proportional", "Escalate", "Threshold", "Fixed", "MemoryOne", "GrimTrigger", "Ledger",
    "TitForTwoTats", "ContriteTitForTat", "FAMILIES", "PRESETS", "make_policy", "policy_names",
]
