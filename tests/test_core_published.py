"""The core against published results on two levels (FACTS.md), with exact finite-horizon
answers from the Markov chain on (CC, CD, DC, DD) computed here, independently of the library.
Tolerances are 4 Monte Carlo standard errors."""

import numpy as np
import pytest
from conftest import two_player

import escalation_sim as es
from escalation_sim.policies import Ladder, make_policy

R, S, T, P = 3.0, 0.0, 5.0, 1.0
PAYOFF = np.array([R, S, T, P])  # to player A in states CC, CD, DC, DD


def chain(a, b, eps):
    """Transition matrix over joint states 2 * a + b, execution noise eps on both players."""
    ladder = Ladder.two_level()
    pa, pb = make_policy(a).table(ladder), make_policy(b).table(ladder)
    flip = np.array([[1 - eps, eps], [eps, 1 - eps]])
    m = np.zeros((4, 4))
    for x in range(2):
        for y in range(2):
            m[2 * x + y] = np.outer(pa[x, y] @ flip, pb[y, x] @ flip).ravel()
    return m


def finite_horizon(a, b, eps, n_steps):
    """Expected state probabilities at steps 0..n_steps-1, shape (n_steps, 4)."""
    m = chain(a, b, eps)
    first = chain(a, b, eps)[0]  # step 0 answers an all-quiet past
    out = [first]
    for _ in range(n_steps - 1):
        out.append(out[-1] @ m)
    return np.array(out)


def within(estimate, exact, se, k=4.0):
    assert abs(estimate - exact) <= k * se, f"{estimate} vs {exact} (4 SE = {k * se})"


def test_tit_for_tat_self_play_matches_the_finite_horizon_chain():
    eps, n_steps, n_runs = 0.05, 200, 20_000
    result = es.simulate(two_player(execution=eps, n_steps=n_steps), n_runs, rng=11)
    exact = finite_horizon("tit_for_tat", "tit_for_tat", eps, n_steps)
    runs = result.runs
    # mutual cooperation share: 1 - hostile steps / n_steps
    cc = 1 - runs["hostile_steps"] / n_steps
    assert exact[:, 0].mean() == pytest.approx(0.2778, abs=5e-5)  # PERFORMANCE.md's figure
    within(cc.mean(), exact[:, 0].mean(), cc.std(ddof=1) / np.sqrt(n_runs))
    payoff = runs["payoff_A"] / n_steps
    within(payoff.mean(), (exact @ PAYOFF).mean(), payoff.std(ddof=1) / np.sqrt(n_runs))


def test_tit_for_tat_long_run_shares_are_a_quarter_each():
    eps = 0.05
    m = chain("tit_for_tat", "tit_for_tat", eps)
    values, vectors = np.linalg.eig(m.T)
    stationary = np.real(vectors[:, np.argmin(abs(values - 1))])
    stationary /= stationary.sum()
    assert np.allclose(stationary, 0.25)
    assert stationary @ PAYOFF == pytest.approx((R + S + T + P) / 4)
    # and the simulated per-turn payoff far from the start approaches it
    result = es.simulate(two_player(execution=eps, n_steps=2000), 2000, rng=12)
    payoff = result.runs["payoff_A"] / 2000
    exact = (finite_horizon("tit_for_tat", "tit_for_tat", eps, 2000) @ PAYOFF).mean()
    within(payoff.mean(), exact, payoff.std(ddof=1) / np.sqrt(2000))
    assert abs(exact - 2.25) < 0.01


def test_generous_tit_for_tat_cooperation_rate_is_nowak_and_sigmunds():
    g, eps, n_steps, n_runs = 1 / 3, 0.05, 1000, 4000
    policy = {"family": "generous_tit_for_tat", "generosity": g}
    published = 1 - eps / (g + 2 * eps * (1 - g))
    assert published == pytest.approx(0.875)
    exact = finite_horizon(policy, policy, eps, n_steps)
    result = es.simulate(two_player(policy, policy, execution=eps, n_steps=n_steps), n_runs, rng=13)
    cooperation = 1 - result.runs["harm_inflicted_A"] / n_steps
    expected = (exact[:, 0] + exact[:, 1]).mean()
    within(cooperation.mean(), expected, cooperation.std(ddof=1) / np.sqrt(n_runs))
    assert abs(expected - published) < 2e-3  # the horizon's start still counts a little


def test_best_generosity_is_a_third_for_the_standard_payoffs():
    best = min(1 - (T - R) / (R - S), (R - P) / (T - P))
    assert best == pytest.approx(1 / 3)


def echo_lengths(levels):
    """Lengths of maximal alternating (CD or DC) stretches, shape (n_steps, 2, n_runs) in;
    stretches that touch either end of the horizon are dropped (censored)."""
    a, b = levels[:, 0, :], levels[:, 1, :]
    echo = (a != b).T  # (n_runs, n_steps)
    lengths = []
    for row in echo:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        starts, stops = edges[::2], edges[1::2]
        keep = (starts > 0) & (stops < row.size)
        lengths.append(stops[keep] - starts[keep])
    return np.concatenate(lengths)


def test_echo_between_tit_for_tat_players_lasts_one_over_two_eps_one_minus_eps():
    eps = 0.05
    result = es.simulate(two_player(execution=eps, n_steps=1000), 1000, rng=14, trajectories=True)
    pairs = result.pairs.tolist()
    levels = result.levels[:, [pairs.index([0, 1]), pairs.index([1, 0])], :]
    lengths = echo_lengths(levels)
    expected = 1 / (2 * eps * (1 - eps))
    within(lengths.mean(), expected, lengths.std(ddof=1) / np.sqrt(lengths.size))


def test_deterministic_strategies_play_the_textbook_moves():
    # tit-for-tat against always-defect: C then D for ever; payoff S + (n-1) P
    result = es.simulate(two_player("tit_for_tat", "always_defect", n_steps=10), 3, rng=1)
    assert (result.runs["payoff_A"] == S + 9 * P).all()
    assert (result.runs["payoff_B"] == T + 9 * P).all()
    # win-stay-lose-shift against alternator over four turns: CC, CD? -> check by hand
    result = es.simulate(two_player("win_stay_lose_shift", "alternator", n_steps=4), 1, rng=1)
    # WSLS: C, C(stay after CC), D(shift after CD: lost), D? (after DC: won, stay D)
    # alternator: C, D, C, D  -> states CC, CD, DC, DD -> A gets R + S + T + P
    assert result.runs["payoff_A"].iloc[0] == R + S + T + P
