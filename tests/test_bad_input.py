"""Does every bad or tampering submission get a clear, recorded reason and the right score?

The catalogue below is graded as one class, in one parallel batch, next to an
honest reference submission: each case must get exactly its expected score and
reason, and the batch must go on (every student graded, the reference with full
marks). The cases use the ``rnn`` assignment (8 points): its check cells are
test_rnn_step_forward_values (2), test_rnn_step_forward_edge_cases (1),
test_rnn_step_backward_gradients (3) and test_rnn_step_backward_edge_cases (2).

Tampering cases pair the trick with a *wrong* implementation: any point they
earn is an undue point. Each of these tricks earned points from plain
nbgrader on a course of this shape (see issue 7).
"""

from __future__ import annotations

import ast
import copy
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.engine.gradebook import read_scores
from autograder.commands.grade import find_jobs, grade
from autograder.paths import ROOT, gradebook_url, release_notebook, source_notebook
from autograder.course.reference import nbgrader_meta
from autograder.commands.release import generate
from autograder.engine.results import GRADED, MISSING, UNREADABLE
from autograder.engine.runner import Limits
from autograder.course.submissions import fill, reference_answers
from conftest import ISOLATED

pytestmark = pytest.mark.slow

SLUG = "rnn"
FORWARD, BACKWARD = "rnn_step_forward", "rnn_step_backward"
FORWARD_POINTS, BACKWARD_POINTS = 3.0, 5.0
TIMEOUT = 6.0  # seconds per cell in this batch; the honest cells need well under one
# 1 GB of memory: the honest cells need a few MB, and a memory bomb hits the limit sooner.
BUDGET = 25.0  # seconds for all of one submission's cells together
LIMITS = Limits(cell_timeout=TIMEOUT, memory_mb=1024, isolation=ISOLATED, submission_seconds=BUDGET)

RELEASE = json.loads(release_notebook(SLUG).read_text(encoding="utf-8"))
ANSWERS = reference_answers(json.loads(source_notebook(SLUG).read_text(encoding="utf-8")))

WRONG_FORWARD = '''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.zeros((x.shape[0], Wh.shape[0]))  # wrong: ignores every input
    return next_h, (x, prev_h, Wx, Wh, b, next_h)
'''
WRONG_BACKWARD = '''
def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, b, next_h = cache
    return np.zeros_like(x), np.zeros_like(prev_h), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
'''


def code_cell(source: str, **nbgrader) -> dict:
    metadata = {"nbgrader": nbgrader} if nbgrader else {}
    return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [], "source": source}


def honest(**answers: str) -> dict:
    """The release filled with the reference answers, some replaced."""
    return fill(RELEASE, {**ANSWERS, **answers})


def wrong(prefix: str = "", suffix: str = "") -> dict:
    """Wrong functions, with the trick before (``prefix``) or after (``suffix``) them in each answer cell."""
    return honest(**{FORWARD: prefix + WRONG_FORWARD + suffix, BACKWARD: prefix + WRONG_BACKWARD + suffix})


def cell_index(notebook: dict, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook["cells"]) if nbgrader_meta(c).get("grade_id") == grade_id)


def check_cell_ids() -> list[str]:
    return [nbgrader_meta(c)["grade_id"] for c in RELEASE["cells"] if nbgrader_meta(c).get("grade")
            and not nbgrader_meta(c).get("solution")]


def with_cells(notebook: dict, edit) -> dict:
    notebook = copy.deepcopy(notebook)
    edit(notebook["cells"])
    return notebook


def visible_expected_next_h() -> str:
    """The expected array written in the visible forward check, as source code."""
    cell = RELEASE["cells"][cell_index(RELEASE, "test_rnn_step_forward_values")]
    tree = ast.parse("".join(cell["source"]))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign) and n.targets[0].id == "expected_next_h")
    return ast.unparse(node.value)


# -- the catalogue --------------------------------------------------------------

@dataclass
class Case:
    student: str
    files: dict  # file name -> notebook dict, or str (raw text)
    score: float
    status: str
    reason: str  # must appear in the notes or a check cell's message
    cell_reasons: dict | None = None  # grade_id -> text its message must contain


