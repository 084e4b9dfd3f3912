"""Output folders on the command line: a run folder's scenario is the one its results were made
with, a run and a sweep never overwrite each other, ``sweep --force`` removes only what the
sweep listed in its manifest, ``replay`` stays inside a folder's batch, and messages speak
the caller's terms."""

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation_sim import cli
from escalation_sim.analysis.sweep import SWEEP_MANIFEST, sweep
from escalation_sim.batch.result import ResultError, load_result
from escalation_sim.batch.store import StoreError, run_to_folder
from escalation_sim.scenario import load_scenario, with_overrides

RUN = ["--runs", "300", "--steps", "12", "--seed", "5"]
SWEEP = ["--grid", "noise.execution=0,0.05", "--runs", "100", "--steps", "12", "--seed", "1"]


def call(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "run"
    assert cli.main(["run", "us_iran_2020", *RUN, "--out", str(folder), "--no-figures"]) == 0
    return folder


def copy_run(run_folder, tmp_path) -> Path:
    return Path(shutil.copytree(run_folder, tmp_path / "copy"))


# -- 1. a run folder's scenario.yaml is its run's ------------------------------------------------

@pytest.mark.parametrize("record", ["metadata.json", "manifest.json"])
@pytest.mark.parametrize("command", [["replay", "--run", "0"], ["run", "--runs", "10", "--seed", "1"],
                                     ["sweep", "--grid", "noise.execution=0,0.1", "--runs", "10", "--seed", "1"]])
def test_a_scenario_yaml_changed_after_the_run_is_refused(capsys, tmp_path, run_folder, record, command):
    """Overwritten (by another scenario) or hand-edited: every command taking the folder as
    SCENARIO refuses it, naming the folder's record, whichever record the folder has."""
    folder = copy_run(run_folder, tmp_path)
    if record == "manifest.json":  # an interrupted run has only its manifest
        (folder / "metadata.json").unlink()
    other = with_overrides(load_scenario(folder / "scenario.yaml"), {"noise.execution": 0.2})
    other.save(folder / "scenario.yaml")
    code, out, err = call(capsys, command[0], folder, *command[1:])
    assert code == 2 and out == ""
    assert "is not the scenario this folder's results were made with" in err and record in err


def test_an_unchanged_run_folder_replays_as_before(capsys, run_folder):
    code, out, _ = call(capsys, "replay", run_folder, "--run", "7")
    code_ref, out_ref, _ = call(capsys, "replay", "us_iran_2020", "--steps", "12", "--seed", "5", "--run", "7")
    assert code == code_ref == 0 and out == out_ref


def test_sweep_force_refuses_a_run_folder_and_run_force_a_sweep_folder(capsys, tmp_path, run_folder):
    """The issue's example: `sweep --force` into a run folder replaced its scenario.yaml."""
    folder = copy_run(run_folder, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    for mode in (["--force"], []):
        code, _, err = call(capsys, "sweep", "us_iran_2020", *SWEEP, "--out", folder, *mode)
        assert code == 2 and "holds a run" in err, mode
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before

    swept = tmp_path / "sweep"
    assert call(capsys, "sweep", "us_iran_2020", *SWEEP, "--out", swept, "--no-figures")[0] == 0
    before = {p.name: p.read_bytes() for p in swept.iterdir() if p.is_file()}
    for mode in (["--force"], ["--resume"], []):
        code, _, err = call(capsys, "run", "us_iran_2020", *RUN, "--out", swept, *mode)
        assert code == 2 and "holds a sweep" in err, mode
    assert {p.name: p.read_bytes() for p in swept.iterdir() if p.is_file()} == before


# -- 2. sweep --force removes what the sweep wrote, and only that --------------------------------

def test_sweep_force_removes_only_the_files_its_manifest_lists(capsys, tmp_path):
    out = tmp_path / "sweep"
    assert call(capsys, "sweep", "us_iran_2020", "--grid", "noise.execution=0,0.05", "--runs", "100",
                "--steps", "12", "--seed", "1", "--out", out)[0] == 0
    listed = json.loads((out / SWEEP_MANIFEST).read_text())["files"]
    figures = [name for name in listed if name.startswith("figures/")]
    assert figures and all((out / name).is_file() for name in listed)
    (out / "figures" / "notes.txt").write_text("mine")
    (out / "mine.txt").write_text("mine")
    # Another grid, without figures: the first sweep's figures must not stay beside it.
    assert call(capsys, "sweep", "us_iran_2020", "--grid", "actors.KH.control=0,1", "--runs", "100",
                "--steps", "12", "--seed", "1", "--out", out, "--force", "--no-figures")[0] == 0
    assert not any((out / name).exists() for name in figures)
    assert (out / "figures" / "notes.txt").read_text() == "mine" and (out / "mine.txt").read_text() == "mine"
    assert set(json.loads((out / SWEEP_MANIFEST).read_text())["files"]) == {
        "sweep.parquet", "sweep.json", "scenario.yaml", SWEEP_MANIFEST}


def test_sweep_force_leaves_a_users_file_in_the_way(capsys, tmp_path):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "scenario.yaml").write_text("# my notes\n")
    code, _, err = call(capsys, "sweep", "us_iran_2020", *SWEEP, "--out", out, "--force", "--no-figures")
    assert code == 2 and "scenario.yaml is not a file of a previous sweep" in err
    assert (out / "scenario.yaml").read_text() == "# my notes\n"


def test_saved_sweep_lists_its_files(tmp_path):
    result = sweep("us_iran_2020", grid={"noise.execution": [0.0]}, n_runs=50, n_steps=5, rng=1)
    result.save(tmp_path)
    listed = json.loads((tmp_path / SWEEP_MANIFEST).read_text())["files"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(listed)


# -- 3. replay stays inside a run folder's batch -------------------------------------------------

@pytest.mark.parametrize("run", ["300", "301", "10" * 20])
def test_replay_refuses_a_run_outside_the_folders_batch(capsys, run_folder, run):
    code, out, err = call(capsys, "replay", run_folder, "--run", run)
    assert code == 2 and out == "" and "n_runs 300" in err and "Traceback" not in err


def test_replay_says_when_the_seed_is_not_the_folders(capsys, run_folder):
    code, _, err = call(capsys, "replay", run_folder, "--run", "3", "--seed", "6")
    assert code == 0 and "--seed 6 differs from the seed of the run folder" in err
    code, _, err = call(capsys, "replay", run_folder, "--run", "3", "--seed", "5")
    assert code == 0 and "differs" not in err


@pytest.mark.parametrize("value", ["abc", "1.5", "-1"])
def test_replay_run_is_a_whole_number(capsys, value):
    code, out, err = call(capsys, "replay", "us_iran_2020", "--seed", "1", "--run", value)
    assert code == 2 and out == "" and "argument --run: expected" in err


# -- 4. the --resume mismatch names each difference once ---------------------------------------

def test_resume_with_another_scenario_says_it_once_and_names_the_folders(capsys, tmp_path, run_folder):
    folder = copy_run(run_folder, tmp_path)
    code, _, err = call(capsys, "run", "ipd_noise", *RUN, "--out", folder, "--resume")
    assert code == 2
    assert err.count("another scenario") == 1 and "the folder was started with us_iran_2020" in err
    code, _, err = call(capsys, "run", "us_iran_2020", *RUN, "--set", "noise.execution=0.3", "--out", folder,
                        "--resume")
    assert code == 2 and err.count("another scenario") == 1 and "started with us_iran_2020" in err


# -- 5. messages ---------------------------------------------------------------------------------

def test_plot_on_an_unfinished_run_gives_the_resume_command(capsys, tmp_path, run_folder):
    folder = copy_run(run_folder, tmp_path)
    for name in ("summary.json", "runs.parquet", "counts.parquet", "metadata.json"):
        (folder / name).unlink()
    (folder / "chunks").mkdir()
    code, _, err = call(capsys, "plot", folder)
    assert code == 2 and "unfinished run" in err
    command = re.search(r"^  (escalation-sim run .*)$", err, re.M).group(1)
    code, _, err = call(capsys, *shlex.split(command)[1:], "--no-figures")
    assert code == 0, err
    assert (folder / "summary.json").is_file() and load_result(folder).n_runs == 300


def test_load_result_names_a_missing_folder(tmp_path):
    with pytest.raises(ResultError, match="no such folder"):
        load_result(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError):  # as before: a missing result is also FileNotFoundError
        load_result(tmp_path / "nowhere")


def test_messages_use_the_callers_terms(capsys, tmp_path):
    """The library says resume=True and force=True; the command line --resume and --force."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    with pytest.raises(StoreError) as refused:
        run_to_folder("us_iran_2020", 10, out, rng=1, n_steps=5)
    assert "resume=True" in str(refused.value) and "--" not in str(refused.value)
    code, _, err = call(capsys, "run", "us_iran_2020", *RUN, "--out", out)
    assert code == 2 and "--resume" in err and "--force" in err and "=True" not in err
    (out / "mine.txt").unlink()
    (out / "scenario.yaml").write_text("# mine\n")
    code, _, err = call(capsys, "run", "us_iran_2020", *RUN, "--out", out, "--force")
    assert code == 2 and "--force leaves it" in err and "=True" not in err


@pytest.mark.parametrize("command", [["run", "us_iran_2020", *RUN], ["sweep", "us_iran_2020", *SWEEP]])
def test_no_figures_without_out_is_accepted_alike_and_force_needs_out(capsys, tmp_path, monkeypatch, command):
    """Figures are drawn only into --out: --no-figures without it changes nothing, in run and
    sweep alike; --force without --out is a usage error in both."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = call(capsys, *command, "--no-figures")
    assert code == 0 and out == call(capsys, *command)[1] and list(tmp_path.iterdir()) == []
    code, out, err = call(capsys, *command, "--force")
    assert code == 2 and out == "" and "--force needs --out" in err


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["noise.execution", "actors.IRN.policy.generosity", "actors.KH.control"]),
       value=st.floats(0, 1, allow_nan=False))
