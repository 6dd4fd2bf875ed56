"""The curvature lesson: its numbers against closed forms (L'' = 2 sum x^2, the Hessian
2 X^T X and its eigenvalues), its runs against the factor (1 - lr * curvature)^k, and every
number its text prints against its JSON."""

import json

import numpy as np
import pytest

import descent as ds
from descent import lessons

X = np.array([2.0, 4.5, 10.0])
Y = np.array([19.6, 44.1, 98.0])
A_STAR = 9.8
J2 = 2 * np.sum(X**2)  # L''(a) of L(a) = sum (y - a x)^2, at every a
DESIGN = np.stack([X, np.ones_like(X)], axis=1)  # (3, 2): the columns x and 1
HESSIAN = 2 * DESIGN.T @ DESIGN  # of L(a, b) = sum (a x + b - y)^2


@pytest.fixture(scope="module")
def lesson():
    return lessons.run("curvature")


@pytest.fixture(scope="module")
def results(lesson):
    return json.loads(json.dumps(lesson.to_dict(), allow_nan=False))["results"]


def test_closed_forms_are_the_lectures_numbers():
    assert J2 == pytest.approx(248.5)
    assert 2 / J2 == pytest.approx(0.00805, abs=5e-6)
    assert 1 / J2 == pytest.approx(0.004024, abs=5e-7)


def test_second_derivative_by_autodiff_is_2_sum_x2_at_every_a(results):
    assert results["x_squared"] == pytest.approx(list(X**2), rel=1e-15)
    assert results["closed_form"] == pytest.approx(J2, rel=1e-15)
    assert len(results["at"]) >= 3
    for a, at in results["at"].items():
        a = float(a)
        assert at["curvature"] == pytest.approx(J2, rel=1e-12)
        assert at["loss"] == pytest.approx(np.sum((a * X - Y) ** 2), rel=1e-12, abs=1e-9)
        assert at["slope"] == pytest.approx(2 * np.sum(X * (a * X - Y)), rel=1e-12, abs=1e-9)
    assert results["curvature"] == pytest.approx(J2, rel=1e-12)
    assert results["curvature_spread"] == pytest.approx(0.0, abs=1e-9)


def test_the_bound_and_the_best_rate(results):
    assert results["max_lr"] == pytest.approx(2 / J2, rel=1e-12)
    assert results["best_lr"] == pytest.approx(1 / J2, rel=1e-12)


def _gravity_run(lr, steps, a0=8.0):
    a, path = a0, [a0]
    for _ in range(steps):
        a -= lr * 2 * np.sum(X * (a * X - Y))
        path.append(a)
    return np.array(path)


def test_runs_below_at_and_above_the_bound(results):
    runs = results["runs"]
    rates = [run["lr"] for run in runs]
    assert 0.003 in rates  # the lecture's rate
    assert any(lr < 2 / J2 for lr in rates) and any(lr > 2 / J2 for lr in rates)
    assert any(lr == pytest.approx(2 / J2, rel=1e-12) for lr in rates)
    assert any(lr == pytest.approx(1 / J2, rel=1e-12) for lr in rates)
    for run in runs:
        lr = run["lr"]
        factor = 1 - lr * J2
        assert run["factor"] == pytest.approx(factor, rel=1e-9, abs=1e-12)
        a = np.array(run["path"]["a"])
        np.testing.assert_allclose(a, _gravity_run(lr, len(a) - 1), rtol=1e-12)
        d0 = a[0] - A_STAR
        np.testing.assert_allclose(
            run["distance"], d0 * factor ** np.arange(len(a)), rtol=1e-9, atol=1e-12
        )
        if abs(factor) < 1 - 1e-9:
            assert abs(run["distance"][-1]) < abs(d0)
        elif abs(factor) > 1 + 1e-9:
            assert abs(run["distance"][-1]) > 2 * abs(d0)
            assert "diverges" in run["verdict"]
        else:  # at the bound: bounces between 8 and 11.6 for ever
            np.testing.assert_allclose(np.abs(run["distance"]), abs(d0), rtol=1e-9)
            assert "bound" in run["verdict"]


def test_the_best_fixed_rate_and_newton_land_on_9_8_in_one_step(results):
    (best,) = [run for run in results["runs"] if run["lr"] == pytest.approx(1 / J2)]
    assert len(best["path"]["a"]) == 2  # the start and one step
    assert best["path"]["a"][1] == pytest.approx(A_STAR, abs=1e-12)
    newton = results["newton"]
    a0 = newton[0]["a"]
    assert newton[0]["slope"] == pytest.approx(2 * np.sum(X * (a0 * X - Y)), rel=1e-12)
    assert all(step["curvature"] == pytest.approx(J2, rel=1e-12) for step in newton)
    assert newton[1]["a"] == pytest.approx(A_STAR, abs=1e-12)
    assert newton[1]["slope"] == pytest.approx(0.0, abs=1e-9)


