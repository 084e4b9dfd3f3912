"""The ``escalation-sim`` command: every subcommand in-process through ``main`` and once as a
real process; exit codes, messages without tracebacks for user errors, and runs that survive
Ctrl-C and ``kill -9``."""

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim import cli
from escalation_sim.analysis.sweep import sweep
from escalation_sim.core import STREAM_BLOCK

ROOT = Path(__file__).resolve().parents[1]
STEPS = 30
FAST = ["--runs", "5000", "--steps", str(STEPS), "--seed", "11"]


def call(capsys, *argv):
    """Run ``escalation-sim argv`` in this process: (exit code, stdout, stderr)."""
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = call(capsys, "run", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def counts(summary) -> dict:
    return {row["outcome"]: row["count"] for row in summary["outcomes"]}


def expected_counts(result) -> dict:
    return result.runs["outcome"].value_counts().reindex(["war", "ceasefire", "ongoing"]).to_dict()


@pytest.fixture(scope="module")
def fast_reference():
    return es.simulate("us_iran_2020", 5000, rng=11, n_steps=STEPS)


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert np.array_equal(a.counts, b.counts)


# -- list, validate, describe ------------------------------------------------------------------

def test_list_names_every_bundled_scenario_with_its_title(capsys):
    code, out, _ = call(capsys, "list")
    assert code == 0
    for name in es.list_scenarios():
        assert f"{name}  " in out and es.load_scenario(name).title in out
    code, out, _ = call(capsys, "list", "--json")
    assert [row["name"] for row in json.loads(out)] == es.list_scenarios()


def test_validate_says_ok_or_names_the_problem_and_exits_2_if_any_is_invalid(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    data = es.load_scenario("us_iran_2020").to_dict()
    data["noise"]["execution"] = 1.5
    es.scenario.io.dump_yaml(data, bad)
    good = ROOT / "scenarios" / "us_iran_2020.yaml"
    code, out, _ = call(capsys, "validate", good)
    assert code == 0 and out.startswith("OK")
    code, out, err = call(capsys, "validate", good, bad, tmp_path / "missing.yaml")
    assert code == 2
    assert "noise.execution" in out and "missing.yaml: no such file" in out
    assert "Traceback" not in out + err


def test_describe_shows_actors_policies_per_target_events_and_rules(capsys):
    code, out, _ = call(capsys, "describe", "us_iran_2020")
    assert code == 0
    scenario = es.load_scenario("us_iran_2020")
    for actor in scenario.actors:
        assert f"{actor.id}: {actor.name}" in out
    assert "threshold(threshold=3) toward IRQ" in out
    assert "militia of IRN" in out
    assert "step 0: KH -> USA at lethal_proxy (4)" in out
    assert f"war: an executed level at or above war ({scenario.outcomes.war_level})" in out
    assert out == es.scenario.describe(scenario) + "\n"  # the CLI prints the library's text
    code, out, _ = call(capsys, "describe", "us_iran_2020", "--json")
    assert json.loads(out) == json.loads(json.dumps(scenario.to_dict()))


def test_describe_applies_overrides(capsys):
    code, out, _ = call(capsys, "describe", "us_iran_2020", "--set", "actors.USA.policy.ratio=1.5", "--json")
    assert code == 0 and json.loads(out)["actors"]["USA"]["policy"]["ratio"] == 1.5


# -- run ---------------------------------------------------------------------------------------

def test_run_prints_title_runs_seed_and_the_outcome_table(capsys, fast_reference):
    code, out, _ = call(capsys, "run", "us_iran_2020", *FAST)
    assert code == 0
    scenario = es.load_scenario("us_iran_2020")
    assert out.startswith(scenario.title)
    assert f"5,000 runs of {STEPS} steps" in out and "seed 11" in out
    summary = fast_reference.summary().outcomes.set_index("outcome")
    for outcome in ("war", "ceasefire", "ongoing"):
        row = summary.loc[outcome]
        line = next(line for line in out.splitlines() if line.startswith(outcome))
        assert f"{100 * row['probability']:.2f}%" in line and f"{int(row['count']):,}" in line
        assert f"{100 * row['high']:.2f}%" in line


def test_run_json_counts_equal_simulate(capsys, fast_reference):
    summary = run_json(capsys, "us_iran_2020", *FAST)
    assert counts(summary) == expected_counts(fast_reference)
    assert summary["seed"]["entropy"] == 11


def test_run_without_a_seed_prints_the_entropy_that_repeats_it(capsys):
    code, out, err = call(capsys, "run", "us_iran_2020", "--runs", "2000", "--steps", "10", "--json")
    assert code == 0
    seed = int(err.split("--seed ")[1].split(")")[0])
    summary = json.loads(out)
    assert summary["seed"]["entropy"] == seed
    assert counts(summary) == expected_counts(es.simulate("us_iran_2020", 2000, rng=seed, n_steps=10))


def test_run_applies_set_overrides_as_with_overrides(capsys):
    summary = run_json(capsys, "us_iran_2020", *FAST, "--set", "actors.IRN.policy.generosity=0.9",
                       "--set", "noise.execution=0.05")
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"),
                                 {"actors.IRN.policy.generosity": 0.9, "noise.execution": 0.05})
    assert counts(summary) == expected_counts(es.simulate(scenario, 5000, rng=11, n_steps=STEPS))
    assert summary["scenario_hash"] == es.with_overrides(scenario, {"time.n_steps": STEPS}).hash()


@pytest.mark.parametrize("override, named", [
    ("actors.USA.policy.ratio", "key.path=value"),
    ("actors.XX.policy.ratio=2", "actors.XX"),
    ("actors.USA.policy.ratoi=2", "actors.USA.policy.ratoi"),
    ("noise.execution=1.5", "noise.execution"),
    ("noise.execution=[1, ", "noise.execution"),
])
def test_a_bad_override_exits_2_naming_the_key(capsys, override, named):
    code, out, err = call(capsys, "run", "us_iran_2020", *FAST, "--set", override)
    assert code == 2 and out == ""
    assert named in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["run", "no_such_scenario"], "not a bundled scenario"),
    (["run", "missing/file.yaml"], "no such file"),
    (["run", "us_iran_2020", "--runs", "0"], "--runs: expected at least 1"),
    (["run", "us_iran_2020", "--seed", "-3"], "--seed"),
    (["run", "us_iran_2020", "--resume"], "--resume needs --out"),
    (["run", "us_iran_2020", "--show", "peace"], "--show"),
    (["run", "us_iran_2020", "--dask", "tcp://h:1", "--workers", "2"], "--workers"),
    (["describe", "us_iran_2020", "--steps", "x"], "--steps"),
    (["replay", "us_iran_2020", "--run", "3"], "--seed is required"),
    (["replay", "us_iran_2020", "--seed", "1", "--run", "-1"], "--run"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_usage_errors_exit_2_with_a_message_and_no_traceback(capsys, argv, message):
    code, out, err = call(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def example_commands(text: str) -> list[list[str]]:
    """The arguments of every line of ``text`` that is an ``escalation-sim`` command."""
    lines = (line.strip() for line in re.sub(r"\\\n\s*", " ", text).splitlines())  # join "\" continuations
    return [shlex.split(line, comments=True)[1:] for line in lines if line.startswith("escalation-sim ")]


def test_help_leads_with_examples_that_parse(capsys):
    for argv in ([], ["run"], ["replay"], ["sweep"], ["plot"], ["describe"], ["list"], ["validate"],
                 ["fit"], ["likelihood"], ["dashboard"]):
        code, out, _ = call(capsys, *argv, "--help")
        assert code == 0
        assert out.index("examples:") < out.index("options:")
        examples = example_commands(out)
        assert examples and all(example[0] == argv[0] for example in examples if argv)
        for example in examples:
            cli.build_parser().parse_args(example)


def subcommand_names() -> set[str]:
    """Every subcommand the parser knows (one per module of cli.SUBCOMMANDS)."""
    actions = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def test_every_command_in_the_docs_parses_and_every_subcommand_is_documented():
    examples = example_commands((ROOT / "docs" / "cli.md").read_text())
    for example in examples:
        cli.build_parser().parse_args(example)
    assert {e[0] for e in examples} == subcommand_names()


def test_steps_is_the_horizon_override(capsys):
    summary = run_json(capsys, "us_iran_2020", "--runs", "3000", "--seed", "4", "--steps", "9")
    assert summary["n_steps"] == 9
    assert counts(summary) == expected_counts(es.simulate("us_iran_2020", 3000, rng=4, n_steps=9))


def test_show_war_lists_the_war_runs_and_a_replay_command_that_replays_one(capsys, fast_reference):
    wars = np.flatnonzero((fast_reference.runs["outcome"] == "war").to_numpy())
    assert len(wars) > 0, "the fixed seed gives at least one war"
    code, out, _ = call(capsys, "run", "us_iran_2020", *FAST, "--show", "war")
    assert code == 0
    assert ", ".join(map(str, wars[:10])) in out
    command = out.strip().splitlines()[-1].split()
    assert command[:2] == ["escalation-sim", "replay"]
    assert command[command.index("--run") + 1] == str(wars[0])
    code, story, _ = call(capsys, *command[1:])
    assert code == 0 and "war" in story.splitlines()[-1].lower()


def test_show_in_json_lists_the_first_runs(capsys, fast_reference):
    summary = run_json(capsys, "us_iran_2020", *FAST, "--show", "ceasefire")
    ceasefires = np.flatnonzero((fast_reference.runs["outcome"] == "ceasefire").to_numpy())
    assert summary["show"]["count"] == len(ceasefires)
    assert summary["show"]["runs"] == ceasefires[:10].tolist()


def test_progress_bar_goes_to_stderr(capsys):
    code, out, err = call(capsys, "run", "us_iran_2020", *FAST, "--progress", "--json")
    assert code == 0 and "100%" in err and "100%" not in out


# -- run --out, resume, force, parallel --------------------------------------------------------

def test_run_out_writes_results_that_load_back_and_the_resolved_scenario_reproduces_them(capsys, tmp_path, fast_reference):
    out = tmp_path / "run"
    code, _, err = call(capsys, "run", "us_iran_2020", *FAST, "--out", out, "--no-figures")
    assert code == 0 and f"wrote {out}" in err
    assert_same(es.load_result(out), fast_reference)
    assert {"runs.parquet", "counts.parquet", "summary.json", "scenario.yaml", "metadata.json", "manifest.json"} <= {
        p.name for p in out.iterdir()}
    again = tmp_path / "again"
    code, _, _ = call(capsys, "run", out / "scenario.yaml", "--runs", "5000", "--seed", "11", "--out", again,
                      "--no-figures")
    assert code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), pd.read_parquet(again / "runs.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "counts.parquet"), pd.read_parquet(again / "counts.parquet"))


def test_run_out_draws_the_figures(capsys, tmp_path):
    out = tmp_path / "run"
    assert call(capsys, "run", "ipd_noise", "--runs", "500", "--seed", "1", "--out", out)[0] == 0
    assert (out / "figures" / "outcomes.png").stat().st_size > 0


def test_an_existing_output_folder_needs_resume_or_force(capsys, tmp_path, fast_reference):
    out = tmp_path / "run"
    assert call(capsys, "run", "us_iran_2020", *FAST, "--out", out, "--no-figures")[0] == 0
    code, stdout, err = call(capsys, "run", "us_iran_2020", *FAST, "--out", out, "--no-figures")
    assert code == 2 and stdout == "" and "--resume" in err and "--force" in err
    code, stdout, _ = call(capsys, "run", "us_iran_2020", *FAST, "--out", out, "--resume", "--json", "--no-figures")
    assert code == 0 and counts(json.loads(stdout)) == expected_counts(fast_reference)
    code, stdout, _ = call(capsys, "run", "us_iran_2020", "--steps", STEPS, "--out", out, "--resume", "--json",
                           "--no-figures")  # the seed and the number of runs from the folder
    assert code == 0 and counts(json.loads(stdout)) == expected_counts(fast_reference)
    code, _, err = call(capsys, "run", "us_iran_2020", *FAST[:-1], "12", "--out", out, "--resume")
    assert code == 2 and "--resume with --seed 12, but the folder was started with --seed 11" in err
    assert call(capsys, "run", "us_iran_2020", *FAST[:-1], "12", "--out", out, "--force", "--no-figures")[0] == 0
    assert es.load_result(out).metadata["seed"]["entropy"] == 12


def test_a_process_pool_gives_the_same_runs_table(capsys, tmp_path, fast_reference):
    out = tmp_path / "pool"
    code, _, _ = call(capsys, "run", "us_iran_2020", *FAST, "--workers", "2", "--out", out, "--no-figures",
                      "--chunk-size", STREAM_BLOCK)
    assert code == 0
    assert_same(es.load_result(out), fast_reference)


def test_ctrl_c_in_process_exits_130(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.run, "simulate", interrupted)
    code, _, err = call(capsys, "run", "us_iran_2020", *FAST)
    assert code == 130 and "interrupted" in err


def test_a_runtime_failure_exits_1_with_the_traceback(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of luck")

    monkeypatch.setattr(cli.run, "simulate", broken)
    code, _, err = call(capsys, "run", "us_iran_2020", *FAST)
    assert code == 1 and "RuntimeError: out of luck" in err and "Traceback" in err


# -- replay, sweep, plot -----------------------------------------------------------------------

def test_replay_tells_the_story_of_the_run_the_batch_had(capsys, fast_reference):
    run = int(np.flatnonzero((fast_reference.runs["outcome"] == "war").to_numpy())[0])
    code, out, _ = call(capsys, "replay", "us_iran_2020", "--seed", "11", "--steps", STEPS, "--run", run, "--json")
    assert code == 0
    replay = json.loads(out)
    assert replay["run"] == run and replay["seed"] == 11
    levels = pd.DataFrame(replay["timeline"])
    assert not levels.empty and replay["story"]
    assert int(fast_reference.runs["peak_level"][run]) == max(levels["level"])


def test_replay_of_a_run_folder_takes_its_seed(capsys, tmp_path, fast_reference):
    out = tmp_path / "run"
    assert call(capsys, "run", "us_iran_2020", *FAST, "--out", out, "--no-figures")[0] == 0
    run = int(np.flatnonzero((fast_reference.runs["outcome"] == "war").to_numpy())[0])
    code, from_folder, _ = call(capsys, "replay", out, "--run", run)
    code2, direct, _ = call(capsys, "replay", "us_iran_2020", "--steps", STEPS, "--seed", "11", "--run", run)
    assert code == code2 == 0 and from_folder == direct


def test_sweep_prints_the_table_of_the_sweep_function(capsys):
    argv = ["sweep", "us_iran_2020", "--grid", "actors.IRN.policy.generosity=0:1:2", "--grid", "noise.execution=0,0.05",
            "--runs", "500", "--steps", "10", "--seed", "3"]
    code, out, _ = call(capsys, *argv, "--json")
    assert code == 0
    table = pd.DataFrame(json.loads(out)["points"])
    scenario = es.with_overrides(es.load_scenario("us_iran_2020"), {"time.n_steps": 10})
    expected = sweep(scenario, grid={"actors.IRN.policy.generosity": [0, 1], "noise.execution": [0, 0.05]},
                     n_runs=500, rng=3).table
    assert table["p_war"].tolist() == expected["p_war"].tolist()
    assert table["p_ceasefire"].tolist() == expected["p_ceasefire"].tolist()
    code, text, _ = call(capsys, *argv)
    assert code == 0 and "4 points (grid), 500 runs each, seed 3" in text


@pytest.mark.parametrize("argv, message", [
    (["--grid", "noise.execution=0:1"], "lo:hi:n"),
    (["--grid", "noise.execution"], "key.path=lo:hi:n"),
    (["--grid", "noise.execution=,1"], "empty value"),
    (["--lhs", "4"], "--bounds"),
    (["--lhs", "4", "--bounds", "noise.execution=0.1:0"], "lo must be less than hi"),
    (["--bounds", "noise.execution=0:1"], "--lhs"),
    ([], "--grid"),
    (["--grid", "noise.executio=0,1"], "noise.executio"),
])
def test_a_bad_sweep_design_exits_2_naming_it(capsys, argv, message):
    code, out, err = call(capsys, "sweep", "us_iran_2020", "--runs", "100", "--seed", "1", *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_plot_writes_the_figures_of_a_run_folder(capsys, tmp_path):
    out = tmp_path / "run"
    assert call(capsys, "run", "ipd_noise", "--runs", "500", "--seed", "1", "--out", out, "--no-figures")[0] == 0
    code, listing, _ = call(capsys, "plot", out, "--out", tmp_path / "figs", "--format", "png,svg")
    assert code == 0
    written = [Path(line) for line in listing.splitlines()]
    assert {p.suffix for p in written} == {".png", ".svg"}
    assert all(p.parent == tmp_path / "figs" and p.stat().st_size > 0 for p in written)


@pytest.mark.parametrize("argv, message", [
    (["plot", "missing-folder"], "no such folder"),
    (["plot", ".", "--format", "png,bmpx"], "--format"),
])
def test_plot_usage_errors_exit_2(capsys, argv, message):
    code, _, err = call(capsys, *argv)
    assert code == 2 and message in err


def test_plot_of_a_folder_without_results_exits_2(capsys, tmp_path):
    code, _, err = call(capsys, "plot", tmp_path)
    assert code == 2 and "not a saved batch result" in err


# -- real processes ----------------------------------------------------------------------------

def command(*argv):
    return [sys.executable, "-m", "escalation_sim", *map(str, argv)]


def test_every_subcommand_runs_as_a_process(tmp_path):
    out = tmp_path / "run"
    commands = {
        "list": command("list"),
        "validate": command("validate", ROOT / "scenarios" / "us_iran_2020.yaml"),
        "describe": command("describe", "proxy_war"),
        "run": command("run", "ipd_noise", "--runs", "1000", "--seed", "1", "--out", out, "--no-figures"),
        "replay": command("replay", "us_iran_2020", "--seed", "11", "--run", "0"),
        "sweep": command("sweep", "ipd_noise", "--grid", "noise.execution=0,0.1", "--runs", "200", "--seed", "1"),
    }
    # Started together: most of each one's time is the import.
    procs = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, argv in commands.items()}
    results = {name: p.communicate(timeout=120) + (p.returncode,) for name, p in procs.items()}
    for name, (stdout, stderr, code) in results.items():
        assert code == 0, f"{name}: {stderr}"
    assert "us_iran_2020" in results["list"][0]
    assert results["validate"][0].startswith("OK")
    assert "PROXY: Proxy militia" in results["describe"][0]
    assert "1,000 runs" in results["run"][0]
    assert "run 0" in results["replay"][0]
    assert "2 points (grid)" in results["sweep"][0]
    plot = subprocess.run(command("plot", out), capture_output=True, text=True, timeout=120)
    assert plot.returncode == 0, plot.stderr
    assert (out / "figures" / "outcomes.png").is_file()


def test_a_process_given_a_bad_scenario_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    proc = subprocess.run(command("run", bad), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "invalid YAML" in proc.stderr and "Traceback" not in proc.stderr


# Long enough that the run cannot finish between its first saved chunk and the signal: about a
# tenth of a second per chunk, so the test has seconds to notice the first one even on a busy
# machine, and the run is reniced below the test so that contention slows the run, not the test.
INTERRUPTED_CHUNKS = 80
INTERRUPTED_RUN = ["us_iran_2020", "--runs", INTERRUPTED_CHUNKS * STREAM_BLOCK, "--steps", "10", "--seed", "5",
                   "--chunk-size", STREAM_BLOCK, "--no-figures"]


@pytest.fixture(scope="module")
def uninterrupted():
    return es.simulate("us_iran_2020", INTERRUPTED_CHUNKS * STREAM_BLOCK, rng=5, n_steps=10)


def _lower_priority():
    if hasattr(os, "nice"):
        os.nice(5)


def start_and_stop(out: Path, sig: int) -> tuple[subprocess.CompletedProcess, int]:
    """Start a run into ``out``, send ``sig`` as soon as its first chunk is saved (waiting for
    the file on disk, not for a time); return the finished process and the number of chunk
    files kept."""
    proc = subprocess.Popen(command("run", *INTERRUPTED_RUN, "--out", out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_lower_priority)
    deadline = time.monotonic() + 120
    while not saved_chunks(out):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk was saved"
        time.sleep(0.002)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), len(saved_chunks(out))


def saved_chunks(out: Path) -> list[Path]:
    """The chunk files (not the temporary files of a chunk being written)."""
    return list((out / "chunks").glob("[0-9]*.npz"))


def resume_and_compare(capsys, out: Path, kept: int, uninterrupted) -> None:
    code, _, err = call(capsys, "run", *INTERRUPTED_RUN, "--out", out, "--resume")
    assert code == 0, err
    assert f"{kept} of {INTERRUPTED_CHUNKS} chunks already done" in err
    assert_same(es.load_result(out), uninterrupted)


def test_ctrl_c_keeps_the_finished_chunks_and_resume_finishes_the_run(capsys, tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc, kept = start_and_stop(out, signal.SIGINT)
    assert proc.returncode == 130, f"exit code {proc.returncode}, {kept} chunks kept; stderr:\n{proc.stderr}"
    assert "--resume" in proc.stderr and "Traceback" not in proc.stderr
    assert 1 <= kept < INTERRUPTED_CHUNKS and not (out / "summary.json").exists()
    resume_and_compare(capsys, out, kept, uninterrupted)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_run_resumes_to_the_uninterrupted_result(capsys, tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc, kept = start_and_stop(out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert 1 <= kept < INTERRUPTED_CHUNKS
    resume_and_compare(capsys, out, kept, uninterrupted)


def test_python_dash_m_without_a_command_is_a_usage_error():
    proc = subprocess.run(command(), capture_output=True, text=True, timeout=120, env={**os.environ})
    assert proc.returncode == 2 and "usage:" in proc.stderr
