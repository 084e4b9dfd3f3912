"""Parameter sweeps: a scenario run at every point of a grid or of a Latin hypercube.

A *point* is a set of overrides by key path (``{"noise.execution": 0.05}``) applied with
``with_overrides``, so every point is validated like a file. Each point is one Monte Carlo
batch (``simulate``) with its own seed spawned from the sweep's one ``SeedSequence``; its
outcome probabilities (with 95% Wilson intervals) and the means of chosen measures make one
row of a tidy table.

The module holds the parsing of grids and bounds, the running of points, ``sweep`` and its
``SweepResult``. The Sobol' analysis (``analysis.sensitivity``) runs its points with the same
helpers.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import json
import math
import numbers
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from .. import __version__
from .._progress import progress_bar
from .._rng import RngLike, seed_sequence
from ..batch import format as fmt, simulate, wilson_interval
from ..batch.result import MEASURES, PER_ACTOR
from ..scenario import Scenario, load_scenario, with_overrides
from .._text import show
from ..scenario import as_scenario

OUTCOMES = ("war", "ceasefire", "ongoing")
DEFAULT_MEASURES = ("end_step", "peak_level", "fatalities")
#: Points simulated at once when an executor is given: enough to keep a pool's workers busy,
#: few enough that the per-run tables of the points in flight stay small.
POINTS_IN_FLIGHT = 16
#: The most points a grid axis (``lo:hi:n``) or a command-line design may have.
MAX_POINTS = 100_000
_MISSING = object()


# -- grids ------------------------------------------------------------------------------------

def parse_grid(text: str) -> tuple[str, list]:
    """Read one grid axis from a command-line string.

    ``"key.path=lo:hi:n"`` gives ``n`` evenly spaced values from ``lo`` to ``hi`` inclusive
    (integers when ``lo``, ``hi`` and the spacing are whole numbers); ``"key.path=a,b,c"``
    gives a list, each value read as a YAML scalar (``0.05``, ``1e-3``, ``true``,
    ``tit_for_tat``); ``"key.path=a"`` gives one value.

    Returns
    -------
    (key, values) : tuple of str and list

    Raises
    ------
    ValueError
        If the string is not of one of these forms; the message quotes it.
    """
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise ValueError(f"grid {show(text)}: expected key.path=lo:hi:n or key.path=a,b,c")
    if ":" in value:
        return key, _parse_range(text, value)
    items = [item.strip() for item in value.split(",")]
    if len(items) > MAX_POINTS:
        raise ValueError(f"grid {show(key)}: {len(items):,} values; at most {MAX_POINTS:,}")
    if not all(items):
        raise ValueError(f"grid {show(text)}: an empty value in the list {show(value)}")
    values = [_scalar(text, item) for item in items]
    if len(set(map(_sort_key, values))) < len(values):
        raise ValueError(f"grid {show(text)}: a value is listed twice")
    return key, values


def parse_bounds(text: str) -> tuple[str, tuple[float, float]]:
    """Read one parameter's range from a command-line string ``"key.path=lo:hi"``, for
    ``sweep(lhs=...)`` and ``sensitivity``.

    Raises
    ------
    ValueError
        If the string is not of that form or ``lo >= hi``; the message quotes it.
    """
    key, sep, value = text.partition("=")
    key, parts = key.strip(), [part.strip() for part in value.split(":")]
    bounds = [_scalar(text, part) if part else None for part in parts]
    if not sep or not key or len(bounds) != 2 or not all(_is_number(b) for b in bounds):
        raise ValueError(f"bounds {show(text)}: expected key.path=lo:hi with numbers lo < hi")
    if not bounds[0] < bounds[1]:
        raise ValueError(f"bounds {show(text)}: lo must be less than hi")
    return key, (bounds[0], bounds[1])


def _parse_range(text: str, value: str) -> list:
    parts = [part.strip() for part in value.split(":")]
    if len(parts) != 3:
        raise ValueError(f"grid {show(text)}: expected lo:hi:n (three numbers), got {show(value)}")
    lo, hi, n = (_scalar(text, part) for part in parts)
    if not (_is_number(lo) and _is_number(hi)):
        raise ValueError(f"grid {show(text)}: expected lo:hi:n with numbers lo and hi, got {show(value)}")
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_POINTS:
        raise ValueError(f"grid {show(text)}: n in lo:hi:n must be an integer in 2..{MAX_POINTS:,}, got {show(parts[2])}")
    values = [float(f"{v:.12g}") for v in np.linspace(lo, hi, n)]
    if all(isinstance(v, int) for v in (lo, hi)) and all(v.is_integer() for v in values):
        return [int(v) for v in values]
    return values


def _scalar(text: str, item: str):
    """A YAML scalar; ``1e-3`` (a string to YAML 1.1, which wants ``1.0e-3``) is a number."""
    try:
        value = yaml.safe_load(item)
    except yaml.YAMLError:
        raise ValueError(f"grid {show(text)}: cannot read {show(item)} as a YAML scalar") from None
    if isinstance(value, str):
        try:
            return float(value) if math.isfinite(float(value)) else value
        except ValueError:
            return value
    if isinstance(value, (list, dict)) or value is None:
        raise ValueError(f"grid {show(text)}: {show(item)} is not a single value")
    return value


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _integer_keys(scenario: Scenario, keys) -> dict[str, bool | None]:
    """Per key path: whether the scenario holds an integer there, or ``None`` for a key the
    file does not have (a policy parameter left at its default)."""
    data = scenario.to_dict()
    return {key: _holds_integer(data, key) for key in keys}


def _holds_integer(data, key: str) -> bool | None:
    node: Any = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdecimal() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return isinstance(node, int) and not isinstance(node, bool)


def _typed(value, integer: bool | None):
    """A value as the scenario holds it: rounded (halves up) where the scenario has an
    integer, and whole floats as integers where the key is new (a level, a cap)."""
    value = _plain(value)
    if _is_number(value) and (integer or (integer is None and float(value).is_integer())):
        return int(math.floor(value + 0.5))
    return value


def _sort_key(value):
    return (0, value, "") if _is_number(value) else (1, 0, repr(value))


def grid_points(scenario: Scenario, grid: Mapping[str, Sequence]) -> tuple[list[str], list[tuple]]:
    """The points of a full factorial grid, in canonical order.

    Keys are sorted by name and each key's values ascending (after rounding integer
    parameters; values that round together count once), so a grid lists the same points in
    the same order however its keys and values were ordered.

    Returns
    -------
    keys : list of str
    points : list of tuple, one value per key each
    """
    if not grid:
        raise ValueError("grid: expected at least one key path with its values")
    keys = sorted(grid)
    integer = _integer_keys(scenario, keys)
    axes = []
    for key in keys:
        values = np.atleast_1d(np.asarray(grid[key], dtype=object)).tolist()
        if not values:
            raise ValueError(f"grid: {key}: expected at least one value")
        typed = {_sort_key(v): v for v in (_typed(v, integer[key]) for v in values)}
        axes.append(sorted(typed.values(), key=_sort_key))
    return keys, list(itertools.product(*axes))


def lhs_points(scenario: Scenario, bounds: Mapping[str, tuple[float, float]], n: int,
               seq: np.random.SeedSequence) -> tuple[list[str], list[tuple]]:
    """``n`` Latin hypercube points over ``bounds`` (keys sorted by name). An integer parameter
    is drawn on ``[lo - 0.5, hi + 0.5)`` and rounded, so each of ``lo..hi`` is equally likely."""
    keys, lows, highs, integer = _bounds(scenario, bounds)
    unit = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(seq)).random(n)
    return keys, _columns_to_points(keys, qmc.scale(unit, lows, highs).T, integer)


def _bounds(scenario: Scenario, bounds):
    """Keys sorted by name, their lows and highs (arrays of shape ``(d,)``, widened by a half
    for integers), and whether each is an integer: one where the scenario holds an integer,
    or a new key (a policy parameter at its default) with integer bounds."""
    if not bounds:
        raise ValueError("bounds: expected at least one key path with its (low, high)")
    keys = sorted(bounds)
    integer = _integer_keys(scenario, keys)
    lows, highs = [], []
    for key in keys:
        pair = [_plain(v) for v in np.asarray(bounds[key], dtype=object).ravel()]
        if len(pair) != 2 or not all(_is_number(v) for v in pair) or not pair[0] < pair[1]:
            raise ValueError(f"bounds: {key}: expected (low, high) with low < high, got {show(bounds[key])}")
        if integer[key] is None:
            integer[key] = all(isinstance(v, int) for v in pair)
        widen = 0.5 if integer[key] else 0.0
        lows.append(float(pair[0]) - widen)
        highs.append(float(pair[1]) + widen)
    return keys, np.array(lows), np.array(highs), integer


def _columns_to_points(keys, x: np.ndarray, integer) -> list[tuple]:
    """Points from an array of parameter values of shape ``(d, n)``. Samples lie in
    ``[lo, hi)``, so an integer drawn on ``[lo - 0.5, hi + 0.5)`` rounds into ``lo..hi``."""
    return [tuple(_typed(float(v), integer[k]) for k, v in zip(keys, column)) for column in np.asarray(x).T]


def _scenarios(scenario: Scenario, keys, points) -> list[Scenario]:
    """Every point's scenario, built before anything runs so that a bad point fails first."""
    return [with_overrides(scenario, dict(zip(keys, point))) for point in points]


