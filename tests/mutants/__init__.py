"""Catalogues of realistic wrong implementations, one module per assignment.

Each mutant is a bug that learners really write, expressed as an edit of the
reference answer (so the catalogue follows the reference when it changes: an
edit that no longer applies fails loudly). The pipeline tests substitute each
mutant into a submission, autograde it, and require that it loses points;
test_messages runs each against the visible checks alone and reads what they say.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutant:
    """A wrong implementation of one or more answer cells.

    name: short identifier, used as the nbgrader student id ("mutant-<name>").
    bug: what the learner got wrong, in words.
    edits: (answer cell grade_id, text in the reference, replacement); each text
        must occur exactly once in that cell.
    replace: answer cells replaced whole (for cheats such as hard-coded answers).
    must_fail: test cells that must lose points (beyond "the total drops"), where
        it matters which check catches the bug, e.g. bugs only hidden checks can see.
    trap: test cells whose VISIBLE checks must catch it: a trap the chapter or the
        notebook names, which the learner must be able to see before grading.
    fix_forward_first: backward check cells whose message must start by saying that
        the forward step is wrong (a bug of the forward step only).
    fix_part0_first: check cells whose message must start by saying that Part 0 (the
        functions pasted from earlier assignments) is wrong.
    hint: text that the visible message of every ``trap`` cell must contain: the hint
        that names this very bug, where the checks tell it apart from its neighbours.
    """

    name: str
    bug: str
    edits: tuple[tuple[str, str, str], ...] = ()
    replace: dict[str, str] = field(default_factory=dict)
    must_fail: tuple[str, ...] = ()
    trap: tuple[str, ...] = ()
    fix_forward_first: tuple[str, ...] = ()
    fix_part0_first: tuple[str, ...] = ()
    hint: str | None = None

    def apply(self, answers: dict[str, str]) -> dict[str, str]:
        """The reference answers with this mutant's bug in them."""
        mutated = dict(answers)
        for cell, old, new in self.edits:
            count = mutated[cell].count(old)
            if count != 1:
                raise ValueError(f"mutant {self.name}: {old!r} occurs {count} times in cell {cell}, not once")
            mutated[cell] = mutated[cell].replace(old, new)
        mutated.update(self.replace)
        return mutated


def catalogue(slug: str) -> list[Mutant]:
    """The mutant catalogue of an assignment."""
    from importlib import import_module

    return list(import_module(f"mutants.{slug}").MUTANTS)


def formulas(slug: str) -> tuple[str, ...]:
    """Fragments of an assignment's graded equations that no hint or message may print."""
    from importlib import import_module

    return tuple(import_module(f"mutants.{slug}").FORMULAS)
