"""The exact likelihood of an observed path of executed levels under a scenario.

Every cell's executed level is observed in every step of the window, so the state the core
carries from step to step (the previous executed levels) is known, and for memory-one policies
the probability of a path is the product over steps of ``P(levels of step t | levels of step
t - 1)``. Within a step the hidden draws of docs/model.md are summed out exactly:

- perception noise on each cell's perceived level and attribution draws (which couple what an
  observer perceives of a militia and of its patron), enumerated per group of linked cells;
- protection, deterministic given the previous levels;
- each policy's response table;
- militia control (the militia's intended level capped by its patron's intended level):
  the patron's intended level is summed over, with its own executed level observed;
- spontaneous attacks, execution slips and scripted acts.

Cells linked by attribution or control form a *component*; components are independent given
the previous levels. Steps with the same (previous, next) levels and the same scripted acts
share one factor, so the cost grows with the number of distinct transitions of the record,
not with its length. Everything is vectorised over parameter sets.

The outcome rules end a run at war or a ceasefire; later executed levels are held at 0, so an
observed act after the run's end has probability 0.

Not exact here: policies with memory beyond one step (grim trigger, tit for two tats,
contrite tit-for-tat, ledger), whose state the observed levels do not fix under perception
noise and attribution; they are refused with a clear error (see docs/fitting.md).
"""

from __future__ import annotations

import warnings
import numpy as np

from ..scenario import Scenario, as_scenario
from .params import Structure, Values, as_table, check_keys, values_for
from .._rng import seed_sequence
from .particle import particle_log_likelihood
from .stateful import check_fitted, stateful_cells, stateful_decisions
from .transition import Cache, Component, component_probability


class ImpossibleObservation(UserWarning):
    """An observed act the scenario cannot produce: its log-likelihood is ``-inf``."""


