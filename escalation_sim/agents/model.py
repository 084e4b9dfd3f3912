"""``EscalationModel``: one run of a scenario as a Mesa model, step by step.

Run ``run`` of ``EscalationModel(scenario, rng=seed, run=run)`` is run ``run`` of
``simulate(scenario, n_runs, rng=seed)``: the model reads the same random words as the core
(column ``run % STREAM_BLOCK`` of stream block ``run // STREAM_BLOCK``), its agents call the
same policy kernels, the model applies the rest of the step with the core's own functions
(``core.step.perceive`` and ``act``), and keeps the outcome rules and measures as the engine's
tally does (``tally.RunTally``).
"""

from __future__ import annotations

import functools
import os

import mesa
import numpy as np

from .._frames import trajectory_frame
from .._rng import RngLike, seed_sequence
from ..core.horizon import last_steps
from ..core.plan import OUTCOMES, compile_plan
from ..core.step import act, perceive, remembers
from ..scenario import Scenario, as_scenario
from . import story
from .actors import ActorAgent, make_agent
from .tally import RunTally
from .words import RunDraws, RunWords, locate
from .._text import show

#: Per-actor measures, as agent attributes and agent reporters.
AGENT_MEASURES = ("harm_inflicted", "harm_received", "payoff", "hostile_acts")
#: Counts of ``measures()`` kept by the tally, as in ``BatchResult.runs``.
COUNTS = ("end_step", "peak_level", "peak_step", "hostile_steps", "retaliations")


