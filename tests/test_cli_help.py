"""A command line that helps: whole one-line summaries, options only by their whole names,
"did you mean" for every kind of name a user types, messages that name what was expected,
and a progress bar while figures are drawn."""

import argparse

import pytest

import escalation_sim as es
from escalation_sim import ScenarioError, cli
from escalation_sim.cli.common import first_sentence


def call(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def subparsers(parser):
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_main_help_shows_each_subcommands_whole_first_sentence(capsys):
    code, out, _ = call(capsys, "--help")
    assert code == 0
    action = subparsers(cli.build_parser())
    assert {c.dest for c in action._choices_actions} == set(action.choices)
    for choice in action._choices_actions:
        summary = action.choices[choice.dest].description.split("\n\n", 1)[1]  # after the examples
        sentence = first_sentence(summary)
        assert sentence.endswith("."), f"{choice.dest}: {sentence!r}"
        assert choice.help.replace("%%", "%") == sentence
        assert words(sentence) in words(out), f"{choice.dest}: the help shows less than {sentence!r}"


def test_a_summary_spread_over_lines_gives_its_whole_first_sentence():
    assert first_sentence("Run a batch and print the outcomes with 95%\nWilson intervals. More here.\n") == \
        "Run a batch and print the outcomes with 95% Wilson intervals."
    assert first_sentence("List the scenarios.\n") == "List the scenarios."


def test_no_parser_takes_an_option_by_a_prefix():
    parser = cli.build_parser()
    assert parser.allow_abbrev is False
    for name, sub in subparsers(parser).choices.items():
        assert sub.allow_abbrev is False, name


@pytest.mark.parametrize("argv, hint", [
    (["run", "us_iran_2020", "--run", "1000"], "did you mean --runs?"),
    (["run", "us_iran_2020", "--sed=3"], "did you mean --seed?"),
    (["sweep", "us_iran_2020", "--grd", "noise.execution=0,0.1"], "did you mean --grid?"),
    (["replay", "us_iran_2020", "--run", "1", "--sed", "2"], "did you mean --seed?"),
    (["rn", "us_iran_2020"], "did you mean run?"),
    (["valdiate", "x.yaml"], "did you mean validate?"),
    (["run", "us_iran_2020", "--show", "wr"], "did you mean war?"),
    (["describe", "us_iran2020"], "did you mean us_iran_2020?"),
    (["run", "us-iran-2020-record"], "did you mean us_iran_2020_record?"),
])
def test_a_misspelled_name_is_a_usage_error_that_suggests_the_closest(capsys, argv, hint):
    code, out, err = call(capsys, *argv)
    assert code == 2 and out == ""
    assert hint in err and "Traceback" not in err


def test_an_unknown_option_of_a_subcommand_shows_that_subcommands_usage(capsys):
    code, _, err = call(capsys, "run", "us_iran_2020", "--run", "1000")
    assert code == 2
    assert "usage: escalation-sim run" in err and "unrecognized arguments: --run 1000" in err


def test_load_scenario_suggests_the_closest_bundled_name_and_none_for_a_stranger():
    with pytest.raises(ScenarioError, match="did you mean proxy_war"):
        es.load_scenario("proxy-war")
    with pytest.raises(ScenarioError) as info:
        es.load_scenario("zzzzzz")
    assert "did you mean" not in str(info.value) and "bundled: " in str(info.value)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plot") / "ipd"
    assert cli.main(["run", "ipd_noise", "--runs", "200", "--steps", "10", "--seed", "1", "--out", str(folder),
                     "--no-figures", "--json"]) == 0
    return folder


def test_plot_on_a_file_names_the_folder_it_expected(capsys, run_folder):
    code, out, err = call(capsys, "plot", run_folder / "runs.parquet")
    assert code == 2 and out == ""
    assert "is a file" in err and f"escalation-sim plot {run_folder}" in err
    (run_folder / "figures").mkdir(exist_ok=True)
    (run_folder / "figures" / "outcomes.png").write_bytes(b"")
    code, _, err = call(capsys, "plot", run_folder / "figures" / "outcomes.png")
    assert code == 2 and f"escalation-sim plot {run_folder}" in err
    code, _, err = call(capsys, "plot", run_folder / "nothing")
    assert code == 2 and "no such folder; expected a folder written by `run --out`" in err


def test_a_bad_format_is_named_with_the_closest_one(capsys, run_folder):
    code, _, err = call(capsys, "plot", run_folder, "--format", "jpg,svgg")
    assert code == 2
    assert "'svgg' is not an image format" in err and "did you mean svg?" in err
    assert "'jpg'" not in err


def test_plot_draws_a_progress_bar_over_the_files_on_stderr(capsys, run_folder):
    code, out, err = call(capsys, "plot", run_folder, "--format", "svg", "--progress")
    written = out.split()
    assert code == 0 and written
    assert "figures" in err and f"{len(written)}/{len(written)}" in err
    code, out, err = call(capsys, "plot", run_folder, "--format", "svg", "--no-progress")
    assert code == 0 and "figures" not in err
