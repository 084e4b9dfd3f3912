"""Output folders: one writer at a time (tested with real processes racing), chunk files that
prove where they come from, ``--force`` that removes only a run's own files, workers that die
with their parent, and bundled names that are never mistaken for folders (issue 16, items 1,
2 and 6)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import escalation_sim as es
from escalation_sim import cli
from escalation_sim.batch import store
from escalation_sim.batch.lock import LOCK_NAME, FolderLocked, folder_lock, is_locked
from escalation_sim.batch.store import run_to_folder
from escalation_sim.core import STREAM_BLOCK

N_RUNS = 2 * STREAM_BLOCK + 50  # three chunks of one stream block, the last one short
N_STEPS = 8
SEED = 11


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert np.array_equal(a.counts, b.counts)


@pytest.fixture(scope="module")
def reference():
    return es.simulate("us_iran_2020", N_RUNS, rng=SEED, n_steps=N_STEPS)


def run(folder, **kwargs):
    options = dict(rng=SEED, n_steps=N_STEPS, chunk_size=STREAM_BLOCK)
    options.update(kwargs)
    return run_to_folder("us_iran_2020", N_RUNS, folder, **options)


def interrupted(folder, monkeypatch, n_saved=2, **kwargs):
    """A run into ``folder`` stopped once ``n_saved`` chunks are on disk."""
    original = store.save_chunk
    saved = []

    def save_then_stop(path, first, chunk):
        original(path, first, chunk)
        saved.append(path)
        if len(saved) == n_saved:
            raise KeyboardInterrupt

    monkeypatch.setattr(store, "save_chunk", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run(folder, **kwargs)
    monkeypatch.undo()
    return sorted((folder / "chunks").glob("[0-9]*.npz"))


def call(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def command(*argv):
    return [sys.executable, "-m", "escalation_sim", *map(str, argv)]


# -- 1. one writer per folder ------------------------------------------------------------------

def test_a_locked_folder_is_refused_naming_the_folder_and_released_after(tmp_path):
    folder = tmp_path / "out"
    with folder_lock(folder):
        assert (folder / LOCK_NAME).is_file()
        with folder_lock(folder):  # re-entrant within one process
            pass
        probe = subprocess.run([sys.executable, "-c", "import sys; from escalation_sim.batch.lock import folder_lock\n"
                                f"with folder_lock({str(folder)!r}): pass"], capture_output=True, text=True, timeout=60)
        assert probe.returncode != 0 and "FolderLocked" in probe.stderr and str(folder) in probe.stderr
        assert f"process {os.getpid()}" in probe.stderr
    assert not is_locked(folder)


def test_a_folder_created_for_the_lock_alone_is_removed_again(tmp_path):
    with folder_lock(tmp_path / "new"):
        pass
    assert not (tmp_path / "new").exists()


def test_a_run_into_a_folder_locked_by_another_process_is_refused(tmp_path):
    folder = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from escalation_sim.batch.lock import folder_lock\n"
                               f"with folder_lock({str(folder)!r}):\n    print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert is_locked(folder)
        with pytest.raises(FolderLocked, match="is being written by process"):
            run(folder)
        with pytest.raises(FolderLocked):
            run(folder, force=True)
        assert [p.name for p in folder.iterdir()] == [LOCK_NAME]  # nothing written
    finally:
        holder.kill()
        holder.wait()
    assert not is_locked(folder)  # released by the operating system when its holder died
    run(folder)


def wait_for(predicate, proc, what, seconds=120):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


RACE = ["us_iran_2020", "--runs", 12 * STREAM_BLOCK, "--steps", "20", "--chunk-size", STREAM_BLOCK, "--no-figures"]


@pytest.mark.parametrize("second", [["--seed", "12", "--force"], ["--seed", "11", "--resume"]],
                         ids=["force", "resume"])
def test_two_processes_racing_on_one_folder_leave_one_consistent_run(tmp_path, second):
    """The issue's example: a run, then the same into the same folder with --force (or a
    --resume) while it runs. The second is refused with exit 2; the first finishes alone."""
    out = tmp_path / "D"
    # The racer imports everything first and waits for the word, so that it starts at once.
    racer = subprocess.Popen([sys.executable, "-c", "import sys; from escalation_sim import cli\n"
                              "print('ready', flush=True); sys.stdin.readline()\n"
                              f"sys.exit(cli.main({[str(a) for a in ['run', *RACE, *second, '--out', out]]!r}))"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = subprocess.Popen(command("run", *RACE, "--seed", "11", "--out", out), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert racer.stdout.readline().strip() == "ready"
    wait_for(lambda: list((out / "chunks").glob("[0-9]*.npz")) if (out / "chunks").is_dir() else False,
             first, "no chunk was saved")
    racer.stdin.write("go\n")
    racer.stdin.flush()
    _, racer_err = racer.communicate(timeout=120)
    racer = subprocess.CompletedProcess(racer.args, racer.returncode, "", racer_err)
    stdout, stderr = first.communicate(timeout=300)
    assert racer.returncode == 2, racer.stderr
    assert f"{out} is being written by process {first.pid}" in racer.stderr and "Traceback" not in racer.stderr
    assert first.returncode == 0, stderr
    result = es.load_result(out)
    assert result.metadata["seed"]["entropy"] == 11
    assert_same(result, es.simulate("us_iran_2020", 12 * STREAM_BLOCK, rng=11, n_steps=20))


def test_sweep_out_takes_the_same_lock(tmp_path, capsys):
    out = tmp_path / "sweep"
    holder = subprocess.Popen([sys.executable, "-c", "import time; from escalation_sim.batch.lock import folder_lock\n"
                               f"with folder_lock({str(out)!r}):\n    print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = call(capsys, "sweep", "ipd_noise", "--grid", "noise.execution=0,0.1", "--runs", "50",
                            "--seed", "1", "--out", out, "--force", "--no-figures")
        assert code == 2 and "is being written by process" in err
    finally:
        holder.kill()
        holder.wait()
    code, _, err = call(capsys, "sweep", "ipd_noise", "--grid", "noise.execution=0,0.1", "--runs", "50", "--seed", "1",
                        "--out", out, "--no-figures")
    assert code == 0, err


# -- 2. chunks that prove where they come from ---------------------------------------------------

def test_a_truncated_chunk_is_reported_and_run_again(tmp_path, monkeypatch, reference, capsys):
    chunks = interrupted(tmp_path / "out", monkeypatch)
    chunks[0].write_bytes(chunks[0].read_bytes()[:300])
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert f"{chunks[0]}: unreadable" in capsys.readouterr().err


def test_a_chunk_of_another_seed_is_reported_and_run_again(tmp_path, monkeypatch, reference, capsys):
    """The issue's example: a chunk copied from a seed-99 folder into a seed-11 folder."""
    foreign = interrupted(tmp_path / "seed99", monkeypatch, rng=99)
    chunks = interrupted(tmp_path / "out", monkeypatch, n_saved=1)
    shutil.copy(foreign[1], tmp_path / "out" / "chunks" / foreign[1].name)
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert "not this chunk of this run (its seed is 99, this one's is 11)" in capsys.readouterr().err
    assert len(chunks) == 1


