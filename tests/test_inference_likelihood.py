"""The exact likelihood against the core: the probability of a whole path of executed levels
equals the Monte Carlo frequency of that exact path (within 4 standard errors), for every
bundled scenario and for scenarios where control, attribution, protection and sparks matter."""

import warnings

import numpy as np
import pytest

import escalation_sim as es
from escalation_sim.inference import ImpossibleObservation, Likelihood, log_likelihood
from escalation_sim.timeline import Timeline

RICH = {  # every hidden rule of a step fires often
    "proxy_war": {"noise.perception": 0.04, "noise.execution": 0.02, "noise.attribution": 0.6,
                  "actors.PROXY.control": 0.6, "actors.PROXY.spontaneous.probability": 0.3,
                  "actors.PROXY.spontaneous.targets": ["RIVAL", "HOST"], "actors.PATRON.protects.PROXY": 0.8},
    "us_iran_2020": {"noise.perception": 0.05, "noise.execution": 0.02, "noise.attribution": 0.7,
                     "actors.KH.control": 0.7, "actors.KH.spontaneous.probability": 0.3},
}


def paths(scenario, n_runs, n_steps, seed):
    """Simulated paths as observed levels, shape (n_runs, n_steps, n_actors, n_actors)."""
    result = es.simulate(scenario, n_runs, rng=seed, n_steps=n_steps, trajectories=True)
    A = len(scenario.actors)
    out = np.full((n_runs, n_steps, A, A), -1, dtype=np.int16)
    for p, (i, j) in enumerate(result.pairs):
        out[:, :, i, j] = result.levels[:, p, :].T
    return out


def check_against_core(scenario, n_steps, n_paths=6, n_runs=60_000):
    """The likeliest paths of one batch (chosen there, so counting in another batch is not
    biased by the choice), their exact probability against their frequency in another."""
    chosen = paths(scenario, 5_000, n_steps, seed=11)
    flat = chosen.reshape(len(chosen), -1)
    unique, counts = np.unique(flat, axis=0, return_counts=True)
    candidates = unique[np.argsort(-counts, kind="stable")[:n_paths]]
    sample = paths(scenario, n_runs, n_steps, seed=12).reshape(n_runs, -1)
    for path in candidates:
        observed = path.reshape(chosen.shape[1:])
        p = np.exp(log_likelihood(scenario, observed))
        frequency = (sample == path).all(axis=1).mean()
        se = np.sqrt(p * (1 - p) / n_runs)
        assert abs(frequency - p) <= 4 * se + 1e-12, (observed, p, frequency)


@pytest.mark.parametrize("name", es.list_scenarios())
def test_bundled_scenarios_match_the_core(name):
    scenario = es.load_scenario(name)
    n_steps = 8 if len(scenario.actors) == 2 else 4
    check_against_core(scenario, n_steps)


@pytest.mark.parametrize("name", sorted(RICH))
def test_control_attribution_protection_and_sparks_match_the_core(name):
    check_against_core(es.with_overrides(es.load_scenario(name), RICH[name]), 3)


STATEFUL = {  # stateful policies whose state the observed levels fix (no perception noise)
    "ipd_noise": {"actors.A.policy": "grudger", "actors.B.policy": {"family": "contrite_tit_for_tat"}},
    "us_iran_2020": {"noise.perception": 0.0, "noise.false_alarm": 0.0, "noise.execution": 0.03, "noise.attribution": 0.6,
                     "actors.KH.control": 0.6, "actors.KH.spontaneous.probability": 0.2,
                     "actors.IRN.policy": {"family": "grim_trigger", "threshold": 2, "level": 3},
                     "actors.USA.policy_toward": {"KH": {"family": "tit_for_two_tats"}}},
    "proxy_war": {"noise.perception": 0.0, "noise.execution": 0.03, "actors.PROXY.control": 0.6,
                  "actors.PROXY.policy": {"family": "ledger", "bias": 0.5, "overreaction": 1.5},
                  "actors.PROXY.spontaneous.probability": 0.3},
}


@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_stateful_policies_with_a_known_state_match_the_core(name):
    scenario = es.with_overrides(es.load_scenario(name), STATEFUL[name])
    check_against_core(scenario, 8 if len(scenario.actors) == 2 else 4)


HIDDEN_STATE = {  # stateful policies under perception noise: the particle filter's case
    "ipd_noise": {"actors.A.policy": "grudger", "actors.B.policy": {"family": "tit_for_two_tats"},
                  "noise.perception": 0.1, "noise.execution": 0.02},
    "us_iran_2020": {"noise.perception": 0.08, "noise.execution": 0.02, "actors.KH.control": 0.6,
                     "actors.IRN.policy": {"family": "grim_trigger", "threshold": 2, "level": 3}},
}


