"""``BatchResult``: a Monte Carlo batch's outcome distributions, as tidy pandas tables with
provenance, saved to and loaded from a folder (Parquet and JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import format as fmt
from .._frames import trajectory_frame
from ..core.plan import OUTCOMES
from ..scenario import Scenario, load_scenario
from .._text import show

MEASURES = ("end_step", "peak_level", "peak_step", "hostile_steps", "retaliations", "fatalities")
#: Escalation measures (docs/model.md), after MEASURES in ``runs``; results saved before them lack them.
ESCALATION_MEASURES = ("peak_after_script", "threshold_step", "escalation_velocity", "escalation_score")
PER_ACTOR = ("harm_inflicted", "harm_received", "payoff")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def wilson_interval(count, n, z: float = 1.959963984540054):
    """Wilson score interval for a binomial proportion (95% by default); arrays broadcast.

    Parameters
    ----------
    count, n : int or array of int
        Successes and trials, ``0 <= count <= n``, ``n >= 1``.
    z : float
        Standard normal quantile of the confidence level.

    Returns
    -------
    low, high : float or array
        The interval's bounds (Wilson 1927). They lie in ``[0, 1]`` and contain the estimate
        ``count / n`` for every ``(count, n)``: exact arithmetic guarantees both, and the
        bounds are clipped so that rounding cannot break them (``(16, 16)`` gave an upper
        bound of ``1 + 2**-52``, ``(0, 21)`` a lower bound of ``-1.4e-17``).
    """
    count, n = np.asarray(count, dtype=float), np.asarray(n, dtype=float)
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = np.minimum(np.maximum(centre - half, 0.0), p)
    high = np.maximum(np.minimum(centre + half, 1.0), p)
    return low, high


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
        return self.__repr__()

    def __repr__(self) -> str:
        """The outcome table and the measures' quantiles, as ``escalation-sim run`` prints them."""
        n_runs = int(self.outcomes["count"].sum())
        return (f"Summary of {n_runs:,} runs\n\n{fmt.outcome_table(self.outcomes)}\n\n"
                f"{fmt.measure_table(self.measures)}")

    def _repr_html_(self) -> str:
        n_runs = int(self.outcomes["count"].sum())
        return fmt.html_block([f"Summary of {n_runs:,} runs"], fmt.html_table(fmt.outcome_rows(self.outcomes)),
                                 fmt.html_table(fmt.measure_rows(self.measures), index=True))


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

    def __init__(self, scenario: Scenario, runs: dict | None, counts: np.ndarray, metadata: dict, *,
                 levels: np.ndarray | None = None, pairs: np.ndarray, runs_file: Path | None = None):
        if runs is None and runs_file is None:
            raise ValueError("a BatchResult needs its per-run columns or the Parquet file holding them")
        self.scenario = scenario
        self._runs = runs
        self._runs_file = runs_file
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
        """The header and outcome table of ``escalation-sim run``; reads only the outcome column."""
        return "\n".join(["BatchResult: " + fmt.batch_header(self)[0], *fmt.batch_header(self)[1:], "",
                          fmt.outcome_table(self._outcomes())])

    def _repr_html_(self) -> str:
        header = fmt.batch_header(self)
        return fmt.html_block(["BatchResult: " + header[0], *header[1:]],
                                 fmt.html_table(fmt.outcome_rows(self._outcomes())))

    def _outcomes(self) -> pd.DataFrame:
        """``Summary.outcomes`` without the measures: outcome, count, probability, low, high."""
        counts = np.bincount(self.column("outcome").astype(np.intp), minlength=len(OUTCOMES))
        counts = counts[[OUTCOMES.index(k) for k in fmt.OUTCOME_NAMES]]
        low, high = wilson_interval(counts, self.n_runs)
        return pd.DataFrame({"outcome": list(fmt.OUTCOME_NAMES), "count": counts,
                             "probability": counts / self.n_runs, "low": low, "high": high})

    # -- tables ------------------------------------------------------------------------------
    @property
    def runs(self) -> pd.DataFrame:
        """One row per run: run, outcome, the measures, and per actor
        ``harm_inflicted_<id>``, ``harm_received_<id>``, ``payoff_<id>``.

        A result read from a folder loads this table on first use; ``column(name)`` reads a
        single column, which is all that ``summary``, ``survival`` and the plots need.
        """
        if self._frame is None and self._runs is None:
            self._frame = _damaged_as_result_error(self._runs_file, pd.read_parquet, self._runs_file)
        if self._frame is None:
            self._frame = runs_frame(self._runs, self.scenario.actor_ids)
        return self._frame

    def measure_names(self) -> list[str]:
        """Names of the numeric per-run columns, in the order of ``runs``."""
        return [*MEASURES, *self._escalation_measures(),
                *(f"{key}_{a}" for key in PER_ACTOR for a in self.scenario.actor_ids)]

    def _escalation_measures(self) -> list[str]:
        if self._runs is not None:
            return [m for m in ESCALATION_MEASURES if m in self._runs]
        if self._frame is not None:
            return [m for m in ESCALATION_MEASURES if m in self._frame]
        import pyarrow.parquet as pq

        names = pq.read_schema(self._runs_file).names
        return [m for m in ESCALATION_MEASURES if m in names]

    def column(self, name: str) -> np.ndarray:
        """One per-run column as a NumPy array, shape ``(n_runs,)``, without building ``runs``.

        ``outcome`` comes as its codes (``OUTCOMES.index(name)``: 0 ongoing, 1 war, 2 ceasefire).
        """
        if self._runs is not None:
            for measure in PER_ACTOR:
                if name.startswith(measure + "_"):
                    return self._runs[measure][self.scenario.actor_ids.index(name[len(measure) + 1:])]
            return self._runs[name] if name != "run" else np.arange(self.n_runs)
        if self._frame is not None:
            values = self._frame[name]
            return values.cat.codes.to_numpy() if name == "outcome" else values.to_numpy()
        return _read_column(self._runs_file, name)

    def summary(self, quantiles=QUANTILES) -> Summary:
        """Outcome probabilities with 95% Wilson intervals, and the mean and quantiles of every
        measure. Reads one column at a time, so it works on results larger than memory."""
        counts = np.bincount(self.column("outcome").astype(np.intp), minlength=len(OUTCOMES))
        order = [OUTCOMES.index(k) for k in ("war", "ceasefire", "ongoing")]
        counts = counts[order]
        low, high = wilson_interval(counts, self.n_runs)
        outcomes = pd.DataFrame({"outcome": ["war", "ceasefire", "ongoing"], "count": counts,
                                 "probability": counts / self.n_runs, "low": low, "high": high})
        rows = {}
        for name in self.measure_names():
            rows[name] = _mean_and_quantiles(self.column(name), quantiles)
        columns = ["mean", *(f"q{int(round(q * 100)):02d}" for q in quantiles)]
        measures = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
        measures.index.name = "measure"
        return Summary(outcomes, measures)

    def survival(self) -> pd.DataFrame:
        """P(no war by step t), with 95% Wilson intervals: columns step, survival, low, high."""
        war_steps = self.column("end_step")[self.column("outcome") == OUTCOMES.index("war")]
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
            raise IndexError(f"run must be an integer in 0..{self.n_runs - 1}, got {show(run)}")
        end = int(self.column("end_step")[run]) + 1
        return trajectory_frame(self._levels[:end, :, run], self.pairs, self.scenario.actor_ids)

    # -- two players on two levels ---------------------------------------------------------
    @property
    def is_match(self) -> bool:
        """Whether the batch is a match of the iterated prisoner's dilemma: two actors on a
        two-level ladder (0 = cooperate, 1 = defect), as in ``ipd_noise`` and ``echo_generosity``."""
        return len(self.scenario.actors) == 2 and len(self.scenario.ladder) == 2

    def state_counts(self) -> np.ndarray:
        """Number of turns of each run spent in CC, CD, DC and DD (the first actor's act first).

        Derived from per-run columns: on two levels a defection inflicts the severity of level 1,
        so harm inflicted counts a player's defections, and a hostile step is one in which at
        least one player defected.

        Returns
        -------
        ndarray of int64, shape (n_runs, 4)
            Each row sums to the run's number of turns (``end_step + 1``).

        Raises
        ------
        ValueError
            If the batch is not a match (``is_match``).
        """
        if not self.is_match:
            raise ValueError(f"{self.scenario.name}: state counts need two actors on a two-level ladder, "
                             f"not {len(self.scenario.actors)} actors on {len(self.scenario.ladder)} levels")
        a, b = self.scenario.actor_ids
        severity = self.scenario.ladder[1].severity
        turns = self.column("end_step").astype(np.int64) + 1
        hostile = self.column("hostile_steps").astype(np.int64)
        da = np.rint(self.column(f"harm_inflicted_{a}") / severity).astype(np.int64)
        db = np.rint(self.column(f"harm_inflicted_{b}") / severity).astype(np.int64)
        dd = da + db - hostile
        return np.column_stack([turns - hostile, db - dd, da - dd, dd])

    def match_summary(self) -> pd.DataFrame:
        """What a match is about, per turn: the cooperation rate, the shares of CC, CD, DC and
        DD, and each player's mean payoff per turn, with 95% intervals.

        Each run counts once: the value is the mean over runs of the run's share (or payoff per
        turn), its standard error the runs' standard deviation over sqrt(n_runs), and the
        interval the mean +- 1.96 standard errors.

        Returns
        -------
        DataFrame
            Index ``quantity``: ``cooperation``, ``CC``, ``CD``, ``DC``, ``DD``,
            ``payoff_<id>`` for each actor; columns ``mean``, ``se``, ``low``, ``high``.

        Raises
        ------
        ValueError
            If the batch is not a match (``is_match``).
        """
        counts = self.state_counts()
        turns = counts.sum(axis=1, keepdims=True)
        shares = counts / turns
        ids = self.scenario.actor_ids
        per_run = {"cooperation": shares[:, 0] + (shares[:, 1] + shares[:, 2]) / 2,
                   **{state: shares[:, k] for k, state in enumerate(("CC", "CD", "DC", "DD"))},
                   **{f"payoff_{a}": self.column(f"payoff_{a}") / turns[:, 0] for a in ids}}
        rows = {}
        for name, values in per_run.items():
            mean = float(values.mean())
            se = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
            rows[name] = (mean, se, mean - 1.959963984540054 * se, mean + 1.959963984540054 * se)
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "se", "low", "high"])
        table.index.name = "quantity"
        return table

    # -- files -------------------------------------------------------------------------------
    def save(self, folder) -> Path:
        """Write ``runs.parquet``, ``counts.parquet``, ``metadata.json``, ``scenario.yaml``
        (and ``levels.npy`` for trajectories) into ``folder``, created if needed."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.runs.to_parquet(folder / "runs.parquet", index=False)
        self.save_tables(folder)
        return folder

    def save_tables(self, folder: Path) -> None:
        """Everything ``save`` writes but the per-run table."""
        counts = self.level_distribution().drop(columns="probability")
        counts["count"] = self.counts.ravel()
        counts.to_parquet(folder / "counts.parquet", index=False)
        (folder / "metadata.json").write_text(json.dumps(self.metadata, indent=2) + "\n")
        self.scenario.save(folder / "scenario.yaml")
        if self._levels is not None:
            np.save(folder / "levels.npy", self._levels)


def _damaged_as_result_error(path: Path, read, *args):
    """``read(*args)``; a damaged file shows as ``ResultError`` naming it, whenever it is read
    (the per-run table is read lazily, after ``load_result`` has returned)."""
    import pyarrow as pa

    try:
        return read(*args)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        if isinstance(exc, ResultError):
            raise
        raise ResultError(f"{path}: unreadable ({str(exc)[:200]})") from None


def _read_column(path: Path, name: str) -> np.ndarray:
    """One column of a runs Parquet file (read row group by row group; see ``_column``); a
    damaged file raises ``ResultError`` naming it."""
    return _damaged_as_result_error(path, _column, path, name)


def _column(path: Path, name: str) -> np.ndarray:
    """One column of a runs Parquet file, read row group by row group into one array, so that
    memory holds the column and a single row group; ``outcome`` comes as its codes."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, memory_map=True)
    out = None
    start = 0
    for group in range(parquet.num_row_groups):
        chunk = parquet.read_row_group(group, columns=[name]).column(0).combine_chunks()
        if name == "outcome":  # dictionary-encoded: map the indices onto OUTCOMES' codes
            codes = np.array([OUTCOMES.index(v) for v in chunk.dictionary.to_pylist()], dtype=np.int8)
            values = codes[chunk.indices.to_numpy()]
        else:
            values = chunk.to_numpy()
        if out is None:
            out = np.empty(parquet.metadata.num_rows, dtype=values.dtype)
        out[start : start + len(values)] = values
        start += len(values)
    return out