class Likelihood:
    """``log P(observed executed levels | scenario)`` for many parameter sets at once.

    Parameters
    ----------
    scenario : Scenario or str
    timeline : Timeline or ndarray
        A ``Timeline`` (``escalation_sim.timeline``), or observed levels of shape
        ``(n_steps, n_actors, n_actors)`` indexed ``[step, actor, target]`` in the scenario's
        actor order, from step 0.
    keys : sequence of str
        Key paths of the parameters that vary between sets.

    Call it with an array of shape ``(n_sets, len(keys))``; it returns shape ``(n_sets,)``.
    """

    def __init__(self, scenario, timeline, keys=(), *, particles: int | None = None, rng=None):
        self.scenario = as_scenario(scenario)
        self.keys = list(keys)
        self.structure = Structure.of(self.scenario)
        self.observed, self.first_step = observed_levels(self.scenario, timeline)
        self.particles, self.stateful_cells = None, []
        try:
            self.decided = stateful_decisions(self.scenario, self.structure, self.keys, self.observed)
        except NotImplementedError:
            if particles is None:
                raise
            self.decided, self.particles = None, int(particles)
            self.stateful_cells = stateful_cells(self.scenario, self.structure)
            check_fitted(self.scenario, self.structure, self.keys, self.stateful_cells)
            self.rng = np.random.default_rng(seed_sequence(rng))
        self._prepare()

    # -- set-up ------------------------------------------------------------------------------
    def _prepare(self):
        s, obs = self.structure, self.observed
        cells = np.array(s.pairs)
        self.path = obs[:, cells[:, 0], cells[:, 1]].astype(np.int64)  # (n_steps, n_cells)
        previous = np.vstack([np.zeros((1, len(s.pairs)), dtype=np.int64), self.path[:-1]])
        keys, self.step_transition = {}, np.empty(len(self.path), dtype=np.intp)
        for t in range(len(self.path)):
            script = tuple(sorted(s.events.get(t, {}).items()))
            decided = tuple(sorted(self.decided[t].items())) if self.decided else ()
            key = (t == 0, script, previous[t].tobytes(), self.path[t].tobytes(), decided)
            self.step_transition[t] = keys.setdefault(key, len(keys))
        self.transitions = [(first, dict(script), np.frombuffer(p, dtype=np.int64), np.frombuffer(x, dtype=np.int64),
                             dict(decided)) for first, script, p, x, decided in keys]
        self.components = _components(s, self.scenario)
        self._local_transitions()

    def _local_transitions(self):
        """Each transition as one local transition per component: the component's own cells,
        the cells its actors perceive and the attacks its protectors feel. Components are quiet
        in most steps, so far fewer local transitions than (transition, component) pairs."""
        s = self.structure
        local, self.local_of = {}, np.empty((len(self.transitions), len(self.components)), dtype=np.intp)
        for j, comp in enumerate(self.components):
            cells = comp.cells
            seen = sorted({*cells, *s.reverse[cells].tolist(), *(src for src, dst, _ in s.protection if dst in cells)})
            for k, (first, script, prev, x, decided) in enumerate(self.transitions):
                key = (j, first and bool((s.initial[cells] >= 0).any()), tuple((c, script[c]) for c in cells if c in script),
                       prev[seen].tobytes(), x[cells].tobytes(), tuple((c, decided[c]) for c in cells if c in decided))
                if key not in local:
                    local[key] = (len(local), j, k)
                self.local_of[k, j] = local[key][0]
        self.locals = [(j, k) for _, j, k in local.values()]

    def values(self, table: np.ndarray) -> Values:
        return values_for(self.scenario, self.structure, self.keys, self._table(table))

    def _table(self, table) -> np.ndarray:
        table = np.asarray(table, dtype=float)
        if table.ndim != 2:
            table = table.reshape(-1, len(self.keys)) if self.keys else np.zeros((1, 0))
        if table.shape[1] != len(self.keys):
            raise ValueError(f"expected {len(self.keys)} columns ({', '.join(self.keys)}), got {table.shape[1]}")
        return table

    # -- evaluation ----------------------------------------------------------------------------
    def __call__(self, table) -> np.ndarray:
        table = self._table(table)
        if len(table) == 0:
            return np.zeros(0)
        values = self.values(table)
        return self.log_likelihood(values)

    def log_likelihood(self, values: Values) -> np.ndarray:
        if self.particles:
            return np.array([particle_log_likelihood(self, values.take(np.array([k])), self.particles, self.rng)
                             for k in range(values.n)])
        values = values.expanded()
        per_step = self.step_terms(values)  # (n_steps, n)
        end = self.end_steps(values)
        steps = np.arange(len(self.path))[:, None]
        alive = steps <= end[None, :]
        total = np.where(alive, per_step, 0.0).sum(axis=0)
        late = (self.path.max(axis=1)[:, None] > 0) & ~alive
        return np.where(late.any(axis=0), -np.inf, total)

    def step_terms(self, values: Values) -> np.ndarray:
        """Log-probability of each observed step given the one before, shape (n_steps, n)."""
        cache = Cache(self.structure, values)
        with np.errstate(divide="ignore"):
            local = np.stack([np.log(self._component(values, j, k, cache)) for j, k in self.locals])
        terms = local[self.local_of].sum(axis=1)  # (n_transitions, n)
        return terms[self.step_transition]

    def _component(self, values, j, k, cache=None, only=None):
        first, script, prev, x, decided = self.transitions[k]
        return component_probability(self.structure, values, self.components[j], first, script, prev, x, only, cache,
                                     decided)

    def transition_probability(self, values: Values, k: int, *, only=None) -> np.ndarray:
        """Probability of transition ``k``, shape (n,); ``only`` keeps the observation of that
        one cell (the others are summed over), to find which act cannot happen."""
        out = np.ones(values.n)
        for j in range(len(self.components)):
            out = out * self._component(values, j, k, only=only)
        return out

    def end_steps(self, values: Values) -> np.ndarray:
        """Step at which the observed path ends the run (war or ceasefire) for each set, or a
        step past the window."""
        top = self.path.max(axis=1)
        n_steps = len(top)
        war = np.broadcast_to(values.war_level, (values.n,))
        quiet = np.broadcast_to(values.quiet_steps, (values.n,))
        end = np.full(values.n, n_steps, dtype=np.int64)
        pairs, inverse = np.unique(np.stack([war, quiet], axis=1), axis=0, return_inverse=True)
        for k, (w, q) in enumerate(pairs):
            end[inverse.reshape(-1) == k] = _end_step(top, w, q, self.structure.last_event_step, n_steps,
                                                      self.structure.quiet_level)
        return end

    # -- messages ------------------------------------------------------------------------------
    def explain(self, values: Values, index: int = 0) -> str | None:
        """Why parameter set ``index`` gives the path probability 0, naming the first act the
        scenario cannot produce (step, actor, target, level); ``None`` when it can."""
        if self.particles:
            return ("no particle of the filter could produce the observed path (the particle filter does not name "
                    "the act; the scenario's stateful policies with a known state would)")
        one = values.take(np.array([index])).expanded()
        end = int(self.end_steps(one)[0])
        for t in range(len(self.path)):
            if t > end:
                if self.path[t].max() > 0:
                    cell = int(np.flatnonzero(self.path[t])[0])
                    return self._act(t, cell) + (f": the run already ended at step {end + self.first_step} "
                                                 f"({self._ending(one, end)}); an ended run holds every level at 0")
                continue
            k = self.step_transition[t]
            if self.transition_probability(one, k)[0] > 0:
                continue
            return self._why(one, t, k)
        return None

    def _why(self, one: Values, t: int, k: int) -> str:
        first, script, prev, x, decided = self.transitions[k]
        for cell in range(len(x)):
            if self.transition_probability(one, k, only=cell)[0] > 0:
                continue
            if cell in script:
                return self._act(t, cell) + f": the scenario scripts level {script[cell]} for this act in this step"
            possible = [lv for lv in range(self.structure.top + 1)
                        if _probability_of_level(self, one, k, cell, lv) > 0]
            names = self.scenario.level_names()
            return (self._act(t, cell) + ": after the levels of the step before, the scenario's policy, "
                    "noise, control and sparks can only give " + ", ".join(f"{lv} ({names[lv]})" for lv in possible))
        return (f"step {t + self.first_step}: each act is possible alone, but not all together (militia control "
                "ties a militia's act to its patron's intended act)")

    def _act(self, t, cell) -> str:
        i, j = self.structure.pairs[cell]
        ids, level = self.structure.ids, int(self.path[t, cell])
        return (f"step {t + self.first_step}, {ids[i]} -> {ids[j]}, level {level} "
                f"({self.scenario.level_names()[level]})")

    def _ending(self, one, end) -> str:
        w = int(one.war_level[0])
        return "war" if w >= 0 and self.path[end].max() >= w else "ceasefire"


