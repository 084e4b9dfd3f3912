"""Teaching game theory with the library: stage games and their equilibria, the classic
strategies of the iterated prisoner's dilemma, matches and tournaments on the core, and the
ecological dynamics of a population of strategies.

The exact (Markov chain) analysis of memory-one strategies is in ``escalation_sim.analysis.markov``.
"""

from .horizon import discounted_payoffs
from .match import echo_lengths, match_levels, match_scenario, match_scores, match_states
from .stage import (
    CHICKEN, DEADLOCK, HARMONY, PRISONERS_DILEMMA, STAG_HUNT, STAGE_GAMES, StageGame, classify,
    dyad_game, equilibria, pure_equilibria, undominated,
)
from .strategies import AXELROD_NAMES, STRATEGIES, strategy
from .tournament import TournamentResult, ecological, tournament

__all__ = [
    "AXELROD_NAMES", "CHICKEN", "DEADLOCK", "HARMONY", "PRISONERS_DILEMMA", "STAGE_GAMES", "STAG_HUNT",
    "STRATEGIES", "StageGame", "TournamentResult", "classify", "dyad_game", "echo_lengths", "ecological",
    "equilibria", "match_levels", "match_scenario", "match_scores", "match_states", "pure_equilibria",
    "strategy", "tournament", "undominated",
]
from .first_tournament import first_tournament, first_tournament_entries
from .moran import MoranResult, fixation_probability, moran
from .qre import QREPoint, qre, qre_branch

__all__ += ["discounted_payoffs"]
__all__ += ["first_tournament", "first_tournament_entries"]
__all__ += ["MoranResult", "fixation_probability", "moran"]
__all__ += ["QREPoint", "qre", "qre_branch"]
