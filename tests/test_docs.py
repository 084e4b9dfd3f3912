"""Every code block of README.md and docs/*.md runs as written, and prints what the doc shows.

The conventions, for whoever writes a doc (a new file in docs/ is picked up by itself):

- ```python blocks of one file run in order as one script, saved to a file and run with
  ``python`` in a fresh folder, as a reader who copies them would: what one block defines, the
  next can use, and code that starts processes needs its ``if __name__ == "__main__":``.
- ```bash, ```sh and ```shell blocks hold ``escalation-sim`` commands, one a line (``\\`` joins
  lines, ``#`` starts a comment, ``&&`` chains); ```console blocks the same after ``$ ``, each
  followed by its output. They run after the file's Python, in the same folder, through
  ``escalation_sim.cli.main``; each must exit 0. The folder holds ``my_crisis.yaml`` (a copy of
  ``us_iran_2020``) and ``scenarios/`` (the bundled files), which the examples name. Only the
  sizes are scaled down: ``run --runs`` at most 20,000; ``sweep --runs`` at most 2,000 per
  point (2,000 when not given) and ``--lhs`` at most 16.
- A ```text block shows the output of the code block before it (of a shell block's last
  command); a console block's output follows its command. Every line shown must appear in the
  output, in order (spacing aside); a line ``...`` marks where lines are left out, and lines
  may be left out anywhere; ``...`` within a line stands for any text (a scenario's hash,
  which changes with the file).
- ``<!-- no-run: reason -->`` on the line before a block keeps it from running, for what a
  test cannot do: an install, a cluster's address, a server, a transcript with Ctrl-C.

Every ``replay SCENARIO --seed S --run R`` a doc or the CLI's help gives for a bundled scenario
must name a run that went to war, checked against the batch itself.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import escalation_sim as es
from escalation_sim import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
RUN_CAP, SWEEP_RUNS_CAP, LHS_CAP = 20_000, 2_000, 16
NO_RUN = re.compile(r"<!--\s*no-run:\s*(.+?)\s*-->")
FENCE = re.compile(r"^```\s*([\w-]*)\s*$")


@dataclass
class Block:
    file: str
    line: int
    lang: str
    code: str
    skip: str | None = None
    output: list[str] = field(default_factory=list)  # the ```text block that follows, if any


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each with its no-run reason and shown output."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, k, before = [], 0, ""
    while k < len(lines):
        fence = FENCE.match(lines[k])
        if not fence:
            if lines[k].strip():
                before = lines[k]
            k += 1
            continue
        end = next(j for j in range(k + 1, len(lines)) if lines[j].startswith("```"))
        skip = NO_RUN.search(before)
        block = Block(path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name, k + 1, fence.group(1), "\n".join(lines[k + 1 : end]) + "\n",
                      skip.group(1) if skip else None)
        runnable = [b for b in found if b.lang == "python" or b.lang in SHELL]
        if block.lang == "text" and runnable:
            runnable[-1].output = block.code.splitlines()
        found.append(block)
        k, before = end + 1, ""
    return found


def runnable(path: Path, langs) -> list[Block]:
    return [b for b in blocks(path) if b.lang in langs and b.skip is None]


def doc_ids(paths):
    return [p.relative_to(ROOT).as_posix() for p in paths]


def check_output(shown: list[str], printed: str, where: str) -> None:
    """Each line ``shown`` (but ``...``) appears in ``printed`` in order, spacing aside."""
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    at = 0
    for line in shown:
        want = " ".join(line.split())
        if not want or want == "...":
            continue
        pattern = re.compile(".*".join(map(re.escape, want.split("..."))))
        found = next((k for k in range(at, len(lines)) if pattern.fullmatch(lines[k])), None)
        if found is None:
            raise AssertionError(f"{where}: the doc shows {want!r}, which is not printed (in this order);"
                                 f" printed:\n{printed}")
        at = found + 1


@pytest.fixture
def doc_folder(tmp_path, monkeypatch):
    """A fresh folder with the files the examples name, as the working directory."""
    es.load_scenario("us_iran_2020").save(tmp_path / "my_crisis.yaml")
    (tmp_path / "scenarios").mkdir()
    for file in (ROOT / "scenarios").glob("*.yaml"):
        (tmp_path / "scenarios" / file.name).write_bytes(file.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- Python --------------------------------------------------------------------------------------

MARK = "#### block {k} ####"


def python_script(python: list[Block]) -> str:
    """The blocks as one script, printing a marker before each so its output can be told apart."""
    parts = []
    for k, block in enumerate(python):
        # Guarded: worker processes started by spawn run the script's top level again.
        parts.append(f"# {block.file}, line {block.line}\nif __name__ == '__main__':\n"
                     f"    print({MARK.format(k=k)!r}, flush=True)\n{block.code}")
    return "\n".join(parts)


def run_python(path: Path, folder: Path) -> None:
    python = runnable(path, {"python"})
    if not python:
        return
    script = folder / f"doc_{path.stem}.py"
    script.write_text(python_script(python), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, script.name], cwd=folder, capture_output=True, text=True, env=env,
                          timeout=600)
    where = f"{python[0].file} (run as {script.name})"
    assert done.returncode == 0, f"{where} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    outputs = re.split(r"^#### block \d+ ####$", done.stdout, flags=re.M)[1:]
    assert len(outputs) == len(python)
    for block, printed in zip(python, outputs):
        check_output(block.output, printed, f"{block.file}, line {block.line}")


# -- shell ---------------------------------------------------------------------------------------

def commands(block: Block) -> list[tuple[list[str], list[str]]]:
    """(command words, shown output) for each command of a shell or console block."""
    text = block.code.replace("\\\n", " ")
    if block.lang != "console":
        out = [(words, []) for line in text.splitlines() for words in _chain(line)]
        if out:
            out[-1] = (out[-1][0], block.output)
        return out
    out = []
    for line in text.splitlines():
        if line.startswith("$ "):
            out += [(words, []) for words in _chain(line[2:])]
        elif out:
            out[-1][1].append(line)
    return out


def _chain(line: str) -> list[list[str]]:
    words = shlex.split(line, comments=True)
    chain, current = [], []
    for word in words:
        if word == "&&":
            chain.append(current)
            current = []
        else:
            current.append(word)
    return [c for c in [*chain, current] if c]


def scaled(words: list[str]) -> list[str]:
    """The command with its sizes capped (see the module's docstring), globs expanded."""
    words = [w for word in words for w in (sorted(glob.glob(word)) or [word] if "*" in word else [word])]
    if words[:3] == ["python", "-m", "escalation_sim"]:
        words = ["escalation-sim", *words[3:]]
    assert words[0] == "escalation-sim", (
        f"{' '.join(words)}: a doc's shell block runs escalation-sim only; mark it <!-- no-run: reason -->")
    args = words[1:]
    command = args[0] if args else ""
    caps = {"run": {"--runs": RUN_CAP}, "sweep": {"--runs": SWEEP_RUNS_CAP, "--lhs": LHS_CAP}}.get(command, {})
    for option, cap in caps.items():
        if option in args:
            k = args.index(option) + 1
            args[k] = str(min(int(args[k]), cap))
        elif option == "--runs" and command == "sweep":
            args += [option, str(cap)]
    return args


def run_command(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def run_shell(path: Path) -> None:
    for block in runnable(path, SHELL):
        for words, shown in commands(block):
            args = scaled(words)
            code, out, err = run_command(args)
            where = f"{block.file}, line {block.line}: escalation-sim {shlex.join(args)}"
            assert code == 0, f"{where} exited {code}:\n{err}"
            check_output(shown, out, where)


# -- the tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", DOCS, ids=doc_ids(DOCS))
def test_the_code_blocks_of_a_doc_run_as_written(path, doc_folder):
    run_python(path, doc_folder)
    run_shell(path)


def test_every_doc_with_code_is_found_and_every_skipped_block_says_why():
    found = {b.file for path in DOCS for b in blocks(path) if b.lang == "python" or b.lang in SHELL}
    assert {"README.md", "docs/cli.md", "docs/mesa.md", "docs/sweeps-and-plots.md"} <= found
    for path in DOCS:
        for b in blocks(path):  # code in a block without a language would never run
            code = [line.removeprefix("$ ") for line in b.code.splitlines()]
            assert b.lang or not any(line.startswith(("escalation-sim ", "import ", "from ")) for line in code), (
                f"{b.file}, line {b.line}: code in a block without a language; mark it python, bash or console")
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for reason in re.findall(r"<!--\s*no-run\b(.*?)-->", text, re.S):
            assert reason.strip(": \n"), f"{path.name}: a no-run mark without its reason"


REPLAY = re.compile(r"replay (\w+) --seed (\d+) --run (\d+)")


def replay_examples() -> list[tuple[str, str, int, int]]:
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in DOCS}
    texts["escalation-sim --help"] = run_command(["--help"])[1]
    texts["escalation-sim replay --help"] = run_command(["replay", "--help"])[1]
    return [(where, name, int(seed), int(run)) for where, text in texts.items()
            for name, seed, run in REPLAY.findall(text) if name in es.list_scenarios()]


def test_every_replay_example_names_a_run_that_went_to_war():
    examples = replay_examples()
    assert {where for where, *_ in examples} >= {"README.md", "docs/cli.md", "escalation-sim --help"}
    for name, seed in {(name, seed) for _, name, seed, _ in examples}:
        runs = [run for _, n, s, run in examples if (n, s) == (name, seed)]
        outcome = es.simulate(name, max(runs) + 1, rng=seed).runs["outcome"]
        for where, n, s, run in examples:
            if (n, s) == (name, seed):
                assert outcome[run] == "war", f"{where}: replay {name} --seed {seed} --run {run} is a run that ended in {outcome[run]}"


def test_the_harness_reads_blocks_outputs_and_marks(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("text\n```python\nprint(1)\n```\nprints\n```text\n1\n```\n<!-- no-run: a server -->\n"
                   "```bash\nescalation-sim list  # the names\n```\n```console\n$ escalation-sim list && "
                   "escalation-sim list --json\n[\n```\n", encoding="utf-8")
    found = blocks(doc)
    assert [b.lang for b in found] == ["python", "text", "bash", "console"]
    assert found[0].output == ["1"] and found[2].skip == "a server"
    assert commands(found[3]) == [(["escalation-sim", "list"], []), (["escalation-sim", "list", "--json"], ["["])]
    check_output(["a", "...", "c"], "a\nb\nc\n", "x")
    check_output(["hash ...: 3 runs"], "hash 8cf2: 3 runs\n", "x")
    with pytest.raises(AssertionError, match="not printed"):
        check_output(["hash ...: 3 runs"], "hash 8cf2: 4 runs\n", "x")
    with pytest.raises(AssertionError, match="not printed"):
        check_output(["c", "a"], "a\nb\nc\n", "x")
    assert scaled(["escalation-sim", "run", "x", "--runs", "1000000"])[-1] == str(RUN_CAP)
    assert scaled(["escalation-sim", "sweep", "x", "--lhs", "64"])[-3:] == ["16", "--runs", str(SWEEP_RUNS_CAP)]

