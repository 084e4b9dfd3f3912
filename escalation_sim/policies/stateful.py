"""Policies whose rule needs more than the last step: their state is kept in explicit arrays,
one entry per (pair, run) cell, made by ``initial_state`` and updated in place by ``decide``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import Ladder, Policy, PolicyError, check_level, check_number
from .._text import show


class _Kernel:
    n_draws = 0

    def __init__(self, policy, ladder: Ladder):
        self.policy = policy
        self.ladder = ladder

    def opening(self, step, shape):
        """The level played in step 0 when the policy names one, else ``None``."""
        if step == 0 and self.policy.initial is not None:
            return np.full(shape, self.policy.initial, dtype=np.int8)
        return None


@dataclass(frozen=True, kw_only=True)
class GrimTrigger(Policy):
    """Quiet until hit at ``threshold`` or above, then ``level`` for ever (``level`` defaults to
    the top of the ladder). On two levels with the defaults: Axelrod's ``Grudger``."""

    threshold: int = 1
    level: int | None = None
    family = "grim_trigger"
    memory = math.inf

    def check(self, ladder):
        super().check(ladder)
        check_level("threshold", self.threshold, ladder)
        check_level("level", self.level, ladder, optional=True)

    def compile(self, ladder):
        self.check(ladder)
        return _GrimKernel(self, ladder)


class _GrimKernel(_Kernel):
    def initial_state(self, shape):
        return {"triggered": np.zeros(shape, dtype=bool)}

    def decide(self, step, own, stimulus, state, u):
        triggered = state["triggered"]
        np.logical_or(triggered, stimulus >= self.policy.threshold, out=triggered)
        level = self.ladder.top if self.policy.level is None else self.policy.level
        opening = self.opening(step, own.shape)
        return opening if opening is not None else triggered.astype(np.int8) * np.int8(level)


@dataclass(frozen=True, kw_only=True)
class TitForTwoTats(Policy):
    """Retaliate only when the last two stimuli were both hostile, at the lesser of the two:
    ``next = min(stimulus, previous stimulus)``. On two levels: Axelrod's ``TitFor2Tats``."""

    family = "tit_for_two_tats"
    memory = 2

    def compile(self, ladder):
        self.check(ladder)
        return _TitForTwoTatsKernel(self, ladder)


class _TitForTwoTatsKernel(_Kernel):
    def initial_state(self, shape):
        return {"previous": np.zeros(shape, dtype=np.int8)}

    def decide(self, step, own, stimulus, state, u):
        out = np.minimum(stimulus, state["previous"])
        state["previous"][...] = stimulus
        opening = self.opening(step, own.shape)
        return opening if opening is not None else out


@dataclass(frozen=True, kw_only=True)
class ContriteTitForTat(Policy):
    """Tit-for-tat that owns up to its accidents (Wu and Axelrod 1995).

    It remembers what it meant to do. When an accident made its act more hostile than meant
    against an adversary that was quiet, it becomes *contrite*: once its own act is quiet again
    it answers 0 whatever it received, accepting the punishment instead of echoing it, for that
    one step, and is no longer contrite. Otherwise ``next = stimulus``. On two levels this is
    Axelrod's ``ContriteTitForTat`` rule for rule.

    What it meant is its decision, or where the step's rules replaced the decision on purpose
    (a patron's control, a spontaneous attack, a scripted event) that level: only execution
    noise makes an accident. The engine passes the meant levels to ``kernel.remember`` after
    each step (``core.step.act``); without that call the decision is taken as meant.
    """

    family = "contrite_tit_for_tat"
    memory = math.inf

    def compile(self, ladder):
        self.check(ladder)
        return _ContriteKernel(self, ladder)


class _ContriteKernel(_Kernel):
    def initial_state(self, shape):
        return {"intended": np.zeros(shape, dtype=np.int8), "contrite": np.zeros(shape, dtype=bool)}

    def decide(self, step, own, stimulus, state, u):
        intended, contrite = state["intended"], state["contrite"]
        apologise = contrite & (own == 0)
        accident = (own > intended) & (stimulus == 0)
        contrite[...] = (contrite & ~apologise) | (~apologise & accident)
        out = stimulus * ~apologise
        opening = self.opening(step, own.shape)
        if step == 0:
            out = opening if opening is not None else np.zeros(own.shape, dtype=np.int8)
        intended[...] = out
        return out

    def remember(self, state, meant):
        """Take ``meant`` (the executed level less execution noise) as what was intended."""
        state["intended"][...] = meant


@dataclass(frozen=True, kw_only=True)
class Ledger(Policy):
    """Keep score and settle it.

    ``score = max(0, score + (1 + bias) * severity[stimulus] - severity[own previous])``: harm
    perceived, inflated by ``bias``, minus harm inflicted, never banked below zero. While the
    score exceeds ``tolerance`` the actor retaliates at the highest level whose severity is at
    most ``overreaction * score`` (at least level 1, at most ``cap``); otherwise it is quiet.
    With ``bias = 0`` and ``overreaction = 1`` a retaliation squares the account, which is how a
    calibrated, declared-concluded response ends a spiral; ``bias > 0`` makes both sides feel
    behind, and the spiral climbs.
    """

    tolerance: float = 0.0
    overreaction: float = 1.0
    bias: float = 0.0
    cap: int | None = None
    family = "ledger"
    memory = math.inf

    def check(self, ladder):
        super().check(ladder)
        for key in ("tolerance", "overreaction"):
            if check_number(key, getattr(self, key)) < 0:
                raise PolicyError(key, f"{show(getattr(self, key))} is negative; expected a number >= 0")
        if check_number("bias", self.bias) <= -1:
            raise PolicyError("bias", f"{show(self.bias)} must be greater than -1")
        check_level("cap", self.cap, ladder, optional=True)

    def compile(self, ladder):
        self.check(ladder)
        return _LedgerKernel(self, ladder)


class _LedgerKernel(_Kernel):
    def __init__(self, policy, ladder):
        super().__init__(policy, ladder)
        self.severity = np.asarray(ladder.severity, dtype=float)
        self.cap = ladder.top if policy.cap is None else policy.cap

    def initial_state(self, shape):
        return {"score": np.zeros(shape)}

    def decide(self, step, own, stimulus, state, u):
        p, score = self.policy, state["score"]
        score += (1 + p.bias) * self.severity.take(stimulus)
        score -= self.severity.take(own)
        np.maximum(score, 0.0, out=score)
        settle = np.searchsorted(self.severity, p.overreaction * score, side="right") - 1
        out = np.clip(settle, 1, self.cap).astype(np.int8) * (score > p.tolerance)
        opening = self.opening(step, own.shape)
        return opening if opening is not None else out
