"""Can a submission's code be called from the grader without being able to fool or break it?"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.sandbox import Sandbox, SandboxFailure, SubmissionError
from autograder.wire import Handle, decode, encode


@pytest.fixture
def box():
    with Sandbox(call_timeout=5) as sandbox:
        sandbox.run("import numpy as np", "setup")
        sandbox.run("def affine(x, W):\n    return x @ W, {'x': x, 'W': W, 'fn': len}\n", "answer")
        yield sandbox


def test_does_a_submitted_function_compute_and_return_arrays_and_handles(box):
    out, cache = box.function("affine")(np.ones((2, 3)), np.full((3, 4), 2.0))
    assert np.array_equal(out, np.full((2, 4), 6.0))
    assert isinstance(cache["fn"], Handle)  # a function cannot cross: it stays in the sandbox
    box.run("def first(cache):\n    return cache['x']\n", "more")
    assert np.array_equal(box.function("first")(cache), np.ones((2, 3)))


def test_does_patching_numpy_or_assertionerror_in_the_submission_leave_the_grader_untouched(box):
    box.run("np.allclose = lambda *a, **k: True\nimport builtins\nbuiltins.AssertionError = Exception", "tamper")
    assert not np.allclose(np.zeros(2), np.ones(2))
    with pytest.raises(AssertionError):
        assert False


@pytest.mark.parametrize("code, reason", [
    ("open('{root}/solutions/rnn/rnn.ipynb').read()", "may not access"),
    ("import os; os.listdir('{root}/solutions')", "may not access"),
    ("open('{root}/autograder/gradebook.db', 'w')", "may not access"),
    ("import os; os.system('cat {root}/solutions/rnn/rnn.ipynb')", "does not allow os.system"),
    ("import subprocess; subprocess.run(['ls'])", "does not allow subprocess.Popen"),
    ("import ctypes; ctypes.string_at(0)", "does not allow ctypes"),
])
def test_is_the_course_directory_and_the_system_out_of_reach(box, code, reason):
    with pytest.raises(SubmissionError, match=reason):
        box.run(code.format(root=box.course_root), "attempt")


def test_does_an_infinite_loop_end_with_a_timeout_and_a_reason():
    with Sandbox(call_timeout=1) as sandbox:
        with pytest.raises(SandboxFailure, match="more than 1 s"):
            sandbox.run("while True: pass", "loop")
        with pytest.raises(SandboxFailure, match="more than 1 s"):
            sandbox.run("x = 1", "after")  # every later call fails with the same reason


@pytest.mark.parametrize("code, reason", [
    ("import os; os._exit(3)", "exited with status 3"),
    ("import numpy as np\nnp.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**9,), strides=(10**6,)).sum()",
     "killed by SIGSEGV"),
])
def test_does_a_dying_submission_process_give_its_reason(code, reason):
    with Sandbox(call_timeout=5) as sandbox:
        with pytest.raises(SandboxFailure, match=reason):
            sandbox.run(code, "die")


def test_is_a_memory_bomb_a_memory_error_not_a_dead_grader(box):
    with pytest.raises(SubmissionError, match="MemoryError"):
        box.run("x = bytearray(10**12)", "bomb")
    box.run("y = 1", "still alive")


def test_is_printed_output_bounded_and_standard_input_empty(box):
    box.run("print('x' * 10**7)", "print")
    printed = box.output()
    assert 20_000 <= len(printed.text) < 20_200 and printed.characters == 10**7 + 1
    box.run("def read_input():\n    try:\n        return input()\n    except EOFError:\n        return 'end of file'\n", "input")
    assert box.function("read_input")() == "end of file"


def test_does_an_exception_show_the_submissions_own_traceback(box):
    box.run("def broken(x):\n    return x @ np.ones((5, 5))\n", "broken")
    with pytest.raises(SubmissionError, match=r"(?s)ValueError.*<cell broken>.*line 2"):
        box.function("broken")(np.ones((2, 3)))


def test_does_the_wire_round_trip_values_and_refuse_pickled_objects():
    value = {"a": (np.arange(3), 2.5, None, [True, "s"]), "b": np.float64(1.5)}
    back = decode(encode(value))
    assert np.array_equal(back["a"][0], np.arange(3)) and back["a"][1:] == (2.5, None, [True, "s"]) and back["b"] == 1.5
    with pytest.raises(TypeError):
        encode(np.array([object()]))
