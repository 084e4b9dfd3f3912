"""Moran processes: finite populations of strategies playing round robins, fitness-proportional
birth and uniform death, many independent populations advanced together as arrays.

The process is the Axelrod library's ``MoranProcess`` on a complete graph in birth-death mode
(Moran 1958; Nowak, Sasaki, Taylor and Fudenberg 2004): each generation every player plays one
match against every other player, its fitness is its total score; one player is chosen to
reproduce with probability proportional to fitness, its offspring (of another strategy with
probability ``mutation_rate``, uniformly among the others) replaces a player chosen uniformly
among all N, the parent included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from .._rng import RngLike, seed_sequence
from ..batch import format as fmt
from ..policies import Policy
from .many_matches import play_many
from .match import PolicyLike, match_scores
from .stage import StageGame
from .tournament import _named
from .._text import show

#: Generations a process without mutation runs at most before giving up on fixation.
MAX_GENERATIONS = 100_000


@dataclass(frozen=True)
class MoranResult:
    """The result of ``moran``.

    Attributes
    ----------
    fixation : DataFrame
        One row per strategy: ``fixations`` (runs it took over), ``probability`` (their share of
        all runs) and its 95% Wilson interval ``low``, ``high``.
    times : DataFrame
        One row per strategy that fixated, and ``"any"``: ``runs``, mean ``generations`` to
        fixation, its standard error ``se`` and the 95% interval ``low``, ``high`` (mean +- 1.96 SE).
    runs : DataFrame
        One row per run: ``winner`` (the strategy that fixated, or ``None``) and
        ``generations`` played.
    trajectories : ndarray of int, shape (n_generations + 1, n_runs, n_strategies), or None
        Players of each strategy in each run after each generation (row 0: the start; a run
        that has fixated keeps its final counts).
    """

    fixation: pd.DataFrame
    times: pd.DataFrame
    runs: pd.DataFrame
    trajectories: np.ndarray | None

    def _header(self) -> str:
        return f"MoranResult: {len(self.runs):,} runs, {len(self.fixation)} strategies"

    def _fixation_rows(self) -> pd.DataFrame:
        """Fixation probabilities in percent with their 95% Wilson intervals, as the CLI prints."""
        f = self.fixation
        return pd.DataFrame({"strategy": f["strategy"], "fixation": [fmt.percent(p) for p in f["probability"]],
                             "95% interval": [fmt.interval(lo, hi) for lo, hi in zip(f["low"], f["high"])],
                             "runs": [f"{int(n):,}" for n in f["fixations"]]})

    def _time_rows(self) -> pd.DataFrame:
        t = self.times
        return pd.DataFrame({"fixated": t["strategy"], "mean generations": t["generations"].map("{:.4g}".format),
                             "95% interval": [f"{lo:.4g} - {hi:.4g}" for lo, hi in zip(t["low"], t["high"])],
                             "runs": [f"{int(n):,}" for n in t["runs"]]})

    def __repr__(self) -> str:
        """Fixation probabilities and mean times to fixation, with their 95% intervals."""
        return (f"{self._header()}\n\n{self._fixation_rows().to_string(index=False)}\n\n"
                f"{self._time_rows().to_string(index=False)}")

    def _repr_html_(self) -> str:
        return fmt.html_block([self._header()], fmt.html_table(self._fixation_rows()),
                              fmt.html_table(self._time_rows()))


def _counts(population, k: int) -> np.ndarray:
    if isinstance(population, (int, np.integer)) and not isinstance(population, bool):
        counts = np.full(k, int(population) // k)
        counts[: int(population) % k] += 1
    else:
        counts = np.asarray(population)
        if counts.shape != (k,) or not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
            raise ValueError(f"population: expected {k} non-negative player counts (one per strategy) or a "
                             f"population size, got {show(population)}")
    if counts.sum() < 2:
        raise ValueError(f"population: a Moran process needs at least 2 players, got {int(counts.sum())}")
    return counts.astype(np.int64)


class _Matches:
    """Samples the match scores of a generation: fixed once when every match is deterministic
    (``match_scores`` on the core), else one match per pair of players drawn each generation,
    all at once (``play_many``)."""

    def __init__(self, policies: list[Policy], *, turns, prob_end, noise, game, seq):
        self.policies, self.seq = policies, seq
        self.kw = dict(turns=turns, prob_end=prob_end, noise=noise, game=game)
        self.fixed = noise == 0 and prob_end == 0 and not any(p.stochastic for p in policies)
        self.k = len(policies)
        if self.fixed:
            M = np.zeros((self.k, self.k))
            for x in range(self.k):
                for y in range(x, self.k):
                    M[x, y], M[y, x] = match_scores(policies[x], policies[y], **self.kw)[0]
            self.M = M

    def fitness(self, types: np.ndarray) -> np.ndarray:
        """Total score of each player, shape ``types.shape`` = (n_runs, N)."""
        n_runs, N = types.shape
        if self.fixed:  # sum over the others of M[own, other's] by counts, less self-play
            counts = np.stack([(types == x).sum(axis=1) for x in range(self.k)], axis=1)
            by_type = counts @ self.M.T - np.diag(self.M)
            return np.take_along_axis(by_type, types, axis=1)
        # Every match of every run's round robin, played at once.
        I, J = np.triu_indices(N, 1)
        scores = play_many(self.policies, types[:, I].ravel(), types[:, J].ravel(), rng=self.seq, **self.kw)
        base = (np.arange(n_runs) * N)[:, None]
        fitness = np.bincount((base + I).ravel(), scores[:, 0], minlength=n_runs * N)
        fitness += np.bincount((base + J).ravel(), scores[:, 1], minlength=n_runs * N)
        return fitness.reshape(n_runs, N)


def moran(strategies: Sequence[PolicyLike] | Mapping[str, PolicyLike], population, *, turns: int | None = None,
          prob_end: float = 0.0, noise: float = 0.0, mutation_rate: float = 0.0, n_runs: int = 1000,
          generations: int | None = None, rng: RngLike = None, game: StageGame | tuple | None = None,
          trajectories: bool = False) -> MoranResult:
    """Run ``n_runs`` independent Moran processes of a finite population of strategies.

    Parameters
    ----------
    strategies : sequence of names or policies, or mapping name -> policy
    population : sequence of int, or int
        Players of each strategy at the start (total N >= 2), or N split as evenly as possible.
    turns : int, optional
        Turns of each match (200 by default), or the cap on them with ``prob_end``.
    prob_end : float in [0, 1)
        Random match lengths (``match_scores``).
    noise : float
        Execution noise of every match.
    mutation_rate : float in [0, 1]
        Probability that an offspring is of another strategy (uniformly among the others).
        With mutation there is no fixation: give ``generations``.
    n_runs : int
        Independent populations, advanced together.
    generations : int, optional
        Generations to play; by default until every run has fixated (at most ``MAX_GENERATIONS``).
    rng : None, int, SeedSequence or Generator
        Fixes the result. The birth-death draws are made for every run each generation; the
        matches of a generation (when they are random) are drawn for the runs still going.
    game : StageGame or (R, S, T, P), optional
        Symmetric 2x2 payoffs with no negative payoff (fitness is a total score); the
        prisoner's dilemma (3, 0, 5, 1) by default.
    trajectories : bool
        Keep the count of each strategy in every run after every generation.

    Returns
    -------
    MoranResult

    Raises
    ------
    ValueError
        On a bad population, a probability outside [0, 1], mutation without ``generations``, or
        a negative fitness.
    """
    named = _named(strategies)
    names, policies = list(named), list(named.values())
    k = len(names)
    counts = _counts(population, k)
    if not 0 <= mutation_rate <= 1:
        raise ValueError(f"mutation_rate: expected a probability in [0, 1], got {show(mutation_rate)}")
    if mutation_rate > 0 and generations is None:
        raise ValueError("generations: with mutation a population never fixates; give the number of generations")
    if n_runs < 1:
        raise ValueError(f"n_runs: expected an integer >= 1, got {show(n_runs)}")
    seq = seed_sequence(rng)
    # Children made by key, not by spawn: a caller's SeedSequence is never advanced.
    match_seq, step_seq = (np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, c)) for c in (0, 1))
    matches = _Matches(policies, turns=turns, prob_end=prob_end, noise=noise, game=game, seq=match_seq)
    gen = np.random.Generator(np.random.SFC64(step_seq))
    N = int(counts.sum())
    types = np.tile(np.repeat(np.arange(k), counts), (n_runs, 1))
    winner = np.full(n_runs, -1)
    played = np.zeros(n_runs, dtype=np.int64)
    limit = MAX_GENERATIONS if generations is None else generations
    history = [np.tile(counts, (n_runs, 1))] if trajectories else None
    active = np.arange(n_runs)
    for g in range(limit):
        if mutation_rate == 0:
            fixed = (types[active] == types[active, :1]).all(axis=1)
            winner[active[fixed]] = types[active[fixed], 0]
            active = active[~fixed]
        if not active.size:
            break
        matches.seq = np.random.SeedSequence(seq.entropy, spawn_key=(*match_seq.spawn_key, g))
        # Every run's draws are made each generation, fixed or not, so that none shifts another's.
        draws = (gen.random(n_runs), gen.integers(0, N, n_runs), gen.random(n_runs), gen.integers(1, max(k, 2), n_runs))
        types[active] = _generation(types[active], matches.fitness(types[active]), mutation_rate, k,
                                    [d[active] for d in draws])
        played[active] += 1
        if history is not None:
            history.append(np.stack([(types == x).sum(axis=1) for x in range(k)], axis=1))
    if mutation_rate == 0 and active.size:
        fixed = (types[active] == types[active, :1]).all(axis=1)
        winner[active[fixed]] = types[active[fixed], 0]
    return _result(names, winner, played, history)


def _generation(types, fitness, mutation_rate, k, draws) -> np.ndarray:
    """One birth-death step of every run: rows of ``types`` (n_runs, N), in place. ``draws``:
    per run, a uniform for the parent, the index of the player who dies, a uniform for
    mutation and the shift to the mutant's strategy (1 .. k - 1)."""
    n_runs, N = types.shape
    if (fitness < 0).any():
        raise ValueError("a player's fitness (its total score) is negative; give a game with non-negative payoffs")
    cumulative = np.cumsum(fitness, axis=1)
    total = cumulative[:, -1:]
    # Fitness-proportional: the first player whose cumulative fitness exceeds u * total
    # (uniformly among all when every fitness is zero).
    u, dead, u_mutate, shift = draws
    u = u[:, None]
    parent = np.where(total[:, 0] > 0, (cumulative <= u * total).sum(axis=1), (u[:, 0] * N).astype(np.int64))
    parent = np.minimum(parent, N - 1)
    child = types[np.arange(n_runs), parent]
    if mutation_rate > 0 and k > 1:
        child = np.where(u_mutate < mutation_rate, (child + shift) % k, child)
    types[np.arange(n_runs), dead] = child
    return types


