"""One step of docs/model.md as a probability: ``P(executed levels of one component of cells |
the previous levels)``, every hidden draw of the step summed out, for many parameter sets at once.

A component's perceived levels are enumerated (perception noise, attribution draws); for each
outcome the cells' intended levels follow from their response tables, and the observed executed
levels from control (the militia's intended level capped by the patron's, which is summed
over), sparks, execution slips and scripted acts. Arrays have a leading axis over parameter
sets (length ``n``, or 1 when shared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Structure, Values


@dataclass
class Component:
    """Cells tied by attribution or control; independent of the other components given the
    previous levels."""

    cells: list[int]
    attribution: list[tuple[int, int, int]]  # (src, dst, militia) inside the component
    groups: list[tuple[int, list[tuple[int, int]]]]  # (patron cell, [(militia cell, militia)])
    free: list[int]  # cells outside any control group


class Cache:
    """What one evaluation reuses across local transitions: perceived-level rows, observation
    kernels, intended-level distributions and their products, keyed by the integers that fix
    them (all of them are arrays over the parameter sets)."""

    def __init__(self, s: Structure, v: Values):
        self.s, self.v = s, v
        self.store: dict = {}

    def get(self, key, make):
        value = self.store.get(key)
        if value is None:
            value = self.store[key] = make()
        return value


def component_probability(s: Structure, v: Values, comp: Component, first, script, prev, x, only,
                           cache=None, decided=None, rows_out=None) -> np.ndarray:
    """Probability of the observed levels ``x`` of the component's cells, shape (n,).
    ``decided`` maps cells of stateful policies to the level they intend in this step;
    ``rows_out``, a list, receives each outcome of the perceived levels as ``(its share of the
    probability (n,), {cell: stimulus})`` (the particle filter samples stimuli from it)."""
    n = v.n
    decided = decided or {}
    if cache is None or only is not None:
        cache = Cache(s, v)
        g = {c: _observation(s, v, c, script, x, n, only) for c in comp.cells}
    else:
        g = {c: cache.get(("g", c, script.get(c, -1), int(x[c])),
                          lambda c=c: _observation(s, v, c, script, x, n, None)) for c in comp.cells}
    seen = tuple(prev[s.reverse[comp.cells]].tolist())
    rows = cache.get(("rows", comp.cells[0], seen), lambda: _perceived_rows(s, v, comp, prev, n))
    felt = {c: cache.get(("felt", c, prev.tobytes()), lambda c=c: _felt(s, v, c, prev, n)) for c in comp.cells}
    first = bool(first)

    def intend(c, stimulus):
        if c in decided:
            return _one_hot(decided[c], s.top)
        if np.ndim(stimulus):
            return _intended(s, v, c, first, prev, stimulus, n)
        return cache.get(("q", c, first, int(prev[c]), int(stimulus)),
                         lambda: _intended(s, v, c, first, prev, stimulus, n))

    def free(c, stimulus):  # P(observed | stimulus) of a cell outside control
        if np.ndim(stimulus) or only is not None:
            return np.einsum("ny,ny->n", intend(c, stimulus), g[c])
        return cache.get(("free", c, first, int(prev[c]), int(stimulus), script.get(c, -1), int(x[c]),
                          decided.get(c, -1)),
                         lambda: np.einsum("ny,ny->n", intend(c, stimulus), g[c]))

    total = np.zeros(n)
    for prob, perceived in rows:
        stimuli = {c: np.maximum(perceived[c], felt[c]) for c in comp.cells}
        term = prob
        for c in comp.free:
            term = term * free(c, stimuli[c])
        for head, members in comp.groups:
            inner = intend(head, stimuli[head]) * g[head]  # (n, y_patron)
            for m_cell, mi in members:
                kappa = v.control[:, mi, None]
                capped = cache.get(("capped", m_cell, script.get(m_cell, -1), int(x[m_cell]), only),
                                   lambda: _capped(g[m_cell], s.top))  # (n, y_militia, y_patron)
                q = intend(m_cell, stimuli[m_cell])
                restrained = np.einsum("ny,nyz->nz", q, capped)
                inner = inner * (kappa * restrained + (1 - kappa) * free(m_cell, stimuli[m_cell])[:, None])
            term = term * inner.sum(axis=1)
        total = total + term
        if rows_out is not None:
            rows_out.append((np.broadcast_to(term, (n,)), stimuli))
    return total


def _perceived_rows(s: Structure, v: Values, comp: Component, prev, n):
    """Joint outcomes of the perceived levels of the component's cells: a list of
    ``(probability (n,), {cell: perceived level (int)})``."""
    rows = [(np.ones(n), {})]
    for c in comp.cells:
        seen = int(prev[s.reverse[c]])
        outcomes = _moves(seen, _rate(s, v, c, 0 if seen else 1), s.top)
        rows = [(p * q, {**vals, c: lv}) for p, vals in rows for lv, q in outcomes]
    a_all = v.attribution
    if comp.attribution and a_all.max() > 0:
        for src, dst, _ in comp.attribution:
            split = []
            for p, vals in rows:
                blamed = max(vals[dst], vals[src])
                if blamed == vals[dst]:
                    split.append((p, vals))
                    continue
                split.append((p * (1 - a_all), vals))
                split.append((p * a_all, {**vals, dst: blamed}))
            rows = split
    return rows


def _rate(s: Structure, v: Values, c: int, kind: int) -> np.ndarray:
    """Cell ``c``'s perception (``kind`` 0), false-alarm (1) or execution (2) rate, shape
    (n|1,): fixed by the cell's own rules (``Structure.cell_rates``: noise_toward, allies, the
    actor's noise, noise.false_alarm) or the fitted scenario-level one."""
    own = s.cell_rates[c][kind] if s.cell_rates else None
    if own is None and kind == 1:  # no false-alarm rule: quiet acts at the perception rate
        return _rate(s, v, c, 0)
    fitted = v.execution if kind == 2 else v.perception
    return fitted if own is None else np.full(fitted.shape, float(own))