# -- running points ---------------------------------------------------------------------------

def _children(seq: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """What ``seq.spawn(n)`` gives on a fresh ``seq``, whatever ``seq`` spawned before, so
    that passing the same ``SeedSequence`` twice gives the same sweep (as ``simulate`` does)."""
    return [_child(seq, k) for k in range(n)]


def _child(seq: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, k))


def check_measures(scenario: Scenario, measures) -> tuple[str, ...]:
    """Validate measure names: outcomes (for probabilities) or columns of ``BatchResult.runs``."""
    known = list(OUTCOMES) + list(MEASURES) + [f"{k}_{a}" for k in PER_ACTOR for a in scenario.actor_ids]
    measures = (measures,) if isinstance(measures, str) else tuple(measures)
    for m in measures:
        if m not in known:
            raise ValueError(f"measures: unknown measure {show(m)}; expected one of {', '.join(known)}")
    return measures


def _point_row(scenario, seed, n_runs, n_steps, measures, executor) -> dict:
    result = simulate(scenario, n_runs, rng=seed, n_steps=n_steps, executor=executor)
    runs = result.runs
    counts = runs["outcome"].value_counts().reindex(list(OUTCOMES), fill_value=0).to_numpy()
    low, high = wilson_interval(counts, n_runs)
    # a Wilson bound can miss 0 or 1 by a rounding error (1e-19 at a count of 0)
    low, high = np.minimum(low, counts / n_runs), np.maximum(high, counts / n_runs)
    row = {"n_runs": n_runs}
    for k, outcome in enumerate(OUTCOMES):
        row.update({f"p_{outcome}": counts[k] / n_runs, f"p_{outcome}_low": low[k],
                    f"p_{outcome}_high": high[k]})
    for m in measures:
        if m not in OUTCOMES:
            row.update({f"mean_{m}": float(runs[m].mean()), f"se_{m}": float(runs[m].sem())})
    return row


