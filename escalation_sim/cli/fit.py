"""``escalation-sim fit``: fit a scenario's open parameters to a timeline, resumably."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import numpy as np

from ..batch.lock import folder_lock
from .common import (OK, PROG, UsageError, add_json, add_scenario_options, command, drawn_seed, emit_json,
                     load_with_overrides, note, percent, positive_int, seed_int, show_progress)
from .likelihood import add_timeline_options, load_timeline

FIT_EXAMPLES = """\
  escalation-sim fit us_iran_2020_record us_iran_2020_record --exogenous --seed 1 \\
      --param actors.USA.policy.ratio=0.5:2 --param actors.IRN.policy.generosity=0:1 --out fits/record
  escalation-sim fit my.yaml events.csv --param noise.execution=0:0.1 --out fits/mine --predict 100000
"""

FIT_HELP = """\
Fit the parameters named by --param (key paths, uniform prior on LOW:HIGH) to a timeline with
MCMC (emcee) on the exact likelihood, or with --method abc by sequential Monte Carlo ABC on
summary statistics (for stateful policies under noise, which have no exact likelihood), and
write the posterior samples, the maximum-likelihood point (ABC: the particle of smallest
distance), the diagnostics and figures to --out DIR. The MCMC chain is written batch by batch:
run the same command again to resume an interrupted fit where it stopped.
"""

MANIFEST = "fit_manifest.json"


def add(sub) -> None:
    p = command(sub, "fit", FIT_HELP, FIT_EXAMPLES, cmd_fit)
    add_scenario_options(p)
    add_timeline_options(p)
    p.add_argument("--param", action="append", default=[], required=True, metavar="KEY=LOW:HIGH",
                   help="a parameter to fit and its bounds (repeatable)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder of the fit (resumed if it holds one)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="seed of the fit (default: fresh entropy, printed)")
    p.add_argument("--exogenous", action="store_true", help="take the acts the scenario cannot produce as given")
    p.add_argument("--walkers", type=positive_int, metavar="N", help="walkers of the ensemble (default max(32, 4 x params))")
    p.add_argument("--batch-steps", type=positive_int, default=250, metavar="N", help="steps per stored batch (default 250)")
    p.add_argument("--max-steps", type=positive_int, default=20_000, metavar="N", help="longest chain (default 20000)")
    p.add_argument("--method", choices=("emcee", "abc"), default="emcee",
                   help="emcee: MCMC on the exact likelihood (default); abc: sequential Monte Carlo ABC on summary "
                        "statistics, for scenarios without an exact likelihood (not resumable)")
    p.add_argument("--particles", type=positive_int, default=200, metavar="N",
                   help="ABC: particles per generation (default 200)")
    p.add_argument("--particle-runs", type=positive_int, default=20, metavar="N",
                   help="ABC: runs simulated per parameter set (default 20)")
    p.add_argument("--generations", type=positive_int, default=8, metavar="N", help="ABC: most generations (default 8)")
    p.add_argument("--predict", type=positive_int, metavar="N", help="also simulate N posterior predictive runs")
    p.add_argument("--force", action="store_true", help="discard a fit with other settings in DIR and start again")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="do not draw figures")
    p.add_argument("--progress", action="store_true", default=None, help="show a progress bar on standard error")
    add_json(p)


def cmd_fit(args) -> int:
    from ..analysis.sweep import parse_bounds
    from ..inference import fit

    scenario = load_with_overrides(args)
    timeline = load_timeline(args, scenario)
    params = dict(parse_bounds(text) for text in args.param)
    with folder_lock(args.out):  # one writer per folder; a second one is refused at once
        settings = _settings(args, scenario, timeline, params)
        store = _BatchStore(args.out, settings, args.force)
        try:
            if args.method == "abc":
                result = fit(scenario, timeline, params, method="abc", rng=settings["seed"], exogenous=args.exogenous,
                             n_particles=args.particles, n_runs=args.particle_runs, max_generations=args.generations,
                             progress=bool(show_progress(args)))
            else:
                result = fit(scenario, timeline, params, rng=settings["seed"], exogenous=args.exogenous,
                             n_walkers=args.walkers, batch_steps=args.batch_steps, max_steps=args.max_steps,
                             batches=store, progress=bool(show_progress(args)))
        except KeyboardInterrupt:
            words = [a for a in args.argv if a != "--force"] + ([] if args.seed is not None else ["--seed", str(settings["seed"])])
            note(f"the finished batches are kept in {args.out}; resume with:\n  {shlex.join([PROG, *words])}")
            raise
        result.save(args.out)
        predictive = _predict(args, result)
        if args.figures:
            _figures(args.out, result, predictive, scenario)
    _print(args, result, predictive)
    return OK


def _settings(args, scenario, timeline, params) -> dict:
    levels = np.asarray(timeline.levels(scenario))
    return {"scenario_hash": scenario.hash(), "timeline_hash": hashlib.sha256(levels.tobytes()).hexdigest()[:16],
            "params": {k: list(v) for k, v in params.items()}, "exogenous": args.exogenous,
            "walkers": args.walkers, "batch_steps": args.batch_steps,
            "seed": args.seed if args.seed is not None else _stored_seed(args.out) or drawn_seed(),
            **({"method": "abc", "particles": args.particles, "particle_runs": args.particle_runs,
                "generations": args.generations} if args.method == "abc" else {})}


def _stored_seed(folder: Path):
    path = folder / MANIFEST
    return json.loads(path.read_text())["seed"] if path.is_file() else None


class _BatchStore:
    """Batches of the chain as files ``chain/batch_NNNNN.npz``: ``fit`` asks for batch ``k``
    and runs it only when the folder does not hold it yet."""

    def __init__(self, folder: Path, settings: dict, force: bool):
        self.folder = folder / "chain"
        manifest = folder / MANIFEST
        if manifest.is_file():
            previous = json.loads(manifest.read_text())
            if previous != settings:
                if not force:
                    changed = sorted(k for k in settings if previous.get(k) != settings[k])
                    raise UsageError(f"{folder} holds a fit with other settings ({', '.join(changed)}); "
                                     "use another folder, or start again with --force")
                for old in self.folder.glob("batch_*.npz"):
                    old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(settings, indent=2) + "\n")
        self.resumed = len(list(self.folder.glob("batch_*.npz")))
        if self.resumed:
            note(f"resuming: {self.resumed} batches of the chain are already in {folder}")

    def __call__(self, k: int, run):
        path = self.folder / f"batch_{k:05d}.npz"
        if path.is_file():
            with np.load(path) as data:
                return data["coords"], data["log_prob"]
        coords, log_prob = run()
        partial = path.with_suffix(".tmp.npz")
        np.savez(partial, coords=coords, log_prob=log_prob)
        partial.replace(path)  # a batch is there whole or not at all
        return coords, log_prob


def _predict(args, result):
    if not args.predict:
        return None
    predictive = result.predict(args.predict, rng=np.random.SeedSequence(_stored_seed(args.out), spawn_key=(1 << 30,)),
                                progress=bool(show_progress(args)))
    predictive.draws.to_csv(args.out / "predictive_draws.csv", index=False)
    predictive.summary().to_csv(args.out / "predictive_summary.csv")
    return predictive


def _figures(folder: Path, result, predictive, scenario) -> None:
    from ..inference import scenario_values
    from ..inference.plots import fan_chart, posterior_marginals, posterior_pairs

    handset = scenario_values(scenario, result.keys)
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    posterior_marginals(result, handset=handset).savefig(figures / "posterior_marginals.png", dpi=110)
    posterior_pairs(result).savefig(figures / "posterior_pairs.png", dpi=110)
    if predictive is not None:
        fan_chart(predictive, result.observed, result.scenario_base).savefig(figures / "fan_chart.png", dpi=110)


def _print(args, result, predictive) -> None:
    if args.json:
        data = {"out": str(args.out), "mle": result.mle, "diagnostics": result.diagnostics,
                "intervals": result.intervals().reset_index().to_dict(orient="records"),
                "exogenous": result.exogenous.to_dict(orient="records")}
        if predictive is not None:
            data["predictive"] = predictive.summary().reset_index().to_dict(orient="records")
        emit_json(data)
        return
    print(repr(result))
    for act in result.exogenous.to_dict(orient="records"):
        print(f"  taken as given: step {act['step']}, {act['actor']} -> {act['target']}, level {act['level']}")
    if predictive is not None:
        table = predictive.summary()
        for outcome in ("war", "ceasefire", "ongoing"):
            row = table.loc[outcome]
            print(f"P({outcome}) = {percent(row['probability'])} [{percent(row['low'])}, {percent(row['high'])}]")
    note(f"wrote {args.out}")
