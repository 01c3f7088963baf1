"""Do the assignments' checks say what is wrong, by how much, and where to look?"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import checks
from rnnlab.checks import CheckFailed, fixed_array


def scale_forward(x, w):
    """out = x * w with a cache: x (N, D), w (D,) -> out (N, D)."""
    return x * w, (x, w)


def scale_backward(dout, cache):
    x, w = cache
    return dout * w, (dout * x).sum(axis=0)


INPUTS = {"x": fixed_array((3, 4), 1), "w": fixed_array(4, 2)}
UPSTREAM = [fixed_array((3, 4), 3)]


def test_is_fixed_array_deterministic_bounded_and_seed_dependent():
    a = fixed_array((4, 5), 7, scale=2.0)
    assert a.shape == (4, 5) and a.dtype == np.float64
    assert np.array_equal(a, fixed_array((4, 5), 7, scale=2.0))
    assert np.all(np.abs(a) <= 2.0)
    assert not np.allclose(a, fixed_array((4, 5), 8, scale=2.0))
    # The first entries are pinned: a change here would silently invalidate the
    # expected values written into the assignment notebooks.
    np.testing.assert_allclose(fixed_array(3, 0), [0.8433807796, -0.8855636613, 0.1164451772], atol=1e-9)


@pytest.mark.parametrize(
    "actual, pattern",
    [
        (lambda e: -e, "opposite sign"),
        (lambda e: e.T.copy(), "transpose"),
        (lambda e: 2 * e, "times 2"),
        (lambda e: np.where(np.arange(e.size).reshape(e.shape) == 5, 0.0, e), "1 of 16 entries are wrong, the first at index (1, 1)"),
        (lambda e: e * np.nan, "NaN"),
    ],
)
def test_does_a_value_mismatch_name_its_pattern(actual, pattern):
    expected = fixed_array((4, 4), 4)
    with pytest.raises(CheckFailed) as failure:
        checks.assert_close("dWh", actual(expected), expected, hint="look at prev_h")
    message = str(failure.value)
    assert message.startswith("dWh is wrong.\nHint: look at prev_h\n")  # the hint comes right after the headline
    assert pattern in " ".join(message.split())


def test_is_a_wrong_shape_reported_with_both_shapes():
    with pytest.raises(CheckFailed, match=r"db has shape \(3,\) but should have shape \(4,\)"):
        checks.assert_shape("db", np.zeros(3), (4,))


def test_does_an_unimplemented_function_get_a_plain_instruction():
    def rnn_step_forward(**kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="rnn_step_forward is not implemented yet"):
        checks.check_forward(rnn_step_forward, INPUTS, {"out": np.zeros((3, 4))})


def test_does_an_error_in_learner_code_show_the_learners_line():
    def broken(x, w):
        return x @ np.ones((5, 5)), None  # shapes do not match

    with pytest.raises(CheckFailed) as failure:
        checks.check_forward(broken, INPUTS, {"out": np.zeros((3, 4))})
    message = str(failure.value)
    assert "broken raised ValueError" in message and "x @ np.ones((5, 5))" in message


def test_does_check_forward_pass_a_right_function_and_catch_in_place_changes():
    expected = {"out": INPUTS["x"] * INPUTS["w"]}
    checks.check_forward(scale_forward, INPUTS, expected)

    def in_place(x, w):
        x *= w
        return x, (x, w)

    with pytest.raises(CheckFailed, match="in_place modified its input x"):
        checks.check_forward(in_place, INPUTS, expected)


def test_does_check_backward_pass_a_right_backward():
    checks.check_backward(scale_forward, scale_backward, INPUTS, UPSTREAM, ("dx", "dw"))


def test_does_check_backward_give_the_hint_of_the_wrong_gradient_only():
    def wrong_dw(dout, cache):
        dx, dw = scale_backward(dout, cache)
        return dx, -dw

    with pytest.raises(CheckFailed) as failure:
        checks.check_backward(scale_forward, wrong_dw, INPUTS, UPSTREAM, ("dx", "dw"),
                              hints={"dx": "HINT-DX", "dw": "HINT-DW"}, hint_all_wrong="HINT-ALL")
    message = str(failure.value)
    assert "dw: relative error" in message and "HINT-DW" in message
    assert "HINT-DX" not in message and "HINT-ALL" not in message


def test_does_check_backward_give_the_shared_hint_when_every_gradient_is_wrong():
    def all_doubled(dout, cache):
        return tuple(2 * g for g in scale_backward(dout, cache))

    with pytest.raises(CheckFailed, match="HINT-ALL"):
        checks.check_backward(scale_forward, all_doubled, INPUTS, UPSTREAM, ("dx", "dw"),
                              hints={"dx": "HINT-DX"}, hint_all_wrong="HINT-ALL")


def test_does_check_backward_compare_with_expected_values():
    """A backward consistent with a wrong forward passes the gradient check; expected values catch it."""
    dx, dw = scale_backward(UPSTREAM[0], (INPUTS["x"], INPUTS["w"]))
    with pytest.raises(CheckFailed, match="dw is wrong"):
        checks.check_backward(scale_forward, scale_backward, INPUTS, UPSTREAM, ("dx", "dw"),
                              expected={"dx": dx, "dw": dw + 1.0})


def test_does_check_backward_catch_a_modified_upstream_gradient_and_cache():
    def modifies_upstream(dout, cache):
        dout *= 1.0
        dout[0, 0] += 1.0
        return scale_backward(dout, cache)

    with pytest.raises(CheckFailed, match="modified its input dout"):  # by the name of its parameter
        checks.check_backward(scale_forward, modifies_upstream, INPUTS, {"dout": UPSTREAM[0]}, ("dx", "dw"))

    def modifies_cache(dout, cache):
        cache[0][0, 0] = 99.0
        return scale_backward(dout, cache)

    with pytest.raises(CheckFailed, match="modified the cache"):
        checks.check_backward(scale_forward, modifies_cache, INPUTS, UPSTREAM, ("dx", "dw"))


def test_does_a_function_returning_the_wrong_number_of_values_get_told():
    with pytest.raises(CheckFailed, match=r"must return a tuple of 2 values \(out, cache\)"):
        checks.check_forward(lambda x, w: x * w, INPUTS, {"out": INPUTS["x"] * INPUTS["w"]})


def test_does_a_gradient_wrong_at_early_time_steps_say_which():
    """The signature of a missing h_{t+1} term: right at the last step only."""
    expected = fixed_array((2, 4, 3), 20)
    actual = expected.copy()
    actual[:, :3] *= 0.5
    assert checks.wrong_time_steps(actual, expected) == "wrong at time steps t = [0, 1, 2], right at t = [3]"
    with pytest.raises(CheckFailed, match=r"wrong at time steps t = \[0, 1, 2\], right at t = \[3\]"):
        checks.assert_close("dx", actual, expected)
    assert checks.wrong_time_steps(expected, expected) is None
    assert checks.wrong_time_steps(fixed_array((3, 4), 1), fixed_array((3, 4), 2)) is None


def test_is_a_number_checked_by_value_and_type():
    checks.assert_number("loss", np.float64(1.5), 1.5)
    with pytest.raises(CheckFailed, match="loss is wrong: expected 1.5, got 3"):
        checks.assert_number("loss", 3.0, 1.5, hint="divide by N")
    with pytest.raises(CheckFailed, match="should be a number"):
        checks.assert_number("loss", np.ones(2), 1.0)


def test_is_a_change_of_direction_caught_and_a_rescaling_accepted():
    grads = [fixed_array((3, 2), 21, 4.0), fixed_array(5, 22, 4.0)]
    checks.assert_same_direction("clipped", [0.1 * g for g in grads], grads)
    with pytest.raises(CheckFailed, match="changed direction"):
        checks.assert_same_direction("clipped", [np.clip(g, -1, 1) for g in grads], grads)


def square_loss(w, target):
    """loss = sum((w - target)**2) with its gradient, as a (loss, grads) pair."""
    return float(np.sum((w - target) ** 2)), {"w": 2 * (w - target)}


def test_does_the_loss_gradient_check_pass_a_right_function_and_catch_a_wrong_one():
    inputs = {"w": fixed_array((2, 3), 23), "target": np.arange(6).reshape(2, 3)}
    checks.check_loss_gradients(square_loss, inputs, "square_loss", expected_loss=square_loss(**inputs)[0])

    def half_gradient(w, target):
        loss, grads = square_loss(w, target)
        return loss, {"w": grads["w"] / 2}

    with pytest.raises(CheckFailed, match=r"(?s)half_gradient fails the gradient check.*HINT-W.*dw: relative error"):
        checks.check_loss_gradients(half_gradient, inputs, "half_gradient", hints={"w": "HINT-W"})


def test_do_integer_inputs_keep_their_dtype_in_a_gradient_check():
    def picks(scores, y):
        assert y.dtype.kind == "i", "targets were turned into floats"
        return float(scores[np.arange(len(y)), y].sum()), {"scores": np.eye(3)[y]}

    checks.check_loss_gradients(picks, {"scores": fixed_array((2, 3), 24), "y": np.array([0, 2])}, "picks")


def test_is_a_loop_over_the_batch_reported_and_a_vectorised_function_accepted():
    def vectorised(x):
        return [np.tanh(x[:, k]) for k in range(2)]  # a comprehension is not counted

    def looped(x):
        out = np.zeros_like(x)
        for n in range(x.shape[0]):
            out[n] = np.tanh(x[n])
        return out

    checks.assert_loops_at_most(vectorised, 0, "time")
    checks.assert_loops_at_most(looped, 1, "time")
    with pytest.raises(CheckFailed, match=r"(?s)looped has 1 Python loop\(s\).*line 3: for n in range\(x.shape\[0\]\):"):
        checks.assert_loops_at_most(looped, 0, "time")


def test_is_the_loop_count_read_from_source_a_grader_provides():
    """A function run in a sandbox has no readable source; the grader passes it along."""
    class Remote:
        __name__ = "remote"
        __source__ = "def remote(x):\n    for n in range(3):\n        pass\n"

    with pytest.raises(CheckFailed, match="remote has 1 Python loop"):
        checks.assert_loops_at_most(Remote(), 0, "time")


def test_does_a_function_the_grader_found_no_code_for_fail_the_loop_check():
    """A function defined through exec() must not dodge the check under the grader."""
    class Dynamic:
        __name__ = "dynamic"
        __source__ = None

    with pytest.raises(CheckFailed) as failed:
        checks.assert_loops_at_most(Dynamic(), 1, "time")
    assert "could not read the code of dynamic: define it with a plain `def`" in " ".join(str(failed.value).split())


def two_outputs(x, w):
    """out = x * w and its square: two outputs, for checks that report each."""
    return x * w, (x * w) ** 2, (x, w)


def test_does_check_forward_report_every_wrong_output_in_order_with_each_hint():
    expected = {"out": INPUTS["x"] * INPUTS["w"], "squared": (INPUTS["x"] * INPUTS["w"]) ** 2}

    def both_wrong(x, w):
        return -x * w, 2 * (x * w) ** 2, (x, w)

    with pytest.raises(CheckFailed) as failure:
        checks.check_forward(both_wrong, INPUTS, expected, {"out": "HINT-OUT", "squared": "HINT-SQUARED"})
    lines = str(failure.value).splitlines()
    assert lines[0] == "both_wrong: out and squared are wrong."
    assert lines[1:3] == ["Hint for out: HINT-OUT", "Hint for squared: HINT-SQUARED"]
    joined = " ".join(str(failure.value).split())
    assert joined.index("out: largest difference") < joined.index("squared: largest difference")


def test_is_a_hint_shared_by_several_gradients_printed_once_and_every_line_short():
    shared = "a long hint that two gradients share, " * 4

    def all_doubled(dout, cache):
        return tuple(2 * g for g in scale_backward(dout, cache))

    with pytest.raises(CheckFailed) as failure:
        checks.check_backward(scale_forward, all_doubled, INPUTS, UPSTREAM, ("dx", "dw"),
                              hints={"dx": shared, "dw": shared})
    message = str(failure.value)
    assert message.count("a long hint") == 4 and "Hint for dx and dw:" in message
    assert all(len(line) <= checks.WIDTH for line in message.splitlines())


def test_does_a_wrong_forward_make_the_backward_check_say_fix_the_forward_first():
    def bias_twice(x, w):  # wrong; its backward below is right for the right forward
        return x * w + 1.0, (x, w)

    bias_twice.__name__ = "scale_forward"
    with pytest.raises(CheckFailed):
        checks.check_forward(bias_twice, INPUTS, {"out": INPUTS["x"] * INPUTS["w"]})

    def wrong_backward(dout, cache):
        return scale_backward(dout, cache)[0], np.zeros(4)

    with pytest.raises(CheckFailed) as failure:
        checks.check_backward(bias_twice, wrong_backward, INPUTS, UPSTREAM, ("dx", "dw"))
    assert str(failure.value).startswith("Fix scale_forward first: its own check fails (scale_forward: out is")
    assert "dw" in str(failure.value)  # the backward's own problem follows


def test_does_a_forward_that_modifies_its_inputs_get_named_by_the_backward_check():
    def in_place(x, w):
        x *= 1.0
        w += 0.0
        x[0, 0] = 5.0
        return x * w, (x, w)

    with pytest.raises(CheckFailed, match=r"^Fix in_place first: it modified its input x"):
        checks.check_backward(in_place, scale_backward, INPUTS, UPSTREAM, ("dx", "dw"))


def test_does_a_forward_that_passes_again_clear_its_verdict():
    calls = []

    def flaky(x, w):
        calls.append(1)
        return (x * w if len(calls) > 1 else -x * w), (x, w)

    with pytest.raises(CheckFailed):
        checks.check_forward(flaky, INPUTS, {"out": INPUTS["x"] * INPUTS["w"]})
    checks.check_forward(flaky, INPUTS, {"out": INPUTS["x"] * INPUTS["w"]})
    with pytest.raises(CheckFailed) as failure:
        checks.check_backward(flaky, lambda dout, cache: (dout, dout.sum(axis=0)), INPUTS, UPSTREAM, ("dx", "dw"))
    assert not str(failure.value).startswith("Fix")


def test_are_gradients_named_as_the_api_names_them():
    def wrong_dw(dout, cache):
        dx, dw = scale_backward(dout, cache)
        return dx, -dw

    with pytest.raises(CheckFailed) as failure:
        checks.check_backward(scale_forward, wrong_dw, INPUTS, UPSTREAM, ("dx", "dw"), labels={"dw": "dparams[0]"})
    assert "dparams[0] is wrong" in str(failure.value) and "dparams[0]: relative error" in str(failure.value)


def test_does_a_traceback_show_the_learners_frames_and_no_checking_code():
    def broken(x, w):
        return x @ np.ones((7, 7)), None

    with pytest.raises(CheckFailed) as failure:
        checks.check_forward(broken, INPUTS, {"out": INPUTS["x"]})
    message = str(failure.value)
    assert "in broken" in message and "rnnlab" not in message


def test_does_the_first_line_leave_room_for_the_exceptions_name():
    """A notebook prints ``CheckFailed: `` before the message: the first line is held shorter."""
    message = str(CheckFailed("loss is wrong (on lengths [4, 1, 3]): expected 1.934032959, got 1.289355306. " * 3))
    printed = f"{checks.PREFIX}{message}".splitlines()
    assert len(printed) > 1 and all(len(line) <= checks.WIDTH for line in printed), printed
    assert len(printed[0]) > checks.WIDTH - 10  # filled, not cut short


def test_is_negative_zero_never_printed():
    with pytest.raises(CheckFailed) as failed:
        checks.assert_close("h", np.array([1.0, 2.0]), np.array([-0.0, 2.0]))
    assert "expected 0," in str(failed.value) and "-0" not in str(failed.value)
    assert checks.number(-0.0) == "0"


def test_does_a_wrong_loss_get_the_hint_of_the_known_bug_it_equals():
    def loss_and_grads(w):
        return 2.0 * float(np.sum(w)), {"w": 2.0 * np.ones_like(w)}

    inputs = {"w": np.array([0.5, 0.25])}
    wrong_losses = [(1.5, "HINT-DOUBLED"), (0.375, "HINT-HALVED")]
    with pytest.raises(CheckFailed) as failed:
        checks.check_loss_gradients(loss_and_grads, inputs, "f", expected_loss=0.75, hints={"loss": "HINT-GENERAL"},
                                    wrong_losses=wrong_losses)
    assert "HINT-DOUBLED" in str(failed.value) and "HINT-GENERAL" not in str(failed.value)
    with pytest.raises(CheckFailed) as failed:  # a wrong loss no known bug gives: the general hint
        checks.check_loss_gradients(loss_and_grads, inputs, "f", expected_loss=0.75, hints={"loss": "HINT-GENERAL"},
                                    wrong_losses=wrong_losses[1:])
    assert "HINT-GENERAL" in str(failed.value) and "HINT-HALVED" not in str(failed.value)


def _loop_helper(x):
    total = 0.0
    for row in x:  # the loop the checked function hides
        total += row.sum()
    return total


def looks_vectorised(x):
    return _loop_helper(x) * 2.0


def test_does_a_loop_moved_into_a_helper_still_count():
    with pytest.raises(CheckFailed) as failed:
        checks.assert_loops_at_most(looks_vectorised, 0, "time")
    assert "in _loop_helper, line 3: for row in x:" in str(failed.value)


def test_does_a_loop_in_a_helper_count_under_a_grader_too():
    class Remote:  # what a grader passes: the sources, not the functions
        __name__ = "step"
        __source__ = "def step(x):\n    return helper(x)\n"
        __helpers__ = {"helper": "def helper(x):\n    while x:\n        x -= 1\n    return x\n",
                       "step": __source__}

    with pytest.raises(CheckFailed, match="1 Python loop"):
        checks.assert_loops_at_most(Remote(), 0, "time")
    Remote.__helpers__ = {}
    checks.assert_loops_at_most(Remote(), 0, "time")  # nothing to follow: no loop


def slow_forward(x):
    return x, None


def test_is_a_slow_backward_stopped_when_its_time_is_up():
    """A numerical backward step runs for many seconds: the check stops it at its limit."""
    import time

    def backward(dout, cache):
        end = time.perf_counter() + 3.0  # a backward step that would run for 3 s
        while time.perf_counter() < end:
            pass
        return (dout,)

    with pytest.raises(CheckFailed, match=r"backward was still running after 0.2 s, and was stopped"):
        checks.assert_backward_is_analytic(slow_forward, backward, {"x": np.ones(2)}, [np.ones(2)], seconds=0.2)
    import signal
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_does_a_backward_that_catches_the_stop_still_fail():
    import time

    def backward(dout, cache):
        try:
            time.sleep(0.5)
        except BaseException:  # holds up the stop: then the clock decides
            time.sleep(0.3)
        return (dout,)

    with pytest.raises(CheckFailed, match=r"backward took 0\.\d s"):
        checks.assert_backward_is_analytic(slow_forward, backward, {"x": np.ones(2)}, [np.ones(2)], seconds=0.2)


def test_does_a_quick_backward_pass_and_leave_no_timer():
    import signal

    checks.assert_backward_is_analytic(slow_forward, lambda dout, cache: (dout,), {"x": np.ones(2)}, [np.ones(2)])
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_is_a_function_run_elsewhere_never_cut_by_a_timer_here():
    """An adapter around a grader's function: a timer in the grader would cut its wait for the
    sandbox's reply, so the call runs to its end and the clock decides."""
    import time

    class Elsewhere:
        __name__ = "backward"

        def call_within(self, seconds, *args):
            raise AssertionError("an adapter is not the grader's function")

    def adapter(dout, cache):
        time.sleep(0.4)
        return (dout,)

    adapter.__wrapped__ = Elsewhere()
    with pytest.raises(CheckFailed, match=r"adapter took 0\.\d s"):  # timed, never stopped
        checks.assert_backward_is_analytic(slow_forward, adapter, {"x": np.ones(2)}, [np.ones(2)], seconds=0.2)


def test_does_a_learners_own_alarm_keep_its_handler_and_the_check_its_clock():
    """A learner who set SIGALRM up for something of their own keeps it: the check then only times."""
    import signal
    import time

    def mine(signum, frame):
        pass

    def backward(dout, cache):
        time.sleep(0.3)
        return (dout,)

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        with pytest.raises(CheckFailed, match=r"backward took 0\.\d s"):
            checks.assert_backward_is_analytic(slow_forward, backward, {"x": np.ones(2)}, [np.ones(2)], seconds=0.1)
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_does_a_function_wrapped_in_a_cycle_still_get_checked():
    def backward(dout, cache):
        return (dout,)

    backward.__wrapped__ = backward
    checks.assert_backward_is_analytic(slow_forward, backward, {"x": np.ones(2)}, [np.ones(2)])
