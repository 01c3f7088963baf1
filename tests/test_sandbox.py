"""Can a submission's code be called from the grader without being able to fool or break it,
and does honest code of any style come back exactly as it would in the learner's kernel?"""

from __future__ import annotations

import gc
from collections import OrderedDict, namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

from autograder.sandbox.client import Sandbox, SandboxFailure, SubmissionError
from autograder.sandbox.wire import Handle, MirroredDict, MirroredTuple, Remote, decode, pack, write_back
from conftest import ISOLATED


def sandbox(**options) -> Sandbox:
    return Sandbox(isolation=ISOLATED, **options)


@pytest.fixture
def box():
    with sandbox(call_timeout=5) as started:
        started.run("import numpy as np", "setup")
        started.run("def affine(x, W):\n    return x @ W, {'x': x, 'W': W, 'fn': len}\n", "answer")
        yield started


def test_does_a_submitted_function_compute_and_return_arrays_and_kept_objects(box):
    out, cache = box.function("affine")(np.ones((2, 3)), np.full((3, 4), 2.0))
    assert np.array_equal(out, np.full((2, 4), 6.0))
    assert isinstance(cache["fn"], Remote)  # a function cannot cross: it stays in the sandbox
    box.run("def first(cache):\n    return cache['x'], cache['fn']([1, 2])\n", "more")
    x, length = box.function("first")(cache)
    assert np.array_equal(x, np.ones((2, 3))) and length == 2


STEP = '''
from collections import namedtuple
from dataclasses import dataclass

Cache = namedtuple("Cache", "x W")

@dataclass
class Saved:
    x: object

class AttrDict(dict):
    __getattr__ = dict.__getitem__

def forward(x, W, style):
    out = x @ W
    cache = {"namedtuple": Cache(x, W), "dataclass": Saved(x), "attrdict": AttrDict(x=x),
             "closure": (lambda: x), "list": [x, W]}[style]
    return out, cache

def backward(dout, cache, style):
    x = {"namedtuple": lambda: cache.x, "dataclass": lambda: cache.x, "attrdict": lambda: cache.x,
         "closure": cache, "list": lambda: cache[0]}[style]()
    return dout * x.sum(), type(cache).__name__
'''


@pytest.mark.parametrize("style", ["namedtuple", "dataclass", "attrdict", "closure", "list"])
def test_does_a_cache_of_any_type_reach_the_backward_step_as_the_object_the_forward_step_made(style):
    with sandbox(call_timeout=5) as box:
        box.run("import numpy as np\n" + STEP, "step")
        out, cache = box.function("forward")(np.ones((2, 3)), np.ones((3, 2)), style)
        assert np.array_equal(out, np.full((2, 2), 3.0))
        dout, type_name = box.function("backward")(np.ones(2), cache, style)
        assert np.array_equal(dout, np.full(2, 6.0))
        assert type_name == {"namedtuple": "Cache", "dataclass": "Saved", "attrdict": "AttrDict",
                             "closure": "function", "list": "list"}[style]


def test_does_a_batch_of_calls_bring_back_the_outputs_and_share_what_the_calls_share():
    """What a gradient check uses: many calls in one round trip, the caches left behind; an array
    that is one object in every call is one object in the sandbox, as in the learner's kernel."""
    with sandbox(call_timeout=5) as box:
        box.run("import numpy as np\n"
                "def forward(x, W):\n"
                "    W += 1  # a bug: the weights change with every call\n"
                "    return x @ W, {'big': np.zeros(10**5)}\n", "buggy")
        W = np.zeros((2, 2))
        results = box.function("forward").map_dropping_last([{"x": np.ones((1, 2)) * k, "W": W} for k in (1, 2, 3)])
    assert [r[1] for r in results] == [None] * 3  # the caches stayed behind
    assert [float(r[0][0, 0]) for r in results] == [2.0, 8.0, 18.0]  # W was 1, 2, 3: shared, as in a kernel
    assert np.array_equal(W, np.zeros((2, 2)))  # the caller's own array is left alone


def test_does_a_batch_of_calls_pass_positional_arguments_as_given():
    """What an adapter batches: the learner's function called positionally (a dict of weights among
    the arguments), keywords beside them, in order, each result without its last value."""
    with sandbox(call_timeout=5) as box:
        box.run("def loss(params, x, scale=1.0):\n"
                "    return scale * float((x @ params['W']).sum()), 'grads'\n", "loss")
        W = np.eye(2)
        results = box.function("loss").map_calls_dropping_last(
            [(({"W": W}, np.full((1, 2), float(k))), {"scale": 10.0 ** k}) for k in (1, 2)])
    assert results == [(20.0, None), (400.0, None)]


