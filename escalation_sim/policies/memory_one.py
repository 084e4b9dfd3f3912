"""Memory-one policies: the next level depends only on the actor's own previous level and the
stimulus. Each compiles to a response table ``P[own_previous, stimulus, next_level]``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import (
    Ladder,
    Policy,
    PolicyError,
    U32,
    check_level,
    check_number,
    check_probability,
    round_half_up,
)
from .._text import show


class TableKernel:
    """Samples a response table for a batch of cells.

    Row ``own * n_levels + stimulus`` of the table is stored as its support (``outcomes``,
    levels in increasing order, padded by repeating the last one) and the cumulative 32-bit
    thresholds between them: the next level is ``outcomes[k]`` for the largest ``k`` with
    ``u >= thresholds[k - 1]``. A deterministic table needs no random word.

    Rows differ in how many levels they can reach; every row is padded to the widest. The
    padding repeats the row's last level *and* its last threshold, so a padded step moves to
    the level the row has already reached and never past it: each row draws its own
    distribution whatever the widths of the others.
    """

    def __init__(self, table: np.ndarray, initial: int | None):
        n = table.shape[0]
        rows = table.reshape(n * n, n)
        support = [np.flatnonzero(row > 0) for row in rows]
        width = max(len(s) for s in support)
        self.n_levels = n
        self.initial = initial
        self.outcomes = np.empty((n * n, width), dtype=np.int8)
        self.thresholds = np.zeros((n * n, max(width - 1, 1)), dtype=np.uint32)
        for r, (row, levels) in enumerate(zip(rows, support)):
            padded = np.concatenate([levels, np.repeat(levels[-1], width - len(levels))])
            self.outcomes[r] = padded
            cdf = np.minimum(np.round(np.cumsum(row[levels])[:-1] * U32), 2**32 - 1)
            if len(cdf):  # a row of one level never moves: any padding does
                self.thresholds[r] = np.concatenate([cdf, np.repeat(cdf[-1], self.thresholds.shape[1] - len(cdf))])
        self.n_draws = 1 if width > 1 else 0
        # Most rules ignore the actor's own previous level: their rows can be indexed by the
        # stimulus alone, which saves forming the combined index in the step loop.
        by_row = self.outcomes.reshape(n, n, width)
        cut = self.thresholds.reshape(n, n, -1)
        self._stimulus_only = bool((by_row == by_row[0]).all() and (cut == cut[0]).all())
        if self._stimulus_only:
            self.outcomes, self.thresholds = by_row[0], cut[0]
        self._identity = self.n_draws == 0 and self._stimulus_only and np.array_equal(self.outcomes[:, 0], np.arange(n))
        # Forgiving tit-for-tat (generous tit-for-tat and kin): answer in kind unless the word
        # falls below one threshold, then quiet. Two whole-array operations instead of look-ups.
        self._forgive = None
        if self._stimulus_only and self.n_draws == 1 and self.outcomes.shape[1] == 2:
            hostile = slice(1, None)
            if ((self.outcomes[hostile, 0] == 0).all() and np.array_equal(self.outcomes[hostile, 1], np.arange(1, n))
                    and (self.thresholds[hostile, 0] == self.thresholds[1, 0]).all() and self.outcomes[0, 1] == 0):
                self._forgive = self.thresholds[1, 0]

    def initial_state(self, shape) -> dict:
        return {}

    def decide(self, step, own, stimulus, state, u):
        if step == 0 and self.initial is not None:
            return np.full(own.shape, self.initial, dtype=np.int8)
        if self._identity:
            return stimulus
        if self._forgive is not None:
            return stimulus * (u[0] >= self._forgive)
        if self._stimulus_only:
            row = stimulus.astype(np.intp)
        else:
            row = own.astype(np.intp)
            row *= self.n_levels
            row += stimulus
        out = self.outcomes[:, 0].take(row)
        for k in range(1, self.outcomes.shape[1]):
            later = u[0] >= self.thresholds[:, k - 1].take(row)
            out += (self.outcomes[:, k].take(row) - out) * later  # faster than masked copies
        return out


@dataclass(frozen=True, kw_only=True)
class MemoryOnePolicy(Policy):
    """A policy given by its response table. Subclasses define ``table``."""

    def table(self, ladder: Ladder) -> np.ndarray:
        """Response table, shape ``(n_levels, n_levels, n_levels)``: ``[own, stimulus, next]``."""
        raise NotImplementedError

    @property
    def stochastic(self) -> bool:
        table = self.table(_probe_ladder(self))
        return bool(((table > 0) & (table < 1)).any())

    def compile(self, ladder: Ladder) -> TableKernel:
        self.check(ladder)
        return TableKernel(self.table(ladder), self.initial)


def _probe_ladder(policy) -> Ladder:
    """A ladder big enough to show whether a family's table is stochastic."""
    table = getattr(policy, "response", None)
    if table is not None:
        return Ladder(tuple(range(len(table))))
    return Ladder.two_level() if getattr(policy, "vector", None) is not None else Ladder(tuple(range(8)))


