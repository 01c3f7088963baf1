"""``python -m autograder``: the instructor's tools over nbgrader, run from the repository root.

A class goes from an LMS download to grades, feedback and what to reteach::

    python -m autograder collect rnn ~/Downloads/submissions.zip
    python -m autograder grade rnn --duedate "2026-10-05 23:59 UTC"   # again later: only what changed
    python -m autograder similarity rnn
    python -m autograder feedback rnn
    python -m autograder report

Each command lives in its own module (autograder/commands/<command>.py), which defines
``configure(parser)`` (its options, each with help text) and ``run(args)``.
``python -m autograder <command> --help`` lists the options.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from autograder.paths import ROOT

#: Commands in the order an instructor uses them, with a one-line summary.
COMMANDS = {
    "release": "regenerate exercises/ from solutions/ and check it (no solution, no hidden test, cells locked)",
    "collect": "bring submissions from a folder or an LMS zip into submitted/<student>/<slug>/",
    "grade": "autograde submissions in parallel into the gradebook, safe from tampering",
    "feedback": "write per-student HTML feedback (their code, failed checks, hints; never hidden tests)",
    "report": "write grades.csv for the LMS, lateness, per-check pass rates, histograms and what to reteach",
    "similarity": "rank pairs of submissions by shared code (not the release's, not the solution's), side by side",
}


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    main.add_argument("--course", type=Path, default=ROOT, metavar="DIR",
                      help="the course directory, holding nbgrader_config.py, solutions/ and submitted/ "
                           "(default: this repository)")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        module = importlib.import_module(f"autograder.commands.{name}")
        sub = commands.add_parser(name, help=summary, description=module.__doc__.split("\n\n")[0])
        module.configure(sub)
        sub.set_defaults(run=module.run)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.course = args.course.resolve()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
