"""One step of MODEL.md for a batch of runs: the sub-steps in order, each a function of arrays
of shape ``(n_pairs, n_runs)``. The core's chunk loop calls ``advance``; the Mesa model calls
``perceive`` and ``act`` around its agents' decisions. Nothing here loops over runs or actors."""

from __future__ import annotations

import numpy as np

from .draws import Limit, StepWords
from .plan import Plan

# What made an act: recorded per cell by ``advance(..., why=...)`` for the Mesa model's story.
DECIDED, SCRIPTED, ACCIDENT, MISPERCEIVED, SPONTANEOUS, CONTROLLED = 0, 1, 2, 3, 4, 5
WHY = ("decided", "scripted", "accident", "misperceived", "spontaneous", "restrained")


#: Below this limit (a probability of about 2%) moving only the hit cells is faster than
#: moving every cell by a zero-or-one step; both give the same levels.
SPARSE_LIMIT = int(0.02 * 2**32)


def off_by_one(levels: np.ndarray, words: StepWords, rows: slice, limit: Limit, top: int) -> np.ndarray:
    """Move cells of ``levels`` one rung with probability ``(limit.value + 1) / 2**32``, in place.

    A cell moves when its noise word (in ``rows`` of ``words``) is at most the limit (``Plan``
    stores ``round(p * 2**32) - 1``: probability ``p`` exactly, ``p = 1`` included): up when
    it is at most half the limit, down otherwise. A move off the ladder is reflected back onto
    it, so the bottom rung always moves up and the top rung down (on two levels every move is
    a flip, as in the textbook game). Returns which cells moved (bool array).
    """
    hit = words.below(rows, limit)
    if top == 1:
        np.bitwise_xor(levels, hit.view(np.int8), out=levels)
        return hit
    if limit.value < SPARSE_LIMIT:  # few cells move: touch only those
        cells = np.flatnonzero(hit)
        flat = levels.reshape(-1)
        up = words.below_at(rows, cells, limit.half)
        moved = flat[cells] + np.where(up, 1, -1).astype(np.int8)
        np.abs(moved, out=moved)
        flat[cells] = np.minimum(moved, 2 * top - moved)
        return hit
    step = words.below(rows, limit.half).view(np.int8) << 1
    step -= hit.view(np.int8)  # +1 (lower half), -1 (upper half) or 0
    levels += step
    np.abs(levels, out=levels)  # -1 -> 1
    np.minimum(levels, 2 * top - levels, out=levels)  # top + 1 -> top - 1
    return hit


def advance(plan: Plan, t: int, prev: np.ndarray, states: list, words: StepWords, why=None):
    """Play step ``t``: from the executed levels ``prev`` of step ``t - 1`` to those of step ``t``.

    Parameters
    ----------
    prev : int8 array, shape (n_pairs, n_runs)
        Level each actor executed toward each target in the previous step.
    states : list of dict
        Each policy group's state arrays (``kernel.initial_state``), updated in place.
    words : StepWords
        This step's random numbers, in the layout of ``plan``.
    why : int8 array, shape (n_pairs, n_runs), optional
        Filled with the reason of each act (``WHY``), for the story of a replayed run.

    Returns
    -------
    executed, stimulus : int8 arrays, shape (n_pairs, n_runs)
    """
    stimulus, misread = perceive(plan, prev, words)
    intended = np.empty_like(prev)
    for group, state in zip(plan.groups, states):
        u = policy_words(plan, group, words)
        intended[group.pairs] = group.kernel.decide(t, prev[group.pairs], stimulus[group.pairs], state, u)
    meant = np.empty_like(prev) if remembers(plan) else None
    executed = act(plan, t, intended, misread, words, why, meant)
    if meant is not None:
        for group, state in zip(plan.groups, states):
            if hasattr(group.kernel, "remember"):
                group.kernel.remember(state, meant[group.pairs])
    return executed, stimulus


