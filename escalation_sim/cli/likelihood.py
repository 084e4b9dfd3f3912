"""``escalation-sim likelihood``: the log-likelihood of a timeline under a scenario."""

from __future__ import annotations

import math

from .common import OK, add_json, add_scenario_options, command, emit_json, load_with_overrides

LIKELIHOOD_EXAMPLES = """\
  escalation-sim likelihood us_iran_2020_record us_iran_2020_record
  escalation-sim likelihood us_iran_2020 us_iran_2020_document --exogenous
  escalation-sim likelihood us_iran_2020_record events.csv --set noise.execution=0.02 --json
"""

LIKELIHOOD_HELP = """\
Print log P(the timeline's executed levels | the scenario), exact for memory-one policies. When
an observed act cannot happen under the scenario the answer is -inf, with the first such act
and why; --exogenous then takes every such act as given (scripted) and prints the
log-likelihood of the rest.
"""


def add(sub) -> None:
    p = command(sub, "likelihood", LIKELIHOOD_HELP, LIKELIHOOD_EXAMPLES, cmd_likelihood)
    add_scenario_options(p)
    add_timeline_options(p)
    p.add_argument("--exogenous", action="store_true",
                   help="script the acts the scenario cannot produce and give the log-likelihood of the rest")
    add_json(p)


def add_timeline_options(p) -> None:
    p.add_argument("timeline", metavar="TIMELINE", help="bundled timeline name or a timeline file (CSV, GDELT, ICEWS)")
    p.add_argument("--format", choices=("csv", "gdelt2", "gdelt1", "icews"),
                   help="the timeline file's format (default: told from its first line)")


def load_timeline(args, scenario):
    """The timeline of ``args.timeline`` (bundled name or file) on ``scenario``'s steps."""
    from ..timeline import bundled_timeline, list_timelines, read_timeline

    path = bundled_timeline(args.timeline) if args.timeline in list_timelines() else args.timeline
    return read_timeline(path, scenario, format=args.format)


def cmd_likelihood(args) -> int:
    import warnings

    from ..inference import ImpossibleObservation, Likelihood, exogenous_acts

    scenario = load_with_overrides(args)
    timeline = load_timeline(args, scenario)
    lik = Likelihood(scenario, timeline)
    values = lik.values([[]])
    value = float(lik.log_likelihood(values)[0])
    data = {"scenario": scenario.name, "timeline": args.timeline, "n_steps": int(len(lik.path)),
            "log_likelihood": value, "impossible": None if math.isfinite(value) else lik.explain(values)}
    if args.exogenous and not math.isfinite(value):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImpossibleObservation)
            given, acts = exogenous_acts(scenario, timeline)
        data["exogenous"] = acts.to_dict(orient="records")
        data["log_likelihood_given_exogenous"] = float(Likelihood(given, timeline).log_likelihood(values)[0])
    if args.json:
        emit_json(data)
        return OK
    print(f"log-likelihood of {args.timeline} ({data['n_steps']} steps) under {scenario.name}: {value:.4f}")
    if data["impossible"]:
        print(f"impossible: {data['impossible']}")
    for act in data.get("exogenous", []):
        print(f"  taken as given: step {act['step']}, {act['actor']} -> {act['target']}, level {act['level']}")
    if "log_likelihood_given_exogenous" in data:
        print(f"log-likelihood given those {len(data['exogenous'])} acts: {data['log_likelihood_given_exogenous']:.4f}")
    return OK