def _moves(level: int, e: np.ndarray, top: int):
    """Outcomes of an off-by-one move with probability ``e`` (reflected at the ends)."""
    if not e.any():
        return [(level, np.ones_like(e))]
    up = level + 1 if level < top else top - 1
    down = level - 1 if level > 0 else 1
    if up == down:
        return [(level, 1 - e), (up, e)]
    return [(level, 1 - e), (up, e / 2), (down, e / 2)]


def _felt(s: Structure, v: Values, c: int, prev, n):
    """Protection: the level cell ``c``'s actor feels from attacks on those it protects (an int
    or an (n,) array)."""
    felt = 0
    for src, dst, key in s.protection:
        if dst == c and prev[src] > 0:
            level = np.minimum(np.floor(v.protection[key] * prev[src] + 0.5), s.top).astype(np.int64)
            felt = np.maximum(felt, level if len(level) > 1 else int(level[0]))
    return felt


def _one_hot(level: int, top: int) -> np.ndarray:
    out = np.zeros((1, top + 1))
    out[0, level] = 1.0
    return out


def _intended(s: Structure, v: Values, c: int, first, prev, stimulus, n) -> np.ndarray:
    """Distribution of cell ``c``'s intended level, shape (n, L+1) (or (1, L+1))."""
    if first and s.initial[c] >= 0:
        out = np.zeros((1, s.top + 1))
        out[0, s.initial[c]] = 1.0
        return out
    table = v.tables[s.slot_of_cell[c]]
    own = int(prev[c])
    if np.ndim(stimulus) == 0:
        return table[:, own, int(stimulus)]
    rows = np.arange(n) if len(table) > 1 else np.zeros(n, dtype=np.intp)
    return table[rows, own, stimulus]


def _observation(s: Structure, v: Values, c: int, script, x, n, only) -> np.ndarray:
    """``P(observed executed level of c | level after control = y)``, shape (n|1, L+1)."""
    L1 = s.top + 1
    if only is not None and c != only:
        return np.ones((1, L1))
    if c in script:
        return np.full((1, L1), float(script[c] == x[c]))
    e = _rate(s, v, c, 2)[:, None]
    e = e if e.any() else None
    kernel = _slip(int(x[c]), e, s.top)  # (n|1, L+1) over the level before the slip
    sparks = [mi for cell, mi in s.sparks if cell == c]
    for mi in sparks:
        p = v.spark[:, mi, None]
        level = v.spark_level[:, mi]
        raised = np.maximum(np.arange(L1)[None, :], level[:, None])
        rows = np.arange(n)[:, None] if len(kernel) > 1 else np.zeros((n, 1), dtype=np.intp)
        kernel = p * kernel[rows, raised] + (1 - p) * kernel
    return kernel


def _slip(x: int, e, top: int) -> np.ndarray:
    """``P(executed = x | level z)`` over z, shape (n|1, L+1)."""
    z = np.arange(top + 1)
    stay = (z == x).astype(float)[None, :]
    if e is None:
        return stay
    up = np.where(z < top, z + 1, top - 1)
    down = np.where(z > 0, z - 1, 1)
    moved = ((up == x).astype(float) + (down == x).astype(float))[None, :] / 2
    return (1 - e) * stay + e * moved


def _capped(g: np.ndarray, top: int) -> np.ndarray:
    """``g[min(y_militia, y_patron)]``, shape (n|1, L+1, L+1)."""
    z = np.arange(top + 1)
    return g[:, np.minimum(z[:, None], z[None, :])]
