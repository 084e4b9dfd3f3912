"""Resumable runs on disk: a run written chunk by chunk to a folder, interrupted anywhere and
resumed, gives the uninterrupted batch exactly; a folder is never overwritten by accident."""

import importlib
import json

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim.batch import store
from escalation_sim.batch.store import StoreError, open_executor, read_manifest, run_to_folder
from escalation_sim.core import STREAM_BLOCK

# The module, not the function of the same name that escalation_sim.batch exports.
simulate_module = importlib.import_module("escalation_sim.batch.simulate")

N_RUNS = 3 * STREAM_BLOCK + 100  # four chunks of one stream block, the last one short
N_STEPS = 12
SEED = 31


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


@pytest.fixture
def count_chunks(monkeypatch):
    """Count the chunks simulated in this process."""
    calls = []
    original = simulate_module._run_chunk

    def counting(*args):
        calls.append(args[2])
        return original(*args)

    monkeypatch.setattr(simulate_module, "_run_chunk", counting)
    return calls


def interrupt_after(monkeypatch, n_saved):
    """Make the run raise KeyboardInterrupt once ``n_saved`` chunks are on disk."""
    saved = []
    original = store.save_chunk

    def save_then_stop(path, first, chunk):
        original(path, first, chunk)
        saved.append(first)
        if len(saved) == n_saved:
            raise KeyboardInterrupt

    monkeypatch.setattr(store, "save_chunk", save_then_stop)


def test_a_run_to_a_folder_equals_simulate_and_leaves_the_result_files(tmp_path, reference):
    result = run(tmp_path / "out")
    assert_same(result, reference)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"manifest.json", "summary.json", "runs.parquet", "counts.parquet", "metadata.json", "scenario.yaml"} <= names
    assert "chunks" not in names  # removed once the result is written
    assert_same(es.load_result(tmp_path / "out"), reference)


def test_summary_json_holds_the_outcome_table_and_the_seed(tmp_path, reference):
    run(tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    expected = reference.summary().outcomes
    assert [r["count"] for r in summary["outcomes"]] == expected["count"].tolist()
    assert summary["seed"]["entropy"] == SEED
    assert summary["n_runs"] == N_RUNS and summary["n_steps"] == N_STEPS


def test_an_interrupted_run_resumes_with_only_the_missing_chunks(tmp_path, reference, monkeypatch):
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out")
    assert len(list((tmp_path / "out" / "chunks").glob("*.npz"))) == 2
    assert not (tmp_path / "out" / "summary.json").exists()
    monkeypatch.undo()  # saving works again; count the chunks of the resumed run alone
    calls = []
    original = simulate_module._run_chunk
    monkeypatch.setattr(simulate_module, "_run_chunk", lambda *a: calls.append(a[2]) or original(*a))
    resumed = run(tmp_path / "out", resume=True)
    assert sorted(calls) == [2 * STREAM_BLOCK, 3 * STREAM_BLOCK]
    assert_same(resumed, reference)


def test_resuming_without_a_seed_takes_the_manifests_seed(tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out", rng=None)
    entropy = read_manifest(tmp_path / "out")["seed"]["entropy"]
    monkeypatch.undo()
    resumed = run(tmp_path / "out", rng=None, resume=True)
    assert resumed.metadata["seed"]["entropy"] == entropy
    assert_same(resumed, es.simulate("us_iran_2020", N_RUNS, rng=entropy, n_steps=N_STEPS))


def test_a_corrupt_chunk_and_a_leftover_temporary_file_are_redone(tmp_path, reference, monkeypatch):
    interrupt_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out")
    monkeypatch.undo()
    chunks = sorted((tmp_path / "out" / "chunks").glob("*.npz"))
    chunks[0].write_bytes(b"not a zip file")
    (tmp_path / "out" / "chunks" / ".tmp-half-written.npz").write_bytes(b"PK")
    assert_same(run(tmp_path / "out", resume=True), reference)


def test_a_chunk_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    def fail(file, **arrays):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "savez", fail)
    path = tmp_path / "00000000.npz"
    with pytest.raises(OSError, match="disk full"):
        store.save_chunk(path, 0, {"outcome": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


def test_resuming_a_finished_folder_loads_it_without_simulating(tmp_path, reference, count_chunks):
    run(tmp_path / "out")
    count_chunks.clear()
    assert_same(run(tmp_path / "out", resume=True), reference)
    assert count_chunks == []


def test_resuming_a_folder_that_does_not_exist_starts_the_run(tmp_path, reference):
    assert_same(run(tmp_path / "new", resume=True), reference)


@pytest.mark.parametrize("change, field", [
    ({"rng": SEED + 1}, "seed"),
    ({"n_steps": N_STEPS + 1}, "n_steps"),
    ({"chunk_size": 2 * STREAM_BLOCK}, "chunk_size"),
])
def test_resuming_with_other_settings_is_refused_naming_the_field(tmp_path, monkeypatch, change, field):
    interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out")
    monkeypatch.undo()
    with pytest.raises(StoreError, match=f"{field}: the folder has"):
        run(tmp_path / "out", resume=True, **change)


def test_resuming_with_another_scenario_or_run_count_is_refused(tmp_path, monkeypatch):
    interrupt_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "out")
    monkeypatch.undo()
    other = es.with_overrides(es.load_scenario("us_iran_2020"), {"noise.execution": 0.2})
    with pytest.raises(StoreError, match="scenario_hash"):
        run_to_folder(other, N_RUNS, tmp_path / "out", rng=SEED, n_steps=N_STEPS, resume=True)
    with pytest.raises(StoreError, match="n_runs"):
        run_to_folder("us_iran_2020", N_RUNS + 1, tmp_path / "out", rng=SEED, n_steps=N_STEPS, resume=True)


def test_an_existing_folder_is_not_overwritten_without_force(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="resume=True.*force=True"):
        run(folder)
    with pytest.raises(StoreError, match="no manifest.json"):
        run(folder, resume=True)
    assert (folder / "notes.txt").read_text() == "mine"


def test_force_replaces_a_previous_run_and_keeps_other_files(tmp_path, reference):
    folder = tmp_path / "out"
    run(folder, rng=SEED + 1)
    (folder / "notes.txt").write_text("mine")
    assert_same(run(folder, force=True), reference)
    assert (folder / "notes.txt").read_text() == "mine"
    assert read_manifest(folder)["seed"]["entropy"] == SEED


def test_an_empty_existing_folder_is_used(tmp_path, reference):
    (tmp_path / "out").mkdir()
    assert_same(run(tmp_path / "out"), reference)


def test_resume_and_force_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="exclude each other"):
        run(tmp_path / "out", resume=True, force=True)


def test_a_process_pool_writes_the_same_run(tmp_path, reference):
    with open_executor(2) as pool:
        assert pool is not None
        result = run(tmp_path / "out", executor=pool)
    assert_same(result, reference)


def test_one_worker_or_none_runs_in_this_process():
    with open_executor(None) as a, open_executor(1) as b:
        assert a is None and b is None
    with pytest.raises(ValueError, match="workers must be at least 1"):
        with open_executor(0):
            pass
