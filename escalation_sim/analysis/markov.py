"""Exact answers for memory-one policies: Markov chains instead of Monte Carlo.

Two players on two levels
    Memory-one policies ``p`` and ``q`` make the outcome of each turn a Markov chain on the
    states CC, CD, DC, DD (``p``'s action first). ``memory_one_matrix`` builds it with execution
    noise; ``stationary_distribution`` and ``long_run_payoffs`` give the long run,
    ``finite_horizon`` the expected state shares and payoffs of a match of ``turns`` turns,
    ``echo_length`` the mean length of a retaliation echo.

Whole scenarios
    When every policy of a scenario is memory-one and no act is scripted after step 0, the
    scenario is a Markov chain on the executed levels of all pairs (augmented with the count of
    quiet steps that the ceasefire rule needs). ``scenario_chain`` builds it from the rules of
    MODEL.md, written out here independently of the core, so that each checks the other;
    ``absorption`` and ``eventual_absorption`` give the probabilities of war and ceasefire by a
    horizon or ever, and the expected step at which they come.

Probabilities are the model's: the core draws each Bernoulli event by comparing a 32-bit random
word with ``round(p * 2**32)``, which differs from ``p`` by less than ``2**-32``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve

from ..policies import Ladder, MemoryOnePolicy
from ..scenario import Scenario
from .._text import show

#: The states of a two-player match on two levels, the first player's action first.
STATES = ("CC", "CD", "DC", "DD")
_SWAP = [0, 2, 1, 3]  # the same state seen from the other player


# -- two players, two levels ------------------------------------------------------------------

def cooperation_vector(policy) -> np.ndarray:
    """Probability of cooperating after CC, CD, DC, DD (own action first), shape (4,).

    ``policy`` is a memory-one policy (its table on the two-level ladder) or a four-vector
    (p_CC, p_CD, p_DC, p_DD) as in Axelrod's ``MemoryOnePlayer``.
    """
    if isinstance(policy, MemoryOnePolicy):
        return policy.table(Ladder.two_level())[:, :, 0].reshape(4)
    if hasattr(policy, "compile"):
        raise ValueError(f"{policy.name} is not memory-one: its next level depends on more than "
                         "the last step, so the outcome is not a Markov chain on CC, CD, DC, DD")
    vector = np.asarray(policy, dtype=float)
    if vector.shape != (4,) or ((vector < 0) | (vector > 1)).any():
        raise ValueError(f"expected a memory-one policy or four probabilities, got {show(policy)}")
    return vector


def _opening(policy) -> float:
    """Probability of cooperating in turn 0, before any noise: the past is all quiet."""
    initial = getattr(policy, "initial", None)
    if initial is not None:
        return 1.0 if initial == 0 else 0.0
    return float(cooperation_vector(policy)[0])


def _noisy(p, noise: float):
    """Probability of a cooperative act when the intended one is flipped with ``noise``."""
    return p * (1 - noise) + (1 - p) * noise


def _joint(a, b) -> np.ndarray:
    """Distribution over CC, CD, DC, DD of independent acts cooperating with probability a, b."""
    return np.stack([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], axis=-1)


def memory_one_matrix(p, q, *, noise: float = 0.0) -> np.ndarray:
    """Transition matrix of a match between memory-one policies ``p`` and ``q``.

    Parameters
    ----------
    p, q : MemoryOnePolicy or four-vector
    noise : float
        Execution noise: each act is flipped with this probability.

    Returns
    -------
    ndarray, shape (4, 4)
        ``M[s, s']``: probability that state ``s`` (in ``STATES`` order) is followed by ``s'``.
    """
    a = _noisy(cooperation_vector(p), noise)
    b = _noisy(cooperation_vector(q), noise)[_SWAP]
    return _joint(a, b)


def initial_distribution(p, q, *, noise: float = 0.0) -> np.ndarray:
    """Distribution of the state of turn 0, shape (4,): each policy's opening act, with noise."""
    return _joint(_noisy(_opening(p), noise), _noisy(_opening(q), noise))


def stationary_distribution(matrix: np.ndarray) -> np.ndarray:
    """The stationary distribution ``pi = pi @ matrix`` of a chain with one closed class.

    Parameters
    ----------
    matrix : ndarray, shape (n, n)

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        When the chain has several closed classes (its long run then depends on where it
        starts: use ``long_run_distribution``).
    """
    classes = _closed_classes(matrix)
    if len(classes) != 1:
        raise ValueError(f"the chain has {len(classes)} closed classes, so its stationary distribution "
                         "is not unique; use long_run_distribution(matrix, initial)")
    pi = np.zeros(len(matrix))
    pi[classes[0]] = _irreducible_stationary(matrix[np.ix_(classes[0], classes[0])])
    return pi


def long_run_distribution(matrix: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Long-run share of time in each state from the distribution ``initial``, shape (n,).

    The Cesaro limit ``lim (1/T) sum_t initial @ matrix**t``: the probability of ending in each
    closed class times that class's stationary distribution. It exists for every chain,
    periodic or reducible.
    """
    matrix, initial = np.asarray(matrix, dtype=float), np.asarray(initial, dtype=float)
    classes = _closed_classes(matrix)
    closed = np.concatenate(classes)
    transient = np.setdiff1d(np.arange(len(matrix)), closed)
    reach = initial[closed].copy()
    if transient.size:
        Q = matrix[np.ix_(transient, transient)]
        visits = np.linalg.solve((np.eye(len(transient)) - Q).T, initial[transient])
        reach += visits @ matrix[np.ix_(transient, closed)]
    out, start = np.zeros(len(matrix)), 0
    for members in classes:
        mass = reach[start : start + len(members)].sum()
        out[members] = mass * _irreducible_stationary(matrix[np.ix_(members, members)])
        start += len(members)
    return out


def _closed_classes(matrix) -> list[np.ndarray]:
    """The closed communicating classes: strongly connected components with no way out."""
    graph = sparse.csr_matrix(np.asarray(matrix) > 0)
    n_comp, label = csgraph.connected_components(graph, directed=True, connection="strong")
    rows, cols = graph.nonzero()
    leaks = np.zeros(n_comp, dtype=bool)
    leaks[label[rows][label[rows] != label[cols]]] = True
    return [np.flatnonzero(label == c) for c in range(n_comp) if not leaks[c]]


def _irreducible_stationary(matrix) -> np.ndarray:
    n = len(matrix)
    system = (matrix - np.eye(n)).T
    system[-1] = 1.0  # replace one balance equation by the normalisation
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    return np.linalg.solve(system, rhs)


def _rstp(game) -> np.ndarray:
    if game is None:
        return np.array([3.0, 0.0, 5.0, 1.0])
    rstp = getattr(game, "rstp", game)
    if rstp is None or len(rstp) != 4:
        raise ValueError(f"game: expected a symmetric 2x2 StageGame or (R, S, T, P), got {show(game)}")
    return np.array([float(x) for x in rstp])


def long_run_payoffs(p, q, *, noise: float = 0.0, game=None) -> np.ndarray:
    """Long-run mean payoff per turn of ``p`` and of ``q``, shape (2,).

    Starts from the policies' openings when the chain has several closed classes (``noise = 0``).
    ``game``: (R, S, T, P) or a symmetric ``StageGame``; (3, 0, 5, 1) by default.
    """
    M = memory_one_matrix(p, q, noise=noise)
    shares = long_run_distribution(M, initial_distribution(p, q, noise=noise))
    R, S, T, P = _rstp(game)
    return np.array([shares @ [R, S, T, P], shares @ [R, T, S, P]])


@dataclass(frozen=True)
class FiniteHorizon:
    """Expectations over a match of ``turns`` turns.

    Attributes
    ----------
    distributions : ndarray, shape (turns, 4)
        Probability of each state (``STATES``) in each turn.
    shares : ndarray, shape (4,)
        Expected share of the turns spent in each state.
    payoffs : ndarray, shape (2,)
        Expected total payoff of each player.
    """

    distributions: np.ndarray
    shares: np.ndarray
    payoffs: np.ndarray


def finite_horizon(p, q, *, turns: int = 200, noise: float = 0.0, game=None) -> FiniteHorizon:
    """Expected state shares and total payoffs of a match of ``turns`` turns from its opening,
    for comparison with ``match_states`` and ``match_scores``."""
    M = memory_one_matrix(p, q, noise=noise)
    x = initial_distribution(p, q, noise=noise)
    rows = []
    for _ in range(turns):
        rows.append(x)
        x = x @ M
    dist = np.array(rows)
    R, S, T, P = _rstp(game)
    totals = dist.sum(axis=0)
    return FiniteHorizon(dist, totals / turns, np.array([totals @ [R, S, T, P], totals @ [R, T, S, P]]))


def sojourn_time(matrix: np.ndarray, states: Sequence[int], start: int) -> float:
    """Expected number of consecutive steps spent in ``states`` from ``start`` (one of them),
    the step of ``start`` included: ``((I - Q)^-1 1)[start]`` with ``Q`` the chain restricted
    to ``states``. Infinite when the chain can stay there for ever."""
    states = list(states)
    Q = np.asarray(matrix, dtype=float)[np.ix_(states, states)]
    try:
        times = np.linalg.solve(np.eye(len(states)) - Q, np.ones(len(states)))
    except np.linalg.LinAlgError:
        return float("inf")
    return float(times[states.index(start)])


def echo_length(p, q, *, noise: float) -> float:
    """Mean length of an echo in a match of ``p`` against ``q``: the expected number of
    consecutive turns in which exactly one player defects (states CD and DC), from a turn in
    which ``q`` alone defected (state CD), that turn included.

    For tit-for-tat against itself it is ``1 / (2 noise (1 - noise))`` (``tft_echo_length``):
    the echo goes on while neither act is flipped or both are.
    """
    return sojourn_time(memory_one_matrix(p, q, noise=noise), [1, 2], 1)


def tft_echo_length(noise: float) -> float:
    """Closed form of the mean echo length of tit-for-tat against itself: 1 / (2 e (1 - e))."""
    return 1.0 / (2 * noise * (1 - noise))


def gtft_cooperation_rate(generosity: float, noise: float) -> float:
    """Closed form of the long-run share of cooperative acts of generous tit-for-tat (generosity
    g) against itself with noise e: 1 - e / (g + 2 e (1 - g)) (Nowak and Sigmund 1992)."""
    return 1.0 - noise / (generosity + 2 * noise * (1 - generosity))


# -- whole scenarios --------------------------------------------------------------------------

#: Largest chain ``scenario_chain`` builds by default.
MAX_STATES = 5000


@dataclass(frozen=True, eq=False)
class ScenarioChain:
    """A scenario as a Markov chain: transient states, then war and ceasefire (absorbing).

    Attributes
    ----------
    scenario : Scenario
    pairs : tuple of (actor, target) ids, length n_pairs
        The order of the pair axis of ``levels``.
    levels : int8 ndarray, shape (n_states, n_pairs)
        Executed levels of the last step in each transient state.
    quiet : int ndarray, shape (n_states,)
        Quiet steps since the last hostile one (0: the last step was hostile); -1 before the
        first hostile act, and in every state of a scenario without a ceasefire rule.
    transition : scipy.sparse.csr_matrix, shape (n_states + 2, n_states + 2)
        From the state after step ``t - 1`` to the state after step ``t``, for ``t >= 1``.
        Row and column ``n_states`` is war, ``n_states + 1`` ceasefire.
    initial : ndarray, shape (n_states + 2,)
        Distribution of the state after step 0.
    """

    scenario: Scenario
    pairs: tuple[tuple[str, str], ...]
    levels: np.ndarray
    quiet: np.ndarray
    transition: sparse.csr_matrix
    initial: np.ndarray

    @property
    def n_states(self) -> int:
        """Number of transient states."""
        return len(self.levels)

    @property
    def war(self) -> int:
        return self.n_states

    @property
    def ceasefire(self) -> int:
        return self.n_states + 1


def scenario_chain(scenario: Scenario, *, max_states: int = MAX_STATES) -> ScenarioChain:
    """Build the exact Markov chain of a scenario whose policies are all memory-one.

    The state after a step is the vector of executed levels of every (actor, target) pair,
    below the war level; with a ceasefire rule it also holds whether a hostile act has happened
    and how many quiet steps followed the last one. Each step applies MODEL.md's rules in the
    core's order: perception noise (one rung off, up or down with equal chance, reflected at the
    ends of the ladder), attribution of a militia's act to its patron, protection, the policies'
    response tables, militia control, spontaneous attacks, execution noise, scripted acts; then
    war (any level at or above the war level) and ceasefire (``quiet_steps`` quiet steps after
    the first hostile act) end the run.

    Raises
    ------
    ValueError
        A policy is not memory-one, an act is scripted after step 0, or the chain would have
        more than ``max_states`` transient states.
    """
    rules = _Rules(scenario)
    W, P, Q = rules.W, len(rules.pairs), scenario.outcomes.quiet_steps
    n_states = W**P + (Q - 1 if Q else 0)
    if n_states > max_states:
        raise ValueError(f"{scenario.name}: the chain would have {n_states} states ({W} levels below war "
                         f"on each of {P} pairs), more than max_states={max_states}")
    vectors = np.array(np.unravel_index(np.arange(W**P), (W,) * P)).T.astype(np.int8)
    levels = np.concatenate([vectors, np.zeros((n_states - W**P, P), dtype=np.int8)])
    quiet = np.full(n_states, -1)
    if Q:
        quiet[1 : W**P] = 0
        quiet[W**P :] = np.arange(1, Q)
    transition = sparse.vstack([
        _augment(rules.step(vectors, t=1), quiet, W**P, Q, n_states),
        sparse.csr_matrix(([1.0, 1.0], ([0, 1], [n_states, n_states + 1])), shape=(2, n_states + 2)),
    ]).tocsr()
    first = _augment(rules.step(np.zeros((1, P), dtype=np.int8), t=0), np.array([-1]), W**P, Q, n_states)
    return ScenarioChain(scenario, tuple(rules.pairs), levels, quiet, transition, first.toarray().ravel())


def _augment(K, quiet, n_vectors, Q, n_states) -> sparse.csr_matrix:
    """Transitions of the augmented states, shape (len(quiet), n_states + 2).

    ``K`` (sparse, n_sources x (n_vectors + 1)) gives the next level vector's index (the last
    column: war) from each level vector; a state with ``quiet >= 1`` moves like the all-quiet
    vector (index 0), and a quiet step after a hostile one counts toward the ceasefire."""
    picked = K.tocsr()[np.where(quiet >= 1, 0, np.arange(len(quiet)))].tocoo()
    rows, code, prob = picked.row, picked.col, picked.data
    dest = code.astype(np.int64)
    dest[code == n_vectors] = n_states  # war
    if Q:
        calm = quiet[rows] + 1
        counted = (code == 0) & (quiet[rows] >= 0)  # a quiet step after the first hostile one
        dest[counted] = np.where(calm[counted] >= Q, n_states + 1, n_vectors + calm[counted] - 1)
    return sparse.csr_matrix((prob, (rows, dest)), shape=(len(quiet), n_states + 2))


class _Rules:
    """MODEL.md's step for one scenario, applied to distributions over level vectors.

    A distribution is a triple ``(src, vec, prob)``: rows of source index (shape (n,)), level
    vector (shape (n, n_pairs)) and probability. Each random rule splits every row into its
    outcomes; rows that agree are merged after each split. A step goes from the previous levels
    to the intended ones (``_intend``), then from each distinct intended vector to the executed
    one (``_act``); the two stages multiply as sparse matrices."""

    def __init__(self, scenario: Scenario):
        ids, ladder = scenario.actor_ids, scenario.policy_ladder()
        self.pairs = [(a, t) for a in ids for t in ids if t != a]
        index = {pair: k for k, pair in enumerate(self.pairs)}
        self.reverse = np.array([index[(t, a)] for a, t in self.pairs])
        self.top, self.base = scenario.top, len(scenario.ladder)
        war = scenario.outcomes.war_level
        self.W = self.base if war is None else war  # levels 0..W-1 are the transient ones
        self.noise = scenario.noise
        # per pair: (perception, false_alarm, execution), MODEL.md's rates of the cell
        self.rates = [scenario.rates(a, t) for a, t in self.pairs]
        policies = [scenario.actor(a).policy_for(t) for a, t in self.pairs]
        for (a, t), policy in zip(self.pairs, policies):
            if not isinstance(policy, MemoryOnePolicy):
                raise ValueError(f"{scenario.name}: actors.{a}'s policy toward {t} ({policy.name}) is not "
                                 "memory-one; the chain needs every policy to depend on the last step only")
        self.tables = [p.table(ladder) for p in policies]
        self.initial = [p.initial for p in policies]
        late = [e for e in scenario.events if e.step > 0]
        if late:
            raise ValueError(f"{scenario.name}: an act is scripted at step {late[0].step}; the chain "
                             "supports scripted acts at step 0 only")
        self.events = [(index[(e.actor, e.target)], e.level) for e in scenario.events]
        if scenario.outcomes.quiet_level and scenario.outcomes.quiet_steps:
            raise ValueError(f"{scenario.name}: outcomes.quiet_level is {scenario.outcomes.quiet_level}; the chain "
                             "counts quiet steps on the all-quiet vector only (quiet_level 0)")
        self._militia_rules(scenario, index)

    def _militia_rules(self, scenario, index):
        ids = scenario.actor_ids
        militias = [m for m in scenario.actors if m.kind == "militia"]
        self.attribution = [(index[(o, m.id)], index[(o, m.patron)]) for m in militias for o in ids
                            if o not in (m.id, m.patron)] if scenario.noise.attribution > 0 else []
        self.protection = [(index[(k, x)], index[(p.id, k)], w) for p in scenario.actors
                           for x, w in p.protects for k in ids if k not in (p.id, x)]
        self.control = [(index[(m.id, t)], index[(m.patron, t)], m.control) for m in militias
                        if m.control > 0 for t in ids if t not in (m.id, m.patron)]
        self.spontaneous = [(index[(m.id, t)], m.spontaneous.level, m.spontaneous.probability)
                            for m in militias if m.spontaneous is not None
                            and m.spontaneous.probability > 0 for t in m.spontaneous.targets]
        # Attribution couples what an observer perceives of a militia and of its patron; every
        # other pair's stimulus depends on the previous levels alone.
        self.coupled = sorted({k for rule in self.attribution for k in rule})

    def step(self, prev: np.ndarray, t: int) -> sparse.csr_matrix:
        """Distribution of the next state from each row of ``prev`` (int8, shape
        (n_sources, n_pairs), levels below war): sparse, shape (n_sources, W**n_pairs + 1),
        column ``ravel_multi_index(levels, (W,) * n_pairs)`` or, last, war."""
        self.prev = prev
        src, vec, prob = self._intend(t)
        # A level above W + 1 ends in war whatever follows (control and sparks are monotone,
        # noise moves one rung): merging those levels into W + 1 keeps the keys small.
        shape = (min(self.base, self.W + 2),) * vec.shape[1]
        code = np.ravel_multi_index(tuple(np.minimum(vec, shape[0] - 1).T.astype(np.intp)), shape)
        codes, which = np.unique(code, return_inverse=True)
        intended = np.array(np.unravel_index(codes, shape)).T
        first = sparse.csr_matrix((prob, (src, which.ravel())), shape=(len(prev), len(codes)))
        return (first @ self._act(intended, t)).tocsr()

    # -- perceive and decide -------------------------------------------------------------------
    def _intend(self, t):
        n, P = self.prev.shape
        vec = np.zeros((n, P), dtype=np.int16)
        vec[:, self.coupled] = self.prev[:, self.reverse[self.coupled]]
        rows = (np.arange(n), vec, np.ones(n))
        for k in self.coupled:
            rows = self._off_by_one(rows, k, *self.rates[k][:2])
        for src, dst in self.attribution:
            vec = rows[1]
            blamed = np.maximum(vec[:, dst], vec[:, src])
            rows = self._split(rows, dst, [(blamed, self.noise.attribution), (vec[:, dst], 1 - self.noise.attribution)])
        vec = rows[1].copy()
        for k in self.coupled:
            vec[:, k] = np.maximum(vec[:, k], self._felt(k)[rows[0]])
        rows = (rows[0], vec, rows[2])
        for k in range(P):
            stimulus = rows[1][:, k] if k in self.coupled else None
            response = self._response(k, t, rows[0], stimulus)
            rows = self._split(rows, k, [(np.full(len(rows[0]), lv), response[:, lv]) for lv in range(self.base)])
        return rows

    def _felt(self, k) -> np.ndarray:
        """Protection: the level pair ``k``'s actor feels from attacks on those it protects,
        per source (shape (n_sources,))."""
        felt = np.zeros(len(self.prev), dtype=np.int16)
        for src, dst, weight in self.protection:
            if dst == k:
                level = np.minimum(np.floor(weight * self.prev[:, src] + 0.5), self.top)
                felt = np.maximum(felt, level.astype(np.int16))
        return felt

    def _response(self, k, t, src, stimulus) -> np.ndarray:
        """Distribution of pair ``k``'s intended level, shape (len(src), n_levels), given the
        stimulus, or (``stimulus=None``) over the perception noise of its stimulus."""
        if t == 0 and self.initial[k] is not None:
            out = np.zeros((len(src), self.base))
            out[:, self.initial[k]] = 1.0
            return out
        table, own = self.tables[k], self.prev[src, k]
        if stimulus is not None:
            return table[own, stimulus]
        seen = self.prev[src, self.reverse[k]].astype(np.int16)
        felt = self._felt(k)[src]
        e, alarm = self.rates[k][:2]
        return sum(np.asarray(p)[:, None] * table[own, np.maximum(v, felt)]
                   for v, p in self._moves(seen, e, alarm))

    # -- act -------------------------------------------------------------------------------
    def _act(self, intended, t) -> sparse.csr_matrix:
        """From each intended vector to the next state: militia control, spontaneous attacks,
        execution noise, scripted acts; sparse, shape (len(intended), W**n_pairs + 1)."""
        rows = (np.arange(len(intended)), intended.astype(np.int16), np.ones(len(intended)))
        for militia, patron, control in self.control:
            vec = rows[1]
            capped = np.minimum(vec[:, militia], vec[:, patron])
            rows = self._split(rows, militia, [(capped, control), (vec[:, militia], 1 - control)])
        for k, level, probability in self.spontaneous:
            vec = rows[1]
            rows = self._split(rows, k, [(np.maximum(vec[:, k], level), probability), (vec[:, k], 1 - probability)])
        for k in range(intended.shape[1]):
            e = self.rates[k][2]
            rows = self._off_by_one(rows, k, e, e)
        if t == 0:
            for k, level in self.events:
                rows = self._split(rows, k, [(np.full(len(rows[0]), level), 1.0)])
        src, vec, prob = rows
        war = (vec >= self.W).any(axis=1)
        code = np.full(len(src), self.W ** vec.shape[1])
        code[~war] = np.ravel_multi_index(tuple(vec[~war].T.astype(np.intp)), (self.W,) * vec.shape[1])
        return sparse.csr_matrix((prob, (src, code)), shape=(len(intended), self.W ** vec.shape[1] + 1))

    # -- distributions over rows ---------------------------------------------------------------
    def _moves(self, v, p, alarm):
        """Outcomes of an off-by-one slip with probability ``p`` (``alarm`` for a quiet ``v``):
        up or down with equal chance, reflected at the ends of the ladder."""
        up = np.where(v < self.top, v + 1, self.top - 1)
        down = np.where(v > 0, v - 1, 1)
        rate = np.where(v == 0, alarm, p)
        return [(v, 1 - rate), (up, rate / 2), (down, rate / 2)]

    def _off_by_one(self, rows, k, p, alarm):
        if p <= 0 and alarm <= 0:
            return rows
        return self._split(rows, k, self._moves(rows[1][:, k], p, alarm))

    def _split(self, rows, k, outcomes):
        """Replace column ``k`` by each outcome ``(values, probability)`` in turn, then merge."""
        src, vec, prob = rows
        parts = []
        for values, p in outcomes:
            weight = prob * np.broadcast_to(p, prob.shape)
            keep = weight > 0
            v = vec[keep].copy()
            v[:, k] = np.asarray(values)[keep]
            parts.append((src[keep], v, weight[keep]))
        return self._merge(*(np.concatenate(x) for x in zip(*parts)))

    def _merge(self, src, vec, prob):
        """Sum the probabilities of rows with the same source and vector (a sparse matrix
        indexed by source and vector code sums its duplicates)."""
        shape = (self.base,) * vec.shape[1]
        code = np.ravel_multi_index(tuple(vec.T.astype(np.intp)), shape)
        merged = sparse.csr_matrix((prob, (src, code)), shape=(int(src.max()) + 1, self.base ** vec.shape[1]))
        rows = np.repeat(np.arange(merged.shape[0]), np.diff(merged.indptr))
        return rows, np.array(np.unravel_index(merged.indices, shape), dtype=np.int16).T, merged.data


def absorption(chain: ScenarioChain, n_steps: int | None = None) -> pd.DataFrame:
    """Probability that a run has ended in war, and in a ceasefire, by each step.

    Returns
    -------
    DataFrame, n_steps rows
        ``step``, ``war``, ``ceasefire`` (cumulative: ended so by that step), ``ongoing``.
        ``1 - war`` is ``BatchResult.survival()``'s curve; the last row gives the outcome
        probabilities of ``simulate`` with the same horizon.
    """
    n_steps = chain.scenario.n_steps if n_steps is None else n_steps
    forward = chain.transition.T.tocsr()
    x, out = chain.initial, np.empty((n_steps, 2))
    for t in range(n_steps):
        out[t] = x[chain.war], x[chain.ceasefire]
        x = forward @ x
    return pd.DataFrame({"step": np.arange(n_steps), "war": out[:, 0], "ceasefire": out[:, 1],
                         "ongoing": 1 - out.sum(axis=1)})


def mean_end_step(chain: ScenarioChain, n_steps: int | None = None) -> float:
    """Expected step at which a run ends, the last step (``n_steps - 1``) for a run still going:
    the mean of ``simulate``'s ``end_step`` with the same horizon."""
    table = absorption(chain, n_steps)
    ended = (table["war"] + table["ceasefire"]).to_numpy()
    newly = np.diff(ended, prepend=0.0)
    return float(newly @ table["step"].to_numpy() + (1 - ended[-1]) * (len(table) - 1))


