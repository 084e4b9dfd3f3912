"""``escalation-sim validate``: check scenario files."""

from __future__ import annotations

from ..scenario import ScenarioError, load_scenario
from .common import OK, USAGE, add_json, command, emit_json

def add(sub) -> None:
    p = command(sub, "validate", "Check scenario files, naming every problem; exit 2 if any is invalid.\n",
                "  escalation-sim validate my_crisis.yaml\n  escalation-sim validate scenarios/*.yaml\n",
                cmd_validate)
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario files (or bundled names)")
    add_json(p)


def _invalid(row) -> str:
    lines = row["error"].splitlines()
    if len(lines) == 1:
        return f"INVALID  {lines[0]}"
    return "\n".join([f"INVALID  {row['file']}: {len(lines)} problems", *(f"  {line}" for line in lines)])


def cmd_validate(args) -> int:
    rows = []
    for file in args.files:
        try:
            scenario = load_scenario(file)
            rows.append({"file": file, "valid": True, "title": scenario.title})
        except ScenarioError as exc:  # it names every problem of the file, one per line
            rows.append({"file": file, "valid": False, "error": str(exc),
                         "errors": [{"key": key, "detail": detail} for key, detail in exc.errors]})
    if args.json:
        emit_json(rows)
    else:
        for r in rows:
            print(f"OK       {r['file']}: {r['title']}" if r["valid"] else _invalid(r))
    return OK if all(r["valid"] for r in rows) else USAGE