def _evaluate(scenarios, seeds, *, n_runs, n_steps, measures, executor, progress) -> list[dict]:
    """One row per point. With an executor, several points are in flight at once (each
    ``simulate`` call sends its chunks to the executor), so a pool stays busy even when a
    point is a single chunk; the rows are the same either way."""
    args = (n_runs, n_steps, measures, executor)
    bar = progress_bar(len(scenarios), enabled=progress, unit="point", desc="points")
    try:
        if executor is None:
            rows = []
            for scenario, seed in zip(scenarios, seeds):
                rows.append(_point_row(scenario, seed, *args))
                bar.update(1)
            return rows
        threads = ThreadPoolExecutor(max_workers=min(len(scenarios), POINTS_IN_FLIGHT))
        try:
            futures = [threads.submit(_point_row, s, seed, *args) for s, seed in zip(scenarios, seeds)]
            for future in as_completed(futures):
                future.result()  # raise the first failure at once
                bar.update(1)
            return [future.result() for future in futures]
        finally:
            threads.shutdown(cancel_futures=True)
    finally:
        bar.close()




def _load(scenario) -> Scenario:
    return as_scenario(scenario)


# -- sweep ------------------------------------------------------------------------------------

def sweep(scenario: Scenario | str, *, grid: Mapping[str, Sequence] | None = None,
          lhs: int | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
          n_runs: int, rng: RngLike = None, n_steps: int | None = None,
          executor: Executor | None = None, measures: Sequence[str] = DEFAULT_MEASURES,
          progress: bool = False) -> SweepResult:
    """Run a scenario at every point of a grid or of a Latin hypercube.

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name for ``load_scenario``
    grid : mapping of key path to a sequence of values, optional
        Full factorial grid, e.g. ``{"actors.USA.policy.ratio": np.linspace(0.5, 2, 7),
        "noise.execution": [0, 0.05, 0.1]}`` (21 points). Points are listed in canonical order
        (keys by name, values ascending; see ``grid_points``).
    lhs : int, optional
        Number of Latin hypercube points (``scipy.stats.qmc.LatinHypercube``) over ``bounds``.
    bounds : mapping of key path to (low, high), optional
        With ``lhs``: each parameter's range, uniform.
    n_runs : int
        Runs per point.
    rng : None, int, SeedSequence or Generator
        Fixes the whole sweep. Its ``SeedSequence`` spawns two children: the first draws the
        Latin hypercube, the second spawns one seed per point (point ``k`` gets child ``k``).
        A grid point's seed thus depends on its place in the canonical order only.
    n_steps : int, optional
        Horizon; the scenario's own by default.
    executor : concurrent.futures.Executor, optional
        Passed to ``simulate`` for every point; up to ``POINTS_IN_FLIGHT`` points run at once.
        The table is the same with or without it.
    measures : sequence of str
        Columns of ``BatchResult.runs`` whose means are tabulated (``mean_<measure>``, with
        the standard error ``se_<measure>``).
    progress : bool
        A progress bar over points, on standard error.

    Returns
    -------
    SweepResult
        ``table`` has one row per point (``n_points`` rows): ``point``, one column per key
        path, ``n_runs``, ``p_<outcome>``, ``p_<outcome>_low``, ``p_<outcome>_high`` for war,
        ceasefire and ongoing (95% Wilson), and ``mean_<measure>`` with its standard error
        ``se_<measure>``.

    Raises
    ------
    ValueError
        If neither or both of ``grid`` and ``lhs`` are given, or a measure is unknown.
    ScenarioError
        If a point is not a valid scenario; the message names the key path.
    """
    base = _load(scenario)
    measures = tuple(m for m in check_measures(base, measures) if m not in OUTCOMES)
    seq = seed_sequence(rng)
    design_seq, points_seq = _children(seq, 2)
    if (grid is None) == (lhs is None):
        raise ValueError("sweep: give either grid= or lhs= (with bounds=), not both or neither")
    if grid is not None:
        if bounds is not None:
            raise ValueError("sweep: bounds= goes with lhs=, not with grid=")
        keys, points = grid_points(base, grid)
    else:
        if bounds is None:
            raise ValueError("sweep: lhs= needs bounds={key path: (low, high), ...}")
        keys, points = lhs_points(base, bounds, _count("lhs", lhs), design_seq)
    scenarios = _scenarios(base, keys, points)
    rows = _evaluate(scenarios, _children(points_seq, len(points)), n_runs=_count("n_runs", n_runs),
                     n_steps=n_steps, measures=measures, executor=executor, progress=progress)
    table = pd.DataFrame([{"point": k, **dict(zip(keys, p)), **row}
                          for k, (p, row) in enumerate(zip(points, rows))])
    metadata = _metadata(base, seq, design="grid" if grid is not None else "lhs", parameters=keys,
                         n_runs=n_runs, n_steps=n_steps or base.n_steps, measures=list(measures))
    return SweepResult(table, base, metadata)


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer of at least 1, got {show(value)}")
    return int(value)


