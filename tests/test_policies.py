"""The policy contract, run against every registered policy (families and presets)."""

import dataclasses

import numpy as np
import pytest

from escalation_sim.policies import (
    FAMILIES, Fixed, GenerousTitForTat, Ladder, MemoryOne, MemoryOnePolicy, Policy,
    PolicyError, TitForTat, make_policy, policy_names,
)
from escalation_sim.policies import base

LADDERS = {"two_level": Ladder.two_level(), "default": Ladder((0, 1, 2, 4, 8, 16, 32, 64))}

# A valid parameter set for every registered name, on both ladders where it applies.
EXAMPLES = {
    "memory_one": {"family": "memory_one", "vector": (0.9, 0.2, 0.7, 0.1)},
    "ledger": {"family": "ledger", "tolerance": 2, "overreaction": 1.5, "bias": 0.2},
    "generous_tit_for_tat": {"family": "generous_tit_for_tat", "generosity": 0.3},
}
TWO_LEVEL_ONLY = {"memory_one", "win_stay_lose_shift", "alternator", "random"}


def cases(memory_one_only=False):
    out = []
    for name in policy_names():
        for ladder_name, ladder in LADDERS.items():
            policy = make_policy(EXAMPLES.get(name, name))
            if ladder_name == "default" and name in TWO_LEVEL_ONLY:
                continue
            if memory_one_only and not isinstance(policy, MemoryOnePolicy):
                continue
            out.append(pytest.param(policy, ladder, id=f"{name}-{ladder_name}"))
    return out


def test_every_policy_class_is_registered():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    concrete = {c for c in subclasses(Policy) if c.family}
    assert concrete == set(FAMILIES.values())


def random_cells(kernel, ladder, shape, seed):
    rng = np.random.default_rng(seed)
    own = rng.integers(0, ladder.n_levels, shape).astype(np.int8)
    stim = rng.integers(0, ladder.n_levels, shape).astype(np.int8)
    u = rng.integers(0, 2**32, (kernel.n_draws, *shape), dtype=np.uint32) if kernel.n_draws else None
    return own, stim, u


def play(kernel, ladder, shape, seed, n_steps=6):
    """Several steps on random inputs; returns every decision, shape (n_steps, *shape)."""
    state = kernel.initial_state(shape)
    out = []
    for t in range(n_steps):
        own, stim, u = random_cells(kernel, ladder, shape, seed + t)
        out.append(np.array(kernel.decide(t, own, stim, state, u), dtype=np.int8))
    return np.stack(out)


@pytest.mark.parametrize("policy,ladder", cases())
class TestPolicyContract:
    def test_traits(self, policy, ladder):
        assert isinstance(policy.stochastic, bool)
        assert policy.memory >= 1
        kernel = policy.compile(ladder)
        assert kernel.n_draws == (1 if policy.stochastic else 0)

    def test_decisions_are_levels_on_the_ladder(self, policy, ladder):
        levels = play(policy.compile(ladder), ladder, (3, 50), seed=1)
        assert levels.dtype == np.int8
        assert levels.min() >= 0 and levels.max() <= ladder.top

    def test_batch_of_one_equals_the_batch(self, policy, ladder):
        kernel = policy.compile(ladder)
        batch = play(kernel, ladder, (2, 7), seed=5)
        rng_inputs = [random_cells(kernel, ladder, (2, 7), 5 + t) for t in range(batch.shape[0])]
        for i in range(2):
            for j in range(7):
                state = kernel.initial_state((1, 1))
                for t, (own, stim, u) in enumerate(rng_inputs):
                    cell_u = None if u is None else u[:, i : i + 1, j : j + 1]
                    one = kernel.decide(t, own[i : i + 1, j : j + 1], stim[i : i + 1, j : j + 1], state, cell_u)
                    assert int(np.asarray(one).reshape(-1)[0]) == batch[t, i, j]

    def test_seeded_determinism(self, policy, ladder):
        kernel = policy.compile(ladder)
        assert np.array_equal(play(kernel, ladder, (2, 40), seed=9), play(kernel, ladder, (2, 40), seed=9))

    def test_round_trips_through_its_dict(self, policy, ladder):
        assert make_policy(policy.to_dict()) == policy


@pytest.mark.parametrize("policy,ladder", cases(memory_one_only=True))
def test_response_table_rows_are_distributions(policy, ladder):
    table = policy.table(ladder)
    assert table.shape == (ladder.n_levels,) * 3
    assert (table >= 0).all() and np.allclose(table.sum(axis=2), 1.0)
    assert policy.stochastic == bool(((table > 0) & (table < 1)).any())