def _probability_of_level(lik: Likelihood, one: Values, k: int, cell: int, level: int) -> float:
    first, script, prev, x, decided = lik.transitions[k]
    x = x.copy()
    x[cell] = level
    lik.transitions.append((first, script, prev, x, decided))
    try:
        return float(lik.transition_probability(one, len(lik.transitions) - 1, only=cell)[0])
    finally:
        lik.transitions.pop()


def _end_step(top, war_level, quiet_steps, last_event, n_steps, quiet_level=0) -> int:
    started, calm = False, 0
    for t, level in enumerate(top):
        if war_level >= 0 and level >= war_level:
            return t
        if quiet_steps >= 0:
            started |= level > quiet_level
            calm = calm + 1 if level <= quiet_level else 0
            if t >= last_event and started and calm >= quiet_steps:
                return t
    return n_steps


def levels_array(scenario: Scenario, timeline) -> tuple[np.ndarray, int]:
    """A timeline's (or an array's) observed levels ``(n_steps, n_actors, n_actors)``, -1 where
    unobserved, and its first step (0 for an array); ``ValueError`` on a wrong shape."""
    if isinstance(timeline, np.ndarray):
        levels, first = timeline, 0
    else:
        levels, first = np.asarray(timeline.levels(scenario)), int(timeline.window[0])
    A = len(scenario.actors)
    if levels.ndim != 3 or levels.shape[1:] != (A, A):
        raise ValueError(f"observed levels: expected shape (n_steps, {A}, {A}), got {levels.shape}")
    return levels, first