def _metadata(scenario: Scenario, seq: np.random.SeedSequence, **fields) -> dict:
    return {
        "package": "escalation-sim",
        "version": __version__,
        "kind": "sweep",
        "scenario": scenario.name,
        "scenario_hash": scenario.hash(),
        "seed": {"entropy": seq.entropy, "spawn_key": list(seq.spawn_key)},
        **fields,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


# -- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepResult:
    """The result of ``sweep``.

    Attributes
    ----------
    table : DataFrame
        One row per point: ``point``, the parameters (one column per key path), ``n_runs``,
        ``p_<outcome>`` with ``p_<outcome>_low`` and ``p_<outcome>_high`` (95% Wilson) for war,
        ceasefire and ongoing, and ``mean_<measure>`` with its standard error ``se_<measure>``.
    scenario : Scenario
        The scenario the overrides apply to.
    metadata : dict
        Package version, scenario name and hash, seed (entropy and spawn key), design
        (``"grid"`` or ``"lhs"``), parameters, n_runs, n_steps, measures, creation time.
    """

    table: pd.DataFrame
    scenario: Scenario
    metadata: dict

    @property
    def parameters(self) -> list[str]:
        """The key paths swept, in the table's column order."""
        return list(self.metadata["parameters"])

    def __repr__(self) -> str:
        """The sweep as ``escalation-sim sweep`` prints it: every point, outcomes in percent."""
        return "SweepResult: " + fmt.sweep_text(self)

    def _repr_html_(self) -> str:
        return fmt.html_block(("SweepResult: " + fmt.sweep_header(self)).splitlines(),
                                 fmt.html_table(fmt.sweep_rows(self), max_rows=fmt.HTML_MAX_ROWS))

    def point_scenario(self, point: int) -> Scenario:
        """The scenario of one point (a row's ``point``)."""
        row = self.table.loc[self.table["point"] == point]
        if row.empty:
            raise IndexError(f"point must be one of 0..{len(self.table) - 1}, got {show(point)}")
        return with_overrides(self.scenario, {k: _plain(row[k].iloc[0]) for k in self.parameters})

    def point_seed(self, point: int) -> np.random.SeedSequence:
        """The seed of one point: ``simulate(sr.point_scenario(k), n_runs, rng=sr.point_seed(k),
        n_steps=...)`` replays it, run for run."""
        seed = self.metadata["seed"]
        seq = np.random.SeedSequence(seed["entropy"], spawn_key=tuple(seed["spawn_key"]))
        return _children(_children(seq, 2)[1], len(self.table))[point]

    def save(self, folder) -> Path:
        """Write ``sweep.parquet``, ``sweep.json`` (the metadata), ``scenario.yaml`` and the
        manifest ``sweep-manifest.json`` (the files written, see ``clear_sweep``) into
        ``folder``, created if needed; ``load_sweep(folder)`` reads them back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(folder / "sweep.parquet", index=False)
        (folder / "sweep.json").write_text(json.dumps(self.metadata, indent=2) + "\n")
        self.scenario.save(folder / "scenario.yaml")
        _write_manifest(folder, list(SWEEP_FILES))
        return folder


#: The manifest of a sweep folder: ``{"kind": "sweep", "files": [...]}``, the files the sweep
#: wrote (figures added by ``record_sweep_files``), the only ones ``clear_sweep`` removes.
SWEEP_MANIFEST = "sweep-manifest.json"
SWEEP_FILES = ("sweep.parquet", "sweep.json", "scenario.yaml", SWEEP_MANIFEST)


def _write_manifest(folder: Path, files: list[str]) -> None:
    tmp = folder / f".tmp-{SWEEP_MANIFEST}"
    tmp.write_text(json.dumps({"kind": "sweep", "files": files}, indent=2) + "\n")
    tmp.replace(folder / SWEEP_MANIFEST)


def sweep_files(folder) -> list[str]:
    """The files a saved sweep lists in its manifest (a folder saved without one: the files
    ``save`` writes); ``[]`` for a folder that holds no sweep. Names leaving the folder
    (absolute, ``..``) are dropped."""
    folder = Path(folder)
    path = folder / SWEEP_MANIFEST
    if not path.is_file():
        return list(SWEEP_FILES[:-1]) if (folder / "sweep.json").is_file() else []
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # not a manifest of ours: nothing in the folder is known to be the sweep's
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, str) and f and not Path(f).is_absolute() and ".." not in Path(f).parts]


def record_sweep_files(folder, names) -> None:
    """Add files written into a sweep folder after ``save`` (figures) to its manifest."""
    folder = Path(folder)
    files = sweep_files(folder)
    _write_manifest(folder, files + [name for name in names if name not in files])


def clear_sweep(folder) -> list[str]:
    """Remove the files the sweep saved in ``folder`` listed (and folders they leave empty);
    anything else, a user's own files included, is kept. Returns the names removed."""
    folder = Path(folder)
    removed = []
    listed = sweep_files(folder)
    for name in listed:
        target = folder / name
        if target.is_file() or target.is_symlink():
            target.unlink()
            removed.append(name)
    for parent in sorted({(folder / name).parent for name in listed} - {folder}, key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            parent.rmdir()  # only if the sweep's files were all it held
    return removed


def load_sweep(folder) -> SweepResult:
    """Read a folder written by ``SweepResult.save``."""
    folder = Path(folder)
    for name in ("sweep.parquet", "sweep.json", "scenario.yaml"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder}: no {name}; not a saved sweep")
    metadata = json.loads((folder / "sweep.json").read_text())
    table = pd.read_parquet(folder / "sweep.parquet")
    return SweepResult(table, load_scenario(folder / "scenario.yaml"), metadata)
