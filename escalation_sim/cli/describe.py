"""``escalation-sim describe``: a scenario in words."""

from __future__ import annotations

from ..scenario import describe
from .common import OK, add_json, add_scenario_options, command, emit_json, load_with_overrides

DESCRIBE_EXAMPLES = """\
  escalation-sim describe us_iran_2020
  escalation-sim describe my_crisis.yaml --set actors.USA.policy.ratio=1.5
  escalation-sim describe us_iran_2020 --json
"""


def add(sub) -> None:
    p = command(sub, "describe", "Show a scenario: actors, policies, ladder, noise, events, outcome rules.\n",
                DESCRIBE_EXAMPLES, cmd_describe)
    add_scenario_options(p)
    add_json(p)


def cmd_describe(args) -> int:
    scenario = load_with_overrides(args)
    if args.json:
        emit_json(scenario.to_dict())
    else:
        print(describe(scenario))
    return OK