@pytest.mark.parametrize("name", sorted(HIDDEN_STATE))
def test_the_particle_filter_matches_the_core(name):
    """The filter's estimate of P(path) (unbiased; mean of 8 filters of 1000 particles) against
    the path's frequency in the core, within 4 standard errors of both."""
    scenario = es.with_overrides(es.load_scenario(name), HIDDEN_STATE[name])
    n_steps = 6 if len(scenario.actors) == 2 else 4
    chosen = paths(scenario, 3000, n_steps, seed=1).reshape(3000, -1)
    unique, counts = np.unique(chosen, axis=0, return_counts=True)
    n_runs = 60_000
    sample = paths(scenario, n_runs, n_steps, seed=2).reshape(n_runs, -1)
    for path in unique[np.argsort(-counts, kind="stable")[:4]]:
        observed = path.reshape(n_steps, len(scenario.actors), len(scenario.actors))
        estimates = [np.exp(log_likelihood(scenario, observed, particles=1000, rng=r)) for r in range(8)]
        p, frequency = np.mean(estimates), (sample == path).all(axis=1).mean()
        se = np.sqrt(frequency * (1 - frequency) / n_runs + np.var(estimates, ddof=1) / 8)
        assert abs(frequency - p) <= 4 * se, (observed, p, frequency)
    with pytest.raises(NotImplementedError, match="pass particles=N"):
        log_likelihood(scenario, observed)


@pytest.mark.parametrize("overrides", [
    {"outcomes.war_level": 5},  # the scripted strike of step 1 is war: every later act is 0
    {"outcomes.quiet_steps": 1, "noise.execution": 0.05},  # ceasefires end runs early
])
def test_ended_runs_match_the_core(overrides):
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"), {**RICH["us_iran_2020"], **overrides})
    check_against_core(scenario, 4)


def test_parameter_sets_at_once_equal_one_at_a_time():
    scenario = es.with_overrides(es.load_scenario("proxy_war"), RICH["proxy_war"])
    observed = paths(scenario, 1, 6, seed=3)[0]
    rng = np.random.default_rng(0)
    sets = {"actors.RIVAL.policy.ratio": rng.uniform(0.5, 2, 5), "noise.execution": rng.uniform(0.01, 0.2, 5),
            "actors.PROXY.control": rng.uniform(0, 1, 5), "actors.PATRON.policy.generosity": rng.uniform(0, 1, 5),
            "actors.PATRON.protects.PROXY": rng.uniform(0, 2, 5), "actors.PROXY.spontaneous.level": [4, 5, 3, 4, 6],
            "outcomes.quiet_steps": [1, 2, 3, 30, 2]}
    together = log_likelihood(scenario, observed, sets, warn=False)
    for k in range(5):
        one = es.with_overrides(scenario, {key: (int(v[k]) if key.endswith(("level", "steps")) else float(v[k]))
                                           for key, v in sets.items()})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImpossibleObservation)
            assert together[k] == pytest.approx(log_likelihood(one, observed), rel=1e-12, abs=1e-12)


def test_timeline_and_array_agree():
    scenario = es.load_scenario("us_iran_2020")
    observed = paths(scenario, 1, 10, seed=5)[0]
    timeline = Timeline.from_levels(scenario, observed)
    assert log_likelihood(scenario, timeline) == log_likelihood(scenario, observed)


def test_an_impossible_act_is_minus_infinity_with_its_reason():
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"), {"noise.execution": 0, "noise.perception": 0})
    observed = paths(scenario, 1, 5, seed=1)[0]
    ids = scenario.actor_ids
    observed[3, ids.index("IRQ"), ids.index("USA")] = 6  # Iraq's policy toward the U.S. is capped at 2
    with pytest.warns(ImpossibleObservation, match=r"step 3, IRQ -> USA, level 6 \(direct_strike\).*can only give"):
        assert log_likelihood(scenario, observed) == -np.inf
    observed = paths(scenario, 1, 5, seed=1)[0]
    observed[1, ids.index("USA"), ids.index("KH")] = 4
    with pytest.warns(ImpossibleObservation, match=r"step 1, USA -> KH, level 4.*scripts level 5"):
        assert log_likelihood(scenario, observed) == -np.inf


def test_an_act_after_the_end_of_the_run_is_impossible():
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"), {"outcomes.war_level": 5})
    observed = paths(scenario, 1, 4, seed=1)[0]
    observed[3, 0, 1] = 1
    with pytest.warns(ImpossibleObservation, match="already ended at step 1 \\(war\\)"):
        assert log_likelihood(scenario, observed) == -np.inf


