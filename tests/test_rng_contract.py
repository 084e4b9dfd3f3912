"""SPEC 7 seed contract: every public function that takes ``rng`` gives identical results when
called twice with the same int, the same ``SeedSequence`` object or two equal ones, and never
changes the caller's ``SeedSequence``.

The functions are found by walking the package's public modules and reading signatures, so a new
public function with an ``rng`` parameter is tested as soon as it exists: it fails here until it
has a small call in ``CALLS``.
"""

from __future__ import annotations

import inspect
import tempfile

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es

from conftest import public_modules, two_player

SCENARIO = two_player("random", {"family": "generous_tit_for_tat", "generosity": 0.3}, n_steps=30, execution=0.1)


def _takes_rng(obj) -> bool:
    try:
        return "rng" in inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False


def rng_functions() -> dict[str, object]:
    """Every public callable of the package with a parameter named ``rng``, by its defining
    module and qualified name: functions, classes (their constructors) and public methods."""
    found = {}
    for module in public_modules():
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if not getattr(obj, "__module__", "").startswith("escalation_sim"):
                continue
            candidates = [obj]
            if inspect.isclass(obj):
                candidates += [m for k, m in vars(obj).items() if not k.startswith("_") and callable(m)]
            for c in candidates:
                if callable(c) and _takes_rng(c):
                    found[f"{c.__module__}.{c.__qualname__}"] = c
    return found


def _model_levels(fn, rng):
    model = fn(SCENARIO, rng=rng, run=4100, n_steps=30)
    model.run_model()
    return model._levels, model.measures()


def _replayed(fn, rng):
    return [(m.run_model(), m._levels.copy())[1] for m in fn(SCENARIO, [0, 3], rng=rng)]


def _to_folder(fn, rng):
    with tempfile.TemporaryDirectory() as folder:
        return fn(SCENARIO, 300, f"{folder}/out", rng=rng).runs


def _tournament(fn, rng):
    result = fn(["tit_for_tat", "random", "grudger"], turns=20, repetitions=3, noise=0.1, rng=rng)
    return result.ranking, result.matches


def _inference():
    """A short record of SCENARIO, a point posterior over one of its parameters, and a game with
    a grim trigger under perception noise (the particle filter's case) with a record of its own."""
    from escalation_sim.inference import Fit
    from escalation_sim.inference.calibration import simulated_levels

    observed = simulated_levels(SCENARIO, 1, n_steps=12, rng=1)[0]
    samples = pd.DataFrame({"actors.B.policy.generosity": [0.2, 0.4, 0.6]})
    point = Fit(SCENARIO, {"actors.B.policy.generosity": (0.0, 1.0)}, samples,
                {"actors.B.policy.generosity": 0.4, "log_likelihood": 0.0}, {})
    hidden = two_player("grudger", "tit_for_tat", n_steps=8, execution=0.05, perception=0.1)
    return observed, point, hidden, simulated_levels(hidden, 1, rng=2)[0]


INFERENCE = _inference()
GENEROSITY = {"actors.B.policy.generosity": (0.0, 1.0)}


def _stages(snapshots):
    """The results of the dashboard's batch stages (first estimate, full batch), each once: how
    many progress snapshots repeat a stage depends on timing, not on the seed."""
    results = {id(snap.result): snap.result for snap in snapshots if snap.result is not None}
    return [result.runs for result in results.values()]