def test_hessian_of_the_line_is_2_xtx_and_its_eigenvalues(results):
    two = results["two_parameters"]
    np.testing.assert_allclose(two["hessian"], HESSIAN, rtol=1e-12)
    assert two["hessian_difference_at_origin"] == pytest.approx(0.0, abs=1e-9)
    lam = np.linalg.eigvalsh(HESSIAN)  # ascending: flat, steep
    np.testing.assert_allclose(two["eigenvalues"], lam, rtol=1e-12)
    # by hand: the roots of t^2 - trace t + det
    trace, det = np.trace(HESSIAN), np.linalg.det(HESSIAN)
    roots = (trace + np.array([-1, 1]) * np.sqrt(trace**2 - 4 * det)) / 2
    np.testing.assert_allclose(two["eigenvalues"], roots, rtol=1e-9)
    for value, vector in zip(lam, two["eigenvectors"]):
        np.testing.assert_allclose(HESSIAN @ vector, value * np.array(vector), atol=1e-9)
        assert np.linalg.norm(vector) == pytest.approx(1.0)
    assert two["condition"] == pytest.approx(lam[1] / lam[0], rel=1e-12)
    assert two["condition"] > 100  # two very different curvatures
    assert two["max_lr"] == pytest.approx(2 / lam[1], rel=1e-12)
    assert two["best_flat_factor"] == pytest.approx(1 - 2 * lam[0] / lam[1], rel=1e-12)
    assert two["flat_lr"] == pytest.approx(1 / lam[0], rel=1e-12)
    assert two["flat_lr_steep_factor"] == pytest.approx(1 - lam[1] / lam[0], rel=1e-12)


def test_the_hessian_comes_from_ds_autograd_functional():
    x, y = ds.tensor(X, dtype=ds.float64), ds.tensor(Y, dtype=ds.float64)
    w = ds.tensor(1.0, dtype=ds.float64, requires_grad=True)
    b = ds.tensor(-2.0, dtype=ds.float64, requires_grad=True)
    from descent.lessons.curvature import line_loss

    rows = ds.autograd.functional.hessian(lambda w, b: line_loss(w, b, x, y), (w, b))
    np.testing.assert_allclose([[h.item() for h in row] for row in rows], HESSIAN, rtol=1e-12)


def test_one_rate_for_two_curvatures_zig_zags_and_crawls(results):
    two = results["two_parameters"]
    lam = np.linalg.eigvalsh(HESSIAN)
    lr = two["lr"]
    assert lr < 2 / lam[1]  # stable
    factors = 1 - lr * lam
    np.testing.assert_allclose(two["factors"], factors, rtol=1e-12)
    assert -1 < factors[1] < 0 < factors[0] < 1  # the steep one bounces, the flat one crawls
    # the path by NumPy: theta := theta - lr * H (theta - theta*)
    optimum = np.array([A_STAR, 0.0])
    theta, path = np.array(two["start"], dtype=np.float64), []
    for _ in range(two["steps"] + 1):
        path.append(theta.copy())
        theta = theta - lr * HESSIAN @ (theta - optimum)
    path = np.array(path)
    np.testing.assert_allclose(two["path"]["a"], path[:, 0], rtol=1e-10)
    np.testing.assert_allclose(two["path"]["b"], path[:, 1], rtol=1e-10, atol=1e-12)
    # along each eigenvector the distance shrinks by exactly that direction's factor
    along = np.array(two["along"])
    vectors = np.array(two["eigenvectors"]).T  # (2, 2): one vector per column
    np.testing.assert_allclose(along, (path - optimum) @ vectors, rtol=1e-9, atol=1e-12)
    k = np.arange(len(path))[:, None]
    np.testing.assert_allclose(along, along[0] * factors**k, rtol=1e-7, atol=1e-12)
    steep_signs = np.sign(along[:20, 1])
    assert np.all(steep_signs[1:] == -steep_signs[:-1])  # the zig-zag
    assert abs(along[-1, 0]) > 0.005  # still crawling after every step
    assert abs(along[-1, 1]) < 1e-12
    np.testing.assert_allclose(two["newton"], optimum, atol=1e-12)


def test_lesson_names_its_deck_and_slides(lesson, results):
    lecture = results["lecture"]
    assert lecture["deck"] == "001_06db21ae3b045989.txt"
    assert lecture["lr"] == 0.003
    text = lesson.render()
    assert lecture["deck"] in text
    for first, last in lecture["slides"].values():
        assert 0 < first <= last
        assert f"{first}-{last}" in text