def test_a_chunk_moved_to_another_index_is_run_again(tmp_path, monkeypatch, reference, capsys):
    chunks = interrupted(tmp_path / "out", monkeypatch, n_saved=1)
    chunks[0].rename(chunks[0].with_name("00000001.npz"))
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert f"its first is 0, this one's is {STREAM_BLOCK}" in capsys.readouterr().err


def _tamper(path: Path, how: str, where: float, byte: int) -> None:
    data = bytearray(path.read_bytes())
    k = int(where * (len(data) - 1))
    if how == "truncate":
        path.write_bytes(bytes(data[:k]))
    elif how == "flip":
        data[k] ^= byte or 1
        path.write_bytes(bytes(data))
    elif how == "rewrite":  # a valid file whose arrays were changed, keeping the old checksum
        with np.load(path) as z:
            arrays = {key: z[key] for key in z.files}
        arrays["fatalities"] = arrays["fatalities"] + 1
        np.savez(path, **arrays)
    else:  # an archive without the stamp
        with np.load(path) as z:
            arrays = {key: z[key] for key in z.files if key not in ("stamp", "checksum")}
        np.savez(path, **arrays)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(["truncate", "flip", "rewrite", "unstamped"]), where=st.floats(0, 1),
       byte=st.integers(0, 255), which=st.integers(0, 1))
