"""Dask: a local cluster of worker processes gives the in-process batch exactly, its workers run
without Dask's malloc-trim setting, and an unreachable scheduler or a missing Dask is a clear
error."""

import json
import os
import sys

import numpy as np
import pandas as pd
import pytest

import escalation_sim as es
from escalation_sim import cli
from escalation_sim.batch.store import local_cluster, open_executor, run_to_folder
from escalation_sim.core import STREAM_BLOCK

distributed = pytest.importorskip("distributed")

N_RUNS = 3 * STREAM_BLOCK + 7
N_STEPS = 15


@pytest.fixture(scope="module")
def reference():
    return es.simulate("us_iran_2020", N_RUNS, rng=8, n_steps=N_STEPS)


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert np.array_equal(a.counts, b.counts)


def test_a_local_cluster_gives_the_in_process_result_and_workers_do_not_trim_malloc(tmp_path, reference, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as a parent started by a Dask nanny has it
    with local_cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        assert "MALLOC_TRIM_THRESHOLD_" not in os.environ
        settings = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert len(settings) == 2 and set(settings.values()) == {None}
        result = run_to_folder("us_iran_2020", N_RUNS, tmp_path / "out", rng=8, n_steps=N_STEPS,
                               executor=client.get_executor(), chunk_size=STREAM_BLOCK)
    assert_same(result, reference)


def test_the_cli_on_a_local_dask_cluster_writes_the_same_runs_table(tmp_path, capsys, reference):
    out = tmp_path / "dask"
    code = cli.main(["run", "us_iran_2020", "--runs", str(N_RUNS), "--steps", str(N_STEPS), "--seed", "8",
                     "--dask", "local", "--workers", "2", "--out", str(out), "--no-figures", "--json",
                     "--chunk-size", str(STREAM_BLOCK)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["n_runs"] == N_RUNS
    assert_same(es.load_result(out), reference)


def test_an_unreachable_scheduler_is_a_clear_error(capsys):
    code = cli.main(["run", "us_iran_2020", "--runs", "100", "--seed", "1", "--dask", "tcp://127.0.0.1:1",
                     "--dask-timeout", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 1 s" in err and "Traceback" not in err


def test_a_malformed_scheduler_address_is_a_usage_error(capsys):
    code = cli.main(["run", "us_iran_2020", "--runs", "100", "--seed", "1", "--dask", "scheduler"])
    err = capsys.readouterr().err
    assert code == 2 and "'scheduler' is not a scheduler address" in err and "Traceback" not in err


def test_without_dask_installed_the_error_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'escalation-sim\[dask\]'"):
        with open_executor(2, "local"):
            pass
    code = cli.main(["run", "us_iran_2020", "--runs", "100", "--seed", "1", "--dask", "local"])
    assert code == 1 and "escalation-sim[dask]" in capsys.readouterr().err