def sample_frequencies(policy, ladder, own, stim, n=200_000, seed=3):
    kernel = policy.compile(ladder)
    shape = (1, n)
    u = np.random.default_rng(seed).integers(0, 2**32, (kernel.n_draws, *shape), dtype=np.uint32) if kernel.n_draws else None
    out = kernel.decide(1, np.full(shape, own, np.int8), np.full(shape, stim, np.int8), {}, u)
    return np.bincount(np.asarray(out).ravel(), minlength=ladder.n_levels) / n


@pytest.mark.parametrize("own,stim", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_sampled_memory_one_matches_its_table(own, stim):
    policy = make_policy(EXAMPLES["memory_one"])
    ladder = LADDERS["two_level"]
    freq = sample_frequencies(policy, ladder, own, stim)
    p = policy.table(ladder)[own, stim]
    se = np.sqrt(p * (1 - p) / 200_000)
    assert np.all(np.abs(freq - p) <= 4 * se + 1e-12)


@pytest.mark.parametrize("preset,vector", [
    ("tit_for_tat", (1, 0, 1, 0)),
    ("always_cooperate", (1, 1, 1, 1)),
    ("always_defect", (0, 0, 0, 0)),
    ("win_stay_lose_shift", (1, 0, 0, 1)),
    ("alternator", (0, 0, 1, 1)),
])
def test_presets_equal_their_axelrod_four_vectors(preset, vector):
    ladder = LADDERS["two_level"]
    assert np.array_equal(make_policy(preset).table(ladder), MemoryOne(vector=vector).table(ladder))


def test_generous_tit_for_tat_is_the_four_vector_1_g_1_g():
    ladder, g = LADDERS["two_level"], 0.3
    assert np.allclose(GenerousTitForTat(generosity=g).table(ladder), MemoryOne(vector=(1, g, 1, g)).table(ladder))


def test_suspicious_tit_for_tat_opens_hostile_then_answers_in_kind():
    kernel = make_policy("suspicious_tit_for_tat").compile(LADDERS["two_level"])
    zero, one = np.zeros((1, 1), np.int8), np.ones((1, 1), np.int8)
    assert kernel.decide(0, zero, zero, {}, None)[0, 0] == 1
    assert kernel.decide(1, one, zero, {}, None)[0, 0] == 0


def test_proportional_rounds_halves_up_and_caps():
    ladder = LADDERS["default"]
    table = make_policy({"family": "proportional", "ratio": 1.5, "cap": 6}).table(ladder)
    assert list(table[0].argmax(axis=1)) == [0, 2, 3, 5, 6, 6, 6, 6]  # 1.5 -> 2, 4.5 -> 5


def test_ledger_squares_a_calibrated_account():
    ladder = LADDERS["default"]
    kernel = make_policy("ledger").compile(ladder)
    state = kernel.initial_state((1, 1))
    cell = lambda v: np.full((1, 1), v, np.int8)  # noqa: E731
    assert kernel.decide(1, cell(0), cell(5), state, None)[0, 0] == 5  # hit at 5: answer at 5
    assert kernel.decide(2, cell(5), cell(0), state, None)[0, 0] == 0  # account settled


def test_grim_trigger_never_forgives():
    kernel = make_policy("grudger").compile(LADDERS["two_level"])
    state = kernel.initial_state((1, 1))
    stimuli = [0, 1, 0, 0]
    out = [kernel.decide(t, np.zeros((1, 1), np.int8), np.full((1, 1), s, np.int8), state, None)[0, 0]
           for t, s in enumerate(stimuli)]
    assert out == [0, 1, 1, 1]


@pytest.mark.parametrize("spec,key", [
    ({"family": "generous_tit_for_tat", "generosity": 1.4}, "generosity"),
    ({"family": "proportional", "ratio": -1}, "ratio"),
    ({"family": "tit_for_tat", "ratio": 2}, "ratio"),
    ({"family": "teat_for_tat"}, "family"),
    ({"family": "memory_one", "vector": (1, 0, 1)}, "vector"),
    ({"family": "fixed", "level": "high"}, "level"),
])
def test_invalid_parameters_name_the_key(spec, key):
    with pytest.raises(PolicyError) as err:
        make_policy(spec)
    assert err.value.key == key


def test_level_parameters_are_checked_against_the_ladder():
    with pytest.raises(PolicyError, match="cap"):
        make_policy({"family": "proportional", "cap": 9}).check(LADDERS["default"])
    with pytest.raises(PolicyError, match="two-level"):
        make_policy("random").check(LADDERS["default"])


def test_policies_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TitForTat().initial = 1  # type: ignore[misc]


def test_thresholds_give_exact_probabilities_at_the_ends():
    from escalation_sim.core.plan import _threshold

    u = np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32)
    assert _threshold(0.0) is None  # never: the rule draws no words at all
    assert (u <= _threshold(1.0)).all()  # a rule fires when its word is <= the limit
    assert (u <= _threshold(0.5)).tolist() == [True, True, False, False]
    assert base.threshold_u32(0.5) == 2**31
    assert Fixed(level=0).stochastic is False
