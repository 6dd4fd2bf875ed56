"""numerical_grad against closed forms, and gradcheck: what it accepts, what it catches and
what it says when it does.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import descent as ds
from descent.autograd import Function


def _f64(values, requires_grad=True) -> ds.Tensor:
    return ds.tensor(values, dtype=ds.float64, requires_grad=requires_grad)


# ---- numerical_grad ---------------------------------------------------------------------------


def test_numerical_grad_of_a_sum_of_cubes_is_three_x_squared():
    a = np.array([[-1.5, 0.25, 2.0], [3.0, -0.5, 1.0]])
    (g,) = ds.numerical_grad(lambda x: (x**3).sum(), [_f64(a, requires_grad=False)])
    assert g.dtype == np.float64 and g.shape == a.shape
    np.testing.assert_allclose(g.numpy(), 3 * a**2, rtol=0, atol=1e-6)


def test_numerical_grad_with_several_inputs():
    a, b = np.array([1.0, -2.0, 0.5]), np.array([0.3, 2.0, -1.0])
    gx, gy = ds.numerical_grad(lambda x, y: (x * y * y).sum(), [_f64(a), _f64(b)])
    np.testing.assert_allclose(gx.numpy(), b**2, rtol=0, atol=1e-6)  # d/dx sum(x y^2)
    np.testing.assert_allclose(gy.numpy(), 2 * a * b, rtol=0, atol=1e-6)


def test_numerical_grad_of_a_non_scalar_output_uses_grad_outputs():
    a, v = np.array([0.1, 1.0, -2.0]), np.array([2.0, -1.0, 0.5])
    x = _f64(a)
    (g,) = ds.numerical_grad(lambda x: x.sin(), [x], grad_outputs=ds.tensor(v, dtype=ds.float64))
    np.testing.assert_allclose(g.numpy(), v * np.cos(a), rtol=0, atol=1e-6)
    (g,) = ds.numerical_grad(lambda x: x.sin(), [x])  # ones by default
    np.testing.assert_allclose(g.numpy(), np.cos(a), rtol=0, atol=1e-6)


def test_numerical_grad_gives_none_for_integer_tensors_and_plain_numbers():
    x = _f64([1.0, 2.0])
    gx, gk, gi = ds.numerical_grad(
        lambda x, k, i: (x**k).sum() + i.sum(), [x, 3, ds.tensor([1, 2])]
    )
    np.testing.assert_allclose(gx.numpy(), [3.0, 12.0], rtol=0, atol=1e-6)
    assert gk is None and gi is None


def test_numerical_grad_restores_its_inputs():
    a = np.array([[0.1, -0.7], [1.3, 2.9]])
    x = _f64(a)
    array = x.numpy()
    ds.numerical_grad(lambda x: (x.exp() * x).sum(), [x])
    assert x.numpy() is array
    np.testing.assert_array_equal(x.numpy(), a)  # bit for bit


def test_numerical_grad_restores_its_inputs_when_the_function_raises():
    a = np.array([1.0, 2.0])
    x = _f64(a)
    calls = []

    def fails_on_the_second_perturbation(x):
        calls.append(1)
        if len(calls) == 3:  # the first call only learns the output's shape
            raise FloatingPointError("boom")
        return x.sum()

    with pytest.raises(FloatingPointError):
        ds.numerical_grad(fails_on_the_second_perturbation, [x])
    np.testing.assert_array_equal(x.numpy(), a)


# ---- gradcheck --------------------------------------------------------------------------------


def test_gradcheck_accepts_correct_gradients():
    x, y = _f64([0.3, -1.2, 2.0]), _f64([[0.5], [1.5]])
    assert ds.gradcheck(lambda x, y: (x * y).tanh(), [x, y]) is True
    assert ds.gradcheck(lambda x, y: ((x * y).sum(), x.exp()), [x, y]) is True
    assert ds.gradcheck(lambda x, k: x**k, [x, 3]) is True  # a plain-number argument


class IdentityWithMeanGrad(Function):
    """$f(x) = x$, with a rule that is right only when every upstream gradient is equal."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return np.full_like(grad, grad.mean())


class IdentityIgnoringUpstream(Function):
    """$f(x) = x$, with a rule that forgets to multiply by the upstream gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return np.ones_like(grad)


@pytest.mark.parametrize("fn", [IdentityWithMeanGrad, IdentityIgnoringUpstream])
def test_gradcheck_uses_a_random_output_direction(fn):
    x = _f64([0.5, -1.0, 2.0, 4.0])
    # With an all-ones upstream gradient the wrong rule agrees with central differences...
    fn.apply(x).sum().backward()
    (ones_numerical,) = ds.numerical_grad(fn.apply, [x])
    np.testing.assert_allclose(x.grad.numpy(), ones_numerical.numpy(), atol=1e-6)
    # ...so only a random direction catches it.
    with pytest.raises(ds.GradcheckError):
        ds.gradcheck(fn.apply, [x])


def test_gradcheck_refuses_float32_inputs():
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"input 1 is float32.*float64"):
        ds.gradcheck(lambda a, b: a * b, [_f64([1.0, 2.0]), x])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        ds.gradcheck(lambda a: a * 2, [_f64([1.0], requires_grad=False)])


def test_gradcheck_restores_its_inputs():
    a = np.array([0.2, -0.4, 1.1])
    x = _f64(a)
    assert ds.gradcheck(lambda x: (x * x).sin(), [x])
    np.testing.assert_array_equal(x.numpy(), a)


class ProductWrongAtOneElement(Function):
    """$f(x, y) = x y$ with the gradient of y wrong at element 2: $(x + e_2) g$."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shifted = x.copy()
        shifted[2] += 1.0
        return grad * y, grad * shifted


def test_a_gradcheck_failure_names_the_input_the_element_and_both_values():
    x, y = _f64([1.0, -2.0, 1.5, 3.0]), _f64([0.5, 0.5, 0.5, 0.5])
    with pytest.raises(ds.GradcheckError) as info:
        ds.gradcheck(lambda x, y: ProductWrongAtOneElement.apply(x, y).sum(), [x, y])
    message = str(info.value)
    assert "input 1" in message and "index (2,)" in message
    found = re.search(r"autodiff gives (\S+), central differences give (\S+)", message)
    analytical, numerical = float(found.group(1)), float(found.group(2))
    # analytical = d (x_2 + 1), numerical = d x_2 for the direction d gradcheck drew
    assert analytical / numerical == pytest.approx((1.5 + 1.0) / 1.5, rel=1e-6)

    assert (
        ds.gradcheck(
            lambda x, y: ProductWrongAtOneElement.apply(x, y), [x, y], raise_exception=False
        )
        is False
    )


def test_gradcheck_checks_every_output():
    class SecondOutputWrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 x g

    x = _f64([1.0, 2.0])
    with pytest.raises(ds.GradcheckError, match="input 0"):
        ds.gradcheck(lambda x: (x.exp(), SecondOutputWrong.apply(x)), [x])