def test_what_the_exact_likelihood_cannot_take_is_a_clear_error():
    scenario = es.load_scenario("us_iran_2020")
    observed = paths(scenario, 1, 4, seed=1)[0]
    hidden = observed.copy()
    hidden[:, 3, :] = -1
    with pytest.raises(ValueError, match="does not observe IRQ -> USA"):
        log_likelihood(scenario, hidden)
    with pytest.raises(ValueError, match="starts at step 2"):
        log_likelihood(scenario, Timeline.from_levels(scenario, observed[2:], first_step=2))
    grim = es.with_overrides(scenario, {"actors.IRN.policy": {"family": "grim_trigger"}})
    # IRN -> KH is a cell of allies: quiet, not the grim trigger
    with pytest.raises(NotImplementedError, match="IRN -> USA, IRN -> IRQ: memory beyond one step, "
                                                  "and perception noise"):
        Likelihood(grim, observed)
    quiet = es.with_overrides(grim, {"noise.perception": 0.0, "noise.false_alarm": 0.0})
    with pytest.raises(NotImplementedError, match="fitted key actors.IRN.policy.threshold changes its decisions"):
        log_likelihood(quiet, observed, {"actors.IRN.policy.threshold": [1, 2]})
    tft2 = es.with_overrides(quiet, {"actors.USA.policy": {"family": "tit_for_two_tats"}})
    with pytest.raises(NotImplementedError, match="attribution makes its stimulus a hidden draw"):
        Likelihood(tft2, observed)
    with pytest.raises(es.ScenarioError, match="noise.execution"):
        log_likelihood(scenario, observed, {"noise.execution": [0.1, 1.5]})
    with pytest.raises(es.ScenarioError, match="no such key"):
        log_likelihood(scenario, observed, {"actors.XX.control": [0.1]})


# -- against the independent step of analysis/markov.py ------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from escalation_sim.analysis.markov import _Rules  # noqa: E402


def small_scenario(rates):
    """Three actors on a three-level ladder with every rule: a patron, its militia (control,
    sparks), a rival that the patron's protection and attribution tie to the militia."""
    perception, execution, attribution, control, spark, weight, ratio, generosity = rates
    return es.Scenario.from_dict({
        "schema_version": 1, "name": "small", "time": {"n_steps": 5},
        "ladder": [{"name": n, "severity": s, "fatalities": 0} for n, s in
                   (("quiet", 0), ("verbal", 1), ("strike", 2))],
        "actors": {
            "P": {"kind": "state", "protects": {"M": weight},
                  "policy": {"family": "generous_tit_for_tat", "generosity": generosity}},
            "M": {"kind": "militia", "patron": "P", "control": control,
                  "spontaneous": {"probability": spark, "level": 2, "targets": ["R"]}, "policy": "tit_for_tat"},
            "R": {"kind": "state", "policy": {"family": "proportional", "ratio": ratio}},
        },
        "noise": {"perception": perception, "execution": execution, "attribution": attribution},
        "outcomes": {"war_level": None, "quiet_steps": None},
    })


@settings(max_examples=8, deadline=None)
@given(rates=st.tuples(*[st.floats(0, 1)] * 6, st.floats(0, 2), st.floats(0, 1)),
       prev=st.lists(st.integers(0, 2), min_size=6, max_size=6))
def test_every_transition_equals_the_markov_chains_step(rates, prev):
    """P(levels of step 1 | levels of step 0) for every one of the 3^6 next states, against
    ``analysis.markov``'s step (written from docs/model.md apart from both the core and this)."""
    scenario = small_scenario(rates)
    rules = _Rules(scenario)
    prev_vec = np.array(prev, dtype=np.int8)
    chain = rules.step(prev_vec[None, :], t=1).toarray()[0]  # over ravel_multi_index(levels, (3,) * 6)
    lik = Likelihood(scenario, np.zeros((2, 3, 3), dtype=np.int16))
    index = {pair: k for k, pair in enumerate(rules.pairs)}
    ids = scenario.actor_ids
    order = [index[(ids[i], ids[j])] for i, j in lik.structure.pairs]  # our cell k is their pair order[k]
    ours = np.empty(3 ** 6)
    values = lik.values([[]]).expanded()
    base = lik.transitions[0]
    for code in range(3 ** 6):
        x = np.array(np.unravel_index(code, (3,) * 6))[order]
        lik.transitions[0] = (False, {}, prev_vec[order].astype(np.int64), x.astype(np.int64), {})
        ours[code] = lik.transition_probability(values, 0)[0]
    lik.transitions[0] = base
    np.testing.assert_allclose(ours, chain[: 3 ** 6], atol=1e-12)
    assert ours.sum() == pytest.approx(1.0)
