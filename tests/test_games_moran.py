"""Moran processes: simulated fixation against the exact closed form (and neutral drift 1/N),
the properties every run keeps, and the Axelrod library's ``MoranProcess`` in distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation_sim.games import fixation_probability, moran

Z = 4.0


def assert_within(simulated, exact, n):
    se = np.sqrt(exact * (1 - exact) / n)
    assert abs(simulated - exact) <= Z * se, (simulated, exact, se)


@pytest.mark.parametrize("a, b, N, start, turns", [
    ("tit_for_tat", "always_defect", 10, 3, 5),
    ("always_defect", "tit_for_tat", 8, 1, 3),
    ("grudger", "alternator", 6, 2, 10),
    ("win_stay_lose_shift", "always_defect", 7, 4, 4),
])
def test_simulated_fixation_matches_the_exact_closed_form(a, b, N, start, turns):
    n = 4000
    result = moran([a, b], [start, N - start], turns=turns, n_runs=n, rng=1)
    exact = fixation_probability(a, b, N, start=start, turns=turns)
    assert_within(result.fixation.probability.iloc[0], exact, n)
    assert result.fixation.fixations.sum() == n  # without mutation every run fixates


@pytest.mark.parametrize("N, start", [(5, 1), (10, 1), (10, 4)])
def test_neutral_drift_fixes_with_probability_start_over_n(N, start):
    # Tit for tat and the cooperator both cooperate throughout: every match scores the same.
    assert fixation_probability("tit_for_tat", "always_cooperate", N, start=start) == pytest.approx(start / N)
    n = 4000
    result = moran(["tit_for_tat", "always_cooperate"], [start, N - start], turns=20, n_runs=n, rng=2)
    assert_within(result.fixation.probability.iloc[0], start / N, n)


def test_stochastic_matches_drift_neutrally_between_two_fair_coins():
    """Random and the anonymous entry are both fair coins: each generation's matches are drawn
    on the core, and the drift is neutral."""
    n = 1500
    result = moran(["random", "first_by_anonymous"], [1, 4], turns=10, n_runs=n, rng=3)
    assert_within(result.fixation.probability.iloc[0], 1 / 5, n)


def test_the_closed_form_takes_payoffs_and_is_monotone_in_start():
    payoffs = [[3.0, 0.5], [5.0, 1.0]]
    rho = [fixation_probability(None, None, 12, start=s, payoffs=payoffs) for s in range(1, 12)]
    assert np.all(np.diff(rho) > 0) and 0 < rho[0] < rho[-1] < 1
    # A constant fitness advantage r: the classic (1 - 1/r) / (1 - 1/r^N).
    r, N = 2.0, 6
    rho = fixation_probability(None, None, N, payoffs=[[r, r], [1.0, 1.0]])
    # f_i = r (N - 1), g_i = N - 1: gamma = 1 / r.
    assert rho == pytest.approx((1 - 1 / r) / (1 - r ** -N))
    with pytest.raises(ValueError, match="positive"):
        fixation_probability(None, None, 5, payoffs=[[3.0, 0.0], [5.0, 1.0]])


@settings(max_examples=15, deadline=None)
@given(counts=st.lists(st.integers(0, 4), min_size=3, max_size=3).filter(lambda c: sum(c) >= 2),
       mutation=st.sampled_from([0.0, 0.2]), seed=st.integers(0, 1000))
def test_every_run_keeps_its_size_and_a_fixed_run_stays_fixed(counts, mutation, seed):
    result = moran(["tit_for_tat", "always_defect", "alternator"], counts, turns=4, n_runs=20, rng=seed,
                   generations=15, mutation_rate=mutation, trajectories=True)
    traj = result.trajectories
    assert (traj.sum(axis=2) == sum(counts)).all()
    if mutation == 0:
        absent = np.array(counts) == 0
        assert (traj[:, :, absent] == 0).all()  # without mutation no strategy comes back
        for run, winner in enumerate(result.runs.winner):
            if isinstance(winner, str):
                g = result.runs.generations[run]
                assert (traj[g:, run] == traj[g, run]).all() and traj[g, run].max() == sum(counts)


def test_a_moran_process_repeats_with_its_seed_and_leaves_a_caller_seed_alone():
    seq = np.random.SeedSequence(9)
    first = moran(["tit_for_tat", "always_defect"], [2, 3], turns=3, n_runs=50, rng=seq)
    assert seq.n_children_spawned == 0
    again = moran(["tit_for_tat", "always_defect"], [2, 3], turns=3, n_runs=50, rng=np.random.SeedSequence(9))
    assert first.runs.equals(again.runs)


@pytest.mark.parametrize("kwargs, key", [
    ({"population": [1, 0]}, "population"), ({"population": [2, 2], "mutation_rate": 0.1}, "generations"),
    ({"population": [2, 2], "mutation_rate": 1.5}, "mutation_rate"), ({"population": [2.5, 1]}, "population"),
])
def test_bad_arguments_are_refused_naming_them(kwargs, key):
    with pytest.raises(ValueError, match=key):
        moran(["tit_for_tat", "always_defect"], **kwargs)


# -- the Axelrod library's MoranProcess ----------------------------------------------------------
@pytest.fixture(scope="module")
def axl():
    return pytest.importorskip("axelrod")


def test_fixation_and_its_time_agree_with_axelrods_moran_process(axl):
    """Deterministic players, 2 tit for tat and 2 defectors in matches of 4 turns: the share of
    runs tit for tat takes over and the mean generations to fixation, within 4 standard errors
    (the Axelrod library plays every match of every generation: a few hundred runs of it)."""
    n_theirs = 200
    wins, times = [], []
    for seed in np.random.SeedSequence(4).generate_state(n_theirs):
        players = [axl.TitForTat() for _ in range(2)] + [axl.Defector() for _ in range(2)]
        process = axl.MoranProcess(players, turns=4, seed=int(seed))
        process.play()
        wins.append(process.winning_strategy_name == "Tit For Tat")
        times.append(len(process.populations) - 1)
    ours = moran(["tit_for_tat", "always_defect"], [2, 2], turns=4, n_runs=20000, rng=5)
    p_theirs, p_ours = np.mean(wins), ours.fixation.probability.iloc[0]
    p = fixation_probability("tit_for_tat", "always_defect", 4, start=2, turns=4)
    assert abs(p_theirs - p_ours) <= Z * np.sqrt(p * (1 - p) * (1 / n_theirs + 1 / 20000))
    t_ours = ours.runs.generations.to_numpy(dtype=float)
    se = np.sqrt(np.var(times, ddof=1) / n_theirs + t_ours.var(ddof=1) / len(t_ours))
    assert abs(np.mean(times) - t_ours.mean()) <= Z * se, (np.mean(times), t_ours.mean(), se)
