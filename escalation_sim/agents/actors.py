"""Mesa agents for the scenario's actors: adapters around the policy kernels.

An agent holds its actor's policies, one compiled kernel and one state per target, and, when
the model asks, decides its level toward each target by calling the same kernel the core
calls, on its own cell (arrays of shape ``(1, 1)``; kernels are elementwise, so a cell's answer
is the one it gets inside the core's vectorized batch). The rules around the decision
(perception, militia control, sparks, execution noise, scripted events) are applied by the
model with the core's own step functions, so no rule is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from ..core.draws import StepWords
from ..core.plan import Group, Plan
from ..core.step import policy_words
from ..scenario import Actor


@dataclass
class PolicySlot:
    """An actor's policy toward one target, bound to its cell of the compiled plan.

    ``pair`` is the cell's index on the plan's pair axis; ``position`` its place in its policy
    group (the kernel's random words for the cell are that column of the group's words);
    ``state`` the kernel's state for the cell, arrays of shape ``(1, 1)``.
    """

    target: str
    pair: int
    group: Group
    position: int
    state: dict

    @property
    def policy(self):
        return self.group.policy

    @property
    def kernel(self):
        return self.group.kernel


@dataclass
class _Batch:
    """Consecutive cells of one actor under one policy: ``pairs`` on the pair axis, ``positions``
    in the policy group; ``state`` the kernel's state for them, shape ``(n_cells, 1)``."""

    group: Group
    pairs: slice
    positions: slice
    state: dict


class ActorAgent(mesa.Agent):
    """An actor of the scenario as a Mesa agent.

    Attributes
    ----------
    actor : scenario.Actor
        The actor as the scenario defines it (``actor.id``, ``actor.name``, ``actor.kind``).
    policies : dict of str to PolicySlot
        The actor's policy toward each other actor, by target id.
    harm_inflicted, harm_received, payoff : float
        Totals so far in the run (MODEL.md, Outcomes).
    hostile_acts : int
        Acts above level 0 so far, over all targets.
    """

    def __init__(self, model: mesa.Model, actor: Actor, plan: Plan):
        super().__init__(model)
        self.actor = actor
        self.actor_id = actor.id
        self.index = plan.scenario.actor_ids.index(actor.id)
        self._batches = _batches(plan, self.index)
        self.policies = {slot.target: slot for slot in _slots(plan, self._batches)}
        self.harm_inflicted = self.harm_received = self.payoff = 0.0
        self.hostile_acts = 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.actor_id}: {self.actor.name}>"

    def decide(self, t: int, prev: np.ndarray, stimulus: np.ndarray, words: StepWords,
               intended: np.ndarray) -> None:
        """Write this actor's intended level toward each target into ``intended``.

        Each policy's kernel is called once for the actor's cells under that policy (they are
        consecutive on the pair axis); kernels are elementwise, so this is the same as one call
        per target, with fewer calls.

        Parameters
        ----------
        t : int
            The step being played.
        prev, stimulus : int8 arrays, shape (n_pairs, 1)
            Executed levels of step ``t - 1``, and this step's stimuli (``core.step.perceive``).
        words : StepWords
            This step's random numbers (``core.draws``), for this run alone.
        intended : int8 array, shape (n_pairs, 1)
            Filled at this actor's cells.
        """
        plan = self.model.plan
        for batch in self._batches:
            u = policy_words(plan, batch.group, words)
            if u is not None:
                u = u[:, batch.positions]
            cells = batch.pairs
            intended[cells] = batch.group.kernel.decide(t, prev[cells], stimulus[cells], batch.state, u)

    def remember(self, meant: np.ndarray) -> None:
        """Give the policies that keep it the level each of this actor's acts was meant to have
        (``core.step.act``), as the core does after every step."""
        for batch in self._batches:
            if hasattr(batch.group.kernel, "remember"):
                batch.group.kernel.remember(batch.state, meant[batch.pairs])


class StateAgent(ActorAgent):
    """A state: it answers each other actor with its policy toward that actor."""


class MilitiaAgent(ActorAgent):
    """A militia: a state's proxy.

    Besides its policies it carries what the model's control and spark rules read:
    ``patron`` (the patron's id), ``control`` (probability of acting as the patron wants) and
    ``spontaneous`` (its own attacks, or ``None``).
    """

    def __init__(self, model: mesa.Model, actor: Actor, plan: Plan):
        super().__init__(model, actor, plan)
        self.patron = actor.patron
        self.control = actor.control
        self.spontaneous = actor.spontaneous


def make_agent(model: mesa.Model, actor: Actor, plan: Plan) -> ActorAgent:
    """The agent of one actor: a ``MilitiaAgent`` for a militia, else a ``StateAgent``."""
    cls = MilitiaAgent if actor.kind == "militia" else StateAgent
    return cls(model, actor, plan)


def _batches(plan: Plan, actor: int) -> list[_Batch]:
    """The actor's cells, grouped by policy; the engine lays each group out actor by actor."""
    batches = []
    for group in plan.groups:
        mine = np.flatnonzero(plan.actor_of_pair[group.pairs] == actor)
        if mine.size == 0:
            continue
        if not np.array_equal(mine, np.arange(mine[0], mine[-1] + 1)):
            raise RuntimeError("the compiled plan does not lay out an actor's cells of one policy consecutively")
        positions = slice(int(mine[0]), int(mine[-1]) + 1)
        pairs = slice(group.pairs.start + positions.start, group.pairs.start + positions.stop)
        batches.append(_Batch(group, pairs, positions, group.kernel.initial_state((mine.size, 1))))
    return batches


def _slots(plan: Plan, batches: list[_Batch]) -> list[PolicySlot]:
    """One slot per target, in pair order; its state is a view of its row of the batch's state."""
    ids = plan.scenario.actor_ids
    slots = []
    for batch in batches:
        for row, pair in enumerate(range(batch.pairs.start, batch.pairs.stop)):
            state = {key: value[row : row + 1] for key, value in batch.state.items()}
            target = ids[plan.target_of_pair[pair]]
            slots.append(PolicySlot(target, pair, batch.group, batch.positions.start + row, state))
    return sorted(slots, key=lambda slot: slot.pair)