def test_does_a_namedtuple_unpack_in_the_grader_as_the_tuple_it_is():
    with sandbox(call_timeout=5) as box:
        box.run("from collections import namedtuple\nimport numpy as np\nPair = namedtuple('Pair', 'a b')\n"
                "def make():\n    return Pair(np.arange(3), 2.5)\n", "pair")
        pair = box.function("make")()
        assert isinstance(pair, tuple) and len(pair) == 2
        a, b = pair
        assert np.array_equal(a, np.arange(3)) and b == 2.5


def test_does_a_change_to_a_kept_cache_reach_the_graders_copy_of_its_contents():
    """A backward step that modifies its namedtuple cache in place is seen doing so, as in the kernel."""
    with sandbox(call_timeout=5) as box:
        box.run("from collections import namedtuple\nimport numpy as np\nC = namedtuple('C', 'h')\n"
                "def forward():\n    return C(np.ones(3))\n"
                "def spoil(cache):\n    cache.h[:] *= 2\n", "cells")
        cache = box.function("forward")()
        box.function("spoil")(cache)
        assert np.array_equal(cache[0], np.full(3, 2.0))


def test_are_kept_objects_released_when_the_grader_drops_them():
    with sandbox(call_timeout=30, memory_mb=1024) as box:
        box.run("class Big:\n    def __init__(self):\n        self.data = bytearray(10**6)\n"
                "def make():\n    return Big()\n", "cells")
        for _ in range(2000):  # 2 GB if none were released: far above the 1 GB limit
            box.function("make")()
        gc.collect()
        kept = box.function("make")()
        assert isinstance(kept, Remote)


def test_does_passing_an_object_the_sandbox_cannot_have_fail_in_the_grader(box):
    with pytest.raises(TypeError, match="cannot pass a Random"):
        box.function("affine")(np.ones((1, 1)), __import__("random").Random())


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
    ("open('/usr/evil.py', 'w')", "may only write under"),
])
def test_does_the_audit_hook_turn_common_attempts_into_clear_messages(box, code, reason):
    with pytest.raises(SubmissionError, match=reason):
        box.run(code.format(root=box.course_root), "attempt")


def test_does_an_infinite_loop_end_with_a_timeout_and_a_reason():
    with sandbox(call_timeout=1) as box:
        with pytest.raises(SandboxFailure, match="more than 1 s"):
            box.run("while True: pass", "loop")
        with pytest.raises(SandboxFailure, match="more than 1 s"):
            box.run("x = 1", "after")  # every later call fails with the same reason


@pytest.mark.parametrize("code, reason", [
    ("import os; os._exit(3)", "exited with status 3"),
    ("import numpy as np\nnp.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**9,), strides=(10**6,)).sum()",
     "killed by SIGSEGV"),
    ("import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 2))\nwhile True: pass", "CPU time limit"),
])
def test_does_a_dying_submission_process_give_its_reason(code, reason):
    with sandbox(call_timeout=10) as box:
        with pytest.raises(SandboxFailure, match=reason):
            box.run(code, "die")


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


# -- the wire format itself ------------------------------------------------------

Point = namedtuple("Point", "x y")


@dataclass
class Record:
    value: int


def test_does_the_wire_round_trip_the_exact_builtin_types_as_data():
    value = {"a": (np.arange(3), 2.5, None, [True, "s"]), "b": np.float32(1.5), 3: np.array([1 + 2j]),
             ("k", 1): np.int64(7), "empty": np.zeros((0, 4)), "strided": np.arange(12.0).reshape(3, 4)[:, ::2]}
    back = decode(*pack(value))
    assert np.array_equal(back["a"][0], np.arange(3)) and back["a"][1:] == (2.5, None, [True, "s"])
    assert type(back["b"]) is np.float32 and back["b"] == 1.5  # NumPy scalars keep their type
    assert back[3].dtype == np.complex128 and type(back[("k", 1)]) is np.int64
    assert back["empty"].shape == (0, 4) and np.array_equal(back["strided"], value["strided"])
    back["a"][0][0] = 99  # a decoded array is writable and its own
    assert back["a"][0][0] == 99


def test_does_everything_else_stay_behind_as_a_reference():
    kept = []

    def keep(obj) -> int:
        kept.append(obj)
        return len(kept)

    sent = pack([Point(np.ones(2), 1), OrderedDict(a=1), Record(3), np.array([object()]), np.ma.ones(2)], keep)
    released = []
    point, ordered, record, objects, masked = decode(*sent, lambda n, t: Remote(n, t, released.append))
    assert isinstance(point, MirroredTuple) and point.remote.type_name == "Point" and point[1] == 1
    assert isinstance(ordered, MirroredDict) and ordered == {"a": 1}
    assert all(isinstance(r, Remote) for r in (record, objects, masked))
    assert [type(k).__name__ for k in kept] == ["Point", "OrderedDict", "Record", "ndarray", "MaskedArray"]
    assert pack([point, record])[0] == [{"__handle__": 1}, {"__handle__": 3}]  # back as the originals
    del point, record, objects
    gc.collect()
    assert sorted(released) == [1, 3, 4]


