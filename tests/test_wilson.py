"""Wilson score intervals: inside [0, 1], around the estimate, for every (count, n) up to 2000."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from escalation_sim.batch.result import wilson_interval

Z = stats.norm.ppf(0.975)


def every_count_up_to(n_max: int):
    n = np.repeat(np.arange(1, n_max + 1), np.arange(2, n_max + 2))
    k = np.concatenate([np.arange(m + 1) for m in range(1, n_max + 1)])
    return k, n


def test_every_interval_up_to_2000_trials_lies_in_0_1_and_contains_the_estimate():
    k, n = every_count_up_to(2000)
    low, high = wilson_interval(k, n)
    p = k / n
    assert (low >= 0).all() and (high <= 1).all()
    assert (low <= p).all() and (p <= high).all()
    assert (low[k == 0] == 0).all() and (high[k == n] == 1).all()


@pytest.mark.parametrize("k, n", [(16, 16), (0, 21), (38, 38)])
def test_the_reported_cases_end_exactly_at_0_and_1(k, n):
    low, high = wilson_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1
    assert (low == 0) if k == 0 else (high == 1)


def test_the_bounds_are_the_roots_of_the_score_equation():
    # Independent of the closed form: Wilson's bounds are the x with |p - x| = z sqrt(x (1 - x) / n).
    k, n = every_count_up_to(300)
    low, high = wilson_interval(k, n, z=Z)
    p = k / n
    for x in (low, high):
        assert np.allclose((p - x) ** 2, Z * Z * x * (1 - x) / n, atol=1e-12)