def test_any_damage_to_a_chunk_is_caught_and_the_resumed_run_equals_the_uninterrupted(
        tmp_path_factory, monkeypatch, reference, how, where, byte, which):
    folder = tmp_path_factory.mktemp("damaged") / "out"
    chunks = interrupted(folder, monkeypatch)
    _tamper(chunks[which], how, where, byte)
    assert_same(run(folder, resume=True), reference)


def test_a_chunk_file_records_its_run_bounds_and_checksum(tmp_path, monkeypatch):
    chunks = interrupted(tmp_path / "out", monkeypatch)
    with np.load(chunks[1]) as z:
        stamp = json.loads(str(z["stamp"]))
        arrays = {key: z[key] for key in z.files if key != "checksum"}
        assert str(z["checksum"]) == store.checksum(arrays)
    assert stamp["seed"] == str(SEED) and stamp["first"] == STREAM_BLOCK and stamp["n"] == STREAM_BLOCK
    assert stamp["scenario_hash"] == es.load_scenario("us_iran_2020").hash() and stamp["n_steps"] == N_STEPS


# -- load_result: one error type naming the file -------------------------------------------------

@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "out"
    run_to_folder("us_iran_2020", 300, folder, rng=3, n_steps=N_STEPS)
    return folder


def copy_of(saved, tmp_path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(saved, folder)
    return folder


@pytest.mark.parametrize("name, change, message", [
    ("runs.parquet", lambda p: p.write_bytes(p.read_bytes()[:200]), "runs.parquet: unreadable"),
    ("metadata.json", lambda p: p.write_text(p.read_text().replace('"n_runs": 300', '"n_runs": 100')),
     "300 rows, but metadata.json says n_runs = 100"),
    ("metadata.json", lambda p: p.write_text("[1, 2]"), "metadata.json: expected a JSON object"),
    ("metadata.json", lambda p: p.write_text("{"), "metadata.json: unreadable"),
    ("metadata.json", lambda p: p.write_text(p.read_text().replace('"n_steps": 8', '"n_steps": "8"')),
     "n_steps is '8'"),
    ("scenario.yaml", lambda p: p.write_text(p.read_text().replace("execution: 0.005", "execution: 0.03")),
     "is not the scenario_hash of metadata.json"),
    ("counts.parquet", lambda p: p.write_bytes(b"PAR1"), "counts.parquet: not the level counts"),
])
def test_a_damaged_result_folder_raises_result_error_naming_the_file(saved, tmp_path, name, change, message):
    folder = copy_of(saved, tmp_path)
    change(folder / name)
    with pytest.raises(es.batch.ResultError, match=message) as info:
        es.load_result(folder)
    assert str(folder) in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml"]),
       how=st.sampled_from(["truncate", "flip"]), where=st.floats(0, 1), byte=st.integers(1, 255))
def test_load_result_of_any_damaged_file_raises_result_error_or_loads(saved, tmp_path_factory, name, how, where, byte):
    """Loading, and reading the per-run table later (it is read lazily), raise ResultError."""
    folder = copy_of(saved, tmp_path_factory.mktemp("load"))
    _tamper(folder / name, how, where, byte)
    try:
        result = es.load_result(folder)
        result.summary()
        result.runs
    except es.batch.ResultError as err:
        assert str(folder) in str(err) or name in str(err)


# -- 6. clean-up and --force ---------------------------------------------------------------------

def test_stale_chunk_files_of_a_finished_folder_are_removed_by_resume(tmp_path, reference, capsys):
    run(tmp_path / "out")
    (tmp_path / "out" / "chunks").mkdir()
    (tmp_path / "out" / "chunks" / "00000001.npz").write_bytes(b"left by a kill during clean-up")
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert not (tmp_path / "out" / "chunks").exists()
    assert "interrupted clean-up" in capsys.readouterr().err