def test_any_change_to_a_run_folders_scenario_is_refused(capsys, tmp_path_factory, run_folder, key, value):
    """Whatever value changes in scenario.yaml, a command taking the folder as SCENARIO refuses
    it; the same scenario saved again is accepted."""
    folder = Path(shutil.copytree(run_folder, tmp_path_factory.mktemp("edit") / "copy"))
    scenario = load_scenario(folder / "scenario.yaml")
    edited = with_overrides(scenario, {key: value})
    edited.save(folder / "scenario.yaml")
    code, _, err = call(capsys, "describe", folder)
    if edited.hash() == scenario.hash():
        assert code == 0, err
    else:
        assert code == 2 and "is not the scenario this folder's results were made with" in err


# -- --force refuses before it removes anything --------------------------------------------------

@pytest.mark.parametrize("in_the_way", ["chunks/notes.txt", "chunks/0000.npz.bak"])
def test_force_that_must_refuse_removes_nothing(capsys, tmp_path, run_folder, in_the_way):
    """A user's file inside the run's chunk folder, where a new run writes: --force refuses with
    exit 2 before removing anything, and the previous run is whole."""
    folder = copy_run(run_folder, tmp_path)
    before = load_result(folder).runs
    (folder / in_the_way).parent.mkdir(parents=True, exist_ok=True)
    (folder / in_the_way).write_text("mine")
    code, _, err = call(capsys, "run", "us_iran_2020", "--runs", "300", "--steps", "12", "--seed", "6",
                        "--out", folder, "--force", "--no-figures")
    assert code == 2 and "force" in err and (folder / in_the_way).read_text() == "mine"
    assert load_result(folder).runs.equals(before)


def test_workers_beyond_what_the_machine_can_use_are_refused(capsys):
    code, out, err = call(capsys, "run", "us_iran_2020", "--runs", "10", "--seed", "1", "--workers", "100000")
    assert code == 2 and out == "" and "--workers" in err
