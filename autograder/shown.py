"""How text that anyone may have chosen is shown: on a web page, in a CSV cell, on a terminal.

Student ids come from LMS display names and shared folders; code, messages and printed output
from submissions; assignment and test names from a gradebook other tools write too. Every
command that shows such text goes through one of these, so no page, spreadsheet or terminal
acts on it. A leaf module: it imports nothing of the course, and every layer may import it.
"""

from __future__ import annotations

import html

#: What a spreadsheet takes as the start of a formula (OWASP, "CSV injection"): a cell
#: ``=HYPERLINK(...)``, ``@SUM(...)``, ``+1+1`` or ``-1+1`` would be run when the CSV is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape(text: str) -> str:
    """``text`` as HTML that shows it literally and that UTF-8 can encode.

    Markup is escaped, and a lone surrogate (which a learner's string or exception message
    can hold, and which UTF-8 cannot encode) is shown as its escape, ``\\ud800``, instead of
    stopping the page.
    """
    return html.escape(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def csv_text(value: str) -> str:
    """A text cell that a spreadsheet shows and never runs.

    A cell that starts like a formula gets a leading single quote, as OWASP advises for CSV
    files; the quote is visible, so an id is still recognisable. Numbers are written as
    numbers instead: a negative score is a number, not a formula, and stays one.
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def terminal_text(text: str) -> str:
    """``text`` safe for a terminal: ESC, BEL, bidi overrides, stray surrogates... as ``\\x1b`` escapes."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