def remembers(plan: Plan) -> bool:
    """Whether a policy of the plan keeps the level its actor meant to play (``kernel.remember``,
    contrite tit-for-tat): ``act`` then records it."""
    return any(hasattr(group.kernel, "remember") for group in plan.groups)


def perceive(plan: Plan, prev: np.ndarray, words: StepWords):
    """Steps 1 and 2: what each actor perceives of each other's last act, and its stimulus.

    Returns the stimulus (int8, shape ``(n_pairs, n_runs)``, cell ``(i, j)`` is what ``i``
    reacts to from ``j``) and which cells were misread (bool, or ``None`` without noise).
    """
    perceived = prev.take(plan.reverse, axis=0)
    misread = None
    if plan.perception is not None:
        misread = off_by_one(perceived, words, plan.perception_draws, plan.perception, plan.top)
    if plan.attribution is not None:
        relation, limit = plan.attribution
        blamed = perceived[relation.src] * words.below(plan.attribution_draws, limit)
        raise_to(perceived, relation, blamed)
    if plan.protection is not None:
        relation, rises = plan.protection
        attacks = prev[relation.src]
        felt = np.zeros_like(attacks)
        for k in range(rises.shape[1]):  # round(w * level) as a step function of the level
            felt += attacks >= rises[:, k : k + 1]
        raise_to(perceived, relation, felt)
    return perceived, misread


def raise_to(levels: np.ndarray, relation, values: np.ndarray) -> None:
    """``levels[dst[k]] = max(levels[dst[k]], values[k])`` for every row ``k`` of the relation,
    in place; rows may share a destination."""
    for rows in relation.layers:
        targets = relation.dst[rows]
        levels[targets] = np.maximum(levels[targets], values[rows])


def policy_words(plan: Plan, group, words: StepWords):
    """A policy group's random words, shape ``(n_draws, n_pairs_in_group, n_runs)``, or None."""
    if not group.kernel.n_draws:
        return None
    return words.policy[group.draws].reshape(group.kernel.n_draws, -1, words.policy.shape[1])


def act(plan: Plan, t: int, intended: np.ndarray, misread, words: StepWords, why=None,
        meant=None) -> np.ndarray:
    """Steps 4 to 6, in place on ``intended``: militia control, spontaneous attacks, execution
    noise, scripted events. Returns the executed levels.

    ``meant`` (int8, shape of ``intended``), when given, is filled with the level each act would
    have had without execution noise: the decision after control and sparks, or the scripted
    level. An executed level above it is an accident (MODEL.md, contrite tit-for-tat)."""
    if why is not None:
        why[...] = DECIDED
        if misread is not None:
            why[misread & (intended > 0)] = MISPERCEIVED
    if plan.control is not None:
        militia, patron, limit = plan.control
        obey = words.below(plan.control_draws, limit)
        own = intended[militia]
        # arithmetic selection: np.where on int8 is an order of magnitude slower here
        restrained = own - (own - np.minimum(own, intended[patron])) * obey
        if why is not None:
            why[militia] = np.where(restrained < intended[militia], CONTROLLED, why[militia])
        intended[militia] = restrained
    if plan.spontaneous is not None:
        rows, limit, level = plan.spontaneous
        spark = words.below(plan.spontaneous_draws, limit) & (level > intended[rows])
        own = intended[rows]
        intended[rows] = own + (level - own) * spark
        if why is not None:
            why[rows] = np.where(spark, SPONTANEOUS, why[rows])
    executed = intended
    if meant is not None:
        meant[...] = intended
    if plan.execution is not None:
        slip = off_by_one(executed, words, plan.execution_draws, plan.execution, plan.top)
        if why is not None:
            why[slip] = ACCIDENT
    event = plan.events.get(t)
    if event is not None:
        rows, levels = event
        executed[rows] = levels[:, None]
        if meant is not None:
            meant[rows] = levels[:, None]
        if why is not None:
            why[rows] = SCRIPTED
    return executed