def observed_levels(scenario: Scenario, timeline) -> tuple[np.ndarray, int]:
    """Observed levels ``(n_steps, n_actors, n_actors)`` from step 0, and the first step.

    Raises
    ------
    ValueError
        When the window does not start at step 0 or a pair of the scenario's actors is not
        observed: the exact likelihood needs the whole state of every step.
    """
    levels, first = levels_array(scenario, timeline)
    A = len(scenario.actors)
    if first != 0:
        raise ValueError(f"the timeline's window starts at step {first}; the likelihood needs it to start at "
                         "step 0, where the scenario starts (what happened before is not observed)")
    off = ~np.eye(A, dtype=bool)
    hidden = (levels[:, off] < 0).any(axis=0)
    if hidden.any():
        ids = scenario.actor_ids
        missing = [f"{ids[i]} -> {ids[j]}" for (i, j), h in zip(np.argwhere(off), hidden) if h]
        raise ValueError(f"the timeline does not observe {', '.join(missing)}; the exact likelihood needs every "
                         "pair of the scenario's actors observed in every step (list them in the timeline's actors)")
    if (levels[:, off] > scenario.top).any():
        raise ValueError(f"observed levels above the top of the ladder ({scenario.top})")
    return levels, first


def _components(s: Structure, scenario: Scenario) -> list[Component]:
    """Groups of cells linked by attribution (when it can fire) and control (when it can)."""
    parent = list(range(len(s.pairs)))

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    links = s.attribution + s.control
    for a, b, _ in links:
        parent[root(a)] = root(b)
    members: dict[int, list[int]] = {}
    for c in range(len(s.pairs)):
        members.setdefault(root(c), []).append(c)
    out = []
    for cells in members.values():
        inside = set(cells)
        attribution = [r for r in s.attribution if r[0] in inside]
        heads: dict[int, list] = {}
        for m_cell, p_cell, mi in s.control:
            if m_cell in inside:
                heads.setdefault(p_cell, []).append((m_cell, mi))
        grouped = set(heads) | {m for g in heads.values() for m, _ in g}
        out.append(Component(cells, attribution, list(heads.items()), [c for c in cells if c not in grouped]))
    return out


# -- public function ---------------------------------------------------------------------------

def log_likelihood(scenario, timeline, params=None, *, keys=None, warn: bool = True,
                   particles: int | None = None, rng=None):
    """Log-probability of a timeline's observed executed levels under a scenario.

    Parameters
    ----------
    scenario : Scenario or str
        A scenario whose policies are memory-one (the exact likelihood; see the module text).
    timeline : Timeline or ndarray
        What happened: a ``Timeline`` whose window starts at step 0 and whose actors are the
        scenario's, or levels of shape ``(n_steps, n_actors, n_actors)``.
    params : mapping, sequence of mappings, or ndarray, optional
        Parameter sets by key path (the paths of ``--set`` and sweeps): ``{key: value or
        array}``, a list of ``{key: value}``, or an ``(n_sets, len(keys))`` array with
        ``keys``. ``None`` evaluates the scenario as it is.
    keys : sequence of str, optional
        Column names of ``params`` when it is an array.
    particles : int, optional
        For policies with memory whose state the observed levels do not fix (perception noise,
        attribution onto their cells): estimate the log-likelihood with a particle filter of
        this many particles (``inference.particle``); without it such scenarios are refused.
    rng : None, int, SeedSequence or Generator
        The particle filter's randomness.
    warn : bool
        Issue an ``ImpossibleObservation`` warning naming the first act that the scenario
        cannot produce (step, actor, target, level) and why, when a result is ``-inf``.

    Returns
    -------
    float, or ndarray of shape (n_sets,)
        Natural log; ``-inf`` when the path is impossible.

    Raises
    ------
    NotImplementedError
        For policies with memory beyond one step whose state the observed levels do not fix,
        without ``particles``.
    ValueError
        Unobserved pairs, a window not starting at step 0, or an invalid key path or value
        (``ScenarioError`` naming the key path).
    """
    if params is None:
        keys_, table = [], np.zeros((1, 0))
    else:
        keys_, table = as_table(params, keys)
    lik = Likelihood(scenario, timeline, keys_, particles=particles, rng=rng)
    check_keys(lik.scenario, keys_, table)
    values = lik.values(table)
    out = lik.log_likelihood(values)
    bad = np.flatnonzero(np.isneginf(out))
    if warn and len(bad):
        message = lik.explain(values, int(bad[0]))
        where = "" if params is None else f" (parameter set {bad[0]}; {len(bad)} of {len(out)} sets are impossible)"
        warnings.warn(f"{lik.scenario.name}: the observed path is impossible{where}: {message}",
                      ImpossibleObservation, stacklevel=2)
    return float(out[0]) if params is None else out
