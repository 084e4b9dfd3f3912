"""The entries of Axelrod's first tournament that are not already families or presets here.

Source of every published rule: R. Axelrod (1980), "Effective choice in the prisoner's dilemma",
Journal of Conflict Resolution 24(1), 3-25 (quoted in each docstring). Where the published text
leaves room, the rule is read as the Axelrod library (4.13.0, ``axelrod/strategies/
axelrod_first.py``) reads it, so that the two can be compared move for move.

The other three entries are ``tit_for_tat`` (Anatol Rapoport), ``grudger`` (James W.
Friedman) and ``random``.

Every rule is written for the two-level game (cooperate 0, defect 1). On a longer ladder a
hostile level (> 0) counts as a defection, and a rule's defection is the top of the ladder.
Rules that need more than the last step keep explicit state, one entry per (pair, run) cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Ladder, Policy, PolicyError, U32, check_number, check_probability
from .memory_one import MemoryOnePolicy
from .stateful import _Kernel
from .._text import show

#: The prisoner's dilemma payoffs (R, S, T, P) of the tournament.
TOURNAMENT_RSTP = (3.0, 0.0, 5.0, 1.0)


# -- memory-one entries -------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class _FourVector(MemoryOnePolicy):
    """A memory-one rule given by its probabilities of cooperating after (own, other's) CC, CD,
    DC, DD, read on any ladder as quiet (0) or hostile (> 0), defecting at the top rung."""

    def vector(self) -> tuple[float, float, float, float]:
        raise NotImplementedError

    def table(self, ladder: Ladder) -> np.ndarray:
        n = ladder.n_levels
        table = np.zeros((n, n, n))
        for k, p in enumerate(self.vector()):
            own, other = divmod(k, 2)
            rows = (slice(1, None) if own else slice(0, 1), slice(1, None) if other else slice(0, 1))
            table[rows + (0,)] = p
            table[rows + (n - 1,)] += 1 - p
        return table


@dataclass(frozen=True, kw_only=True)
class Joss(_FourVector):
    """Johann Joss (12th of 15).

    Published rule: "This rule cooperates 90% of the time after a cooperation by the other. It
    always defects after a defection by the other." Opens with cooperation. The four-vector
    ``(p, 0, p, 0)``, ``p = 0.9`` (Axelrod library: ``FirstByJoss``).
    """

    p: float = 0.9
    initial: int | None = 0
    family = "first_by_joss"

    def check(self, ladder):
        super().check(ladder)
        check_probability("p", self.p)

    def vector(self):
        return (self.p, 0.0, self.p, 0.0)


@dataclass(frozen=True, kw_only=True)
class Grofman(_FourVector):
    """Bernard Grofman (4th of 15).

    Published rule: "If the players did different things on the previous move, this rule
    cooperates with probability 2/7. Otherwise this rule always cooperates." Opens with
    cooperation. The four-vector ``(1, 2/7, 2/7, 1)`` (Axelrod library: ``FirstByGrofman``).
    """

    initial: int | None = 0
    family = "first_by_grofman"

    def vector(self):
        return (1.0, 2 / 7, 2 / 7, 1.0)


@dataclass(frozen=True, kw_only=True)
class Anonymous(_FourVector):
    """The graduate student whose name was withheld (14th of 15).

    Published rule: "This rule has a probability of cooperating, P, which is initially 30% and
    is updated every 10 moves. P is adjusted if the other player seems random, very
    cooperative, or very uncooperative. [...] the complex process of adjustment frequently left
    the probability of cooperation in the 30% to 70% range, and therefore the rule appeared
    random to many other players." The program is lost; the Axelrod library
    (``FirstByAnonymous``) draws P uniformly from [0.3, 0.7] every move, which makes each move
    an independent fair coin: the four-vector ``(1/2, 1/2, 1/2, 1/2)``, first move included.
    """

    family = "first_by_anonymous"

    def vector(self):
        return (0.5, 0.5, 0.5, 0.5)


# -- entries with more memory ---------------------------------------------------------------------
class _FirstKernel(_Kernel):
    """Reads the last step as two bool arrays (own defection, other's defection), keeps the
    policy's state, and plays a defection at the top of the ladder."""

    def decide(self, step, own, stimulus, state, u):
        defect = self.rule(step, own > 0, stimulus > 0, state, u)
        out = defect.astype(np.int8) * np.int8(self.ladder.top)
        opening = self.opening(step, own.shape)
        return opening if opening is not None else out

    def rule(self, t, mine, theirs, state, u) -> np.ndarray:
        raise NotImplementedError


def _check_turns(policy):
    turns = policy.turns
    if turns is not None and (isinstance(turns, bool) or not isinstance(turns, (int, np.integer)) or turns < 1):
        raise PolicyError("turns", f"expected the match length (an integer >= 1) or null, got {show(turns)}")


def _payoffs_as_tuple(policy):
    """Payoffs given as a list (from a scenario file) are kept as a tuple: policies are hashed."""
    if isinstance(policy.payoffs, list):
        object.__setattr__(policy, "payoffs", tuple(policy.payoffs))


def _check_payoffs(policy):
    values = policy.payoffs
    if not isinstance(values, (tuple, list)) or len(values) != 4:
        raise PolicyError("payoffs", f"expected (R, S, T, P), got {show(values)}")
    for key, value in zip("RSTP", values):
        check_number(f"payoffs.{key}", value)


def _random_opponent(cooperations, defections, alpha) -> np.ndarray:
    """The chi-squared test of the Axelrod library's entries: the other's cooperations and
    defections against a fair coin (``scipy.stats.chisquare``); True where p >= alpha."""
    n = cooperations + defections
    half = n / 2
    stat = ((cooperations - half) ** 2 + (defections - half) ** 2) / np.maximum(half, 1e-300)
    return special.chdtrc(1, stat) >= alpha


@dataclass(frozen=True, kw_only=True)
class Davis(Policy):
    """Morton Davis (8th of 15).

    Published rule: "A player starts by cooperating for 10 rounds then plays Grudger,
    defecting if at any point the opponent has defected." Defections in the first 10 rounds
    count once the 10 rounds are over (Axelrod library: ``FirstByDavis``).
    """

    rounds_to_cooperate: int = 10
    family = "first_by_davis"
    memory = math.inf

    def compile(self, ladder):
        self.check(ladder)
        return _DavisKernel(self, ladder)


class _DavisKernel(_FirstKernel):
    def initial_state(self, shape):
        return {"provoked": np.zeros(shape, dtype=bool)}

    def rule(self, t, mine, theirs, state, u):
        provoked = state["provoked"]
        if t > 0:
            provoked |= theirs
        return provoked & (t >= self.policy.rounds_to_cooperate)


@dataclass(frozen=True, kw_only=True)
class Downing(Policy):
    """Downing (10th of 15).

    Published rule: "This rule selects its choice to maximize its own longterm expected payoff
    on the assumption that the other rule cooperates with a fixed probability which depends only
    on whether the other player cooperated or defected on the previous move. These two
    probabilities estimates are continuously updated as the game progresses. Initially, they
    are both assumed to be .5, which amounts to the pessimistic assumption that the other
    player is not responsive."

    As the Axelrod library reads it (``FirstByDowning``, after Downing 1975): defect on the
    first two moves; then estimate ``alpha = P(other C | own C one move earlier)`` (the other's
    first move counted as an answer to a cooperation) and ``beta = P(other C | own D)``,
    cooperate when ``alpha R + (1 - alpha) S > beta T + (1 - beta) P``, defect when it is less,
    and alternate on a tie. ``payoffs`` is (R, S, T, P).
    """

    payoffs: tuple = TOURNAMENT_RSTP
    family = "first_by_downing"
    memory = math.inf

    def __post_init__(self):
        _payoffs_as_tuple(self)
        super().__post_init__()

    def check(self, ladder):
        super().check(ladder)
        _check_payoffs(self)

    def compile(self, ladder):
        self.check(ladder)
        return _DowningKernel(self, ladder)


class _DowningKernel(_FirstKernel):
    def initial_state(self, shape):
        return {"after_c": np.zeros(shape, dtype=np.int64), "after_d": np.zeros(shape, dtype=np.int64),
                "cooperations": np.zeros(shape, dtype=np.int64), "before": np.zeros(shape, dtype=bool)}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.ones(mine.shape, dtype=bool)
        state["cooperations"] += ~mine
        if t == 1:
            state["after_c"] += ~theirs
            state["before"][...] = mine
            return np.ones(mine.shape, dtype=bool)
        before = state["before"]
        state["after_c"] += ~before & ~theirs
        state["after_d"] += before & ~theirs
        before[...] = mine
        R, S, T, P = (float(x) for x in self.policy.payoffs)
        cooperations = state["cooperations"]
        alpha = state["after_c"] / (cooperations + 1)
        beta = state["after_d"] / np.maximum(t - cooperations, 2)
        cooperate = alpha * R + (1 - alpha) * S
        defect = beta * T + (1 - beta) * P
        return (cooperate < defect) | ((cooperate == defect) & ~mine)


@dataclass(frozen=True, kw_only=True)
class Feld(Policy):
    """Scott Feld (11th of 15).

    Published rule: "This rule starts with tit for tat and gradually lowers its probability of
    cooperation following the other's cooperation to .5 by the two hundredth move. It always
    defects after a defection by the other." The decline is linear, as the Axelrod library has
    it (``FirstByFeld``): after the other's cooperation in move ``t`` (from 0) it cooperates
    with probability ``max(1 - 0.5 t / 200, 0.5)``.
    """

    start_probability: float = 1.0
    end_probability: float = 0.5
    rounds_of_decay: int = 200
    family = "first_by_feld"
    memory = math.inf

    @property
    def stochastic(self) -> bool:
        return True

    def check(self, ladder):
        super().check(ladder)
        check_probability("start_probability", self.start_probability)
        check_probability("end_probability", self.end_probability)

    def compile(self, ladder):
        self.check(ladder)
        return _FeldKernel(self, ladder)


class _FeldKernel(_FirstKernel):
    n_draws = 1

    def initial_state(self, shape):
        return {}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        p = self.policy
        slope = (p.end_probability - p.start_probability) / p.rounds_of_decay
        cooperate = max(p.start_probability + slope * t, p.end_probability)
        return theirs | (u[0] >= cooperate * U32)


@dataclass(frozen=True, kw_only=True)
class Graaskamp(Policy):
    """James Graaskamp (9th of 15).

    Published rule: "This rule plays tit for tat for 50 moves, defects on move 51, and then
    plays 5 more moves of tit for tat. A check is then made to see if the player seems to be
    RANDOM, in which case it defects from then on. A check is also made to see if the other is
    TIT FOR TAT, ANALOGY (a program from the preliminary tournament), and its own twin, in
    which case it plays tit for tat. Otherwise it randomly defects every 5 to 15 moves, hoping
    that enough trust has been built up so that the other player will not notice these
    defections."

    As the Axelrod library reads it (``FirstByGraaskamp``): from move 57 on, the other is
    random when a chi-squared test of its cooperations and defections against a fair coin has
    p >= ``alpha`` (and stays so); it is tit for tat or a twin when every move of it repeated
    this rule's previous move, or equalled this rule's move, so far; otherwise this rule
    cooperates except every 5 to 14 moves (uniformly), when it defects.
    """

    alpha: float = 0.05
    family = "first_by_graaskamp"
    memory = math.inf

    @property
    def stochastic(self) -> bool:
        return True

    def check(self, ladder):
        super().check(ladder)
        check_probability("alpha", self.alpha)

    def compile(self, ladder):
        self.check(ladder)
        return _GraaskampKernel(self, ladder)


class _GraaskampKernel(_FirstKernel):
    n_draws = 1

    def initial_state(self, shape):
        return {"defections": np.zeros(shape, dtype=np.int64), "random": np.zeros(shape, dtype=bool),
                "copies": np.ones(shape, dtype=bool), "twin": np.ones(shape, dtype=bool),
                "before": np.zeros(shape, dtype=bool), "next": np.full(shape, -1, dtype=np.int64)}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        state["defections"] += theirs
        state["twin"] &= theirs == mine
        if t >= 2:
            state["copies"] &= theirs == state["before"]
        state["before"][...] = mine
        if t < 56:
            return theirs | (t == 50)
        defections = state["defections"]
        random = state["random"]
        random |= _random_opponent(t - defections, defections, self.policy.alpha)
        clone = state["copies"] | state["twin"]
        # Otherwise: cooperate, and defect every 5 to 14 moves (numpy's randint(5, 15)).
        gap = 5 + ((u[0].astype(np.uint64) * np.uint64(10)) >> np.uint64(32)).astype(np.int64)
        free = ~random & ~clone
        nxt = state["next"]
        unset = free & (nxt < 0)
        nxt[unset] = t + gap[unset]
        fire = free & (nxt == t)
        nxt[fire] = t + gap[fire]
        return random | (clone & theirs) | fire


@dataclass(frozen=True, kw_only=True)
class Nydegger(Policy):
    """Rudy Nydegger (3rd of 15).

    Published rule: "The program begins with tit for tat for the first three moves, except that
    if it was the only one to cooperate on the first move and the only one to defect on the
    second move, it defects on the third move. After the third move, its choice is determined
    from the 3 preceding outcomes in the following manner. Let A be the sum formed by counting
    the other's defection as 2 points and one's own as 1 point, and giving weights of 16, 4,
    and 1 to the preceding three moves in chronological order. The choice can be described as
    defecting only when A equals 1, 6, 7, 17, 22, 23, 26, 29, 30, 31, 33, 38, 39, 45, 49, 54,
    55, 58, or 61." As in the Axelrod library (``FirstByNydegger``), weight 16 goes to the
    last move, 4 to the one before and 1 to the one before that.
    """

    family = "first_by_nydegger"
    memory = 3

    def compile(self, ladder):
        self.check(ladder)
        return _NydeggerKernel(self, ladder)


NYDEGGER_DEFECT = (1, 6, 7, 17, 22, 23, 26, 29, 30, 31, 33, 38, 39, 45, 49, 54, 55, 58, 61)
_NYDEGGER_TABLE = np.isin(np.arange(64), NYDEGGER_DEFECT)


class _NydeggerKernel(_FirstKernel):
    def initial_state(self, shape):
        # a = 2 * (other defected) + (own defected) of the last three moves, most recent first
        return {"a": np.zeros((3, *shape), dtype=np.int64), "first": np.zeros(shape, dtype=bool)}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        a = state["a"]
        a[2] = a[1]
        a[1] = a[0]
        a[0] = 2 * theirs + mine
        if t == 1:
            state["first"][...] = theirs
            return theirs
        if t == 2:
            return theirs | state["first"]  # D then C: it defects on the third move
        return _NYDEGGER_TABLE[16 * a[0] + 4 * a[1] + a[2]]


@dataclass(frozen=True, kw_only=True)
class Shubik(Policy):
    """Martin Shubik (5th of 15).

    Published rule: "This rule cooperates until the other defects, and then defects once. If
    the other defects again after the rule's cooperation is resumed, the rule defects twice. In
    general, the length of retaliation is increased by one for each departure from mutual
    cooperation." As in the Axelrod library (``FirstByShubik``): a retaliation starts when the
    other defected while this rule cooperated, and defections of the other during a
    retaliation do not lengthen it.
    """

    family = "first_by_shubik"
    memory = math.inf

    def compile(self, ladder):
        self.check(ladder)
        return _ShubikKernel(self, ladder)


def _retaliation_state(shape):
    return {"remaining": np.zeros(shape, dtype=np.int64), "length": np.zeros(shape, dtype=np.int64)}


def _retaliate(state, start):
    """Shubik's and Tideman and Chieruzzi's punishments: cells that are retaliating defect and
    count down; cells in ``start`` begin a retaliation one move longer than their last one.
    Returns which cells defect."""
    remaining, length = state["remaining"], state["length"]
    going = remaining > 0
    start = start & ~going
    length += start
    remaining[start] = length[start]
    defect = going | start
    remaining -= defect
    return defect


class _ShubikKernel(_FirstKernel):
    def initial_state(self, shape):
        return _retaliation_state(shape)

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        return _retaliate(state, theirs & ~mine)


@dataclass(frozen=True, kw_only=True)
class SteinAndRapoport(Policy):
    """William Stein and Amnon Rapoport (6th of 15).

    Published rule: "This rule plays tit for tat except that it cooperates on the first four
    moves, it defects on the last two moves, and every fifteen moves it checks to see if the
    opponent seems to be playing randomly. This check uses a chi-squared test of the other's
    transition probabilities and also checks for alternating moves of CD and DC."

    As the Axelrod library reads it (``FirstBySteinAndRapoport``): on moves 15, 30, 45, ...
    the other is judged random when a chi-squared test of its cooperations and defections
    against a fair coin has p >= ``alpha``, and until the next check this rule then defects.
    ``turns`` is the match length the entrants were told (200); ``None`` when it is not known
    (random horizons), and then there are no last moves to defect on.
    """

    alpha: float = 0.05
    turns: int | None = 200
    family = "first_by_stein_and_rapoport"
    memory = math.inf

    def check(self, ladder):
        super().check(ladder)
        check_probability("alpha", self.alpha)
        _check_turns(self)

    def compile(self, ladder):
        self.check(ladder)
        return _SteinKernel(self, ladder)


def _last_moves(policy, t) -> bool:
    return policy.turns is not None and t >= policy.turns - 2


class _SteinKernel(_FirstKernel):
    def initial_state(self, shape):
        return {"defections": np.zeros(shape, dtype=np.int64), "random": np.zeros(shape, dtype=bool)}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        defections = state["defections"]
        defections += theirs
        if t < 4:
            out = np.zeros(mine.shape, dtype=bool)
        elif t < 14:
            out = theirs
        else:
            if (t + 1) % 15 == 0:
                state["random"][...] = _random_opponent(t - defections, defections, self.policy.alpha)
            out = state["random"] | theirs
        return np.ones(mine.shape, dtype=bool) if _last_moves(self.policy, t) else out


@dataclass(frozen=True, kw_only=True)
class TidemanAndChieruzzi(Policy):
    """Nicolas Tideman and Paula Chieruzzi (2nd of 15).

    Published rule: "This rule begins with cooperation and tit for tat. However, when the other
    player finishes his second run of defections, an extra punishment is instituted, and the
    number of punishing defections is increased by one with each run of the other's defections.
    The other player is given a fresh start if he is 10 or more points behind, if he has not
    just started a run of defections, if it has been at least 20 moves since a fresh start, if
    there are at least 10 moves remaining, and if the number of defections differs from a 50-50
    random generator by at least 3.0 standard deviations. A fresh start involves two
    cooperations and then play as if the game had just started. The program defects
    automatically on the last two moves."

    As the Axelrod library reads it (``FirstByTidemanAndChieruzzi``): each defection of the
    other that is not answered already starts a retaliation one move longer than the last; the
    other's defections are counted since the last fresh start, against a fair coin over all
    its moves. ``payoffs`` (R, S, T, P) keeps the score; ``turns`` is the announced match
    length (``None``: unknown, no last moves).
    """

    turns: int | None = 200
    payoffs: tuple = TOURNAMENT_RSTP
    family = "first_by_tideman_and_chieruzzi"
    memory = math.inf

    def __post_init__(self):
        _payoffs_as_tuple(self)
        super().__post_init__()

    def check(self, ladder):
        super().check(ladder)
        _check_turns(self)
        _check_payoffs(self)

    def compile(self, ladder):
        self.check(ladder)
        return _TidemanKernel(self, ladder)


class _TidemanKernel(_FirstKernel):
    def initial_state(self, shape):
        state = _retaliation_state(shape)
        state.update(lead=np.zeros(shape), last_fresh=np.zeros(shape, dtype=np.int64),
                     fresh=np.zeros(shape, dtype=bool), remembered=np.zeros(shape, dtype=np.int64))
        return state

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        p = self.policy
        R, S, T, P = (float(x) for x in p.payoffs)
        state["remembered"] += theirs
        # own score minus the other's: T - S when only the other cooperated, S - T when only it defected
        state["lead"] += np.where(mine & ~theirs, T - S, 0.0) + np.where(theirs & ~mine, S - T, 0.0)
        second = state["fresh"].copy()  # the second cooperation of a fresh start
        state["fresh"][...] = False
        move = t + 1
        last_fresh = state["last_fresh"]
        valid = (last_fresh == 0) | (move - last_fresh >= 20)
        remaining_ok = p.turns is None or p.turns - move >= 10
        half, spread = t / 2, 3 * (np.sqrt(t) / 2)
        remembered = state["remembered"]
        unusual = (remembered <= half - spread) | (remembered >= half + spread)
        fresh = ~second & valid & (state["lead"] >= 10) & remaining_ok & ~theirs & unusual
        if fresh.any():
            last_fresh[fresh] = move
            for key in ("remaining", "length", "remembered"):
                state[key][fresh] = 0
            state["fresh"][fresh] = True
        playing = ~second & ~fresh
        defect = _retaliate_where(state, theirs, playing)
        if _last_moves(p, t):
            return np.ones(mine.shape, dtype=bool)
        return defect


def _retaliate_where(state, start, playing):
    """``_retaliate`` on the cells in ``playing`` only; the others neither defect nor count down."""
    if playing.all():
        return _retaliate(state, start)
    sub = {k: state[k][playing] for k in ("remaining", "length")}
    out = np.zeros(start.shape, dtype=bool)
    out[playing] = _retaliate(sub, start[playing])
    for k, v in sub.items():
        state[k][playing] = v
    return out


@dataclass(frozen=True, kw_only=True)
class Tullock(Policy):
    """Gordon Tullock (13th of 15).

    Published rule: "This rule cooperates on the first eleven moves. It then cooperates 10%
    less than the other player has cooperated on the preceding ten moves." As in the Axelrod
    library (``FirstByTullock``): from move 12 on it cooperates with probability
    ``max(0, c / 10 - 0.1)``, ``c`` the other's cooperations in its last ten moves.
    """

    family = "first_by_tullock"
    memory = 10

    @property
    def stochastic(self) -> bool:
        return True

    def compile(self, ladder):
        self.check(ladder)
        return _TullockKernel(self, ladder)


class _TullockKernel(_FirstKernel):
    n_draws = 1

    def initial_state(self, shape):
        return {"last_ten": np.zeros((10, *shape), dtype=bool)}

    def rule(self, t, mine, theirs, state, u):
        if t == 0:
            return np.zeros(mine.shape, dtype=bool)
        last_ten = state["last_ten"]
        last_ten[(t - 1) % 10] = ~theirs  # the other's cooperations
        if t < 11:
            return np.zeros(mine.shape, dtype=bool)
        p = np.maximum(0.0, last_ten.sum(axis=0) / 10 - 0.10)
        return u[0] >= p * U32


#: Every class of this module, for the registry.
FIRST_TOURNAMENT_FAMILIES = (Davis, Downing, Feld, Graaskamp, Grofman, Joss, Nydegger, Shubik,
                             SteinAndRapoport, TidemanAndChieruzzi, Tullock, Anonymous)
