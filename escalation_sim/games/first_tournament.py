"""Axelrod's first tournament (Axelrod 1980): its fifteen entries and a replay of it on the core.

Source: R. Axelrod (1980), "Effective choice in the prisoner's dilemma", Journal of Conflict
Resolution 24(1), 3-25: fourteen programs and RANDOM, a round robin with self-play, 200 moves a
match, five repetitions, payoffs (R, S, T, P) = (3, 0, 5, 1). The published table gives each
entry's mean score per 200-move match over its fifteen matches (its twin included).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._rng import RngLike
from ..policies import Policy, make_policy
from .match import game_rstp, match_turns
from .stage import StageGame
from .many_matches import play_many
from .tournament import TournamentResult, _matrix, _ranking

#: The entries in their published order: name -> (author(s), published score, the policy's
#: specification, class name in the Axelrod library).
ENTRIES: dict[str, tuple[str, int, Any, str]] = {
    "tit_for_tat": ("Anatol Rapoport", 504, "tit_for_tat", "TitForTat"),
    "tideman_and_chieruzzi": ("T. Nicolaus Tideman and Paula Chieruzzi", 500, "first_by_tideman_and_chieruzzi",
                              "FirstByTidemanAndChieruzzi"),
    "nydegger": ("Rudy Nydegger", 486, "first_by_nydegger", "FirstByNydegger"),
    "grofman": ("Bernard Grofman", 482, "first_by_grofman", "FirstByGrofman"),
    "shubik": ("Martin Shubik", 481, "first_by_shubik", "FirstByShubik"),
    "stein_and_rapoport": ("William Stein and Amnon Rapoport", 478, "first_by_stein_and_rapoport",
                           "FirstBySteinAndRapoport"),
    "friedman": ("James W. Friedman", 473, "grudger", "Grudger"),
    "davis": ("Morton Davis", 472, "first_by_davis", "FirstByDavis"),
    "graaskamp": ("James Graaskamp", 401, "first_by_graaskamp", "FirstByGraaskamp"),
    "downing": ("Leslie Downing", 391, "first_by_downing", "FirstByDowning"),
    "feld": ("Scott Feld", 328, "first_by_feld", "FirstByFeld"),
    "joss": ("Johann Joss", 304, "first_by_joss", "FirstByJoss"),
    "tullock": ("Gordon Tullock", 301, "first_by_tullock", "FirstByTullock"),
    "anonymous": ("(name withheld)", 282, "first_by_anonymous", "FirstByAnonymous"),
    "random": ("RANDOM", 276, "random", "Random"),
}

#: Turns of a match in the published tournament.
PUBLISHED_TURNS = 200
#: The published ranking: entry -> mean score per 200-move match (Axelrod 1980, table 2).
PUBLISHED_SCORES: dict[str, int] = {name: entry[1] for name, entry in ENTRIES.items()}


def first_tournament_entries(*, turns: int | None = 200, game: StageGame | tuple | None = None) -> dict[str, Policy]:
    """The fifteen entries as policies, in their published order.

    Parameters
    ----------
    turns : int or None
        The match length the entries are told (two of them defect on the last two moves);
        ``None`` when it is not known (random horizons).
    game : StageGame or (R, S, T, P), optional
        The payoffs the entries that keep score assume; (3, 0, 5, 1) by default.
    """
    rstp = game_rstp(game)
    out = {}
    for name, (_, _, spec, _) in ENTRIES.items():
        params: dict[str, Any] = {"family": spec}
        if spec in ("first_by_stein_and_rapoport", "first_by_tideman_and_chieruzzi"):
            params["turns"] = turns
        if spec in ("first_by_downing", "first_by_tideman_and_chieruzzi"):
            params["payoffs"] = rstp
        out[name] = make_policy(params)
    return out


def first_tournament(*, turns: int | None = None, repetitions: int = 5, noise: float = 0.0,
                     prob_end: float = 0.0, rng: RngLike = None,
                     game: StageGame | tuple | None = None) -> TournamentResult:
    """Replay Axelrod's first tournament: the fifteen entries in a round robin with self-play,
    ``repetitions`` matches of ``turns`` turns per pair (200 and 5 as published), every match
    played at once on the policies' kernels (``round_robin``).

    Parameters
    ----------
    turns : int, optional
        Turns of a match (200 by default), or the cap on them with ``prob_end`` (by default then
        one that a match passes with probability below 1e-9; see ``match_turns``).
    repetitions : int
    noise : float
        Execution noise (0 in the published tournament).
    prob_end : float in [0, 1)
        Random match lengths instead; the entries are then not told the length.
    rng : None, int, SeedSequence or Generator
    game : StageGame or (R, S, T, P), optional

    Returns
    -------
    TournamentResult
        As ``tournament``, with two more columns in ``ranking``: ``per_match``, the mean score
        per turn over all fifteen opponents, twin included, times 200 (the published measure,
        the mean score of a 200-turn match), and ``published``, the score in Axelrod (1980).
    """
    turns = match_turns(turns, prob_end)
    entries = first_tournament_entries(turns=None if prob_end else turns, game=game)
    result = round_robin(entries, turns=turns, repetitions=repetitions, noise=noise, rng=rng,
                         game=game, prob_end=prob_end)
    ranking = result.ranking.copy()
    # The published score: mean total over the fifteen matches, the twin's included.
    per_match = result.matrix.mean(axis=1) * PUBLISHED_TURNS
    ranking["per_match"] = ranking["strategy"].map(per_match)
    ranking["published"] = ranking["strategy"].map(PUBLISHED_SCORES)
    return TournamentResult(ranking, result.matrix, result.matches)


def round_robin(entries: dict[str, Policy], *, turns: int = 200, repetitions: int = 5, noise: float = 0.0,
                prob_end: float = 0.0, rng: RngLike = None, game: StageGame | tuple | None = None) -> TournamentResult:
    """``tournament``'s round robin (self-play included) with every match of every pair played
    at once (``play_many``): the same rules and, for deterministic matches, the same scores;
    random ones are drawn from other streams than ``tournament``'s."""
    names = list(entries)
    pairs = [(i, j) for i in range(len(names)) for j in range(i, len(names)) for _ in range(repetitions)]
    index = np.array(pairs, dtype=np.intp).reshape(-1, 2)
    played = play_many(list(entries.values()), index[:, 0], index[:, 1],
                       turns=turns, noise=noise, prob_end=prob_end, game=game, rng=rng)
    per_turn = played[:, :2] / played[:, 2:]
    rows = []
    for k, ((i, j), (si, sj)) in enumerate(zip(pairs, per_turn)):
        rep = k % repetitions
        rows.append((names[i], names[j], rep, si, sj))
        if i != j:
            rows.append((names[j], names[i], rep, sj, si))
    matches = pd.DataFrame(rows, columns=["strategy", "opponent", "repetition", "score", "opponent_score"])
    return TournamentResult(_ranking(matches, names), _matrix(matches, names), matches)


def published_ranking() -> pd.DataFrame:
    """The published table: rank, entry, author(s) and score per 200-move match."""
    rows = [(k + 1, name, author, score) for k, (name, (author, score, _, _)) in enumerate(ENTRIES.items())]
    return pd.DataFrame(rows, columns=["rank", "strategy", "author", "published"])


def rank_correlation(result: TournamentResult) -> float:
    """Spearman's rank correlation between a replay's ranking (by ``per_match``) and the
    published one."""
    table = result.ranking.dropna(subset=["published"])
    ours = table["per_match"].rank(ascending=False).to_numpy()
    theirs = table["published"].rank(ascending=False).to_numpy()
    return float(np.corrcoef(ours, theirs)[0, 1])