class EscalationModel(mesa.Model):
    """One run of a scenario: states and militias as Mesa agents, moving simultaneously.

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name for ``load_scenario``
    rng : None, int, SeedSequence or Generator
        The seed of the batch the run belongs to, as given to ``simulate``. With ``None``
        fresh entropy is drawn; ``model.seed`` records it.
    run : int
        The run's index in that batch (any integer >= 0).
    n_steps : int, optional
        Horizon; the scenario's ``time.n_steps`` by default. Give the one the batch used.

    Attributes
    ----------
    plan : core.Plan
        The compiled scenario; its pair axis orders the cells of every array below.
    t : int
        The last step played (-1 before the first).
    running : bool
        False once the run has ended (war, ceasefire or the horizon); ``run_model()`` plays it out.
    datacollector : mesa.DataCollector
        Model reporters: the level of each pair (columns ``"actor->target"``), ``top_level`` and
        ``outcome``; agent reporters: ``actor`` and ``AGENT_MEASURES``. Row 0 is the state
        before the first step, row ``k`` the state after ``k`` steps (step ``k - 1``).

    Raises
    ------
    ScenarioError
        If the scenario file is missing or invalid.
    TypeError, ValueError
        If ``run``, ``n_steps`` or ``rng`` is not a valid value.
    """

    def __init__(self, scenario: Scenario | str | os.PathLike, rng: RngLike = None, run: int = 0,
                 *, n_steps: int | None = None):
        self.seed_sequence = seed_sequence(rng)
        self.run = _check_index("run", run)
        self.scenario = scenario if isinstance(scenario, Scenario) else _load(scenario)
        super().__init__(rng=_mesa_seed(self.seed_sequence, self.run))
        self.n_steps = self.scenario.n_steps if n_steps is None else _check_index("n_steps", n_steps, low=1)
        self.plan = _plan(self.scenario)
        self._words = RunWords(self.seed_sequence, self.run, self.plan)
        self._setup_state()
        self._actors = [make_agent(self, actor, self.plan) for actor in self.scenario.actors]
        self.datacollector = self._collector()
        self.datacollector.collect(self)

    # Mesa 3.4 and later name their own experiment settings ``Model.scenario`` and set them in
    # ``Model.__init__``: this model's ``scenario`` stays the escalation scenario, and Mesa's
    # settings object is kept as ``mesa_scenario``.
    @property
    def scenario(self) -> Scenario:
        """The scenario this model plays."""
        return self._escalation_scenario

    @scenario.setter
    def scenario(self, value) -> None:
        if isinstance(value, Scenario):
            self._escalation_scenario = value
        else:
            self.mesa_scenario = value

    @classmethod
    def from_result(cls, result, run: int) -> EscalationModel:
        """The model of run ``run`` of a ``BatchResult`` (from ``simulate`` or ``load_result``)."""
        run = _check_index("run", run)
        if run >= result.n_runs:
            raise ValueError(f"run: {run} is not a run of this batch (runs 0..{result.n_runs - 1})")
        seed = result.metadata["seed"]
        seq = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]))
        return cls(result.scenario, rng=seq, run=run, n_steps=result.n_steps)

    def _setup_state(self) -> None:
        plan, P = self.plan, self.plan.n_pairs
        self.t = -1
        self._prev = np.zeros((P, 1), dtype=np.int8)
        self._level_list = [0] * P
        self._levels = np.zeros((self.n_steps, P), dtype=np.int8)
        self._why = np.zeros((self.n_steps, P), dtype=np.int8)
        self._intended = np.zeros((self.n_steps, P), dtype=np.int8)
        # The run's last step: n_steps - 1, or its random horizon drawn as the core draws it.
        self._last = int(last_steps(self.seed_sequence, self.run, 1, self.scenario.time.prob_end, self.n_steps)[0])
        self._tally = RunTally(plan, self._last + 1)
        # Per act: harm is the severity of its level, the payoff a look-up [own, other's level];
        # level 0 is no act, so it carries no harm (the engine counts hostile levels only).
        severity = plan.severity.astype(np.float64)
        severity[0] = 0.0
        self._severity = severity.tolist()
        self._payoff = _payoff_table(plan, severity).tolist()
        self._cells = list(zip(plan.actor_of_pair.tolist(), plan.target_of_pair.tolist(), plan.reverse.tolist()))
        self._totals = [[0.0] * len(self.scenario.actors) for _ in AGENT_MEASURES]

    def _collector(self) -> mesa.DataCollector:
        ids = self.scenario.actor_ids
        model_reporters = {f"{ids[a]}->{ids[t]}": functools.partial(_pair_level, pair=p)
                           for p, (a, t, _) in enumerate(self._cells)}
        model_reporters.update(top_level=functools.partial(_top_level), outcome=functools.partial(_outcome_now))
        agent_reporters = {"actor": "actor_id", **{k: k for k in AGENT_MEASURES}}
        return mesa.DataCollector(model_reporters=model_reporters, agent_reporters=agent_reporters)

    # -- stepping ----------------------------------------------------------------------------
    def step(self) -> None:
        """Play the next step: perceive, decide (each agent), act, then the outcome rules."""
        if not self.running:
            raise RuntimeError(f"run {self.run} has ended at step {self.t}: it has no more steps")
        t = self.t = self.t + 1
        plan, words = self.plan, self._words.next()
        blamed = np.zeros(self._prev.shape, dtype=bool)
        stimulus, misread = perceive(plan, self._prev, words, blamed)
        intended = np.empty_like(self._prev)
        for agent in self._actors:  # simultaneous: each writes its own cells only
            agent.decide(t, self._prev, stimulus, words, intended)
        self._intended[t] = intended[:, 0]
        why = np.empty_like(intended)
        meant = np.empty_like(intended) if remembers(plan) else None
        executed = act(plan, t, intended, misread, words, why, meant, blamed)
        if meant is not None:
            for agent in self._actors:
                agent.remember(meant)
        self._why[t], self._levels[t] = why[:, 0], executed[:, 0]
        self._prev, self._level_list = executed, executed[:, 0].tolist()
        self._tally.add(t, self._level_list, stimulus[:, 0].tolist())
        self._add_totals(self._level_list)
        self.running = not (self._tally.ended or t == self._last)
        self.datacollector.collect(self)

    def _add_totals(self, levels: list[int]) -> None:
        """Add this step's acts to each agent's totals (``AGENT_MEASURES``)."""
        inflicted, received, payoff, hostile = self._totals
        severity, table = self._severity, self._payoff
        for pair, (actor, target, reverse) in enumerate(self._cells):
            level = levels[pair]
            payoff[actor] += table[level][levels[reverse]]
            if level:
                inflicted[actor] += severity[level]
                received[target] += severity[level]
                hostile[actor] += 1
        for agent in self._actors:
            k = agent.index
            agent.harm_inflicted, agent.harm_received = inflicted[k], received[k]
            agent.payoff, agent.hostile_acts = payoff[k], int(hostile[k])

    # -- the run's state and results -----------------------------------------------------------
    @property
    def levels(self) -> np.ndarray:
        """Levels executed in the last step played, int8, shape ``(n_pairs,)``, pair order of ``plan``."""
        return self._prev[:, 0].copy()

    def __repr__(self) -> str:
        played = "not started" if self.t < 0 else f"{self.t + 1:,} of {self.n_steps:,} steps played"
        return f"<EscalationModel {self.scenario.name}, run {self.run}: {played}, {self.outcome}>"

    @property
    def outcome(self) -> str:
        """``"war"``, ``"ceasefire"``, or ``"ongoing"`` (also while the run is being played)."""
        return OUTCOMES[self._tally.outcome]

    @property
    def end_step(self) -> int:
        """The step the run ended at; while it is running, the last step played."""
        return self.t if self.running else self._tally.end_step

    @property
    def seed(self) -> dict:
        """The batch's seed, as in ``BatchResult.metadata["seed"]``: entropy and spawn key."""
        return {"entropy": self.seed_sequence.entropy, "spawn_key": list(self.seed_sequence.spawn_key)}

    def actor_agent(self, actor_id: str) -> ActorAgent:
        """The agent of an actor, by the actor's id."""
        for agent in self.agents:
            if agent.actor_id == actor_id:
                return agent
        raise KeyError(f"no actor {show(actor_id)} (actors: {', '.join(self.scenario.actor_ids)})")

    @property
    def expected_fatalities(self) -> float:
        """Expected deaths of the acts so far (the ladder's ``fatalities`` per act): the mean
        of the run's fatality draw."""
        return self._tally.expected_deaths()

    def measures(self) -> dict:
        """The run's measures, keyed like a row of ``BatchResult.runs``: run, outcome,
        end_step, peak_level, peak_step, hostile_steps, retaliations, fatalities, the escalation
        measures (peak_after_script, threshold_step, escalation_velocity, escalation_score), and per
        actor ``harm_inflicted_<id>``, ``harm_received_<id>``, ``payoff_<id>`` (float64, as the
        batch stores them).

        Raises
        ------
        RuntimeError
            If the run has not ended yet.
        """
        self._check_ended("measures")
        out = {"run": self.run, "outcome": self.outcome}
        out.update({k: int(getattr(self._tally, k)) for k in COUNTS})
        out["fatalities"] = self.fatalities
        out.update(self._tally.escalation())
        for key, totals in zip(AGENT_MEASURES[:3], self._totals):  # harm and payoff, per actor
            out.update({f"{key}_{a}": float(v) for a, v in zip(self.scenario.actor_ids, totals)})
        return out

    @property
    def fatalities(self) -> int:
        """The run's fatalities, drawn once it has ended as the core draws them: a Poisson
        count with the run's expected deaths, from the run's own uniform of its block."""
        self._check_ended("fatalities")
        mean = np.array([self._tally.expected_deaths()])
        return int(RunDraws(self.seed_sequence, self.run).poisson(mean)[0])

    def _check_ended(self, what: str) -> None:
        if self.running:
            raise RuntimeError(f"{what}: run {self.run} has not ended; play it out with run_model() first")

    def trajectory(self):
        """Every level executed so far: a DataFrame with columns step, actor, target, level,
        as ``BatchResult.trajectory(run)``."""
        return trajectory_frame(self._levels[: self.t + 1], self.plan.pairs, self.scenario.actor_ids)

    def timeline(self):
        """The acts of the run so far, one row each: see ``story.timeline``."""
        return story.timeline(self)

    def narrate(self) -> str:
        """The run so far as text, one line per act: see ``story.narrate``."""
        return story.narrate(self)


