"""``escalation-sim``: the command line, a thin layer over the public API.

One module per subcommand; each has ``add(sub)``, which adds its parser, and its command
function. Results and ``--json`` go to standard output; notes and progress bars to standard
error. Exit codes: 0 success, 1 runtime failure, 2 usage error or invalid scenario, 130
interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from .. import __version__
from . import dashboard, describe, listing, plot, replay, run, sweep, validate
from .common import FAILURE, INTERRUPTED, OK, PROG, USAGE, UsageError, note, silence_stdout

SUBCOMMANDS = (run, replay, sweep, plot, describe, listing, validate, dashboard)

MAIN_HELP = """\
examples:
  escalation-sim list
  escalation-sim describe us_iran_2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020 --show war
  escalation-sim replay us_iran_2020 --seed 2020 --run 17
  escalation-sim run us_iran_2020 --runs 1000000 --out results/iran --workers 2
  escalation-sim sweep us_iran_2020 --grid actors.IRN.policy.generosity=0:1:11 --runs 20000
  escalation-sim plot results/iran
  escalation-sim dashboard us_iran_2020

Agent-based simulation of escalation between states and militias. A SCENARIO is the name of a
bundled scenario (see `escalation-sim list`), a YAML file, or a run folder written by `run --out`.
"""

__all__ = ["main", "build_parser", "UsageError"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else USAGE
    args.argv = argv
    try:
        return args.func(args) or OK
    except KeyboardInterrupt:
        note("interrupted")
        return INTERRUPTED
    except BrokenPipeError:  # the reader of standard output has gone (| head): stop quietly
        silence_stdout()
        return FAILURE
    except (ConnectionError, ImportError) as exc:
        note(f"{PROG}: error: {exc}")
        return FAILURE
    except (ValueError, FileNotFoundError) as exc:  # ScenarioError, StoreError, UsageError, ...
        note(f"{PROG}: error: {exc}")
        return USAGE
    except Exception:  # a bug or an environment failure: the traceback helps whoever reports it
        traceback.print_exc()
        return FAILURE


def build_parser() -> argparse.ArgumentParser:
    """The ``escalation-sim`` argument parser, with one subparser per command."""
    parser = argparse.ArgumentParser(prog=PROG, description=MAIN_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.add(sub)
    return parser
