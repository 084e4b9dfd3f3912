"""Policies with memory beyond one step, where the exact likelihood can still follow them.

A stateful policy (grim trigger, tit for two tats, contrite tit-for-tat, ledger) decides from
its own previous level, its stimulus and a state built from past stimuli. When its stimulus is
a function of the observed previous levels (no perception noise, no attribution onto its cell,
protection weights fixed) its state and its decision in every step follow from the observed
path alone, and the likelihood stays exact: its intended level is known in each step, and the
draws after it (control, sparks, execution slips) are summed out as for any other cell. Under
perception noise or attribution the state depends on hidden draws; that case takes the particle
filter of ``particle.py`` (``particles=N``), and is refused with a clear error without it.
"""

from __future__ import annotations

import numpy as np

from .params import Structure, Values
from .transition import _felt


def stateful_cells(scenario, structure: Structure) -> list[int]:
    """Cells whose policy has memory beyond one step."""
    return [c for c, (i, j) in enumerate(structure.pairs)
            if getattr(scenario.actors[i].policy_for(structure.ids[j]), "memory", 1) != 1]


def check_fitted(scenario, structure: Structure, keys, cells) -> None:
    """Refuse fitted keys that are a stateful policy's own parameters."""
    for c in cells:
        slot = structure.slots[structure.slot_of_cell[c]]
        prefix = f"actors.{slot[0]}.policy." if len(slot) == 1 else f"actors.{slot[0]}.policy_toward.{slot[1]}."
        for key in keys:
            if key.startswith(prefix):
                raise NotImplementedError(f"{key}: a parameter of a policy with memory beyond one step cannot be "
                                          "fitted with the likelihood yet")


def stateful_decisions(scenario, structure: Structure, keys, observed) -> list[dict] | None:
    """Per step, ``{cell: intended level}`` of the cells whose policy is stateful (``None``
    when there are none).

    Raises
    ------
    NotImplementedError
        When a stateful policy's stimulus is not fixed by the observed levels, or a fitted
        key would change its decisions.
    """
    cells = stateful_cells(scenario, structure)
    if not cells:
        return None
    _check(scenario, structure, keys, cells)
    base = Values.of(scenario, structure)
    ladder = scenario.policy_ladder()
    kernels = {}
    for c in cells:
        i, j = structure.pairs[c]
        kernel = scenario.actors[i].policy_for(structure.ids[j]).compile(ladder)
        kernels[c] = (kernel, kernel.initial_state((1, 1)))
    path = observed[:, [i for i, _ in structure.pairs], [j for _, j in structure.pairs]].astype(np.int64)
    prev = np.zeros(len(structure.pairs), dtype=np.int64)
    out = []
    for t in range(len(path)):
        step = {}
        for c, (kernel, state) in kernels.items():
            stimulus = max(int(prev[structure.reverse[c]]), int(_felt(structure, base, c, prev, 1)))
            level = kernel.decide(t, np.array([[prev[c]]], dtype=np.int8), np.array([[stimulus]], dtype=np.int8),
                                  state, None)
            step[c] = int(np.asarray(level).reshape(-1)[0])
        out.append(step)
        prev = path[t]
    return out


def _check(scenario, structure: Structure, keys, cells) -> None:
    ids = structure.ids
    names = ", ".join(f"{ids[structure.pairs[c][0]]} -> {ids[structure.pairs[c][1]]}" for c in cells)
    why = None
    misread = any(max(structure.cell_rates[c][:2], key=lambda x: x or 0) for c in cells) if structure.cell_rates else False
    if scenario.noise.perception > 0 or "noise.perception" in keys or misread:
        why = "perception noise (or false alarms) makes its stimulus, and so its state, a hidden draw"
    elif any(dst in cells for _, dst, _ in structure.attribution) and (
            scenario.noise.attribution > 0 or "noise.attribution" in keys):
        why = "attribution makes its stimulus a hidden draw"
    else:
        felt_keys = {f"actors.{a}.protects.{b}" for _, dst, (a, b) in structure.protection if dst in cells}
        actors = {ids[structure.pairs[c][0]] for c in cells}
        for key in keys:
            parts = key.split(".")
            if key in felt_keys or (parts[0] == "actors" and parts[1] in actors and parts[2] in ("policy", "policy_toward")):
                why = f"the fitted key {key} changes its decisions"
                break
    if why:
        raise NotImplementedError(
            f"{scenario.name}: {names}: memory beyond one step, and {why}; the exact likelihood follows a stateful "
            "policy only when the observed levels fix its state; pass particles=N for a particle-filter estimate "
            "(see docs/fitting.md)")
