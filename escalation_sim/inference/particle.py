"""A particle filter for policies whose state the observed levels do not fix.

Under perception noise or attribution a stateful policy's stimulus, and so its state, is a
hidden draw. The filter carries ``n_particles`` copies of every stateful policy's state. In each
step each particle turns its states into response tables (the decision for every possible
stimulus) and gets the exact probability of the observed step from ``transition`` (every other
hidden draw summed out, as in the exact likelihood); the particles are resampled in proportion
to it, and each one draws the stimuli its stateful cells saw from their posterior given the
observed step, which advances its states. This is the fully adapted filter (Pitt and Shephard
1999): the estimate of the path probability, the product over steps of the mean particle
weight, is unbiased; its logarithm is biased low by about half its variance.
"""

from __future__ import annotations

import copy

import numpy as np

from .._rng import seed_sequence
from .transition import component_probability


def particle_log_likelihood(lik, values, n_particles: int, rng=None) -> float:
    """Estimated log P(observed path) for the single parameter set ``values`` (n = 1) of the
    likelihood ``lik``; ``rng`` (SPEC 7) fixes the resampling and the stimuli drawn."""
    rng = np.random.default_rng(seed_sequence(rng))
    s = copy.copy(lik.structure)
    cells = lik.stateful_cells
    K, L1 = n_particles, s.top + 1
    ladder = lik.scenario.policy_ladder()
    slot = {}
    s.slot_of_cell = s.slot_of_cell.copy()
    for c in cells:  # a slot of its own for each stateful cell, filled per particle and step
        slot[c] = len(s.slots) + len(slot)
        s.slot_of_cell[c] = slot[c]
    v = values.take(np.zeros(K, dtype=np.intp)).expanded()
    v.tables = list(v.tables) + [None] * len(cells)
    kernels = {}
    for c in cells:
        i, j = s.pairs[c]
        kernel = lik.scenario.actors[i].policy_for(s.ids[j]).compile(ladder)
        kernels[c] = (kernel, kernel.initial_state((1, K)))
    end = int(lik.end_steps(values)[0])
    total = 0.0
    for t in range(len(lik.path)):
        prev = lik.path[t - 1] if t else np.zeros(len(s.pairs), dtype=np.int64)
        x = lik.path[t]
        if t > end:
            if x.max() > 0:
                return -np.inf
            continue
        for c, (kernel, state) in kernels.items():
            v.tables[slot[c]] = _tables(kernel, state, t, int(prev[c]), K, L1)
        weight, rows = np.ones(K), {}
        for j, comp in enumerate(lik.components):
            out = [] if any(c in kernels for c in comp.cells) else None
            weight = weight * component_probability(s, v, comp, t == 0, s.events.get(t, {}), prev, x, None,
                                                    rows_out=out)
            if out is not None:
                rows[j] = out
        if not weight.any():
            return -np.inf
        total += float(np.log(weight.mean()))
        pick = rng.choice(K, K, p=weight / weight.sum())
        stimulus = {c: np.empty(K, dtype=np.int8) for c in kernels}
        for out in rows.values():
            terms = np.stack([term for term, _ in out])[:, pick]  # (n_rows, K)
            cum = np.cumsum(terms, axis=0)
            row = (rng.random(K) * cum[-1] > cum).sum(axis=0)
            for c in kernels:
                if c in out[0][1]:
                    values_c = np.stack([np.broadcast_to(stim[c], (K,)) for _, stim in out])  # (n_rows, K)
                    stimulus[c] = values_c[row, pick].astype(np.int8)
        for c, (kernel, state) in kernels.items():
            for key in state:
                state[key] = state[key][:, pick]
            kernel.decide(t, np.full((1, K), prev[c], dtype=np.int8), stimulus[c][None, :], state, None)
    return total


def _tables(kernel, state, t, own, K, L1) -> np.ndarray:
    """Each particle's decision for every stimulus as response tables, shape (K, L1, L1, L1)."""
    trial = {key: np.repeat(a, L1, axis=1) for key, a in state.items()}  # particle-major copies
    stimulus = np.tile(np.arange(L1, dtype=np.int8), K)[None, :]
    nxt = np.asarray(kernel.decide(t, np.full((1, K * L1), own, dtype=np.int8), stimulus, trial, None))
    rows = np.zeros((K, L1, L1))
    np.put_along_axis(rows, nxt.reshape(K, L1, 1).astype(np.intp), 1.0, axis=2)
    return np.broadcast_to(rows[:, None], (K, L1, L1, L1))