def _wilson(successes, n, z=1.96):
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _result(names, winner, played, history) -> MoranResult:
    n_runs = len(winner)
    fixations = np.array([(winner == x).sum() for x in range(len(names))])
    low, high = _wilson(fixations, n_runs)
    fixation = pd.DataFrame({"strategy": names, "fixations": fixations, "probability": fixations / n_runs,
                             "low": low, "high": high})
    rows = []
    for label, mask in [*((name, winner == x) for x, name in enumerate(names)), ("any", winner >= 0)]:
        t = played[mask].astype(float)
        if not len(t):
            continue
        se = t.std(ddof=1) / np.sqrt(len(t)) if len(t) > 1 else np.nan
        rows.append((label, len(t), t.mean(), se, t.mean() - 1.96 * se, t.mean() + 1.96 * se))
    times = pd.DataFrame(rows, columns=["strategy", "runs", "generations", "se", "low", "high"])
    runs = pd.DataFrame({"winner": pd.Series([names[w] if w >= 0 else None for w in winner], dtype=object),
                         "generations": played})
    runs.index.name = "run"
    return MoranResult(fixation, times, runs, None if history is None else np.stack(history))


def fixation_probability(a: PolicyLike, b: PolicyLike, N: int, *, start: int = 1, payoffs=None,
                         turns: int | None = None, game: StageGame | tuple | None = None) -> float:
    """Exact probability that ``start`` players of ``a`` take over a population of ``N`` in
    which the others play ``b``, in the Moran process of ``moran``.

    With ``i`` players of ``a`` a player of ``a`` has fitness ``f_i = (i - 1) a_AA + (N - i) a_AB``
    and one of ``b`` ``g_i = i a_BA + (N - i - 1) a_BB`` (total scores against the N - 1
    others). The number of ``a`` players is a birth-death chain with
    ``T-(i) / T+(i) = g_i / f_i``, so (Nowak et al. 2004; Nowak 2006, eq. 6.13)

    ``rho = (1 + sum_{k=1}^{start-1} prod_{j=1}^{k} g_j / f_j) / (1 + sum_{k=1}^{N-1} prod_{j=1}^{k} g_j / f_j)``.

    Parameters
    ----------
    a, b : str, mapping or Policy
        The strategies; their match scores make the payoff matrix (one match each: exact
        when the matches are deterministic, which is when this is the fixation probability).
    N : int
        Population size (>= 2).
    start : int
        Players of ``a`` at the start, 1 .. N - 1.
    payoffs : array-like, shape (2, 2), optional
        ``[[a_AA, a_AB], [a_BA, a_BB]]``: the match scores, given instead of played.
    turns : int, optional
        Turns of each match (200 by default).
    game : StageGame or (R, S, T, P), optional

    Returns
    -------
    float
        The fixation probability; ``start / N`` under neutral drift (all payoffs equal).
    """
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 2:
        raise ValueError(f"N: expected a population size >= 2, got {show(N)}")
    if not 1 <= start <= N - 1:
        raise ValueError(f"start: expected 1 .. {N - 1} players of a, got {show(start)}")
    if payoffs is None:
        aa = match_scores(a, a, turns=turns, game=game)[0, 0]
        ab, ba = match_scores(a, b, turns=turns, game=game)[0]
        bb = match_scores(b, b, turns=turns, game=game)[0, 0]
    else:
        (aa, ab), (ba, bb) = np.asarray(payoffs, dtype=float)
    i = np.arange(1, N)
    f = (i - 1) * aa + (N - i) * ab
    g = i * ba + (N - i - 1) * bb
    if (f <= 0).any() or (g <= 0).any():
        raise ValueError(f"payoffs: the closed form needs every fitness positive, got a_AA, a_AB, a_BA, a_BB = "
                         f"{aa}, {ab}, {ba}, {bb} (a fitness of 0 with {N} players)")
    logs = np.concatenate([[0.0], np.cumsum(np.log(g) - np.log(f))])  # log prod_{j<=k} g_j / f_j
    return float(np.exp(special.logsumexp(logs[:start]) - special.logsumexp(logs)))
