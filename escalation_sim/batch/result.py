"""``BatchResult``: a Monte Carlo batch's outcome distributions, as tidy pandas tables with
provenance, saved to and loaded from a folder (Parquet and JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._frames import trajectory_frame
from ..core.plan import OUTCOMES
from ..scenario import Scenario, load_scenario

MEASURES = ("end_step", "peak_level", "peak_step", "hostile_steps", "retaliations", "fatalities")
PER_ACTOR = ("harm_inflicted", "harm_received", "payoff")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def wilson_interval(count, n, z: float = 1.959963984540054):
    """Wilson score interval for a binomial proportion (95% by default); arrays broadcast."""
    count, n = np.asarray(count, dtype=float), np.asarray(n, dtype=float)
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@dataclass(frozen=True)
class Summary:
    """``outcomes``: outcome, count, probability, low, high (95% Wilson).
    ``measures``: one row per numeric measure, its mean and quantiles."""

    outcomes: pd.DataFrame
    measures: pd.DataFrame

    def to_dict(self) -> dict:
        return {"outcomes": self.outcomes.to_dict(orient="records"),
                "measures": self.measures.reset_index().to_dict(orient="records")}

    def __str__(self) -> str:
        with pd.option_context("display.width", 120, "display.max_columns", 20):
            return f"{self.outcomes.to_string(index=False)}\n\n{self.measures.to_string()}"


class BatchResult:
    """The result of ``simulate``.

    Attributes
    ----------
    scenario : Scenario
    metadata : dict
        Package version, scenario name and hash, seed (entropy and spawn key), n_runs,
        n_steps, stream block, creation time (UTC).
    counts : ndarray, shape (n_steps, n_pairs, n_levels)
        Number of runs in which each actor acted toward each target at each level, per step.
        A run that has ended counts at its final levels in every later step.
    pairs : ndarray, shape (n_pairs, 2)
        Actor indices (actor, target) of each pair.
    """

    def __init__(self, scenario: Scenario, runs: dict, counts: np.ndarray, metadata: dict, *,
                 levels: np.ndarray | None = None, pairs: np.ndarray):
        self.scenario = scenario
        self._runs = runs
        self.counts = counts
        self.metadata = metadata
        self.pairs = np.asarray(pairs)
        self._levels = levels
        self._frame = None

    @property
    def levels(self) -> np.ndarray | None:
        """Every executed level, shape ``(n_steps, n_pairs, n_runs)`` (zero after a run's end),
        when simulated with ``trajectories=True``; else ``None``."""
        return self._levels

    @property
    def n_runs(self) -> int:
        return int(self.metadata["n_runs"])

    @property
    def n_steps(self) -> int:
        return int(self.metadata["n_steps"])

    def __repr__(self) -> str:
        p = self.runs["outcome"].value_counts(normalize=True)
        shares = ", ".join(f"{k} {p.get(k, 0):.3f}" for k in ("war", "ceasefire", "ongoing"))
        return f"<BatchResult {self.scenario.name}: {self.n_runs} runs x {self.n_steps} steps; {shares}>"

    # -- tables ------------------------------------------------------------------------------
    @property
    def runs(self) -> pd.DataFrame:
        """One row per run: run, outcome, the measures, and per actor
        ``harm_inflicted_<id>``, ``harm_received_<id>``, ``payoff_<id>``."""
        if self._frame is None:
            r = self._runs
            columns = {"run": np.arange(self.n_runs, dtype=np.int64),
                       "outcome": pd.Categorical.from_codes(r["outcome"], categories=list(OUTCOMES))}
            columns.update({k: r[k] for k in MEASURES})
            for key in PER_ACTOR:
                for k, actor in enumerate(self.scenario.actor_ids):
                    columns[f"{key}_{actor}"] = r[key][k]
            self._frame = pd.DataFrame(columns, copy=False)
        return self._frame

    def summary(self, quantiles=QUANTILES) -> Summary:
        """Outcome probabilities with 95% Wilson intervals, and quantiles of the measures."""
        runs = self.runs
        counts = runs["outcome"].value_counts().reindex(["war", "ceasefire", "ongoing"], fill_value=0)
        low, high = wilson_interval(counts.to_numpy(), self.n_runs)
        outcomes = pd.DataFrame({"outcome": counts.index.astype(str), "count": counts.to_numpy(),
                                 "probability": counts.to_numpy() / self.n_runs, "low": low, "high": high})
        numeric = runs.drop(columns=["run", "outcome"])
        measures = numeric.quantile(list(quantiles)).T
        measures.columns = [f"q{int(round(q * 100)):02d}" for q in quantiles]
        measures.insert(0, "mean", numeric.mean())
        measures.index.name = "measure"
        return Summary(outcomes, measures)

    def survival(self) -> pd.DataFrame:
        """P(no war by step t), with 95% Wilson intervals: columns step, survival, low, high."""
        r = self._runs
        war_steps = r["end_step"][r["outcome"] == OUTCOMES.index("war")]
        wars = np.cumsum(np.bincount(war_steps.astype(np.intp), minlength=self.n_steps))
        low, high = wilson_interval(self.n_runs - wars, self.n_runs)
        return pd.DataFrame({"step": np.arange(self.n_steps), "survival": 1 - wars / self.n_runs,
                             "low": low, "high": high})

    def level_distribution(self) -> pd.DataFrame:
        """Tidy table: step, actor, target, level, probability (over runs)."""
        n_steps, n_pairs, n_levels = self.counts.shape
        ids = np.array(self.scenario.actor_ids, dtype=object)
        step, pair, level = np.meshgrid(np.arange(n_steps), np.arange(n_pairs), np.arange(n_levels), indexing="ij")
        return pd.DataFrame({
            "step": step.ravel(),
            "actor": ids[self.pairs[pair.ravel(), 0]],
            "target": ids[self.pairs[pair.ravel(), 1]],
            "level": level.ravel(),
            "probability": self.counts.ravel() / self.n_runs,
        })

    def trajectory(self, run: int) -> pd.DataFrame:
        """Every executed level of one run up to its end: columns step, actor, target, level.

        Needs ``simulate(..., trajectories=True)``.
        """
        if self._levels is None:
            raise ValueError("this batch kept no trajectories: simulate with trajectories=True")
        if isinstance(run, bool) or not isinstance(run, (int, np.integer)) or not 0 <= run < self.n_runs:
            raise IndexError(f"run must be an integer in 0..{self.n_runs - 1}, got {run!r}")
        end = int(self._runs["end_step"][run]) + 1
        return trajectory_frame(self._levels[:end, :, run], self.pairs, self.scenario.actor_ids)

    # -- files -------------------------------------------------------------------------------
    def save(self, folder) -> Path:
        """Write ``runs.parquet``, ``counts.parquet``, ``metadata.json``, ``scenario.yaml``
        (and ``levels.npy`` for trajectories) into ``folder``, created if needed."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.runs.to_parquet(folder / "runs.parquet", index=False)
        counts = self.level_distribution().drop(columns="probability")
        counts["count"] = self.counts.ravel()
        counts.to_parquet(folder / "counts.parquet", index=False)
        (folder / "metadata.json").write_text(json.dumps(self.metadata, indent=2) + "\n")
        self.scenario.save(folder / "scenario.yaml")
        if self._levels is not None:
            np.save(folder / "levels.npy", self._levels)
        return folder


def load_result(folder) -> BatchResult:
    """Read a folder written by ``BatchResult.save`` (or ``escalation-sim run --out``)."""
    folder = Path(folder)
    for name in ("runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder}: no {name}; not a saved batch result")
    metadata = json.loads((folder / "metadata.json").read_text())
    scenario = load_scenario(folder / "scenario.yaml")
    frame = pd.read_parquet(folder / "runs.parquet")
    ids = scenario.actor_ids
    runs = {"outcome": pd.Categorical(frame["outcome"], categories=list(OUTCOMES)).codes.astype(np.int8)}
    runs.update({k: frame[k].to_numpy() for k in MEASURES})
    for key in PER_ACTOR:
        runs[key] = np.stack([frame[f"{key}_{a}"].to_numpy() for a in ids])
    counts_frame = pd.read_parquet(folder / "counts.parquet")
    index = {a: k for k, a in enumerate(ids)}
    n_steps = int(metadata["n_steps"])
    n_levels = len(scenario.ladder)
    pair_keys = counts_frame[["actor", "target"]].drop_duplicates()
    pairs = np.array([(index[a], index[t]) for a, t in pair_keys.itertuples(index=False)])
    counts = counts_frame["count"].to_numpy().reshape(n_steps, len(pairs), n_levels)
    levels_file = folder / "levels.npy"
    levels = np.load(levels_file) if levels_file.is_file() else None
    return BatchResult(scenario, runs, counts, metadata, levels=levels, pairs=pairs)
