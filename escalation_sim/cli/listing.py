"""``escalation-sim list``: the bundled scenarios."""

from __future__ import annotations

from ..scenario import ScenarioError, list_scenarios, load_scenario
from .common import OK, add_json, command, emit_json

def add(sub) -> None:
    p = command(sub, "list", "List the bundled scenarios with their titles.\n",
                "  escalation-sim list\n  escalation-sim list --json\n", cmd_list)
    add_json(p)


def cmd_list(args) -> int:
    rows = []
    for name in list_scenarios():
        try:
            rows.append({"name": name, "title": load_scenario(name).title})
        except ScenarioError as exc:  # list the others, and say what is wrong with this one
            rows.append({"name": name, "title": None, "error": str(exc)})
    if args.json:
        emit_json(rows)
        return OK
    width = max((len(r["name"]) for r in rows), default=0) + 2
    for r in rows:
        print(f"{r['name']:<{width}}{r['title'] if r['title'] is not None else 'INVALID: ' + r['error']}")
    return OK
