"""Iterated two-player matches on the core: a two-actor, two-level scenario built in memory and
run by ``simulate``, so that a match is scored by exactly the rules every scenario uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._rng import RngLike, seed_sequence
from ..batch import simulate
from ..policies import Policy
from ..scenario import Scenario
from .stage import StageGame
from .strategies import strategy, strategy_name
from .._text import show

PolicyLike = str | dict | Policy
#: The two-level payoffs (R, S, T, P) a match uses unless told otherwise.
DEFAULT_RSTP = (3.0, 0.0, 5.0, 1.0)
#: Turns of a match of fixed length unless told otherwise.
DEFAULT_TURNS = 200
#: With a random horizon and no cap given, the cap is where a match is this unlikely to last.
UNCAPPED_TAIL = 1e-9


def match_turns(turns: int | None, prob_end: float = 0.0) -> int:
    """The cap on a match's turns: ``turns`` when given; else 200 for a fixed length, and
    for a random horizon the length a match exceeds with probability below ``UNCAPPED_TAIL``
    (``ceil(log(1e-9) / log(1 - prob_end))``), so that the cap changes no result visibly."""
    if not isinstance(prob_end, (int, float)) or isinstance(prob_end, bool) or not 0 <= prob_end < 1:
        raise ValueError(f"prob_end: expected a probability in [0, 1), got {show(prob_end)}")
    if turns is not None:
        return turns
    if prob_end == 0:
        return DEFAULT_TURNS
    return max(1, int(np.ceil(np.log(UNCAPPED_TAIL) / np.log1p(-prob_end))))


def game_rstp(game: StageGame | tuple | None) -> tuple[float, float, float, float]:
    """(R, S, T, P) of a symmetric 2x2 game given as a ``StageGame``, a 4-tuple or ``None``
    (the prisoner's dilemma (3, 0, 5, 1))."""
    if game is None:
        return DEFAULT_RSTP
    if isinstance(game, StageGame):
        if game.rstp is None:
            raise ValueError(f"game: {game.name} is not a symmetric 2x2 game; a match needs one "
                             "(both players scored by the same table [[R, S], [T, P]])")
        return tuple(float(x) for x in game.rstp)
    values = tuple(game)
    if len(values) != 4:
        raise ValueError(f"game: expected a StageGame or (R, S, T, P), got {show(game)}")
    return tuple(float(x) for x in values)


def match_scenario(a: PolicyLike, b: PolicyLike, *, turns: int | None = 200, noise: float = 0.0,
                   game: StageGame | tuple | None = None, prob_end: float = 0.0) -> Scenario:
    """The scenario of an iterated match: actors ``A`` and ``B`` playing ``a`` and ``b`` on the
    two-level ladder for ``turns`` steps, with execution noise ``noise`` (each act flipped
    with that probability), payoffs (R, S, T, P) of ``game``, and neither war nor ceasefire
    ending a run. With ``prob_end`` each turn ends the match with that probability (a random
    horizon, ``time.prob_end``), ``turns`` capping it (see ``match_turns``)."""
    turns = match_turns(turns, prob_end)
    pa, pb = strategy(a), strategy(b)
    R, S, T, P = game_rstp(game)
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "match",
        "title": f"{strategy_name(pa)} v {strategy_name(pb)}",
        "description": "An iterated two-player match on two levels (0 = cooperate, 1 = defect).",
        "time": {"n_steps": turns, "step_unit": "turn", "prob_end": prob_end},
        "ladder": "two_level",
        "actors": {
            "A": {"name": strategy_name(pa), "kind": "state", "policy": pa.to_dict()},
            "B": {"name": strategy_name(pb), "kind": "state", "policy": pb.to_dict()},
        },
        "noise": {"execution": noise},
        "outcomes": {"war_level": None, "quiet_steps": None},
        "payoffs": {"R": R, "S": S, "T": T, "P": P},
    }
    return Scenario.from_dict(data, file="<match>")


