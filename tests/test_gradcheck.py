"""Does rnnlab.gradcheck accept right gradients and reject wrong ones?"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.checks import fixed_array
from rnnlab.gradcheck import (
    DEFAULT_THRESHOLD,
    GradientCheckError,
    check_gradients,
    numerical_gradient,
    relative_error,
)


def affine_tanh(x, W, b):
    """y = tanh(x W + b): x (N, D), W (D, H), b (H,) -> y (N, H)."""
    return np.tanh(x @ W + b)


def affine_tanh_gradients(x, W, b, dy):
    """The right gradients of sum(affine_tanh(x, W, b) * dy)."""
    da = dy * (1.0 - affine_tanh(x, W, b) ** 2)
    return {"dx": da @ W.T, "dW": x.T @ da, "db": da.sum(axis=0)}


@pytest.fixture
def problem():
    """Inputs with N=3, D=4, H=5 (D != H, so a transposed gradient cannot even fit)."""
    x, W, b = fixed_array((3, 4), 1), fixed_array((4, 5), 2, 0.7), fixed_array(5, 3, 0.5)
    dy = fixed_array((3, 5), 4)
    return {"x": x, "W": W, "b": b}, dy


def test_is_the_numerical_gradient_of_a_quadratic_exact_to_rounding():
    x = fixed_array((2, 3), 5)
    grad = numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-9)


def test_does_the_numerical_gradient_use_the_upstream_gradient_and_leave_x_unchanged():
    x = fixed_array((2, 3), 6)
    before = x.copy()
    upstream = fixed_array((2, 3), 7)
    grad = numerical_gradient(np.sin, x, upstream)
    np.testing.assert_allclose(grad, upstream * np.cos(x), rtol=1e-8)
    assert np.array_equal(x, before)


def test_does_a_function_that_evaluates_many_points_at_once_get_them_all_in_order():
    """A grader evaluates the nudged points in one round trip; the estimate must not change."""
    x = fixed_array((2, 3), 6)
    batches = []

    def f(v):
        return np.sin(v)

    def many(points):
        batches.append(points)
        return [np.sin(v) for v in points]

    plain = numerical_gradient(f, x, fixed_array((2, 3), 7))
    f.many = many
    assert np.array_equal(numerical_gradient(f, x, fixed_array((2, 3), 7)), plain)
    [points] = batches
    assert len(points) == 2 * x.size
    for number, point in enumerate(points):
        [changed] = np.flatnonzero(point != x)
        assert changed == number // 2  # one entry nudged: e_0, e_0, e_1, e_1, ...
        assert (point.flat[changed] > x.flat[changed]) == (number % 2 == 0)  # + h first, then - h


def test_does_the_numerical_gradient_refuse_integer_inputs():
    with pytest.raises(TypeError, match="float"):
        numerical_gradient(np.sin, np.arange(3))


def test_is_the_relative_error_scale_free_and_bounded():
    a = fixed_array(10, 8)
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, np.zeros_like(a)) == pytest.approx(1.0)
    assert relative_error(1e-12 * a, 1e-12 * a * (1 + 1e-9)) == pytest.approx(relative_error(a, a * (1 + 1e-9)))
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


def test_does_a_right_gradient_pass_by_orders_of_magnitude(problem):
    inputs, dy = problem
    comparisons = check_gradients(affine_tanh, inputs, affine_tanh_gradients(**inputs, dy=dy), dy)
    assert [c.name for c in comparisons] == ["dx", "dW", "db"]
    assert max(c.error for c in comparisons) < DEFAULT_THRESHOLD / 100


WRONG_GRADIENTS = {
    "wrong sign": ("dW", lambda g: -g),
    "missing factor 2": ("dx", lambda g: g / 2),
    "rows in reverse order": ("dW", lambda g: g[::-1].copy()),
    "off at one element": ("db", lambda g: g + np.eye(1, g.size, 2).ravel() * 1e-3),
}


@pytest.mark.parametrize("bug", WRONG_GRADIENTS)
def test_is_a_wrong_gradient_rejected_with_its_name_error_and_threshold(problem, bug):
    inputs, dy = problem
    grads = affine_tanh_gradients(**inputs, dy=dy)
    name, make_wrong = WRONG_GRADIENTS[bug]
    grads[name] = make_wrong(grads[name])
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(affine_tanh, inputs, grads, dy)
    message = str(failure.value)
    assert message.startswith("1 of 3 gradients fail the check (threshold 1e-07)")
    wrong_line = next(line for line in message.splitlines() if line.strip().startswith(f"{name}:"))
    assert "WRONG" in wrong_line and "relative error" in wrong_line
    assert all(len(line) <= 80 for line in message.splitlines())


def test_is_a_transposed_square_gradient_rejected():
    x, W = fixed_array((3, 4), 9), fixed_array((4, 4), 10)
    dy = fixed_array((3, 4), 11)
    dW = x.T @ (dy * (1 - np.tanh(x @ W) ** 2))
    with pytest.raises(GradientCheckError, match="dW: relative error"):
        check_gradients(lambda x, W: np.tanh(x @ W), {"x": x, "W": W}, {"dW": dW.T}, dy)


def test_is_a_gradient_of_the_wrong_shape_reported_as_such(problem):
    inputs, dy = problem
    grads = affine_tanh_gradients(**inputs, dy=dy)
    grads["db"] = grads["db"][:, None]
    with pytest.raises(GradientCheckError, match=r"db has shape \(5, 1\)"):
        check_gradients(affine_tanh, inputs, grads, dy)


def test_does_float32_fail_where_float64_passes():
    """Why the course checks in float64: rounding in float32 swamps the difference."""
    x = fixed_array((3, 4), 12)
    W = fixed_array((4, 5), 13)
    f32 = lambda x: np.tanh(x.astype(np.float32) @ W.astype(np.float32)).astype(np.float64)  # noqa: E731
    exact = (1 - np.tanh(x @ W) ** 2) @ W.T  # gradient of sum(tanh(x W)) with respect to x
    assert relative_error(numerical_gradient(f32, x.copy()), exact) > 1e-4
    f64 = lambda x: np.tanh(x @ W)  # noqa: E731
    assert relative_error(numerical_gradient(f64, x.copy()), exact) < 1e-9
