"""Text and HTML renderings of results, shared by the objects' ``repr`` and the command line.

Probabilities are shown as percentages with their 95% intervals, as ``escalation-sim run``
prints them. The module sits in the batch layer so that ``BatchResult``, ``Summary``,
``SweepResult`` and the CLI all import it and nothing imports upward; it reads its arguments by
their attributes and columns only.
"""

from __future__ import annotations

import html

import pandas as pd

OUTCOME_NAMES = ("war", "ceasefire", "ongoing")
#: Rows of a sweep shown in a notebook before the middle ones are elided.
HTML_MAX_ROWS = 20


def percent(p: float) -> str:
    """``0.1234`` -> ``"12.34%"``; small probabilities keep two significant digits."""
    if abs(p) < 1e-12:  # a Wilson bound at 0 comes out as a rounding residue
        return "0.00%"
    return f"{100 * p:.2f}%" if p >= 1e-4 else f"{100 * p:.2g}%"


def interval(low: float, high: float) -> str:
    """A 95% interval in percent: ``"11.90% - 12.78%"``."""
    return f"{percent(low)} - {percent(high)}"


# -- batches -------------------------------------------------------------------------------------

def batch_header(result) -> list[str]:
    """The title and the line saying what was run: scenario, hash, runs, steps and unit, seed."""
    meta, scenario, t = result.metadata, result.scenario, result.scenario.time
    unit = f"{t.step_unit}s" if t.step_length == 1 else f"{t.step_length:g} {t.step_unit}s each"
    return [scenario.title or scenario.name,
            f"scenario {scenario.name} (hash {meta['scenario_hash']}): {result.n_runs:,} runs of "
            f"{result.n_steps:,} steps ({unit}), seed {meta['seed']['entropy']}"]


def outcome_rows(outcomes: pd.DataFrame) -> pd.DataFrame:
    """``Summary.outcomes`` as the strings the CLI prints: outcome, probability, interval, runs."""
    return pd.DataFrame({
        "outcome": list(outcomes["outcome"]),
        "probability": [percent(p) for p in outcomes["probability"]],
        "95% interval": [interval(lo, hi) for lo, hi in zip(outcomes["low"], outcomes["high"])],
        "runs": [f"{int(n):,}" for n in outcomes["count"]],
    })


def outcome_table(outcomes: pd.DataFrame) -> str:
    """The outcome table of ``escalation-sim run``, from ``Summary.outcomes``."""
    rows = [f"{'outcome':<10} {'probability':>11}   {'95% interval':<19} {'runs':>11}"]
    for r in outcome_rows(outcomes).itertuples(index=False):
        rows.append(f"{r[0]:<10} {r[1]:>11}   {r[2]:<19} {r[3]:>11}")
    return "\n".join(rows)


def measure_table(measures: pd.DataFrame, names=None) -> str:
    """Mean and quantiles of the run measures ``names`` (default all), one row each."""
    names = list(measures.index if names is None else names)
    width = max(len(n) for n in names) + 2
    titles = ["mean" if c == "mean" else f"{int(c[1:])}%" for c in measures.columns]
    rows = [f"{'per run':<{width}}" + "".join(f"{t:>10}" for t in titles)]
    for name in names:
        rows.append(f"{name:<{width}}" + "".join(f"{v:>10.4g}" for v in measures.loc[name]))
    return "\n".join(rows)


def measure_rows(measures: pd.DataFrame) -> pd.DataFrame:
    """The measures table with the CLI's column titles and four significant digits."""
    titles = {c: "mean" if c == "mean" else f"{int(c[1:])}%" for c in measures.columns}
    return measures.rename(columns=titles).map(lambda v: f"{v:.4g}")


def html_table(frame: pd.DataFrame, *, index: bool = False, max_rows: int | None = None) -> str:
    """A table for a notebook: strings right-aligned, as in the text."""
    return frame.to_html(index=index, max_rows=max_rows, justify="right", border=0,
                         classes="escalation-sim")


def html_block(lines, *tables: str) -> str:
    """Heading lines (escaped) followed by the tables."""
    head = "<br>".join(html.escape(line) for line in lines)
    return f"<div><p>{head}</p>{''.join(tables)}</div>"


# -- sweeps --------------------------------------------------------------------------------------

def sweep_header(result) -> str:
    """The three header lines of a printed sweep: title, design and seed, what the table shows."""
    meta, scenario = result.metadata, result.scenario
    return (f"{scenario.title or scenario.name}\nsweep of {scenario.name}: {len(result.table)} points "
            f"({meta['design']}), {meta['n_runs']:,} runs each, seed {meta['seed']['entropy']}\n"
            "outcome probabilities with 95% intervals")


def sweep_rows(result) -> pd.DataFrame:
    """One row per point: the parameters, each outcome as ``p (low-high)`` in percent, and the
    mean measures rounded to three decimals."""
    table = result.table
    columns = {"point": table["point"]}
    columns.update({key: table[key] for key in result.parameters})
    for outcome in OUTCOME_NAMES:
        columns[outcome] = [f"{percent(p)} ({percent(lo)}-{percent(hi)})" for p, lo, hi in
                            zip(table[f"p_{outcome}"], table[f"p_{outcome}_low"], table[f"p_{outcome}_high"])]
    columns.update({c: table[c].round(3) for c in table.columns if c.startswith("mean_")})
    return pd.DataFrame(columns)


def sweep_text(result) -> str:
    """The sweep as ``escalation-sim sweep`` prints it: a header and every point, every column."""
    return f"{sweep_header(result)}\n\n{sweep_rows(result).to_string(index=False)}"