# -- reporters (module-level functions, so that the model stays picklable) --------------------
def _pair_level(model: EscalationModel, pair: int) -> int:
    return model._level_list[pair]


def _top_level(model: EscalationModel) -> int:
    return max(model._level_list)


def _outcome_now(model: EscalationModel) -> str:
    return model.outcome


# -- arguments ----------------------------------------------------------------------------------
def _check_index(name: str, value, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {show(value)}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)


def _load(scenario) -> Scenario:
    return as_scenario(scenario)


@functools.lru_cache(maxsize=8)
def _plan(scenario: Scenario):
    # Replaying many runs of one scenario compiles it once; kernels keep no state of their own.
    return compile_plan(scenario)


def _payoff_table(plan, severity: np.ndarray) -> np.ndarray:
    """Payoff of an act, ``[own level, other's level]``, as the core defines it."""
    if plan.payoff is not None:
        return plan.payoff.reshape(plan.n_levels, plan.n_levels).astype(np.float64)
    return -severity[None, :] - plan.own_cost * severity[:, None]


def _mesa_seed(seq: np.random.SeedSequence, run: int) -> int:
    """A seed for Mesa's own generators (``model.random``, ``model.rng``), which the model's rules
    never use: a key of the run's own beside the block's two streams (children 0 and 1)."""
    block, column = locate(run)
    own = np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, block, 2, column))
    return int(own.generate_state(1, np.uint64)[0])