def match_scores(a: PolicyLike, b: PolicyLike, *, turns: int | None = None, noise: float = 0.0,
                 n_runs: int = 1, rng: RngLike = None, game: StageGame | tuple | None = None,
                 prob_end: float = 0.0, lengths: bool = False) -> np.ndarray:
    """Total payoffs of both players in ``n_runs`` matches of ``turns`` turns, or of random
    length with ``prob_end``.

    Parameters
    ----------
    a, b : str, mapping or Policy
        The strategies (a name from ``STRATEGIES`` or any policy specification).
    turns : int, optional
        Length of a match, or the cap on it with ``prob_end`` (``match_turns``: 200 without
        ``prob_end``; with it, a cap that a match passes with probability below 1e-9).
    noise : float
        Execution noise: each act is flipped with this probability.
    n_runs : int
    rng : None, int, SeedSequence or Generator
    game : StageGame or (R, S, T, P), optional
        A symmetric 2x2 game; the prisoner's dilemma (3, 0, 5, 1) by default.
    prob_end : float in [0, 1)
        Each turn ends the match with this probability (after it is played), as the Axelrod
        library's ``Match(prob_end=...)``: lengths are geometric with mean ``1 / prob_end``,
        drawn per run from the run's own stream (``core.horizon``).
    lengths : bool
        Also return each match's number of turns.

    Returns
    -------
    ndarray of float, shape (n_runs, 2), or (n_runs, 3) with ``lengths``
        Column 0 is the total payoff of ``a``, column 1 that of ``b``, column 2 the turns played.

    Raises
    ------
    ValueError
        If ``prob_end`` is not in [0, 1).
    """
    scenario = match_scenario(a, b, turns=turns, noise=noise, game=game, prob_end=prob_end)
    runs = simulate(scenario, n_runs, rng=seed_sequence(rng)).runs
    out = runs[["payoff_A", "payoff_B"]].to_numpy(dtype=float)
    if lengths:
        out = np.column_stack([out, runs["end_step"].to_numpy(dtype=float) + 1])
    return out


def match_states(a: PolicyLike, b: PolicyLike, *, turns: int = 200, noise: float = 0.0,
                 n_runs: int = 1, rng: RngLike = None) -> np.ndarray:
    """How many turns of each match were CC, CD, DC and DD (``a``'s action first).

    Returns
    -------
    ndarray of int, shape (n_runs, 4)
        Counts per run; each row sums to ``turns``.
    """
    runs = simulate(match_scenario(a, b, turns=turns, noise=noise), n_runs, rng=seed_sequence(rng)).runs
    # On two levels a defection has severity 1: harm inflicted counts a player's defections,
    # and a hostile step is one where at least one player defected.
    cc = turns - runs["hostile_steps"].to_numpy(dtype=np.int64)
    da = runs["harm_inflicted_A"].to_numpy().round().astype(np.int64)
    db = runs["harm_inflicted_B"].to_numpy().round().astype(np.int64)
    dd = da + db - (turns - cc)
    return np.column_stack([cc, db - dd, da - dd, dd])


def match_levels(a: PolicyLike, b: PolicyLike, *, turns: int = 200, noise: float = 0.0,
                 n_runs: int = 1, rng: RngLike = None) -> np.ndarray:
    """Every action of every match: int8 array of shape (n_runs, turns, 2), ``[..., 0]`` the
    actions of ``a`` and ``[..., 1]`` those of ``b`` (0 = cooperate, 1 = defect).

    The runs are those of ``simulate`` with the same arguments and seed.
    """
    result = simulate(match_scenario(a, b, turns=turns, noise=noise), n_runs, rng=seed_sequence(rng),
                      trajectories=True)
    pairs = result.pairs.tolist()
    cells = [pairs.index([0, 1]), pairs.index([1, 0])]
    return np.ascontiguousarray(result.levels[:, cells, :].transpose(2, 0, 1))


def echo_lengths(levels: np.ndarray, *, start_before: int | None = None) -> np.ndarray:
    """Lengths of the echoes in matches: maximal stretches of consecutive turns in which
    exactly one player defects (CD or DC), counted in turns.

    Parameters
    ----------
    levels : int array, shape (n_runs, turns, 2)
        Actions of both players, as from ``match_levels``.
    start_before : int, optional
        Count only the echoes that begin before this turn. Leave enough turns after it that
        echoes still under way at the last turn are vanishingly rare: those are counted at
        their length so far, which is too short. Default: the first half of the turns.

    Returns
    -------
    ndarray of int, shape (n_echoes,)
    """
    n_runs, turns, _ = levels.shape
    start_before = turns // 2 if start_before is None else start_before
    unilateral = levels[:, :, 0] != levels[:, :, 1]
    padded = np.zeros((n_runs, turns + 2), dtype=np.int8)
    padded[:, 1:-1] = unilateral
    edges = np.diff(padded, axis=1)  # +1 where an echo begins, -1 one turn after it ends
    _, begin = np.nonzero(edges == 1)
    _, end = np.nonzero(edges == -1)  # same order: row-major, one end per beginning
    keep = begin < start_before
    return (end - begin)[keep]
