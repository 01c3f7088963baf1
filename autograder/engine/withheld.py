"""What no page a learner or an instructor's report shows: the values a check compared.

``feedback`` pages and ``report``'s misconception examples both quote check messages;
both withhold the compared values by this one rule.
"""

from __future__ import annotations

import re

#: A value a check compared: a number as the checks print it, or a token of a decoded sequence.
VALUE = r"(?:[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)|token\s+\d+|PAD|START|END)"
#: The words after which checks print such a value: "largest difference 0.3 at index (0, 1)
#: (expected 0.123, got 0.456)", "expected 1.25, got 1.3", "analytic 0.5, numerical 0.25",
#: "the expected value times 0.5", "expected token 5, got PAD".
COMPARED_VALUE = re.compile(rf"\b(expected|got|difference|analytic|numerical|times)(\s+){VALUE}")
WITHHELD = "[not shown]"


def withhold_values(message: str) -> str:
    """``message`` without the values its check compared: each becomes WITHHELD.

    A check cell runs its visible and hidden checks as one cell and the grader keeps one
    message, so feedback cannot tell which part failed. A hidden check's expected value is
    the answer on inputs the learner never saw, so the rule is: withhold them always. The
    learner loses nothing: for a visible check, their notebook prints the same message,
    values included. Every value that gives an expected one back goes with it: what the
    learner got (got plus the difference is the expected value), the largest difference
    (twice the expected value when "it has the opposite sign"), the factor of "the expected
    value times 0.5", and both sides of a gradient check ("analytic", and "numerical",
    which is the expected gradient). What stays says what is wrong and where to look: the
    case ("on N=1, T=1"), shapes, the index, the diagnosis, the relative error, the hint.
    """
    return COMPARED_VALUE.sub(rf"\1\2{WITHHELD}", message)
