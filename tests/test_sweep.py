"""Parameter sweeps and Sobol' sensitivity: grids and Latin hypercubes of scenario overrides,
one spawned seed per point, tidy tables checked against exact answers, and indices that tell a
decisive parameter from one the dynamics never read."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from escalation_sim import Scenario, ScenarioError, load_scenario, simulate
from escalation_sim.analysis.sensitivity import sensitivity
from escalation_sim.analysis.sweep import SweepResult, load_sweep, parse_bounds, parse_grid, sweep


def duel(ratio: float = 1.0, execution: float = 0.0) -> Scenario:
    """Two states on the default ladder. A's lethal proxy attack (4) opens; B answers in kind
    (tit-for-tat) and A answers B with ``round(ratio * level)``. Without noise, a ratio of at
    most 1 never raises the level above 4, so war (7) is impossible; a ratio of 1.5 or more
    climbs 4 -> 6 -> 7 (1.5 x 4 = 6, 1.5 x 6 = 9) and war is certain."""
    return Scenario.from_dict({
        "schema_version": 1, "name": "duel", "title": "A duel", "description": "Two states.",
        "time": {"n_steps": 30, "step_unit": "day"},
        "actors": {
            "A": {"name": "State A", "kind": "state", "policy": {"family": "proportional", "ratio": ratio}},
            "B": {"name": "State B", "kind": "state", "policy": "tit_for_tat"},
        },
        "events": [{"step": 0, "actor": "A", "target": "B", "level": 4}],
        "noise": {"execution": execution},
        "outcomes": {"war_level": 7, "quiet_steps": 5},
    })


def tit_for_tat_hostile_steps(eps: float, n_steps: int) -> float:
    """Exact expected number of steps with a defection, for tit-for-tat against itself with
    execution noise ``eps``: the Markov chain on (A's act, B's act), each player copying the
    other's last act and flipping it with probability ``eps``, both intending to cooperate at
    step 0."""
    flip = np.array([[1 - eps, eps], [eps, 1 - eps]])  # [intended, executed]
    p = np.outer(flip[0], flip[0])  # p[a, b] at step 0
    total = 1 - p[0, 0]
    for _ in range(1, n_steps):
        p = flip.T @ p.T @ flip  # A intends B's last act, B intends A's
        total += 1 - p[0, 0]
    return total


# -- grid strings -------------------------------------------------------------------------------

def test_a_range_is_an_inclusive_linspace():
    key, values = parse_grid("actors.USA.policy.ratio=0.5:2:7")
    assert key == "actors.USA.policy.ratio"
    assert values == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]


def test_a_range_of_whole_numbers_gives_integers():
    assert parse_grid("outcomes.quiet_steps=10:30:3") == ("outcomes.quiet_steps", [10, 20, 30])


def test_a_list_reads_each_value_as_a_yaml_scalar():
    assert parse_grid("noise.execution=0, 0.05,1e-3") == ("noise.execution", [0, 0.05, 0.001])
    assert parse_grid("actors.B.policy=tit_for_tat,generous_tit_for_tat") == (
        "actors.B.policy", ["tit_for_tat", "generous_tit_for_tat"])
    assert parse_grid("noise.execution=0.1") == ("noise.execution", [0.1])


@pytest.mark.parametrize("text", [
    "noise.execution", "=0,1", "noise.execution=", "noise.execution=0:1", "noise.execution=a:b:3",
    "noise.execution=0:1:1", "noise.execution=0:1:2.5", "noise.execution=0,,1",
    "noise.execution=0.1,0.1", "noise.execution=[0, 1]",
])
def test_a_malformed_grid_string_raises_a_value_error_quoting_it(text):
    with pytest.raises(ValueError, match="grid") as info:
        parse_grid(text)
    assert repr(text) in str(info.value)


def test_bounds_read_lo_and_hi():
    assert parse_bounds("noise.execution=0:0.2") == ("noise.execution", (0, 0.2))


@pytest.mark.parametrize("text", ["noise.execution", "noise.execution=0.2", "noise.execution=0:0.1:3",
                                  "noise.execution=0.2:0.1", "noise.execution=a:1", "=0:1"])
def test_malformed_bounds_raise_a_value_error_quoting_them(text):
    with pytest.raises(ValueError, match="bounds") as info:
        parse_bounds(text)
    assert repr(text) in str(info.value)


# -- sweeps ---------------------------------------------------------------------------------------

def test_a_grid_is_full_factorial_with_one_row_per_point():
    result = sweep(duel(), grid={"actors.A.policy.ratio": [0.5, 1.0], "noise.execution": [0, 0.1, 0.2]},
                   n_runs=100, rng=1, n_steps=10)
    table = result.table
    assert len(table) == 6
    assert set(zip(table["actors.A.policy.ratio"], table["noise.execution"])) == {
        (r, e) for r in (0.5, 1.0) for e in (0, 0.1, 0.2)}
    for outcome in ("war", "ceasefire", "ongoing"):
        assert {f"p_{outcome}", f"p_{outcome}_low", f"p_{outcome}_high"} <= set(table.columns)
        assert (table[f"p_{outcome}_low"] <= table[f"p_{outcome}"]).all()
        assert (table[f"p_{outcome}"] <= table[f"p_{outcome}_high"]).all()
    probabilities = table[["p_war", "p_ceasefire", "p_ongoing"]].sum(axis=1)
    np.testing.assert_allclose(probabilities, 1.0)
    assert {"mean_end_step", "se_end_step", "mean_peak_level", "mean_fatalities"} <= set(table.columns)
    assert result.parameters == ["actors.A.policy.ratio", "noise.execution"]


def test_war_is_impossible_without_noise_and_certain_when_a_side_overreacts():
    table = sweep(duel(), grid={"actors.A.policy.ratio": [0.5, 1.0, 1.5, 2.0]}, n_runs=500, rng=2).table
    p_war = dict(zip(table["actors.A.policy.ratio"], table["p_war"]))
    assert p_war == {0.5: 0.0, 1.0: 0.0, 1.5: 1.0, 2.0: 1.0}


def test_more_execution_noise_means_more_hostile_steps_as_the_markov_chain_says():
    n_steps, n_runs = 50, 4096
    result = sweep("ipd_noise", grid={"noise.execution": [0.1, 0, 0.02]}, n_runs=n_runs, rng=3,
                   n_steps=n_steps, measures=["hostile_steps"])
    table = result.table
    assert table["noise.execution"].tolist() == [0, 0.02, 0.1]  # canonical order: ascending
    means = table["mean_hostile_steps"].to_numpy()
    assert means[0] == 0  # tit-for-tat against itself without noise never defects
    assert np.all(np.diff(means) > 0)
    for eps, mean, se in zip(table["noise.execution"], means, table["se_hostile_steps"]):
        if eps > 0:
            assert abs(mean - tit_for_tat_hostile_steps(eps, n_steps)) < 4 * se


def test_the_same_seed_gives_an_equal_table_and_another_seed_does_not():
    grid = {"noise.execution": [0.05, 0.1]}
    one = sweep(duel(), grid=grid, n_runs=300, rng=7, n_steps=20).table
    two = sweep(duel(), grid=grid, n_runs=300, rng=np.random.SeedSequence(7), n_steps=20).table
    other = sweep(duel(), grid=grid, n_runs=300, rng=8, n_steps=20).table
    pd.testing.assert_frame_equal(one, two)
    assert not one["mean_end_step"].equals(other["mean_end_step"])


def test_the_order_of_keys_and_values_in_a_grid_changes_nothing():
    a = sweep(duel(), grid={"actors.A.policy.ratio": [1.0, 1.2], "noise.execution": [0.05, 0.1]},
              n_runs=300, rng=5, n_steps=20)
    b = sweep(duel(), grid={"noise.execution": [0.1, 0.05], "actors.A.policy.ratio": [1.2, 1.0]},
              n_runs=300, rng=5, n_steps=20)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_each_point_has_its_own_spawned_seed_and_replays_exactly():
    result = sweep(duel(), grid={"noise.execution": [0.05, 0.1, 0.2]}, n_runs=300, rng=11, n_steps=20)
    expected = np.random.SeedSequence(11).spawn(2)[1].spawn(3)
    for k in range(3):
        seed = result.point_seed(k)
        assert (seed.entropy, seed.spawn_key) == (expected[k].entropy, expected[k].spawn_key)
    replay = simulate(result.point_scenario(2), 300, rng=result.point_seed(2), n_steps=20)
    row = result.table.iloc[2]
    assert replay.scenario.noise.execution == 0.2
    assert replay.runs["end_step"].mean() == row["mean_end_step"]
    assert (replay.runs["outcome"] == "war").mean() == row["p_war"]


def test_an_executor_gives_the_same_table():
    grid = {"noise.execution": [0.05, 0.1, 0.2]}
    serial = sweep(duel(), grid=grid, n_runs=300, rng=4, n_steps=20).table
    with ThreadPoolExecutor(2) as pool:
        pooled = sweep(duel(), grid=grid, n_runs=300, rng=4, n_steps=20, executor=pool).table
    pd.testing.assert_frame_equal(serial, pooled)


def test_integer_parameters_stay_integers():
    table = sweep(duel(), grid={"outcomes.quiet_steps": np.linspace(2, 4, 5)}, n_runs=50, rng=1, n_steps=10).table
    # 2, 2.5, 3, 3.5, 4 round (halves up) to 2, 3, 3, 4, 4: three points
    assert table["outcomes.quiet_steps"].tolist() == [2, 3, 4]
    assert pd.api.types.is_integer_dtype(table["outcomes.quiet_steps"])


def test_a_policy_can_be_swapped_by_name_and_a_default_integer_parameter_stays_integer():
    table = sweep(duel(execution=0.05), grid={"actors.B.policy": ["tit_for_tat", "always_cooperate"]},
                  n_runs=200, rng=1, n_steps=10).table
    assert table["actors.B.policy"].tolist() == ["always_cooperate", "tit_for_tat"]
    assert table.loc[0, "p_war"] == 0  # B never answers; A answers B's quiet with quiet
    # cap is not in the file (A's proportional policy caps at the top by default)
    table = sweep(duel(), lhs=4, bounds={"actors.A.policy.cap": (4, 7)}, n_runs=50, rng=1, n_steps=10).table
    assert sorted(table["actors.A.policy.cap"]) == [4, 5, 6, 7]


def test_a_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter():
    n = 8
    bounds = {"noise.execution": (0.0, 0.2), "outcomes.quiet_steps": (2, 9)}
    result = sweep(duel(), lhs=n, bounds=bounds, n_runs=50, rng=6, n_steps=10)
    execution = result.table["noise.execution"].to_numpy()
    assert sorted(np.floor(execution / 0.2 * n).astype(int)) == list(range(n))
    # an integer parameter is drawn on [2 - 0.5, 9 + 0.5) and rounded: 8 strata, one per integer
    assert sorted(result.table["outcomes.quiet_steps"]) == list(range(2, 10))
    again = sweep(duel(), lhs=n, bounds=bounds, n_runs=50, rng=6, n_steps=10)
    pd.testing.assert_frame_equal(result.table, again.table)


def test_a_bad_key_or_value_raises_a_scenario_error_naming_the_key():
    with pytest.raises(ScenarioError, match=r"actors\.Z"):
        sweep(duel(), grid={"actors.Z.policy.ratio": [1.0]}, n_runs=10, rng=1)
    with pytest.raises(ScenarioError, match=r"noise\.execution"):
        sweep(duel(), grid={"noise.execution": [0.1, 1.5]}, n_runs=10, rng=1)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "either grid= or lhs="),
    ({"grid": {"noise.execution": [0.1]}, "lhs": 4}, "either grid= or lhs="),
    ({"lhs": 4}, "needs bounds"),
    ({"grid": {"noise.execution": [0.1]}, "bounds": {"noise.execution": (0, 1)}}, "goes with lhs"),
    ({"lhs": 4, "bounds": {"noise.execution": (0.2, 0.1)}}, "low < high"),
    ({"grid": {"noise.execution": [0.1]}, "measures": ["speed"]}, "unknown measure 'speed'"),
])
def test_a_malformed_sweep_raises_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sweep(duel(), n_runs=10, rng=1, **kwargs)


def test_a_saved_sweep_loads_back_equal(tmp_path):
    result = sweep(duel(), grid={"noise.execution": [0.05, 0.1]}, n_runs=100, rng=1, n_steps=10)
    folder = result.save(tmp_path / "sweep")
    loaded = load_sweep(folder)
    assert isinstance(loaded, SweepResult)
    pd.testing.assert_frame_equal(loaded.table, result.table)
    assert loaded.metadata == result.metadata
    assert loaded.scenario == result.scenario
    assert loaded.metadata["seed"] == {"entropy": 1, "spawn_key": []}
    with pytest.raises(FileNotFoundError, match="not a saved sweep"):
        load_sweep(tmp_path)


# -- Sobol' sensitivity ------------------------------------------------------------------------

BOUNDS = {"actors.A.policy.ratio": (0.5, 2.0), "payoffs.own_cost": (0.0, 1.0)}


def _indices(table: pd.DataFrame, parameter: str) -> tuple[float, float]:
    row = table[(table["parameter"] == parameter) & (table["measure"] == "war")].iloc[0]
    return row["first_order"], row["total_order"]


@pytest.mark.parametrize("common", [True, False])
def test_sensitivity_tells_a_decisive_parameter_from_one_the_dynamics_never_read(common):
    # On the duel with 2% execution noise, P(war) is about 0 below ratio 1, 1 above about 1.15
    # and in between only near 1.1: ratio decides it. payoffs.own_cost only scores runs.
    table = sensitivity(duel(execution=0.02), BOUNDS, n=8, n_runs=2000, rng=1, common_random_numbers=common)
    assert len(table) == 2
    ratio_first, ratio_total = _indices(table, "actors.A.policy.ratio")
    cost_first, cost_total = _indices(table, "payoffs.own_cost")
    # True indices of ratio are 1 (P(war) depends on it alone). With n = 8 base samples the
    # Saltelli estimators scatter by about +-0.3 around that (0.76 to 1.35 over seeds 0-5),
    # so "large" is > 0.5.
    assert ratio_first > 0.5 and ratio_total > 0.5
    if common:
        # The same seed at every point: own_cost changes no draw and no level, so the values
        # at A and at AB(own_cost) are identical and both indices are 0 exactly.
        assert cost_first == 0 and cost_total == 0
    else:
        # Independent seeds: Monte Carlo noise of variance s2 <= 0.25 / 2000 per point adds
        # about s2 / Var(P(war)) to the total index. Var(P(war)) is at least 0.2 over these
        # bounds (more than 40% of the design on each side of the step), so the bias is at
        # most 6.25e-4, and the mean of 8 squared differences exceeds its expectation by
        # 4 standard deviations (sqrt(2 / 8) each) at 3 times it. The first-order index
        # averages 8 products of a centred value (|f| <= 1) with a noise difference of
        # standard deviation sqrt(2 s2) = 0.016: 4 standard errors / Var = 4 * 0.016 /
        # sqrt(8) / 0.2 = 0.11.
        assert cost_total < 3 * 6.25e-4
        assert abs(cost_first) < 0.11


def test_sensitivity_is_reproducible_and_reports_its_bootstrap_intervals():
    kwargs = dict(n=8, n_runs=200, rng=3, n_steps=15, measures=("war", "end_step"))
    one = sensitivity(duel(execution=0.02), BOUNDS, **kwargs)
    two = sensitivity(duel(execution=0.02), BOUNDS, **kwargs)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == ["parameter", "measure", "first_order", "total_order", "first_order_low",
                                 "first_order_high", "total_order_low", "total_order_high"]
    assert len(one) == 4 and set(one["measure"]) == {"war", "end_step"}
    assert (one["first_order_low"] <= one["first_order_high"]).all()
    assert one.attrs["n"] == 8 and one.attrs["n_runs"] == 200 and one.attrs["scenario"] == "duel"


def test_sensitivity_of_one_parameter_and_one_measure():
    """The critic's example crashed inside scipy, which squeezed the 1 x 1 indices to scalars.
    With one input, all the variance of P(war) is its doing: both true indices are 1, and the
    estimators scatter by about +-0.3 at n = 8 (as above)."""
    table = sensitivity(duel(execution=0.02), {"actors.A.policy.ratio": (0.5, 2.0)}, n=8, n_runs=500, rng=1,
                        n_resamples=9)
    assert len(table) == 1
    first, total = _indices(table, "actors.A.policy.ratio")
    assert 0.5 < first < 1.5 and 0.5 < total < 1.5
    assert table["first_order_low"].iloc[0] <= table["first_order_high"].iloc[0]


def test_sensitivity_needs_a_power_of_two():
    with pytest.raises(ValueError, match="power of 2"):
        sensitivity(duel(), BOUNDS, n=6, n_runs=10, rng=1)


def test_bundled_scenarios_sweep_by_name():
    result = sweep("us_iran_2020", grid={"noise.execution": [0.0, 0.05]}, n_runs=100, rng=1, n_steps=5)
    assert result.scenario == load_scenario("us_iran_2020")
    assert len(result.table) == 2
