"""Every tutorial notebook executes from top to bottom without an error, in a fresh kernel of
this Python (nbclient), and keeps the shape the course relies on: a markdown cell first saying
what it teaches, exercises last, and committed outputs with figures. The answer key
(docs/teaching-answers.md) answers every exercise; its code, with the asserts that check its
claims, is run by tests/test_docs.py with every other doc."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANSWERS = ROOT / "docs" / "teaching-answers.md"
CELL_TIMEOUT = 300  # seconds; the million-run cell of the quickstart is the slowest


def test_the_four_tutorials_are_there():
    names = [path.stem for path in NOTEBOOKS]
    assert names == ["01_quickstart", "02_seed_crisis", "03_tit_for_tat_and_noise",
                     "04_tournaments_and_evolution",
                     "05_fitting_the_crisis",
                     "06_evolution_and_bounded_rationality"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_opens_with_what_it_teaches_and_ends_with_exercises(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and "What this notebook teaches" in nb.cells[0].source
    assert nb.cells[-1].cell_type == "markdown" and nb.cells[-1].source.startswith("## Exercises")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the committed notebook shows no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_executes_without_error(path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def _exercises(path) -> list[int]:
    text = nbformat.read(path, as_version=4).cells[-1].source
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.M)]


def _answer_sections() -> dict[str, list[int]]:
    sections = re.split(r"^## Notebook (\d\d)", ANSWERS.read_text(), flags=re.M)
    return {number: [int(n) for n in re.findall(r"^\*\*(\d+)\. ", body, flags=re.M)]
            for number, body in zip(sections[1::2], sections[2::2])}


def test_the_answer_key_answers_every_exercise_of_every_notebook():
    answers = _answer_sections()
    for path in NOTEBOOKS:
        exercises = _exercises(path)
        assert exercises, f"{path.name}: no numbered exercises"
        assert answers.get(path.stem[:2]) == exercises, f"{ANSWERS.name}: the answers to {path.name}"
