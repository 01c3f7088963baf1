"""Command line: ``python -m autograder <command>``, run from the repository root.

Commands
--------
release [SLUG ...]
    Regenerate exercises/ from solutions/ (all assignments by default).
grade SLUG
    Autograde every submission in submitted/*/SLUG/ and print each student's score.
"""

from __future__ import annotations

import argparse
import sys

from .grade import autograde, read_scores, register
from .paths import ROOT, SLUGS
from .release import release


def _release(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.slugs) - set(SLUGS))
    if unknown:
        sys.exit(f"unknown assignment(s): {', '.join(unknown)}; known: {', '.join(SLUGS)}")
    for path in release(args.slugs or SLUGS):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    register(ROOT, args.slug)
    autograde(ROOT, args.slug)
    scores = read_scores(ROOT, args.slug)
    for student in sorted(scores):
        result = scores[student]
        failed = ", ".join(result.failed_cells) or "-"
        print(f"{student:24s} {result.score:5.1f} / {result.max_score:4.1f}   failed: {failed}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = main.add_subparsers(dest="command", required=True)

    p = commands.add_parser("release", help="regenerate exercises/ from solutions/ with nbgrader")
    p.add_argument("slugs", nargs="*", metavar="SLUG",
                   help=f"assignments to release (default: all of {', '.join(SLUGS)})")
    p.set_defaults(run=_release)

    p = commands.add_parser("grade", help="autograde submitted/*/SLUG/ and print the scores")
    p.add_argument("slug", choices=SLUGS, help="the assignment to grade")
    p.set_defaults(run=_grade)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