def deleted_tests(cells):
    for grade_id in ("test_rnn_step_forward_values", "test_rnn_step_backward_gradients"):
        del cells[cell_index({"cells": cells}, grade_id)]


def edited_tests(cells):
    for grade_id in check_cell_ids():
        cells[cell_index({"cells": cells}, grade_id)]["source"] = "print('all checks passed')\n"


def reordered_tests(cells):
    tests = [c for c in cells if nbgrader_meta(c).get("grade_id") in check_cell_ids()]
    others = [c for c in cells if c not in tests]
    cells[:] = tests[::-1] + others


def duplicated_tests(cells):
    for grade_id in check_cell_ids():
        index = cell_index({"cells": cells}, grade_id)
        cells.insert(index, copy.deepcopy(cells[index]))


def extra_cells(cells):
    # The learner's own helper, in a cell of their own, used by their answer.
    cells.insert(cell_index({"cells": cells}, FORWARD), code_cell("def affine(x, W, b):\n    return x @ W + b\n"))
    cells.append(code_cell("print('scratch work at the end')\n"))


def exception_at_top(cells):
    cells.insert(0, code_cell("raise RuntimeError('this notebook was never run top to bottom')\n"))


def big_output(cells):
    cells.insert(0, code_cell("for i in range(100_000):\n    print('spam' * 20)\n"))


def memory_bomb(cells):
    cells.insert(0, code_cell("hog = [bytearray(10**8) for _ in range(1000)]\n"))


def sleepers(cells):  # each added cell just under the cell timeout: only the budget stops them
    for _ in range(14):
        cells.insert(0, code_cell(f"import time\ntime.sleep({TIMEOUT - 1})\n"))


def many_added_cells(cells):
    for i in range(250):
        cells.insert(0, code_cell(f"x{i} = {i}\n"))


def huge_output_kept(cells):  # a notebook saved with 21 MB of output in one cell
    cells[cell_index({"cells": cells}, FORWARD)]["outputs"] = [
        {"name": "stdout", "output_type": "stream", "text": "x" * (21 * 1024 * 1024)}]


def long_exception_names(cells):  # five exception classes named with 2 MB each
    for k in range(5):
        cells.insert(0, code_cell(f"raise type('{k}' + 'E' * 2_000_000, (Exception,), {{}})()\n"))


def null_source(cells):
    cells[cell_index({"cells": cells}, FORWARD)]["source"] = None


def list_grade_id(cells):
    cells[cell_index({"cells": cells}, FORWARD)]["metadata"]["nbgrader"]["grade_id"] = [FORWARD]


def many_magics(cells):  # IPython syntax turned into Python costs the grader magics x lines
    cells.insert(0, code_cell("".join(f"%time x{i} = {i}\n" for i in range(501))))


def with_surrogate(notebook: dict) -> str:
    """The notebook's JSON with a lone surrogate escaped in the forward answer (valid JSON, invalid Unicode)."""
    return json.dumps(notebook, indent=1).replace("def rnn_step_forward(", "# \\ud800\\ndef rnn_step_forward(", 1)


DEEP_JSON = '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
DEEP_EXPRESSION = "x = " + "-" * 200_000 + "1\n"
#: The wire is found from inside (gc) and a reply forged on it: the grader must stop that
#: submission's sandbox with a reason, and grade the rest of the class.
FORGE = '''
import gc, io, json, struct, time
_wire = [o for o in gc.get_objects() if isinstance(o, io.BufferedWriter) and not o.closed and o.fileno() > 2][0]
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    header = json.dumps(HEADER).encode()
    _wire.write(struct.pack(">QQ", len(header), PAYLOAD) + header + b"\\0" * PAYLOAD)
    _wire.flush()
    time.sleep(60)
'''
NO_STATUS = FORGE.replace("HEADER", '{"hello": 1}').replace("PAYLOAD", "0")
PAYLOAD_NAMED_AGAIN = FORGE.replace("HEADER", '{"ok": True, "result": [{"__ndarray__": [0, 8 * 2**20], "dtype": "<f8", '
                                    '"shape": [1] * i + [2**20]} for i in range(200)]}').replace("PAYLOAD", "8 * 2**20")