def _deterministic(ladder: Ladder, next_of) -> np.ndarray:
    """Table of a deterministic rule ``next_of(own, stimulus) -> level`` (arrays in, array out)."""
    n = ladder.n_levels
    own, stim = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    nxt = np.clip(next_of(own, stim), 0, ladder.top)
    table = np.zeros((n, n, n))
    np.put_along_axis(table, nxt[..., None], 1.0, axis=2)
    return table


@dataclass(frozen=True, kw_only=True)
class TitForTat(MemoryOnePolicy):
    """Answer with the level received: ``next = stimulus``.

    On two levels this is Axelrod's ``TitForTat``, the memory-one four-vector ``(1, 0, 1, 0)``;
    with ``initial=1`` it is ``SuspiciousTitForTat``.
    """

    family = "tit_for_tat"

    def table(self, ladder):
        return _deterministic(ladder, lambda own, stim: stim)


@dataclass(frozen=True, kw_only=True)
class GenerousTitForTat(MemoryOnePolicy):
    """Tit-for-tat that forgives a hostile stimulus (answers 0) with probability ``generosity``.

    On two levels: the four-vector ``(1, g, 1, g)`` (Nowak and Sigmund 1992).
    """

    generosity: float = 1 / 3
    family = "generous_tit_for_tat"

    def check(self, ladder):
        super().check(ladder)
        check_probability("generosity", self.generosity)

    def table(self, ladder):
        table = _deterministic(ladder, lambda own, stim: stim)
        table[:, 1:, :] *= 1 - self.generosity
        table[:, 1:, 0] += self.generosity
        return table


@dataclass(frozen=True, kw_only=True)
class Proportional(MemoryOnePolicy):
    """Scale the stimulus: ``next = min(cap, round(ratio * stimulus))``, halves rounded up.

    ``ratio > 1`` escalates, ``ratio < 1`` dampens, ``ratio = 1`` is tit-for-tat. ``cap``
    defaults to the top of the ladder.
    """

    ratio: float = 1.0
    cap: int | None = None
    family = "proportional"

    def check(self, ladder):
        super().check(ladder)
        if check_number("ratio", self.ratio) < 0:
            raise PolicyError("ratio", f"{show(self.ratio)} is negative; expected a number >= 0")
        check_level("cap", self.cap, ladder, optional=True)

    def table(self, ladder):
        cap = ladder.top if self.cap is None else self.cap
        return _deterministic(ladder, lambda own, stim: np.minimum(cap, round_half_up(self.ratio * stim)))


@dataclass(frozen=True, kw_only=True)
class Escalate(MemoryOnePolicy):
    """Answer one rung (``step`` rungs) higher: ``next = min(cap, stimulus + step)`` when the
    stimulus is hostile, else 0."""

    step: int = 1
    cap: int | None = None
    family = "escalate"

    def check(self, ladder):
        super().check(ladder)
        check_level("step", self.step)
        check_level("cap", self.cap, ladder, optional=True)

    def table(self, ladder):
        cap = ladder.top if self.cap is None else self.cap
        return _deterministic(
            ladder, lambda own, stim: np.where(stim > 0, np.minimum(cap, stim + self.step), 0)
        )