def _mean_and_quantiles(values: np.ndarray, quantiles) -> list[float]:
    """The mean and ``np.quantile``'s (linear) quantiles; integer columns are counted with
    ``bincount`` instead of sorted, so that no copy of the column is made."""
    q = np.asarray(list(quantiles), dtype=float)
    mean = values.mean(dtype=np.float64)
    if values.dtype.kind not in "iu" or values.size == 0 or values.min() < 0 or values.max() > 10**7:
        return [mean, *np.quantile(values, q)]
    ends = np.cumsum(np.bincount(values))  # ends[v]: number of values <= v

    def kth(k):  # the k-th smallest value (0-based), for arrays of k
        return np.searchsorted(ends, k, side="right")

    h = (values.size - 1) * q
    low = np.floor(h).astype(np.int64)
    below, above = kth(low), kth(np.minimum(low + 1, values.size - 1))
    return [mean, *(below + (h - low) * (above - below))]


def runs_frame(runs: dict, actor_ids, first_run: int = 0) -> pd.DataFrame:
    """The per-run table of runs ``first_run ..`` from their columns (``engine.run_chunk``'s or
    ``Batch``'s dict: per-actor measures of shape ``(n_actors, n)``)."""
    n = len(runs["outcome"])
    columns = {"run": np.arange(first_run, first_run + n, dtype=np.int64),
               "outcome": pd.Categorical.from_codes(runs["outcome"], categories=list(OUTCOMES))}
    columns.update({k: runs[k] for k in MEASURES})
    columns.update({k: runs[k] for k in ESCALATION_MEASURES if k in runs})
    for key in PER_ACTOR:
        for k, actor in enumerate(actor_ids):
            columns[f"{key}_{actor}"] = runs[key][k]
    return pd.DataFrame(columns, copy=False)


