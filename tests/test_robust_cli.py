"""No traceback for a user's mistake (issue 16, item 5; issue 11's messages): each of the
issue's examples, a fuzzer over every subcommand's arguments, --dask-timeout against a
listener that never answers, and --resume messages in the command line's own terms."""

import argparse
import contextlib
import itertools
import socket
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from escalation_sim import cli
from escalation_sim.batch import lock

FAST = ["--runs", "300", "--steps", "4", "--seed", "11"]


def call(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> bool:
    return "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("escalation-sim")


# -- the examples ------------------------------------------------------------------------

def test_out_below_a_file_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--out", tmp_path / "file" / "sub")
    assert code == 2 and one_line_error(err) and "not a directory" in err
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--out", tmp_path / "file")
    assert code == 2 and one_line_error(err) and "not a folder" in err


def test_out_in_a_read_only_place_is_a_usage_error(capsys, tmp_path, monkeypatch):
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(lock.os, "open", refuse)  # root may write anywhere: stand in for a read-only place
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--out", tmp_path / "ro")
    assert code == 2 and one_line_error(err) and "permission denied" in err and "ro" in err


def test_an_impossible_number_of_runs_is_refused_with_the_memory_it_needs(capsys):
    code, _, err = call(capsys, "run", "us_iran_2020", "--runs", "10000000000000", "--seed", "1")
    assert code == 2 and one_line_error(err) and "needs about" in err and "available" in err


def test_a_grid_of_a_billion_points_is_refused(capsys):
    axes = [f"--grid=noise.{k}=0:1:1000" for k in ("execution", "perception", "attribution")]
    code, _, err = call(capsys, "sweep", "us_iran_2020", *axes, "--runs", "10")
    assert code == 2 and one_line_error(err) and "1,000,000,000 points" in err


@pytest.mark.parametrize("option, values", [("--grid", ["noise.execution=0,0.1", "noise.execution=0.2,0.3"]),
                                            ("--bounds", ["noise.execution=0:0.1", "noise.execution=0:0.2"])])
def test_a_key_given_twice_to_a_design_is_refused(capsys, option, values):
    """The issue's example: a repeated --grid key silently dropped the first axis."""
    extra = ["--lhs", "4"] if option == "--bounds" else []
    code, _, err = call(capsys, "sweep", "ipd_noise", *extra, *(f"{option}={v}" for v in values), "--runs", "10")
    assert code == 2 and one_line_error(err) and f"{option} noise.execution is given twice" in err


@pytest.mark.parametrize("manifest", ["[1, 2, 3]", "{", '{"seed": "x", "n_runs": 3}', "null", '"text"'])
def test_a_manifest_that_is_not_a_runs_is_refused(capsys, tmp_path, manifest):
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text(manifest)
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--out", out, "--resume")
    assert code == 2 and one_line_error(err) and "manifest.json" in err
    code, _, err = call(capsys, "replay", out, "--run", "0")
    assert code == 2 and one_line_error(err)


def test_standard_output_on_a_full_device_is_a_runtime_failure_in_one_line():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "escalation_sim", "describe", "us_iran_2020"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 1 and one_line_error(proc.stderr) and "no space left on device" in proc.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_a_dask_timeout_that_is_not_a_positive_number_of_seconds_is_refused(capsys, value):
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--dask", "tcp://127.0.0.1:1", "--dask-timeout", value)
    assert code == 2 and "--dask-timeout" in err and "Traceback" not in err


def test_a_scheduler_that_accepts_and_never_answers_times_out(capsys):
    """The issue's example: such a listener held the run for more than 150 s."""
    pytest.importorskip("distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted, stop = [], threading.Event()

    def accept_and_say_nothing():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        code, _, err = call(capsys, "run", "ipd_noise", *FAST, "--dask", f"tcp://127.0.0.1:{port}", "--dask-timeout", "1")
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
    assert accepted, "the run never connected"
    assert code == 1 and one_line_error(err) and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1 s" in err


# -- --resume in the command line's terms (issue 11) ----------------------------------------------

@pytest.mark.parametrize("change, message", [
    (["--seed", "2"], "--resume with --seed 2, but the folder was started with --seed 11"),
    (["--runs", "500"], "--resume with --runs 500, but the folder was started with --runs 300"),
    (["--steps", "5"], "--resume with --steps 5, but the folder was started with --steps 4"),
    (["--set", "noise.execution=0.2"], "--resume with another scenario than the folder's"),
])
def test_a_mismatched_resume_is_explained_in_the_options_of_the_command_line(capsys, tmp_path, change, message):
    out = tmp_path / "run"
    assert call(capsys, "run", "ipd_noise", *FAST, "--out", out, "--no-figures")[0] == 0
    code, _, err = call(capsys, "run", "ipd_noise", *FAST, *change, "--out", out, "--resume")
    assert code == 2 and one_line_error(err) and message in err
    assert "{" not in err and "resume=True" not in err


def test_resuming_a_finished_folder_prints_its_results_without_drawing_again(capsys, tmp_path, monkeypatch):
    out = tmp_path / "run"
    code, first, _ = call(capsys, "run", "ipd_noise", *FAST, "--out", out)
    assert code == 0 and (out / "figures" / "outcomes.png").is_file()
    drawn = []
    monkeypatch.setattr("escalation_sim.cli.run.write_figures", lambda *args: drawn.append(args) or [])
    code, again, err = call(capsys, "run", "ipd_noise", *FAST, "--out", out, "--resume")
    assert code == 0 and drawn == [] and "already finished" in err
    assert again.splitlines()[2:] == first.splitlines()[2:]  # the same table


# -- a fuzzer over every subcommand's arguments ---------------------------------------------------

def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


SUBPARSERS = _subparsers()
#: Per subcommand: its options, each with whether it takes a value.
OPTIONS = {name: {opt: a.nargs != 0 for a in p._actions for opt in a.option_strings
                  if opt.startswith("--") and opt != "--help"} for name, p in SUBPARSERS.items()}
JUNK = ["0", "-1", "nan", "inf", "1e999", "10000000000000", "x", "", "=", "\x00", "é" * 3, "-x"]
#: Values near what each option wants, so that most command lines get past the parser.
PLAUSIBLE = {
    "--runs": ["1", "20"], "--steps": ["1", "3"], "--seed": ["0", "7", "99999999999999999999999"],
    "--set": ["noise.execution=0.1", "noise.execution=2", "actors.USA.policy.ratio=1e30", "time.n_steps=3",
              "nosuch=1", "noise.execution", "events.0.level=9", "actors.USA.policy.vector=[1, 2]",
              "outcomes.war_level=0", "time.start=someday", "actors.IRN.policy.generosity='1'"],
    "--grid": ["noise.execution=0,0.1", "noise.execution=0:1:3", "noise.execution=0:1:1000000",
               "actors.KH.control=0:1:2", "x=1", "noise.execution=a,b", "noise.execution=0,0"],
    "--bounds": ["noise.execution=0:0.1", "noise.execution=1:0", "x=0:1", "noise.execution=0:nan"],
    "--lhs": ["2", "3", "1000000"], "--show": ["war", "ceasefire", "peace"], "--run": ["0", "5", "1000000"],
    "--format": ["png", "png,svgg", ",", "svg"], "--dask": ["tcp://127.0.0.1:1", "nonsense", "tcp://"],
    "--dask-timeout": ["0.5", "nan", "1e-9"], "--workers": ["1", "0"], "--chunk-size": ["1", "4096"],
}
SCENARIOS = ["us_iran_2020", "ipd_noise", "proxy_war", "nosuch", "./us_iran_2020"]
_counter = itertools.count()


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """Paths a fuzzed command line may name: a run folder, a sweep folder, files good and bad."""
    root = tmp_path_factory.mktemp("fuzz")
    assert cli.main(["run", "ipd_noise", *FAST, "--out", str(root / "run"), "--no-figures"]) == 0
    assert cli.main(["sweep", "ipd_noise", "--grid", "noise.execution=0,0.1", "--runs", "20", "--seed", "1",
                     "--out", str(root / "sweep"), "--no-figures"]) == 0
    (root / "bad.yaml").write_text("schema_version: 1\ntime: {n_steps: x}\n")
    (root / "binary.yaml").write_bytes(b"\x00\x01\x02")
    (root / "list.json").write_text("[1, 2]")
    (root / "empty").mkdir()
    (root / "odd").mkdir()
    for name in ("manifest.json", "metadata.json"):
        (root / "odd" / name).write_text("[1, 2]")
    return root


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_no_command_line_ends_in_a_traceback(places, capsys, data):
    name = data.draw(st.sampled_from(sorted(SUBPARSERS)), label="command")
    fresh = str(places / f"out{next(_counter)}")
    paths = [str(places / p) for p in ("run", "sweep", "bad.yaml", "binary.yaml", "list.json", "empty", "nowhere",
                                       "run/runs.parquet", "bad.yaml/below", "odd")]
    junk = st.one_of(st.sampled_from(JUNK), st.text(max_size=6))
    where = st.sampled_from([*paths, fresh, fresh])
    target = st.one_of(st.sampled_from(SCENARIOS), st.sampled_from(SCENARIOS), where, junk)
    if name == "plot":
        target = st.one_of(where, junk)
    count = {"list": 0, "validate": 3}.get(name, 1)
    positional = data.draw(st.lists(target, min_size=min(count, 1), max_size=count), label="positional")
    argv = [name, *positional]
    for option in data.draw(st.lists(st.sampled_from(sorted(OPTIONS[name])), max_size=5, unique=True), label="options"):
        argv.append(option)
        if OPTIONS[name][option]:
            plausible = where if option == "--out" else st.sampled_from(PLAUSIBLE.get(option, JUNK))
            argv.append(data.draw(st.one_of(plausible, plausible, plausible, junk), label=option))
    if "--runs" in OPTIONS[name]:  # keep every example quick
        argv += ["--runs", "20", "--steps", "3", "--no-figures"]
    with contextlib.chdir(places):  # a relative junk path such as "0" is written in the fuzz folder
        code = cli.main(argv)
    out, err = capsys.readouterr()
    event(f"{name}: exit {code}")
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 1, 2), (argv, code, err)