def test_does_decoding_refuse_what_could_run_code_or_read_past_its_payload():
    with pytest.raises(ValueError, match="not accepted"):
        decode({"__ndarray__": [0, 8], "dtype": "|O", "shape": [1]}, bytes(8))
    with pytest.raises(ValueError, match="does not fit"):
        decode({"__ndarray__": [0, 800], "dtype": "<f8", "shape": [100]}, bytes(8))
    with pytest.raises(ValueError, match="does not fit"):
        decode({"__ndarray__": [-8, 8], "dtype": "<f8", "shape": [1]}, bytes(16))
    with pytest.raises(ValueError, match="unknown structure"):
        decode({"__reduce__": ["os.system", ["ls"]]})


def test_does_a_reply_naming_its_payload_again_and_again_cost_no_more_than_its_payload():
    """Each array decoded is a copy: 200 names of one 8 MB payload once took a grader to 1.65 GB."""
    import tracemalloc

    from autograder.sandbox.wire import Malformed

    payload = bytes(8 * 2**20)
    names = [{"__ndarray__": [0, len(payload)], "dtype": "<f8", "shape": [1] * i + [2**20]} for i in range(200)]
    tracemalloc.start()
    try:
        with pytest.raises(Malformed, match="more bytes than the message carries"):
            decode(names, payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * len(payload), f"decoding took {peak / 2**20:.0f} MB for a payload of 8 MB"
    assert len(decode(names[:1] * 5, payload)) == 5  # one array named five times is one array: honest


def test_is_a_reply_header_larger_than_allowed_refused_before_it_is_parsed():
    import io
    import json

    from autograder.sandbox.wire import FRAME, MAX_REPLY_HEADER, Malformed, TooLarge, receive

    def message(header: bytes) -> io.BytesIO:
        return io.BytesIO(FRAME.pack(len(header), 0) + header)

    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(TooLarge, match="header"):
        receive(message(b"[]," * MAX_REPLY_HEADER), MAX_REPLY_HEADER)
    with pytest.raises(Malformed, match="not JSON"):
        receive(message(b'{"ok": true, "result": ' + nested + b"}"), MAX_REPLY_HEADER)
    with pytest.raises(Malformed, match="not an object"):
        receive(message(b"[1, 2]"), MAX_REPLY_HEADER)
    assert receive(message(json.dumps({"ok": True}).encode()), MAX_REPLY_HEADER).header == {"ok": True}


def test_does_write_back_update_arrays_in_place_and_leave_kept_objects_alone():
    array, kept = np.zeros(2), Handle(5)
    args = [array, {"k": kept}]
    write_back(args, [np.ones(2), {"k": Handle(0)}])
    assert np.array_equal(array, np.ones(2)) and args[1]["k"] is kept


def test_does_a_call_with_a_time_limit_stop_at_it_and_keep_the_namespace():
    """What assert_backward_is_analytic needs: a slow call stopped when its time is up (not at
    the end of the cell's budget, which would cost the worker), the sandbox serving on."""
    with sandbox(call_timeout=5) as box:
        box.run("import time\nvalue = 42\n"
                "def spin():\n    while True:\n        pass\n"
                "def quick(x):\n    return x + 1\n"
                "def value_now():\n    return value\n", "functions")
        assert box.function("spin").call_within(0.3) == (False, None)  # within the 5 s, or the worker dies
        assert box.function("quick").call_within(0.3, 1) == (True, 2)
        assert box.function("value_now")() == 42  # the namespace survived the stop


def test_does_a_submission_that_holds_up_the_stop_only_run_on():
    """A submission can catch the stop; then its call runs to its end, as without a limit (the
    check's own clock still fails it), and nothing else changes."""
    with sandbox(call_timeout=5) as box:
        box.run("import time\n"
                "def stubborn():\n"
                "    try:\n        time.sleep(0.6)\n"
                "    except BaseException:\n        time.sleep(0.3)\n"
                "    return 'done'\n", "stubborn")
        assert box.function("stubborn").call_within(0.2) == (True, "done")


def test_is_the_stop_the_error_the_grader_expects():
    from autograder.sandbox.client import OUT_OF_TIME
    from autograder.sandbox.worker import OutOfTime

    assert OutOfTime.__name__ == OUT_OF_TIME