def eventual_absorption(chain: ScenarioChain) -> pd.DataFrame:
    """Probability that a run ever ends in war or in a ceasefire (no horizon), and the expected
    step at which it does, given that it does.

    Returns
    -------
    DataFrame indexed by outcome (``war``, ``ceasefire``, ``never``)
        ``probability`` and ``mean_end_step`` (conditional on the outcome; infinite for never).
    """
    n = chain.n_states
    M = chain.transition
    alive = _can_end(chain)
    Q = M[:n, :n][alive][:, alive]
    R = M[:n, n:][alive].toarray()
    system = (sparse.identity(Q.shape[0], format="csc") - Q.tocsc())
    ends = spsolve(system, R).reshape(-1, 2)  # probability of each ending from each state
    visits = spsolve(system.T.tocsc(), chain.initial[:n][alive])  # expected visits to each state
    p = chain.initial[n:] + chain.initial[:n][alive] @ ends
    weighted = visits @ ends  # E[end step; outcome]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(p > 0, weighted / p, np.nan)
    return pd.DataFrame({"probability": [p[0], p[1], max(0.0, 1 - p.sum())],
                         "mean_end_step": [mean[0], mean[1], np.inf]},
                        index=pd.Index(["war", "ceasefire", "never"], name="outcome"))


def _can_end(chain: ScenarioChain) -> np.ndarray:
    """Transient states from which war or a ceasefire can be reached, boolean (n_states,)."""
    backward = chain.transition.T.tocsr()
    reach = np.zeros(chain.n_states + 2, dtype=bool)
    for target in (chain.war, chain.ceasefire):
        reach[csgraph.breadth_first_order(backward, target, directed=True, return_predecessors=False)] = True
    return reach[: chain.n_states]