NESTED_HEADER = FORGE.replace("json.dumps(HEADER).encode()",
                              "b'{\"ok\": true, \"result\": ' + b'[' * 100000 + b']' * 100000 + b'}'").replace(
    "PAYLOAD", "0")


FORWARD_WITH_HELPER = ANSWERS[FORWARD].replace("np.tanh(", "np.tanh(0 * affine(x, Wx, b) + ", 1)
HARD_CODED = f'''
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = {visible_expected_next_h()}  # the visible check's answer
    return next_h, (x, prev_h, Wx, Wh, b, next_h)
'''
SOLUTIONS_FILE = ROOT / "solutions" / SLUG / f"{SLUG}.ipynb"

CASES = [
    Case("malformed-json", {"rnn.ipynb": '{"cells": [{"cell_type": "code", "source": '}, 0, UNREADABLE,
         "is not valid notebook JSON"),
    Case("not-a-notebook", {"rnn.ipynb": '{"hello": "world"}'}, 0, UNREADABLE, "not a Jupyter notebook"),
    Case("empty-file", {"rnn.ipynb": ""}, 0, UNREADABLE, "empty file"),
    Case("wrong-file-name", {"RNN final.ipynb": honest()}, 0, MISSING, "no rnn.ipynb in submitted/wrong-file-name/rnn/ (found: RNN final.ipynb)"),
    Case("missing-notebook", {}, 0, MISSING, "(found: nothing)"),
    Case("no-cells", {"rnn.ipynb": {**RELEASE, "cells": []}}, 0, GRADED, "no code cells",
         {"test_rnn_step_forward_values": "'rnn_step_forward' is not defined by the submission"}),
    Case("exception-at-top", {"rnn.ipynb": with_cells(honest(), exception_at_top)}, 8, GRADED,
         "cell added cell 1 raised RuntimeError: this notebook was never run top to bottom"),
    Case("infinite-loop-at-top-level", {"rnn.ipynb": honest(**{BACKWARD: "while True:\n    pass\n"})},
         FORWARD_POINTS, GRADED, f"grading stopped in cell rnn_step_backward: cell rnn_step_backward ran for more than {TIMEOUT:g} s",
         {"test_rnn_step_backward_gradients": "not run: cell rnn_step_backward ran for more than"}),
    Case("infinite-loop-in-function", {"rnn.ipynb": honest(**{FORWARD: "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    while True:\n        pass\n"})},
         0, GRADED, "", {"test_rnn_step_forward_values": f"cell test_rnn_step_forward_values ran for more than {TIMEOUT:g} s",
                         "test_rnn_step_backward_edge_cases": "not run: cell test_rnn_step_forward_values ran for more than"}),
    Case("os-exit", {"rnn.ipynb": honest(**{BACKWARD: "import os\nos._exit(3)\n"})}, FORWARD_POINTS, GRADED,
         "grading stopped in cell rnn_step_backward: the submission's process exited with status 3",
         {"test_rnn_step_backward_gradients": "not run: the submission's process exited with status 3"}),
    Case("segfault-through-ctypes", {"rnn.ipynb": honest(**{BACKWARD: ANSWERS[BACKWARD] + "\nimport ctypes\nctypes.string_at(0)\n"})},
         8, GRADED, "cell rnn_step_backward raised PermissionError: the grader does not allow ctypes"),
    Case("segfault-in-numpy", {"rnn.ipynb": honest(**{FORWARD: "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n"
                                                     "    return np.lib.stride_tricks.as_strided(x, shape=(10**9,), strides=(10**6,)).sum()\n"})},
         0, GRADED, "", {"test_rnn_step_forward_values": "the submission's process killed by SIGSEGV",
                         "test_rnn_step_forward_edge_cases": "not run: the submission's process killed by SIGSEGV"}),
    Case("memory-bomb", {"rnn.ipynb": with_cells(honest(), memory_bomb)}, 8, GRADED, "cell added cell 1 raised MemoryError"),
    Case("huge-output", {"rnn.ipynb": with_cells(honest(), big_output)}, 8, GRADED, "the submission printed 8,100,000 characters; only the first 20,000 were kept"),
    Case("huge-return-value", {"rnn.ipynb": honest(**{FORWARD: "def rnn_step_forward(x, prev_h, Wx, Wh, b):\n    return np.ones(10**7), None\n"})},
         0, GRADED, "", {"test_rnn_step_forward_values": "the submission sent back a message of"}),
    Case("deleted-test-cells", {"rnn.ipynb": with_cells(honest(**{FORWARD: WRONG_FORWARD}), deleted_tests)},
         0, GRADED, "test cell test_rnn_step_forward_values is missing from the submission; the course's copy was run"),
    Case("deleted-test-cells-honest", {"rnn.ipynb": with_cells(honest(), deleted_tests)}, 8, GRADED,
         "test cell test_rnn_step_backward_gradients is missing from the submission"),
    Case("edited-test-cells", {"rnn.ipynb": with_cells(wrong(), edited_tests)}, 0, GRADED,
         "test cell test_rnn_step_forward_values was edited in the submission; the course's copy was run"),
    Case("reordered-test-cells", {"rnn.ipynb": with_cells(honest(), reordered_tests)}, 8, GRADED,
         "the course's cells were reordered; they were graded in the course's order"),
    Case("duplicated-test-cells", {"rnn.ipynb": with_cells(wrong(), duplicated_tests)}, 0, GRADED,
         "test cell test_rnn_step_forward_values appears 2 times; the copies were ignored"),
    Case("extra-cells", {"rnn.ipynb": with_cells(honest(**{FORWARD: FORWARD_WITH_HELPER}), extra_cells)}, 8, GRADED,
         "1 added cell(s) ran just before the course cell that follows them"),
    Case("redefine-checking-helpers", {"rnn.ipynb": wrong(
        "from rnnlab import checks, gradcheck\n"
        "checks.check_forward = checks.check_backward = lambda *a, **k: None\n"
        "checks.assert_close = gradcheck.check_gradients = lambda *a, **k: None\n"
        "checks.CheckFailed = type('Nothing', (Exception,), {})\n")}, 0, GRADED, "",
         {"test_rnn_step_forward_values": "next_h is wrong"}),
    Case("patch-numpy-comparisons", {"rnn.ipynb": wrong(
        "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n")}, 0, GRADED, "",
         {"test_rnn_step_forward_values": "next_h is wrong"}),
    Case("patch-assertionerror", {"rnn.ipynb": wrong(
        "import builtins\nbuiltins.AssertionError = type('Harmless', (Exception,), {})\n")}, 0, GRADED, ""),
    Case("change-how-later-cells-run", {"rnn.ipynb": wrong(
        "import sys\nsys.excepthook = lambda *a: None\nsys.settrace(None)\n"
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n")}, 0, GRADED,
         "cell rnn_step_forward raised AttributeError: 'NotebookShell' object has no attribute 'input_transformers_cleanup'"),
    Case("ipython-syntax-left-in-cells", {"rnn.ipynb": honest(**{  # honest work: must lose nothing
        FORWARD: "%matplotlib inline\n" + ANSWERS[FORWARD] + "\n%timeit rnn_step_forward(*[np.ones((2, 2))] * 4 + [np.ones(2)])\n",
        BACKWARD: "%%time\n" + ANSWERS[BACKWARD] + "\n!ls /\n"})}, 8, GRADED, ""),
    Case("fake-all-passed", {"rnn.ipynb": wrong("print('All tests passed! Score: 8/8')\n")}, 0, GRADED, ""),
    Case("hard-coded-visible-answer", {"rnn.ipynb": honest(**{FORWARD: HARD_CODED})}, 0, GRADED, "",
         {"test_rnn_step_forward_edge_cases": "next_h"}),
    Case("read-solutions", {"rnn.ipynb": wrong(suffix=(  # would define the reference functions if it could read them
        f"import json\nfor cell in json.load(open({str(SOLUTIONS_FILE)!r}))['cells']:\n"
        "    if cell['metadata'].get('nbgrader', {}).get('solution'):\n"
        "        exec(''.join(cell['source']))\n"))}, 0, GRADED,
         "cell rnn_step_forward raised PermissionError: a submission may not access"),
    Case("list-solutions", {"rnn.ipynb": wrong(f"import os\nprint(os.listdir({str(ROOT / 'solutions')!r}))\n")}, 0, GRADED,
         "cell rnn_step_forward raised PermissionError: a submission may not access"),
    # -- hostile files: each is that submission's result, never the grader's error
    Case("null-source", {"rnn.ipynb": with_cells(honest(), null_source)}, 0, UNREADABLE, "has a source that is not text"),
    Case("list-as-grade-id", {"rnn.ipynb": with_cells(honest(), list_grade_id)}, 0, UNREADABLE,
         "has a grade_id that is not text"),
    Case("21-mb-notebook", {"rnn.ipynb": with_cells(honest(), huge_output_kept)}, 0, UNREADABLE,
         "is larger than the 20 MB a notebook may be"),
    Case("2-mb-exception-names", {"rnn.ipynb": with_cells(honest(), long_exception_names)}, 8, GRADED,
         "cell added cell 1 raised 4EEEE"),
    Case("lone-surrogate", {"rnn.ipynb": with_surrogate(honest())}, 0, UNREADABLE, "lone surrogate"),
    Case("json-nested-100k-deep", {"rnn.ipynb": DEEP_JSON}, 0, UNREADABLE, "nested more than 64 levels deep"),
    Case("expression-nested-200k-deep", {"rnn.ipynb": with_cells(honest(), lambda cells: cells.insert(
        0, code_cell(DEEP_EXPRESSION)))}, 8, GRADED, "cell added cell 1 raised"),
    Case("added-cells-sleeping-under-the-cell-timeout", {"rnn.ipynb": with_cells(honest(), sleepers)}, 0, GRADED,
         "the submission used up its time budget for all its cells"),
    Case("250-added-cells", {"rnn.ipynb": with_cells(honest(), many_added_cells)}, 8, GRADED,
         "50 added cell(s) before setup were not run: a submission may add at most 200 cells"),
    Case("501-magics", {"rnn.ipynb": with_cells(honest(), many_magics)}, 8, GRADED,
         "cell added cell 1 raised SyntaxError"),
    Case("forged-reply-without-status", {"rnn.ipynb": honest(**{FORWARD: NO_STATUS})}, 0, GRADED, "",
         {"test_rnn_step_forward_values": "a reply the grader cannot read (no status)"}),
    Case("forged-reply-naming-its-payload-200-times", {"rnn.ipynb": honest(**{FORWARD: PAYLOAD_NAMED_AGAIN})}, 0,
         GRADED, "", {"test_rnn_step_forward_values": "more bytes than the message carries"}),
    Case("forged-reply-nested-100k-deep", {"rnn.ipynb": honest(**{FORWARD: NESTED_HEADER})}, 0, GRADED, "",
         {"test_rnn_step_forward_values": "a reply the grader cannot read"}),
    Case("write-gradebook", {"rnn.ipynb": wrong(
        "import sqlite3, glob\n"
        "db = sqlite3.connect(COURSE + '/autograder/gradebook.db')\n"
        "db.execute('update grade set auto_score = 100')\ndb.commit()\n")}, 0, GRADED,
         "cell rnn_step_forward raised PermissionError: a submission may not access"),
]


def write_case(course: Path, case: Case) -> None:
    folder = course / "submitted" / case.student / SLUG
    folder.mkdir(parents=True)
    for name, content in case.files.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=1)
        (folder / name).write_text(text.replace("COURSE + '", repr(str(course))[:-1]), encoding="utf-8")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The catalogue and one honest student, graded as one class in one parallel run."""
    course = tmp_path_factory.mktemp("bad-input-course")
    generate(SLUG, course)
    for case in CASES:
        write_case(course, case)
    (course / "submitted" / "honest" / SLUG).mkdir(parents=True)
    (course / "submitted" / "honest" / SLUG / "rnn.ipynb").write_text(json.dumps(honest()), encoding="utf-8")
    db = gradebook_url(course)
    results = grade(find_jobs(course, [SLUG]), db, course, workers=2, limits=LIMITS, progress=False)
    return course, {r.student: r for r in results}, read_scores(db, SLUG)


def test_does_the_batch_grade_everyone_and_leave_honest_work_untouched(batch):
    _, results, stored = batch
    assert set(results) == {case.student for case in CASES} | {"honest"}
    assert results["honest"].score == 8 and not results["honest"].notes
    assert set(stored) == set(results)  # every grade reached the gradebook
    assert stored["honest"].score == 8  # and no submission changed another's


@pytest.mark.parametrize("case", CASES, ids=[case.student for case in CASES])
def test_does_each_bad_submission_get_the_right_score_and_a_recorded_reason(batch, case):
    _, results, stored = batch
    result = results[case.student]
    assert (result.score, result.status) == (case.score, case.status), (result.notes, [c.message[:300] for c in result.cells])
    assert stored[case.student].score == case.score  # the gradebook agrees
    recorded = [" ".join(text.split()) for text in result.notes + [cell.message for cell in result.cells]]
    assert any(case.reason in text for text in recorded), f"{case.reason!r} not in {recorded}"
    for grade_id, text in (case.cell_reasons or {}).items():  # messages are wrapped at 80 columns
        assert text in " ".join(result.cell(grade_id).message.split()), result.cell(grade_id).message


def test_is_what_a_submission_sends_back_bounded_in_its_result(batch):
    """Five exception names of 2 MB each once made a 9.8 MB result file."""
    course, results, _ = batch
    saved = course / "autograded" / "2-mb-exception-names" / SLUG / "result.json"
    assert saved.stat().st_size < 100_000, saved.stat().st_size
    assert all(len(note) < 1_000 for note in results["2-mb-exception-names"].notes)


def test_does_one_submission_take_no_longer_than_its_budget(batch):
    _, results, _ = batch
    assert results["added-cells-sleeping-under-the-cell-timeout"].seconds < BUDGET + 10
    assert results["501-magics"].seconds < 20  # IPython syntax is not turned into Python past a bound


def test_does_a_dying_kernel_keep_the_points_of_the_cells_graded_before_it(batch):
    _, results, _ = batch
    result = results["os-exit"]
    assert [(c.grade_id, c.points, c.status) for c in result.cells] == [
        ("test_rnn_step_forward_values", 2.0, "passed"), ("test_rnn_step_forward_edge_cases", 1.0, "passed"),
        ("test_rnn_step_backward_gradients", 0.0, "not run"), ("test_rnn_step_backward_edge_cases", 0.0, "not run")]


def test_does_regrading_give_the_same_gradebook(batch):
    """Rerunning grade is idempotent: it rewrites the grades it owns and adds no submission."""
    from autograder.engine.gradebook import open_gradebook

    course, results, stored = batch
    students = ["honest", "os-exit", "edited-test-cells"]
    db = gradebook_url(course)
    with open_gradebook(db) as gradebook:  # spoil the stored grades first: regrading must put them right
        for student in students:
            for grade_id in check_cell_ids():
                gradebook.find_grade(grade_id, SLUG, SLUG, student).auto_score = 1.0
        gradebook.db.commit()
    assert read_scores(db, SLUG)["honest"].score == 4
    grade(find_jobs(course, [SLUG], students), db, course, workers=2, limits=LIMITS, progress=False)
    again = read_scores(db, SLUG)
    assert {s: again[s].score for s in again} == {s: stored[s].score for s in stored}
    with open_gradebook(db) as gradebook:
        assert len(gradebook.assignment_submissions(SLUG)) == len(stored)
