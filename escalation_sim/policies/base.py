"""What every retaliation policy shares: the ladder it acts on and the kernel contract.

A *policy* is a frozen dataclass of parameters. ``policy.compile(ladder)`` binds it to a
ladder and returns a *kernel*, which decides a whole batch of (run, pair) cells at once:

``kernel.decide(step, own, stimulus, state, u) -> next``

- ``own``: int8 array, shape ``(n_pairs, n_runs)``: the level this actor executed toward the
  target in the previous step;
- ``stimulus``: int8 array of the same shape: the level it reacts to (MODEL.md, step 2);
- ``state``: dict of arrays of that shape, made by ``kernel.initial_state(shape)`` and updated
  in place (empty for memory-one policies);
- ``u``: uint32 array of shape ``(n_draws, n_pairs, n_runs)`` of uniform random words, or
  ``None`` when ``kernel.n_draws == 0``. Policies never own a generator.

The scalar case is a batch of shape ``(1, 1)``; the core and the Mesa agents call the same
kernels, which is what makes the agents replay the core exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from .._text import show

U32 = float(2**32)


class PolicyError(ValueError):
    """A policy parameter is invalid. ``key`` names the parameter."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


@dataclass(frozen=True)
class Ladder:
    """The part of a scenario's ladder a policy needs: its size and each level's severity."""

    severity: tuple[float, ...]

    @property
    def n_levels(self) -> int:
        return len(self.severity)

    @property
    def top(self) -> int:
        return len(self.severity) - 1

    @classmethod
    def two_level(cls) -> Ladder:
        return cls((0.0, 1.0))


def threshold_u32(p: float) -> int:
    """Integer threshold ``t`` with ``P(u < t) = p`` for a uniform 32-bit word ``u`` (p < 1)."""
    return min(int(round(p * U32)), 2**32 - 1)


def round_half_up(x):
    """Round onto the ladder: halves go up (``np.rint`` would round them to even)."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)


def check_probability(key: str, value: Any) -> float:
    value = check_number(key, value)
    if not 0.0 <= value <= 1.0:
        raise PolicyError(key, f"{show(value)} is not in [0, 1]")
    return value


def check_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PolicyError(key, f"expected a number, got {show(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range
        raise PolicyError(key, "expected a number, got an integer too large for a float") from None
    if not math.isfinite(value):
        raise PolicyError(key, f"expected a finite number, got {show(value)}")
    return value


def check_level(key: str, value: Any, ladder: Ladder | None = None, *, optional=False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise PolicyError(key, f"expected a level (an integer), got {show(value)}")
    if value < 0 or (ladder is not None and value > ladder.top):
        top = "" if ladder is None else f" (the ladder has levels 0..{ladder.top})"
        raise PolicyError(key, f"{value} is not a level on the ladder{top}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Base class of every policy family.

    Parameters common to all families
    ---------------------------------
    initial : int or None
        Level played in step 0, before anything was observed (suspicious tit-for-tat opens
        with 1). ``None`` lets the rule answer an all-quiet past.
    label : str or None
        Display name, set by presets (``"win_stay_lose_shift"``). It does not change the rule.
    """

    initial: int | None = None
    label: str | None = None

    family: ClassVar[str] = ""
    #: Rounds of history the rule uses: 1 for memory-one, ``math.inf`` for unbounded memory.
    memory: ClassVar[float] = 1

    def __post_init__(self):
        self.check(None)

    # -- traits ----------------------------------------------------------------------------
    @property
    def stochastic(self) -> bool:
        return False

    @property
    def name(self) -> str:
        return getattr(self, "label", None) or self.family

    # -- validation and serialisation --------------------------------------------------------
    def check(self, ladder: Ladder | None) -> None:
        """Raise ``PolicyError`` if a parameter is invalid (on ``ladder``, when given)."""
        check_level("initial", self.initial, ladder, optional=True)
        if self.label is not None and not isinstance(self.label, str):
            raise PolicyError("label", f"expected a name, got {show(self.label)}")

    def params(self) -> dict[str, Any]:
        """Parameters as plain Python values, without defaults left at ``None``."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = _plain(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, **self.params()}

    def compile(self, ladder: Ladder):
        raise NotImplementedError


def _plain(value):
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