def test_resume_removes_chunk_files_that_are_no_chunk_of_the_run(tmp_path, monkeypatch, reference):
    interrupted(tmp_path / "out", monkeypatch, n_saved=1)
    (tmp_path / "out" / "chunks" / "00000099.npz").write_bytes(b"stale")
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert not (tmp_path / "out" / "chunks").exists()


def test_force_removes_only_the_files_in_the_manifest(tmp_path, capsys):
    """The issue's example: --force deleted the user's figures/notes.txt."""
    out = tmp_path / "out"
    args = ["run", "ipd_noise", "--runs", "300", "--steps", "5", "--out", out]
    assert call(capsys, *args, "--seed", "1")[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "figures/outcomes.png" in manifest["files"]
    (out / "figures" / "notes.txt").write_text("mine")
    (out / "my_analysis.py").write_text("mine too")
    assert call(capsys, *args, "--seed", "2", "--force", "--no-figures")[0] == 0
    assert (out / "figures" / "notes.txt").read_text() == "mine"
    assert (out / "my_analysis.py").read_text() == "mine too"
    assert not (out / "figures" / "outcomes.png").exists()
    assert es.load_result(out).metadata["seed"]["entropy"] == 2


def test_force_leaves_a_users_scenario_file_in_a_folder_that_is_no_run(tmp_path, capsys):
    """The issue's example: --force rewrote a user's commented scenario.yaml."""
    out = tmp_path / "mine"
    out.mkdir()
    text = "# my notes\n" + (Path(__file__).parents[1] / "scenarios" / "ipd_noise.yaml").read_text()
    (out / "scenario.yaml").write_text(text)
    code, _, err = call(capsys, "run", "ipd_noise", "--runs", "100", "--steps", "3", "--seed", "1", "--out", out, "--force")
    assert code == 2 and "scenario.yaml is not a file of a previous run" in err
    assert (out / "scenario.yaml").read_text() == text


def test_a_manifest_listing_paths_outside_the_folder_removes_nothing_there(tmp_path):
    out = tmp_path / "out"
    run(out)
    (tmp_path / "precious.txt").write_text("keep")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += ["../precious.txt", str(tmp_path / "precious.txt")]
    (out / "manifest.json").write_text(json.dumps(manifest))
    run(out, force=True)
    assert (tmp_path / "precious.txt").read_text() == "keep"


def _children(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_workers_of_a_killed_run_exit_and_release_the_folder(tmp_path):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    proc = subprocess.Popen(command("run", "us_iran_2020", "--runs", 40 * STREAM_BLOCK, "--steps", "40", "--seed", "1",
                                    "--chunk-size", STREAM_BLOCK, "--workers", "2", "--out", out, "--no-figures"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(_children(proc.pid)) >= 2 and (out / "chunks").is_dir()
             and list((out / "chunks").glob("[0-9]*.npz")), proc, "the workers did not start")
    workers = [psutil.Process(pid) for pid in _children(proc.pid)]
    proc.kill()
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], f"orphaned workers: {alive}"
    assert not is_locked(out)


# -- bundled names are not folders ---------------------------------------------------------------

def test_a_bundled_name_is_the_bundled_scenario_even_beside_a_folder_of_that_name(tmp_path, capsys, monkeypatch):
    """The issue's example: `--out us_iran_2020` made later runs of us_iran_2020 use the folder."""
    monkeypatch.chdir(tmp_path)
    args = ["--runs", "100", "--steps", "3", "--seed", "1", "--no-figures", "--json"]
    assert call(capsys, "run", "us_iran_2020", *args, "--out", "us_iran_2020", "--set", "noise.execution=0.3")[0] == 0
    folder_hash = json.loads((tmp_path / "us_iran_2020" / "metadata.json").read_text())["scenario_hash"]
    code, out, err = call(capsys, "run", "us_iran_2020", *args)
    assert code == 0 and json.loads(out)["scenario_hash"] != folder_hash
    assert "write ./us_iran_2020" in err
    code, out, _ = call(capsys, "run", "./us_iran_2020", *args)
    assert code == 0 and json.loads(out)["scenario_hash"] == folder_hash
