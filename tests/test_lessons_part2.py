"""The lessons softmax-svm, backprop, autoencoder-classifier, conv-forward, gradient-check and
digits: each one's numbers against an independent computation (NumPy loops, closed forms,
central differences, PyTorch)."""

import math

import numpy as np
import pytest
import torch

from descent import lessons
from descent.datasets import load_digits
from descent.lessons.digits import EPOCHS
from descent.lessons.lesson import Lesson

_computed: dict = {}


def lesson_of(name: str) -> Lesson:
    """Each lesson computed once for the whole module."""
    if name not in _computed:
        _computed[name] = lessons.run(name)
    return _computed[name]


def arrays(d: dict) -> dict:
    return {k: np.asarray(v, dtype=np.float64) for k, v in d.items()}


# ---- softmax-svm -----------------------------------------------------------------------------


def numpy_hinge(scores: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    """(per-class margins, 0 at the true class; per-example losses) by loops."""
    margins = np.zeros_like(scores)
    losses = np.zeros(len(scores))
    for i, y in enumerate(labels):
        for j in range(scores.shape[1]):
            if j != y:
                margins[i, j] = max(0.0, scores[i, j] - scores[i, y] + 1.0)
                losses[i] += margins[i, j]
    return margins, losses


def test_softmax_svm_hinge_losses():
    r = lesson_of("softmax-svm").results
    scores = np.array(r["scores"])
    np.testing.assert_array_equal(scores, [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    assert r["labels"] == [0, 1, 2]
    margins, losses = numpy_hinge(scores, r["labels"])
    np.testing.assert_allclose(r["hinge"], losses, atol=1e-12)
    np.testing.assert_allclose(r["hinge"], [2.9, 0.0, 12.9], atol=1e-12)
    assert r["hinge_mean"] == pytest.approx(15.8 / 3, abs=1e-12)
    off = ~np.eye(3, dtype=bool)  # the lesson's margin at the true class is not shown
    np.testing.assert_allclose(np.array(r["margins"])[off], margins[off], atol=1e-12)


def test_softmax_svm_softmax_and_cross_entropy():
    r = lesson_of("softmax-svm").results
    scores = np.array(r["scores"])
    e = np.exp(scores)
    probs = e / e.sum(axis=1, keepdims=True)
    ce = -np.log(probs[np.arange(3), r["labels"]])
    np.testing.assert_allclose(r["probabilities"], probs, rtol=1e-12)
    np.testing.assert_allclose(r["cross_entropy"], ce, rtol=1e-12)
    assert r["cross_entropy_mean"] == pytest.approx(ce.mean(), rel=1e-12)
    assert r["cross_entropy"][0] == pytest.approx(2.0404, abs=1e-4)  # the lectures' cat


def test_softmax_svm_losses_at_initialisation():
    init = lesson_of("softmax-svm").results["init"]
    assert [row["classes"] for row in init] == [3, 10, 100]
    for row in init:
        c = row["classes"]
        assert row["hinge"] == pytest.approx(c - 1, abs=0.05)
        assert row["cross_entropy"] == pytest.approx(math.log(c), abs=1e-3)


# ---- backprop --------------------------------------------------------------------------------


def backprop_by_loops(x, y_target, w1, b1, w2, b2) -> dict:
    """The slides' derivation one example and one element at a time (Z1 = X W1, Z2 = Z1 + b1,
    Z3 = sigmoid(Z2), Z4 = Z3 W2, Yp = Z4 + b2)."""
    n, d = x.shape
    k = w1.shape[1]
    g = {
        "dL/dYp": np.zeros((n, 1)),
        "dL/dZ4": np.zeros((n, 1)),
        "dL/dZ3": np.zeros((n, k)),
        "dL/dZ2": np.zeros((n, k)),
        "dL/dZ1": np.zeros((n, k)),
        "dL/dW1": np.zeros((d, k)),
        "dL/db1": np.zeros(k),
        "dL/dW2": np.zeros((k, 1)),
        "dL/db2": np.zeros(1),
    }
    for e in range(n):
        z2 = [sum(x[e, i] * w1[i, j] for i in range(d)) + b1[j] for j in range(k)]
        z3 = [1.0 / (1.0 + math.exp(-zj)) for zj in z2]
        yp = sum(z3[j] * w2[j, 0] for j in range(k)) + b2[0]
        d_yp = yp - y_target[e, 0]
        g["dL/dYp"][e, 0] = g["dL/dZ4"][e, 0] = d_yp
        g["dL/db2"][0] += d_yp
        for j in range(k):
            g["dL/dW2"][j, 0] += z3[j] * d_yp
            d_z3 = d_yp * w2[j, 0]
            d_z2 = d_z3 * z3[j] * (1.0 - z3[j])
            g["dL/dZ3"][e, j] = d_z3
            g["dL/dZ2"][e, j] = g["dL/dZ1"][e, j] = d_z2
            g["dL/db1"][j] += d_z2
            for i in range(d):
                g["dL/dW1"][i, j] += x[e, i] * d_z2
    return g


def test_backprop_autodiff_equals_the_hand_derivation_by_loops():
    r = lesson_of("backprop").results
    p = arrays(r["inputs"])
    expected = backprop_by_loops(p["X"], p["Y"], p["W1"], p["b1"], p["W2"], p["b2"])
    assert set(r["autodiff"]) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(r["autodiff"][name], value, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(r["hand"][name], value, atol=1e-12, err_msg=name)
    assert r["max_difference"] < 1e-12
    # the slides' order: dYp, dZ4, dZ3, dZ2, dZ1, then dW1, db1, dW2, db2
    assert [d["delta"] for d in r["deltas"]] == list(expected)
    assert [d["slide_step"] for d in r["deltas"]] == [1, 2, 3, 4, 5, 1, 2, 3, 4]


def test_backprop_against_torch():
    r = lesson_of("backprop").results
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in r["inputs"].items()}
    params = [p[k].requires_grad_() for k in ("W1", "b1", "W2", "b2")]
    z1 = p["X"] @ p["W1"]
    z2 = z1 + p["b1"]
    z3 = torch.sigmoid(z2)
    z4 = z3 @ p["W2"]
    yp = z4 + p["b2"]
    for a in (z1, z2, z3, z4, yp):
        a.retain_grad()
    loss = 0.5 * ((yp - p["Y"]) ** 2).sum()
    loss.backward()
    assert r["loss"] == pytest.approx(loss.item(), rel=1e-12)
    found = {"dL/dYp": yp, "dL/dZ4": z4, "dL/dZ3": z3, "dL/dZ2": z2, "dL/dZ1": z1}
    found.update({"dL/dW1": params[0], "dL/db1": params[1], "dL/dW2": params[2]})
    found["dL/db2"] = params[3]
    for name, tensor in found.items():
        np.testing.assert_allclose(r["autodiff"][name], tensor.grad.numpy(), atol=1e-12)


# ---- autoencoder-classifier ------------------------------------------------------------------

AE_PARAMETERS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def autoencoder_loss(x, labels, w1, b1, w2, b2, w3, b3) -> float:
    """1/2 ||X - Y||^2 + summed cross-entropy, in NumPy."""
    z = np.maximum(x @ w1 + b1, 0.0)
    y = z @ w2 + b2
    s = z @ w3 + b3
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return 0.5 * np.sum((x - y) ** 2) - np.sum(log_p[np.arange(len(labels)), labels])


def test_autoencoder_gradients_against_central_differences():
    r = lesson_of("autoencoder-classifier").results
    inputs = r["inputs"]
    x, labels = np.array(inputs["X"]), np.array(inputs["labels"])
    params = {k: np.array(inputs[k], dtype=np.float64) for k in AE_PARAMETERS}
    assert r["loss"] == pytest.approx(autoencoder_loss(x, labels, *params.values()), rel=1e-12)
    eps = 1e-6
    for name in AE_PARAMETERS:
        numerical = np.zeros_like(params[name])
        for i in np.ndindex(params[name].shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][i] += eps
            minus[name][i] -= eps
            up = autoencoder_loss(x, labels, *plus.values())
            down = autoencoder_loss(x, labels, *minus.values())
            numerical[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(r["autodiff"][name], numerical, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(r["hand"][name], numerical, atol=1e-7, err_msg=name)


def test_autoencoder_against_torch_and_the_two_paths_at_z():
    r = lesson_of("autoencoder-classifier").results
    inputs = r["inputs"]
    x = torch.tensor(inputs["X"], dtype=torch.float64)
    labels = torch.tensor(inputs["labels"])
    p = {k: torch.tensor(inputs[k], dtype=torch.float64, requires_grad=True) for k in AE_PARAMETERS}
    z = torch.relu(x @ p["W1"] + p["b1"])
    z.retain_grad()
    y = z @ p["W2"] + p["b2"]
    s = z @ p["W3"] + p["b3"]
    loss = 0.5 * ((x - y) ** 2).sum() + torch.nn.functional.cross_entropy(
        s, labels, reduction="sum"
    )
    loss.backward()
    assert r["loss"] == pytest.approx(loss.item(), rel=1e-12)
    for name in AE_PARAMETERS:
        np.testing.assert_allclose(r["autodiff"][name], p[name].grad.numpy(), atol=1e-12)
    hand = arrays(r["hand"])
    both = hand["dZ via reconstruction"] + hand["dZ via classifier"]
    np.testing.assert_allclose(both, z.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(r["autodiff"]["dZ"], z.grad.numpy(), atol=1e-12)
    # each path alone is not the gradient: the sum at the fan-out matters
    assert np.abs(hand["dZ via classifier"] - z.grad.numpy()).max() > 0.1
    assert r["max_difference"] < 1e-12


# ---- conv-forward ----------------------------------------------------------------------------


def test_conv_forward_against_numpy_loops():
    r = lesson_of("conv-forward").results
    patch = np.array(
        [[1, 3, 2, 4, 6, 4], [4, 8, 3, 1, 0, 2], [2, 1, 4, 3, 9, 1], [4, 7, 2, 3, 9, 2]]
    )
    kernel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
    np.testing.assert_array_equal(r["patch"], patch)
    np.testing.assert_array_equal(r["filter"], kernel)
    conv = np.zeros((2, 4))
    for i in range(2):
        for j in range(4):
            for a in range(3):
                for b in range(3):
                    conv[i, j] += patch[i + a, j + b] * kernel[a, b]
    pooled = np.zeros((1, 2))
    for j in range(2):
        pooled[0, j] = max(conv[a, 2 * j + b] for a in range(2) for b in range(2))
    relu = np.where(pooled > 0, pooled, 0.0)
    np.testing.assert_array_equal(r["convolution"], conv)
    np.testing.assert_array_equal(r["convolution"], [[1, -1, -3, -2], [3, 1, -12, -20]])
    np.testing.assert_array_equal(r["pooled"], pooled)
    np.testing.assert_array_equal(r["pooled"], [[3, -2]])
    np.testing.assert_array_equal(r["relu"], relu)
    np.testing.assert_array_equal(r["relu"], [[3, 0]])


# ---- gradient-check --------------------------------------------------------------------------


def softmax_ce(x, y, w, b) -> float:
    s = x @ w + b
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


def test_gradient_check_errors_good_small_buggy_large():
    r = lesson_of("gradient-check").results
    assert r["good_max_relative_error"] < 1e-6
    assert r["buggy_max_relative_error"] > 1e-2
    assert r["gradcheck_good"] is True
    assert "gradcheck" in r["gradcheck_buggy_message"]
    # a transposed weight gradient: exactly the off-diagonal elements of W fail
    off_diagonal = [["W", [i, j]] for i in range(3) for j in range(3) if i != j]
    assert r["buggy"]["failing"] == off_diagonal
    assert r["good"]["failing"] == []


def test_gradient_check_numbers_against_numpy():
    r = lesson_of("gradient-check").results
    inputs = r["inputs"]
    x, y = np.array(inputs["X"]), np.array(inputs["y"])
    params = {"W": np.array(inputs["W"]), "b": np.array(inputs["b"])}
    eps = r["eps"]
    # closed form of the analytic gradient: X^T (P - Y) / N and the mean of P - Y
    s = x @ params["W"] + params["b"]
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    closed = {"W": x.T @ p / len(y), "b": p.mean(axis=0)}
    for name, value in params.items():
        numerical = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up, down = value.copy(), value.copy()
            up[i] += eps
            down[i] -= eps
            args_up = {**params, name: up}
            args_down = {**params, name: down}
            numerical[i] = (
                softmax_ce(x, y, args_up["W"], args_up["b"])
                - softmax_ce(x, y, args_down["W"], args_down["b"])
            ) / (2 * eps)
        for part in ("good", "buggy"):
            np.testing.assert_allclose(r[part]["numerical"][name], numerical, atol=1e-8)
        np.testing.assert_allclose(r["good"]["analytic"][name], closed[name], atol=1e-12)
        a, n = np.array(r["good"]["analytic"][name]), np.array(r["good"]["numerical"][name])
        expected = np.abs(a - n) / np.maximum(np.abs(a), np.abs(n))
        np.testing.assert_allclose(r["good"]["relative_error"][name], expected, rtol=1e-12)
    np.testing.assert_allclose(r["buggy"]["analytic"]["W"], closed["W"].T, atol=1e-12)


# ---- digits ----------------------------------------------------------------------------------


def test_digits_test_accuracy_from_predictions():
    r = lesson_of("digits").results
    labels = np.array(r["test_labels"])
    assert r["sizes"] == [1078, 360, 359]
    for name in ("softmax", "mlp"):
        predictions = np.array(r["test_predictions"][name])
        assert predictions.shape == labels.shape
        assert r["test_accuracy"][name] == pytest.approx(np.mean(predictions == labels))
        assert r["test_accuracy"][name] > 0.9
        history = r["history"][name]
        assert len(history["loss"]) == len(history["val_accuracy"]) == EPOCHS
        assert history["loss"][-1] < history["loss"][0]
        assert history["val_accuracy"][-1] > 0.9


def test_digits_split_is_stratified():
    r = lesson_of("digits").results
    y = load_digits().target
    whole = np.bincount(y)
    counts = np.array(r["class_counts"])  # (part, class)
    np.testing.assert_array_equal(counts.sum(axis=0), whole)
    np.testing.assert_array_equal(counts[2], np.bincount(r["test_labels"], minlength=10))
    for part, fraction in zip(counts, (0.6, 0.2, 0.2)):
        assert np.all(np.abs(part - fraction * whole) <= 1)
