#!/usr/bin/env python3
"""How well do the visible checks teach? Figures over the mutant catalogues.

    .venv/bin/python benchmarks/report_checks.py

Every mutant of every assignment (tests/mutants/) runs against the checks as
learners see them, hidden blocks removed (tests/notebook_run.py, in this
process). Per assignment it prints:

- the visible checks' mutation score: the mutants at least one visible check fails;
- how many mutants' FIRST failing message names, in its first line, the
  quantity that is wrong (an output, a gradient, an input the function changed,
  or the forward step to fix first), rather than only an exception or a
  function's name;
- the widest line of any message, and how many messages start "Fix ... first".
"""

from __future__ import annotations

import json
import re
import sys
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from autograder.paths import SLUGS, release_notebook, source_notebook  # noqa: E402
from autograder.course.plan import load_plan  # noqa: E402
from autograder.course.submissions import fill, reference_answers  # noqa: E402
from mutants import catalogue  # noqa: E402
from notebook_run import run_notebook  # noqa: E402


def quantities(slug: str) -> set[str]:
    """The names of the assignment's outputs, gradients and inputs, as its checks use them."""
    module = import_module(f"rnnlab.assignments.{slug}")
    names = set()
    for value in vars(module).values():
        if isinstance(value, dict):
            names |= {k for k in value if isinstance(k, str)}
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            names |= set(value)
    names |= {n[1:] for n in names if n.startswith("d") and len(n) > 1}  # dWh -> Wh
    return names | {"loss", "norm", "h_last", "clipped", "new_params", "the gradient", "dscores", "h", "x"}


def names_a_quantity(message: str, vocabulary: set[str]) -> bool:
    """Does the first line of a message name a wrong quantity? An exception the learner's code
    raised, or a loop count, names only a function (its traceback says where to look)."""
    headline = " ".join(message.split("\nHint")[0].split())
    if " raised " in headline or " Python loop" in headline:
        return False
    if headline.startswith("Fix ") or " modified its input " in headline:
        return True
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w(])", headline) for name in vocabulary)


def main() -> int:
    totals = [0, 0, 0]
    widest, forward_first = 0, 0
    print(f"{'assignment':14s} {'mutants':>7s} {'caught by visible checks':>25s} {'first message names it':>24s}")
    for slug in SLUGS:
        plan = load_plan(slug)
        released = json.loads(release_notebook(slug).read_text(encoding="utf-8"))
        answers = reference_answers(json.loads(source_notebook(slug).read_text(encoding="utf-8")))
        vocabulary = quantities(slug)
        mutants, caught, named = 0, 0, 0
        for mutant in catalogue(slug):
            runs = run_notebook(plan, fill(released, mutant.apply(answers)), hidden=False)
            failed = [run for run in runs if not run.passed]
            mutants += 1
            caught += bool(failed)
            named += bool(failed) and names_a_quantity(failed[0].message, vocabulary)
            for run in failed:
                widest = max([widest, *map(len, run.message.splitlines())])
                forward_first += run.message.startswith("Fix ")
        print(f"{slug:14s} {mutants:7d} {caught:18d} ({100 * caught / mutants:3.0f} %) {named:17d} ({100 * named / mutants:3.0f} %)")
        totals = [totals[0] + mutants, totals[1] + caught, totals[2] + named]
    mutants, caught, named = totals
    print(f"{'all':14s} {mutants:7d} {caught:18d} ({100 * caught / mutants:3.0f} %) {named:17d} ({100 * named / mutants:3.0f} %)")
    print(f"widest message line: {widest} columns; messages saying 'Fix ... first': {forward_first}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