@dataclass(frozen=True, kw_only=True)
class Threshold(MemoryOnePolicy):
    """Tit-for-tat for stimuli at or above ``threshold``; lesser provocations are ignored."""

    threshold: int = 1
    family = "threshold"

    def check(self, ladder):
        super().check(ladder)
        check_level("threshold", self.threshold, ladder)

    def table(self, ladder):
        return _deterministic(ladder, lambda own, stim: np.where(stim >= self.threshold, stim, 0))


@dataclass(frozen=True, kw_only=True)
class Fixed(MemoryOnePolicy):
    """Always the same ``level``: a dove at 0, a hawk high; on two levels ``always_cooperate``
    (four-vector ``(1, 1, 1, 1)``) and ``always_defect`` (``(0, 0, 0, 0)``)."""

    level: int = 0
    family = "fixed"

    def check(self, ladder):
        super().check(ladder)
        check_level("level", self.level, ladder)

    def table(self, ladder):
        return _deterministic(ladder, lambda own, stim: np.full_like(stim, self.level))


@dataclass(frozen=True, kw_only=True)
class MemoryOne(MemoryOnePolicy):
    """The general stochastic memory-one rule.

    Give either ``vector`` = (p_CC, p_CD, p_DC, p_DD), the probabilities of playing 0
    (cooperate) after (own, other's) previous (C, C), (C, D), (D, C), (D, D), as in Axelrod's
    ``MemoryOnePlayer`` (two-level ladders only), or ``response``, the full table
    ``[own][stimulus][next]`` whose rows sum to one.
    """

    vector: tuple[float, float, float, float] | None = None
    response: tuple | None = None
    family = "memory_one"

    def __post_init__(self):
        for name in ("vector", "response"):
            value = getattr(self, name)
            if isinstance(value, (list, np.ndarray)):
                object.__setattr__(self, name, _as_tuple(value))
        super().__post_init__()

    def check(self, ladder):
        super().check(ladder)
        if (self.vector is None) == (self.response is None):
            raise PolicyError("vector", "give exactly one of 'vector' (two levels) or 'response'")
        if self.vector is not None:
            if not isinstance(self.vector, tuple) or len(self.vector) != 4:
                raise PolicyError("vector", f"expected four probabilities, got {show(self.vector)}")
            for k, p in enumerate(self.vector):
                check_probability(f"vector[{k}]", p)
            if ladder is not None and ladder.n_levels != 2:
                raise PolicyError("vector", f"a four-vector needs a two-level ladder, not {ladder.n_levels} levels; give 'response'")
        else:
            table = self._response_array()
            n = table.shape[0]
            if ladder is not None and n != ladder.n_levels:
                raise PolicyError("response", f"expected a {ladder.n_levels}x{ladder.n_levels}x{ladder.n_levels} table, got {n}x{n}x{n}")
            if ((table < 0) | (table > 1)).any() or not np.allclose(table.sum(axis=2), 1.0):
                raise PolicyError("response", "every row must hold probabilities in [0, 1] summing to 1")

    def _response_array(self) -> np.ndarray:
        try:
            table = np.array(self.response, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise PolicyError("response", "expected a nested list of numbers [own][stimulus][next]") from None
        if table.ndim != 3 or not (table.shape[0] == table.shape[1] == table.shape[2]) or table.shape[0] < 2:
            raise PolicyError("response", f"expected an n x n x n table (n >= 2), got shape {table.shape}")
        if not np.isfinite(table).all():
            raise PolicyError("response", "expected finite probabilities")
        return table

    def table(self, ladder):
        if self.response is not None:
            return self._response_array()
        table = np.zeros((2, 2, 2))
        for k, p in enumerate(self.vector):
            own, other = divmod(k, 2)
            table[own, other] = (p, 1 - p)
        return table


def _as_tuple(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_as_tuple(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value