#: A small valid call of each public function that takes ``rng``: ``call(function, rng)``
#: returns what the contract compares.
CALLS = {
    "escalation_sim._rng.seed_sequence": lambda fn, rng: fn(rng).generate_state(4),
    "escalation_sim.agents.model.EscalationModel": _model_levels,
    "escalation_sim.agents.replay.replay_runs": _replayed,
    "escalation_sim.analysis.sensitivity.sensitivity": lambda fn, rng: fn(
        SCENARIO, {"noise.execution": (0.0, 0.3), "actors.B.policy.generosity": (0.0, 0.5)}, n=8, n_runs=40, rng=rng, measures=("hostile_steps",),
        n_resamples=20),
    "escalation_sim.analysis.sweep.sweep": lambda fn, rng: fn(
        SCENARIO, grid={"noise.execution": [0.05, 0.2]}, n_runs=200, rng=rng).table,
    "escalation_sim.batch.simulate.Batch": lambda fn, rng: fn(SCENARIO, 10, rng=rng).seq.generate_state(4),
    "escalation_sim.batch.simulate.simulate": lambda fn, rng: fn(SCENARIO, 300, rng=rng).runs,
    "escalation_sim.batch.store.run_to_folder": _to_folder,
    "escalation_sim.games.match.match_levels": lambda fn, rng: fn("random", "tit_for_tat", turns=20, noise=0.1, n_runs=5, rng=rng),
    "escalation_sim.games.match.match_scores": lambda fn, rng: fn("random", "tit_for_tat", turns=20, noise=0.1, n_runs=5, rng=rng),
    "escalation_sim.games.match.match_states": lambda fn, rng: fn("random", "tit_for_tat", turns=20, noise=0.1, n_runs=5, rng=rng),
    "escalation_sim.games.tournament.tournament": _tournament,
    "escalation_sim.games.first_tournament.first_tournament": lambda fn, rng: fn(turns=20, repetitions=2, noise=0.05, rng=rng).matches,
    "escalation_sim.games.first_tournament.round_robin": lambda fn, rng: fn(
        {"a": es.make_policy("random"), "b": es.make_policy("tit_for_tat")}, turns=20, repetitions=2, noise=0.1, rng=rng).matches,
    "escalation_sim.games.many_matches.play_many": lambda fn, rng: fn(
        [es.make_policy("random"), es.make_policy("tit_for_tat")], [0, 0, 1], [1, 1, 1], turns=20, noise=0.1, rng=rng),
    "escalation_sim.dashboard.estimate.estimates": lambda fn, rng: _stages(fn(SCENARIO, 600, rng, first=200)),
    "escalation_sim.dashboard.estimate.wait_final": lambda fn, rng: _stages(fn(SCENARIO, 600, rng, first=200)),
    "escalation_sim.games.moran.moran": lambda fn, rng: fn(["random", "tit_for_tat"], [2, 2], turns=10, noise=0.1, n_runs=20,
                                                          mutation_rate=0.01, generations=30, rng=rng).runs,
    "escalation_sim.inference.calibration.sbc": lambda fn, rng: fn(SCENARIO, GENEROSITY, n_datasets=3, n_steps=10,
                                                                   n_draws=9, rng=rng),
    "escalation_sim.inference.calibration.simulated_levels": lambda fn, rng: fn(SCENARIO, 3, n_steps=10, rng=rng),
    "escalation_sim.inference.fit.Fit.predict": lambda fn, rng: fn(INFERENCE[1], 300, rng=rng, n_draws=3).draws,
    "escalation_sim.inference.abc.smc_abc": lambda fn, rng: fn(SCENARIO, INFERENCE[0], GENEROSITY, rng=rng, n_particles=10,
                                                               n_runs=3, max_generations=2)[0],
    "escalation_sim.inference.fit.fit": lambda fn, rng: fn(SCENARIO, INFERENCE[0], GENEROSITY, rng=rng, batch_steps=20,
                                                           max_steps=40).samples,
    "escalation_sim.inference.likelihood.Likelihood": lambda fn, rng: fn(
        INFERENCE[2], INFERENCE[3], particles=50, rng=rng)(np.zeros((1, 0))),
    "escalation_sim.inference.likelihood.log_likelihood": lambda fn, rng: fn(INFERENCE[2], INFERENCE[3], particles=50,
                                                                             rng=rng),
    "escalation_sim.inference.particle.particle_log_likelihood": lambda fn, rng: fn(
        es.inference.Likelihood(INFERENCE[2], INFERENCE[3], particles=50, rng=0),
        es.inference.Likelihood(INFERENCE[2], INFERENCE[3], particles=50, rng=0).values(np.zeros((1, 0))), 50, rng),
    "escalation_sim.inference.predict.plug_in": lambda fn, rng: fn(SCENARIO, 300, rng=rng),
    "escalation_sim.inference.predict.posterior_predictive": lambda fn, rng: fn(INFERENCE[1], 300, rng=rng,
                                                                               n_draws=3).draws,
}

FOUND = rng_functions()


def assert_same(a, b, where="result"):
    """``a`` and ``b`` are equal, value for value (frames, arrays, containers, numbers)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{k}]")
    else:
        assert a == b, where


def test_every_public_function_that_takes_rng_has_a_call_in_the_contract_table():
    missing = sorted(set(FOUND) - set(CALLS))
    assert not missing, f"public functions taking rng without an entry in CALLS: {missing}"
    stale = sorted(set(CALLS) - set(FOUND))
    assert not stale, f"CALLS names functions that no longer take rng or are not public: {stale}"


def test_the_walk_finds_the_known_rng_functions():
    # If the walk itself broke, the table check above would pass on an empty set.
    assert {"escalation_sim.batch.simulate.simulate", "escalation_sim.games.tournament.tournament"} <= set(FOUND)


def _call(name, rng):
    if name not in CALLS:
        pytest.fail(f"{name} takes rng but has no call in CALLS: add one so the seed contract covers it")
    return CALLS[name](FOUND[name], rng)


@pytest.mark.parametrize("name", sorted(FOUND))
def test_the_same_int_twice_gives_the_same_result(name):
    assert_same(_call(name, 2024), _call(name, 2024))


@pytest.mark.parametrize("name", sorted(FOUND))
def test_the_same_seed_sequence_twice_gives_the_same_result_and_is_left_unchanged(name):
    seq = np.random.SeedSequence(123456789, spawn_key=(3,))
    before = (seq.entropy, seq.spawn_key, seq.pool_size, seq.n_children_spawned, tuple(seq.generate_state(4)))
    first = _call(name, seq)
    assert_same(first, _call(name, seq))
    after = (seq.entropy, seq.spawn_key, seq.pool_size, seq.n_children_spawned, tuple(seq.generate_state(4)))
    assert after == before


@pytest.mark.parametrize("name", sorted(FOUND))
def test_equal_seed_sequences_give_the_same_result_whatever_they_spawned_before(name):
    fresh = np.random.SeedSequence(987654321)
    used = np.random.SeedSequence(987654321)
    used.spawn(5)  # a caller's sequence that already gave out children
    assert_same(_call(name, fresh), _call(name, used))


def test_a_tournament_given_one_seed_sequence_twice_scores_the_same():
    # The reported case: the tournament spawned from the caller's sequence and advanced it.
    seq = np.random.SeedSequence(42)
    first = es.tournament(["tit_for_tat", "random"], turns=10, repetitions=2, noise=0.2, rng=seq)
    second = es.tournament(["tit_for_tat", "random"], turns=10, repetitions=2, noise=0.2, rng=seq)
    pd.testing.assert_frame_equal(first.matches, second.matches)
    assert seq.n_children_spawned == 0