class ResultError(ValueError):
    """A folder does not hold a consistent saved result; the message names the file."""


class MissingResultFile(ResultError, FileNotFoundError):
    """A file of a saved result is missing (also a ``FileNotFoundError``, as it was before)."""


#: Per-run columns every saved result has (with per-actor columns beside them).
SAVED_COLUMNS = ("run", "outcome", *MEASURES)


def load_result(folder) -> BatchResult:
    """Read a folder written by ``BatchResult.save`` (or ``escalation-sim run --out``).

    The per-run table stays on disk until ``result.runs`` is first used; ``summary``,
    ``survival`` and ``column`` read only the columns they need.

    Raises
    ------
    ResultError
        If a file is missing, unreadable or inconsistent with the others (metadata, per-run
        table, level counts, scenario hash); the message names the file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingResultFile(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder")
    for name in ("runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml"):
        if not (folder / name).is_file():
            raise MissingResultFile(f"{folder}: no {name}; not a saved batch result")
    metadata = _read_metadata(folder / "metadata.json")
    try:
        scenario = load_scenario(folder / "scenario.yaml")
    except ValueError as exc:
        raise ResultError(str(exc)) from None
    if metadata.get("scenario_hash") != scenario.hash():
        raise ResultError(f"{folder / 'scenario.yaml'}: its hash {scenario.hash()} is not the scenario_hash "
                          f"of metadata.json ({_short(metadata.get('scenario_hash'))}); the files are of different runs")
    n_runs, n_steps = metadata["n_runs"], metadata["n_steps"]
    _check_runs_file(folder / "runs.parquet", n_runs, scenario)
    counts, pairs = _read_counts(folder / "counts.parquet", scenario, n_runs, n_steps)
    levels_file = folder / "levels.npy"
    levels = _read_levels(levels_file, (n_steps, len(pairs), n_runs)) if levels_file.is_file() else None
    return BatchResult(scenario, None, counts, metadata, levels=levels, pairs=pairs,
                       runs_file=folder / "runs.parquet")


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _read_metadata(path: Path) -> dict:
    try:
        if path.stat().st_size > 1 << 20:
            raise ResultError(f"{path}: too large for a result's metadata")
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultError(f"{path}: unreadable ({_short(str(exc))})") from None
    if not isinstance(metadata, dict):
        raise ResultError(f"{path}: expected a JSON object, got a {type(metadata).__name__}")
    for key in ("n_runs", "n_steps"):
        value = metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ResultError(f"{path}: {key} is {_short(value)}; expected a whole number of at least 1")
    seed = metadata.get("seed")
    if not isinstance(seed, dict) or not isinstance(seed.get("entropy"), int):
        raise ResultError(f"{path}: seed is {_short(seed)}; expected {{'entropy': ..., 'spawn_key': [...]}}")
    return metadata


def _check_runs_file(path: Path, n_runs: int, scenario: Scenario) -> None:
    """The per-run table must have ``n_runs`` rows, the runs ``0..n_runs-1`` in order, and
    every column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = set(parquet.schema_arrow.names)
        rows = parquet.metadata.num_rows
        runs = pq.read_table(path, columns=["run"]).column(0).to_numpy() if "run" in names else None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ResultError(f"{path}: unreadable ({_short(str(exc))})") from None
    wanted = [*SAVED_COLUMNS, *(f"{k}_{a}" for k in PER_ACTOR for a in scenario.actor_ids)]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ResultError(f"{path}: no column {missing[0]}; not the per-run table of this scenario")
    if rows != n_runs:
        raise ResultError(f"{path}: {rows:,} rows, but metadata.json says n_runs = {n_runs:,}")
    if not np.array_equal(runs, np.arange(n_runs)):
        raise ResultError(f"{path}: the run column is not 0..{n_runs - 1} in order")


def _read_counts(path: Path, scenario: Scenario, n_runs: int, n_steps: int):
    """Level counts, shape ``(n_steps, n_pairs, n_levels)``, and the pairs; every step of every
    pair must count each run once."""
    import pyarrow as pa

    try:
        frame = pd.read_parquet(path)
        index = {a: k for k, a in enumerate(scenario.actor_ids)}
        pair_keys = frame[["actor", "target"]].drop_duplicates()
        pairs = np.array([(index[a], index[t]) for a, t in pair_keys.itertuples(index=False)])
        counts = frame["count"].to_numpy().reshape(n_steps, len(pairs), len(scenario.ladder))
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as exc:
        raise ResultError(f"{path}: not the level counts of this scenario and horizon ({_short(str(exc))})") from None
    if not (counts.sum(axis=2) == n_runs).all():
        raise ResultError(f"{path}: the counts of a step do not add up to n_runs = {n_runs:,} (metadata.json)")
    return counts, pairs


def _read_levels(path: Path, shape: tuple) -> np.ndarray:
    try:
        levels = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ResultError(f"{path}: unreadable ({_short(str(exc))})") from None
    if levels.shape != shape:
        raise ResultError(f"{path}: shape {levels.shape}, expected {shape}")
    return levels
