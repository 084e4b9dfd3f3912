"""Messages a new user meets first: the run header, ``--show ongoing``, the dashboard's install
hint and the course plan's notebooks."""

from __future__ import annotations

import re
from pathlib import Path

from escalation_sim import cli
from escalation_sim.dashboard import INSTALL

ROOT = Path(__file__).resolve().parents[1]


def test_run_header_and_show_ongoing_read_as_sentences(capsys):
    # ipd_noise has no war or ceasefire rule: every run is still going at the horizon.
    assert cli.main(["run", "ipd_noise", "--runs", "1200", "--steps", "1000", "--seed", "3", "--show", "ongoing"]) == 0
    out = capsys.readouterr().out
    assert "1,200 runs of 1,000 steps" in out
    assert "1,200 runs were still going at the horizon (the first 10): 0, 1," in out
    assert "ended in ongoing" not in out


def test_the_dashboard_install_hint_gives_the_package_and_the_checkout_spelling():
    assert "pip install 'escalation-sim[dashboard]'" in INSTALL and "pip install '.[dashboard]'" in INSTALL


def test_the_course_plan_names_every_notebook_and_only_those():
    text = (ROOT / "docs" / "teaching.md").read_text()
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    named = set(re.findall(r"\d\d_\w+\.ipynb", text))
    assert named == set(notebooks)
    order = re.search(r"in the\s+order ([\d, ]+)", text).group(1)
    assert sorted(set(order.replace(",", " ").split()) | {"05"}) == [n[:2] for n in notebooks]
