"""Command line of the CCS Imbalance Lab: python -m core COMMAND, or ccs-lab COMMAND once installed.

Each command group is a module of core.cli that adds its commands here; this module only
builds the parser and dispatches.

Every command shares the config dataclasses with the dashboard and checks them with
core.settings.validate before anything is loaded; bad input ends with a one-line message and exit
status 2, any other failure with a one-line message and status 1, never a traceback
(`--debug` shows it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli import activations, analysis, assets, budget, experiments, grid, runs, story
from core.cli.output import say
from core.errors import UserError, public_message

COMMAND_GROUPS = (assets, experiments, activations, analysis, budget, runs, story, grid)


def build_parser() -> argparse.ArgumentParser:
    invoked = Path(sys.argv[0]).name  # the ccs-lab command, or this module run with python -m core
    prog = "python -m core" if invoked in ("__main__.py", "-c", "") else invoked
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        say("interrupted; cached results are untouched", file=sys.stderr)
        return 130
    except Exception as error:  # every failure ends in one line; --debug shows the traceback
        if args.debug:
            raise
        hint = "" if isinstance(error, UserError) else " (run with --debug for the traceback)"
        say(f"error: {public_message(error)}{hint}", file=sys.stderr)
        return 2 if isinstance(error, UserError) else 1


if __name__ == "__main__":
    sys.exit(main())
