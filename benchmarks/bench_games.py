"""The game-theory workloads of issue 14 beside the Axelrod library, side by side in one process
(ratios matter: the machines are shared).

    python benchmarks/bench_games.py                 # both
    python benchmarks/bench_games.py --only moran    # or: --only tournament

Moran: 20 players of 4 strategies (5 each), 200-turn matches, mutation 0.01 so that no
population stops at fixation; axelrod's ``MoranProcess`` advances one population a generation at
a time, ``games.moran`` advances ``--populations`` of them together: the measure is generations
(of one population) per second. Deterministic players (cooperator, defector, tit for tat,
grudger: axelrod caches their matches) and stochastic ones (random, generous tit for tat, Joss,
Grofman: every match is played).

First tournament: the fifteen entries, 200 turns, 5 repetitions, on one core: axelrod's
``Tournament.play(processes=1)`` and ``games.first_tournament()``.

Needs ``pip install axelrod`` besides the package.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

TURNS, N_PER, MUTATION = 200, 5, 0.01
MORAN_SETS = {
    "deterministic": (["always_cooperate", "always_defect", "tit_for_tat", "grudger"],
                      ["Cooperator", "Defector", "TitForTat", "Grudger"]),
    "stochastic": (["random", "generous_tit_for_tat", "first_by_joss", "first_by_grofman"],
                   ["Random", "GTFT", "FirstByJoss", "FirstByGrofman"]),
}


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def moran_side_by_side(axl, kind: str, generations: int, populations: int, axl_generations: int) -> dict:
    from escalation_sim.games import moran

    ours, theirs = MORAN_SETS[kind]
    if kind == "stochastic":
        from escalation_sim.games import STRATEGIES
        ours = [STRATEGIES["random"], {"family": "generous_tit_for_tat", "generosity": 1 / 3},
                "first_by_joss", "first_by_grofman"]
        ours = dict(zip(["random", "gtft", "joss", "grofman"], ours))

    def run_ours():
        moran(ours, [N_PER] * 4, turns=TURNS, mutation_rate=MUTATION, n_runs=populations,
              generations=generations, rng=1)

    def run_theirs():
        players = [getattr(axl, name)() for name in theirs for _ in range(N_PER)]
        process = axl.MoranProcess(players, turns=TURNS, mutation_rate=MUTATION, seed=1)
        for _ in range(axl_generations):
            next(process)

    t_ours = best(run_ours, 2)
    t_theirs = best(run_theirs, 2)
    ours_rate = generations * populations / t_ours
    theirs_rate = axl_generations / t_theirs
    return {"ours_generations_per_s": ours_rate, "axelrod_generations_per_s": theirs_rate,
            "ratio": ours_rate / theirs_rate}


def tournament_side_by_side(axl) -> dict:
    from escalation_sim.games import first_tournament

    def run_ours():
        first_tournament(rng=1)

    def run_theirs():
        players = [s() for s in axl.axelrod_first_strategies]
        axl.Tournament(players, turns=TURNS, repetitions=5, seed=1).play(processes=1, progress_bar=False)

    run_ours()  # warm up (imports, compiled plans)
    t_ours = best(run_ours, 3)
    t_theirs = best(run_theirs, 2)
    return {"ours_s": t_ours, "axelrod_s": t_theirs, "ratio": t_theirs / t_ours}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["moran", "tournament"])
    parser.add_argument("--populations", type=int, default=1000)
    args = parser.parse_args()
    import axelrod as axl

    if args.only in (None, "moran"):
        for kind, (gens, axl_gens) in {"deterministic": (200, 100), "stochastic": (3, 5)}.items():
            print(f"moran {kind}:", moran_side_by_side(axl, kind, gens, args.populations if kind == "deterministic" else 100,
                                                       axl_gens))
    if args.only in (None, "tournament"):
        print("first tournament:", tournament_side_by_side(axl))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
