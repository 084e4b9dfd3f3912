"""``escalation-sim``: the command line, a thin layer over the public API.

One module per subcommand; each has ``add(sub)``, which adds its parser, and its command
function. Results and ``--json`` go to standard output; notes and progress bars to standard
error. Exit codes: 0 success, 1 runtime failure, 2 usage error or invalid scenario, 130
interrupted.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import traceback

from .. import __version__
from . import dashboard, describe, listing, plot, replay, run, sweep, validate
from . import fit, likelihood
from .common import FAILURE, INTERRUPTED, OK, PROG, USAGE, UsageError, note, silence_stdout

SUBCOMMANDS = (run, replay, sweep, plot, describe, listing, validate, dashboard,
               fit, likelihood)

MAIN_HELP = """\
examples:
  escalation-sim list
  escalation-sim describe us_iran_2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020
  escalation-sim run us_iran_2020 --runs 100000 --seed 2020 --show war
  escalation-sim replay us_iran_2020 --seed 2020 --run 631
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


class Parser(argparse.ArgumentParser):
    """An argument parser that takes options only by their whole names (``--run`` is not
    ``--runs``) and suggests the closest subcommand, choice or option on a usage error.
    Subparsers are of the same class."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._argv: list[str] = []

    def parse_known_args(self, args=None, namespace=None):
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        chosen = _chosen_subparser(self)
        if message.startswith("unrecognized arguments: ") and chosen is not None:
            chosen.error(message)  # with the subcommand's usage and options
        super().error(message + did_you_mean(self, message))


def did_you_mean(parser: argparse.ArgumentParser, message: str) -> str:
    """``" (did you mean run?)"`` for argparse's invalid choices and unrecognized options, else ``""``."""
    choice = re.search(r"invalid choice: '([^']*)'", message)
    if choice:
        names = [str(c) for a in parser._actions if a.choices for c in a.choices]
        return _suggest(choice.group(1), names)
    if message.startswith("unrecognized arguments: "):
        options = _option_strings(parser)
        for word in message.removeprefix("unrecognized arguments: ").split():
            if word.startswith("-") and (hint := _suggest(word.partition("=")[0], options)):
                return hint
    return ""


def _suggest(word: str, names) -> str:
    close = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [o for o in parser._option_string_actions if o.startswith("--")]


def _chosen_subparser(parser: argparse.ArgumentParser):
    """The subcommand's parser named in ``parser``'s command line, if any: argparse reports a
    subcommand's unknown options from the top-level parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return next((action.choices[w] for w in getattr(parser, "_argv", []) if w in action.choices), None)
    return None


def build_parser() -> argparse.ArgumentParser:
    """The ``escalation-sim`` argument parser, with one subparser per command."""
    parser = Parser(prog=PROG, description=MAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.add(sub)
    return parser
