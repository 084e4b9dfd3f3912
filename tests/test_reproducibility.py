"""One seed fixes a batch, whatever the chunking and whatever runs the chunks."""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim.core import STREAM_BLOCK


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert np.array_equal(a.counts, b.counts)


@pytest.fixture(scope="module")
def reference():
    return es.simulate("us_iran_2020", 3 * STREAM_BLOCK + 123, rng=2020)


def test_chunk_size_does_not_change_the_result(reference):
    for chunk_size in (STREAM_BLOCK, 2 * STREAM_BLOCK, 10**6):
        assert_same(reference, es.simulate("us_iran_2020", reference.n_runs, rng=2020, chunk_size=chunk_size))


def test_two_player_games_give_the_same_result_in_any_chunks():
    # their tallies skip work once a chunk's runs have all been hostile: chunk by chunk
    n = 2 * STREAM_BLOCK + 77
    whole = es.simulate("ipd_noise", n, rng=5, n_steps=120)
    assert_same(whole, es.simulate("ipd_noise", n, rng=5, n_steps=120, chunk_size=STREAM_BLOCK))


def test_default_chunks_are_longer_for_scenarios_of_few_actors():
    from escalation_sim.batch.simulate import default_chunk_size

    assert default_chunk_size(2) == 64 * STREAM_BLOCK  # two players: the longest chunks
    assert default_chunk_size(12) == 16 * STREAM_BLOCK  # four actors, twelve cells a run
    assert default_chunk_size(6) == 32 * STREAM_BLOCK


def test_a_process_pool_gives_the_same_result(reference):
    with ProcessPoolExecutor(2) as pool:
        pooled = es.simulate("us_iran_2020", reference.n_runs, rng=2020, executor=pool, chunk_size=STREAM_BLOCK)
    assert_same(reference, pooled)


def test_a_run_does_not_depend_on_the_size_of_the_batch(reference):
    small = es.simulate("us_iran_2020", 50, rng=2020)
    pd.testing.assert_frame_equal(small.runs, reference.runs.iloc[:50])


def test_seed_sequence_and_int_seed_agree(reference):
    again = es.simulate("us_iran_2020", reference.n_runs, rng=np.random.SeedSequence(2020))
    assert_same(reference, again)


def test_different_seeds_differ(reference):
    other = es.simulate("us_iran_2020", reference.n_runs, rng=2021)
    assert not other.runs.equals(reference.runs)


def test_fresh_entropy_is_recorded_and_replays_the_batch():
    first = es.simulate("us_iran_2020", 200)
    seed = first.metadata["seed"]
    again = es.simulate("us_iran_2020", 200, rng=np.random.SeedSequence(seed["entropy"], spawn_key=seed["spawn_key"]))
    assert_same(first, again)


def test_a_generator_fixes_the_batch_through_its_state():
    a = es.simulate("ipd_noise", 100, rng=np.random.default_rng(5))
    b = es.simulate("ipd_noise", 100, rng=np.random.default_rng(5))
    assert_same(a, b)


@pytest.mark.parametrize("kwargs,error", [
    ({"n_runs": 0}, ValueError),
    ({"n_runs": -5}, ValueError),
    ({"n_runs": 2.5}, TypeError),
    ({"n_runs": 10, "n_steps": -1}, ValueError),
    ({"n_runs": 10, "n_steps": 0}, ValueError),
    ({"n_runs": 10, "rng": "seed"}, TypeError),
    ({"n_runs": 10, "rng": -3}, ValueError),
    ({"n_runs": 10, "rng": np.random.RandomState(1)}, TypeError),
    ({"n_runs": 10, "chunk_size": 0}, ValueError),
])
def test_bad_arguments_raise_clear_errors(kwargs, error):
    with pytest.raises(error, match="n_runs|n_steps|rng|chunk_size"):
        es.simulate("ipd_noise", **kwargs)
