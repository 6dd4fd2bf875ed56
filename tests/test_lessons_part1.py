"""The first seven lessons: each one's numbers against an independent NumPy computation,
and every lesson's text, JSON and determinism."""

import numpy as np
import pytest

from descent import lessons

PART_1 = (
    "secret-number", "gravity", "learning-rate", "linear-regression", "model-choice",
    "logistic-regression", "perceptron",
)  # fmt: skip


@pytest.fixture(scope="module")
def computed():
    """Each lesson computed once for the whole module."""
    return {name: lessons.run(name) for name in PART_1}


# ---- secret-number ---------------------------------------------------------------------------

X_SECRET = np.array([2.0, 3.0, 5.0, 8.0])


def _secret_descent(y, lr, steps, tolerance=0.0):
    """J = mean((x + theta - y)^2), dJ/dtheta = 2 mean(x + theta - y), from theta = 5."""
    theta, path = 5.0, {"theta": [], "loss": [], "slope": []}
    for step in range(steps + 1):
        r = X_SECRET + theta - y
        slope = 2 * r.mean()
        path["theta"].append(theta)
        path["loss"].append(np.mean(r**2))
        path["slope"].append(slope)
        if step == steps or abs(slope) < tolerance:
            break
        theta -= lr * slope
    return path


def _assert_path(got: dict, want: dict):
    assert got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)


def test_secret_number_steps_match_numpy(computed):
    r = computed["secret-number"].results
    y = np.array([4.0, 5.0, 7.0, 10.0])
    _assert_path(r["lr_1"], _secret_descent(y, 1.0, 6))
    assert r["lr_1"]["theta"] == [5.0, -1.0, 5.0, -1.0, 5.0, -1.0, 5.0]  # oscillates for ever
    _assert_path(r["lr_0.75"], _secret_descent(y, 0.75, 40, 1e-4))
    assert r["lr_0.75"]["theta"][:4] == [5.0, 0.5, 2.75, 1.625]
    assert abs(r["lr_0.75"]["theta"][-1] - 2.0) < 1e-4


def test_secret_number_noisy_optimum(computed):
    r = computed["secret-number"].results
    y = np.array([3.0, 6.0, 5.0, 12.0])
    _assert_path(r["noisy"], _secret_descent(y, 0.25, 40, 1e-4))
    theta_star = np.mean(y - X_SECRET)
    assert r["theta_star"] == pytest.approx(theta_star, abs=1e-12)
    assert r["min_loss"] == pytest.approx(np.mean((X_SECRET + theta_star - y) ** 2), abs=1e-12)
    assert r["min_loss"] > 0
    assert abs(r["theta_gd"] - theta_star) < 1e-4
    assert r["noisy"]["loss"][-1] >= r["min_loss"]


# ---- gravity and learning-rate ---------------------------------------------------------------

X_G = np.array([2.0, 4.5, 10.0])
Y_G = np.array([19.6, 44.1, 98.0])


def _gravity_loss(a):
    return np.sum((a * X_G - Y_G) ** 2)


def _gravity_slope(a):
    return 2 * np.sum(X_G * (a * X_G - Y_G))


def _gravity_descent(lr, steps, tolerance=0.0):
    a, path = 8.0, {"a": [], "loss": [], "slope": []}
    for step in range(steps + 1):
        path["a"].append(a)
        path["loss"].append(_gravity_loss(a))
        path["slope"].append(_gravity_slope(a))
        if step == steps or abs(a - 9.8) < tolerance:
            break
        a -= lr * _gravity_slope(a)
    return path


def test_gravity_losses_and_slopes(computed):
    r = computed["gravity"].results
    for a in (8, 9, 10):
        assert r["loss_at"][str(a)] == pytest.approx(_gravity_loss(a), rel=1e-12)
    assert r["loss_at"]["8"] > r["loss_at"]["9"] > r["loss_at"]["10"]
    assert r["slope_at"]["8"] == pytest.approx(_gravity_slope(8.0), rel=1e-12)
    assert r["slope_at"]["11.5"] == pytest.approx(_gravity_slope(11.5), rel=1e-12)
    assert r["slope_at"]["8"] < 0 < r["slope_at"]["11.5"]


def test_gravity_descent_reaches_9_8(computed):
    r = computed["gravity"].results
    want = _gravity_descent(0.003, 100, 1e-4)
    _assert_path(r["path"], want)
    assert r["steps"] == len(want["a"]) - 1 == 8
    assert abs(r["a_final"] - 9.8) < 1e-4
    assert r["factor"] == pytest.approx(1 - 0.003 * 2 * np.sum(X_G**2), rel=1e-9)


def test_learning_rate_runs_and_verdicts(computed):
    r = computed["learning-rate"].results
    curvature = 2 * np.sum(X_G**2)  # J'' of the gravity loss: 248.5
    assert r["curvature"] == pytest.approx(curvature, rel=1e-12)
    assert r["max_lr"] == pytest.approx(2 / curvature, rel=1e-12)
    expected = {
        0.0002: "too low",
        0.003: "good",
        1 / curvature: "ideal",
        0.0075: "too high: bounces, converges",
        0.009: "too high: bounces and diverges",
    }
    assert len(r["runs"]) == len(expected)
    for run, (lr, verdict) in zip(r["runs"], expected.items()):
        assert run["lr"] == pytest.approx(lr, rel=1e-12)
        assert run["verdict"].startswith(verdict)
        want = _gravity_descent(lr, r["steps"], 1e-12)
        _assert_path(run["path"], want)
        # The distance to 9.8 is multiplied by 1 - lr J'' at every step.
        k = np.arange(len(want["a"]))
        np.testing.assert_allclose(run["distance"], -1.8 * (1 - lr * curvature) ** k, atol=1e-9)
    assert abs(r["runs"][-1]["distance"][-1]) > 1.8  # the divergent one ends farther out


# ---- linear-regression -----------------------------------------------------------------------


def test_linear_regression_closed_form_matches_lstsq(computed):
    r = computed["linear-regression"].results
    d = {k: np.array(v) for k, v in r["data"].items()}
    assert (len(d["x_train"]), len(d["x_val"]), len(d["x_test"])) == (60, 20, 20)
    mean, std = d["x_train"].mean(), d["x_train"].std()
    assert r["scaler"]["mean"] == pytest.approx(mean, rel=1e-12)
    assert r["scaler"]["std"] == pytest.approx(std, rel=1e-12)
    z = (d["x_train"] - mean) / std
    a = np.column_stack([np.ones_like(z), z])
    w_star = np.linalg.solve(a.T @ a, a.T @ d["y_train"])  # the normal equations
    np.testing.assert_allclose(r["w_star"], w_star, rtol=1e-10)
    # In the original units it is the least-squares line through (x, y).
    raw = np.linalg.lstsq(np.column_stack([np.ones(60), d["x_train"]]), d["y_train"], rcond=None)
    assert w_star[1] / std == pytest.approx(raw[0][1], rel=1e-10)
    for part in ("train", "val", "test"):
        zp = (d[f"x_{part}"] - mean) / std
        mse = np.mean((w_star[0] + w_star[1] * zp - d[f"y_{part}"]) ** 2)
        assert r["closed_form_loss"][part] == pytest.approx(mse, rel=1e-10)


def test_linear_regression_descent_methods(computed):
    r = computed["linear-regression"].results
    d = {k: np.array(v) for k, v in r["data"].items()}
    mean, std = d["x_train"].mean(), d["x_train"].std()
    a = np.column_stack([np.ones(60), (d["x_train"] - mean) / std])
    w_star = np.array(r["w_star"])
    # Full batch: the NumPy gradient 2/n A^T (A w - y), one step per epoch.
    full = r["methods"]["full-batch"]
    w, want = np.zeros(2), [np.linalg.norm(w_star)]
    for _ in range(r["epochs"]):
        w = w - full["lr"] * 2 / 60 * a.T @ (a @ w - d["y_train"])
        want.append(np.linalg.norm(w - w_star))
    np.testing.assert_allclose(full["distance"], want, rtol=1e-9)
    np.testing.assert_allclose(full["w"], w, rtol=1e-9)
    for name, run in r["methods"].items():
        assert len(run["distance"]) == r["epochs"] + 1
        assert run["distance"][-1] < run["distance"][0] / 50, name
        assert run["distance"][-1] == pytest.approx(np.linalg.norm(np.array(run["w"]) - w_star))
        for part in ("train", "val", "test"):
            zp = (d[f"x_{part}"] - mean) / std
            mse = np.mean((run["w"][0] + run["w"][1] * zp - d[f"y_{part}"]) ** 2)
            assert run["loss"][part] == pytest.approx(mse, rel=1e-9), (name, part)
        assert run["loss"]["train"] >= r["closed_form_loss"]["train"]  # w* is the minimum
    assert r["methods"]["stochastic"]["distance"][1] < r["methods"]["full-batch"]["distance"][1]
    assert [r["methods"][m]["batch_size"] for m in r["methods"]] == [60, 10, 1]


# ---- model-choice ----------------------------------------------------------------------------


def test_model_choice_fits_are_the_least_squares_fits(computed):
    r = computed["model-choice"].results
    d = {k: np.array(v) for k, v in r["data"].items()}
    assert (len(d["x_train"]), len(d["x_val"]), len(d["x_test"])) == (18, 6, 6)
    fits = {}
    for name, degree in (("linear", 1), ("quadratic", 2), ("degree 10", 10)):
        p = np.polynomial.Polynomial.fit(d["x_train"], d["y_train"], degree)
        fits[name] = p
    cos_design = np.column_stack([np.ones(18), np.cos(d["x_train"])])
    ab = np.linalg.lstsq(cos_design, d["y_train"], rcond=None)[0]
    fits["cosine"] = lambda x: ab[0] + ab[1] * np.cos(x)
    val = {}
    for name, predict in fits.items():
        got = r["models"][name]["mse"]
        for part in ("train", "val", "test"):
            mse = np.mean((predict(d[f"x_{part}"]) - d[f"y_{part}"]) ** 2)
            assert got[part] == pytest.approx(mse, rel=1e-6), (name, part)
        val[name] = got["val"]
    np.testing.assert_allclose(r["models"]["cosine"]["coefficients"], ab, rtol=1e-8)
    params = [r["models"][m]["params"] for m in ("linear", "cosine", "quadratic", "degree 10")]
    assert params == [2, 2, 3, 11]
    assert r["best"] == min(val, key=val.get) == "cosine"
    assert r["best_test_mse"] == r["models"]["cosine"]["mse"]["test"]


def test_model_choice_shows_overfitting(computed):
    models = computed["model-choice"].results["models"]
    train = [models[m]["mse"]["train"] for m in ("linear", "quadratic", "degree 10")]
    assert train == sorted(train, reverse=True)  # nested models: training loss falls
    flexible = models["degree 10"]["mse"]
    assert flexible["train"] == min(m["mse"]["train"] for m in models.values())
    assert flexible["val"] > 5 * flexible["train"]
    assert flexible["val"] > models["cosine"]["mse"]["val"]
    assert flexible["val"] > models["quadratic"]["mse"]["val"]


# ---- logistic-regression ---------------------------------------------------------------------


def test_logistic_regression_matches_a_numpy_loop(computed):
    r = computed["logistic-regression"].results
    speed = np.array([30.0, 33.0, 35.0, 37.0, 39.0])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    z = (speed - speed.mean()) / speed.std()
    assert r["standardisation"]["std"] == pytest.approx(speed.std(), rel=1e-12)
    w = b = 0.0
    rows = {}
    for it in range(r["iterations"] + 1):
        t = w * z + b
        rows[it] = (w, b, np.mean(np.logaddexp(0.0, t) - y * t))
        p = 1 / (1 + np.exp(-t))
        if it < r["iterations"]:
            w, b = w - r["lr"] * np.mean((p - y) * z), b - r["lr"] * np.mean(p - y)
    for row in r["history"]:
        np.testing.assert_allclose(
            [row["w"], row["b"], row["loss"]], rows[row["iteration"]], rtol=1e-9, atol=1e-12
        )
    assert r["history"][-1]["iteration"] == r["iterations"] == 1000
    assert r["w_z"] == pytest.approx(w, rel=1e-9)
    assert r["b_z"] == pytest.approx(b, rel=1e-9)
    # In speed units: the same probabilities, the boundary where they cross 1/2.
    w_speed, b_speed = w / speed.std(), b - w * speed.mean() / speed.std()
    assert r["boundary_speed"] == pytest.approx(-b_speed / w_speed, rel=1e-9)
    assert 35 < r["boundary_speed"] < 37
    probabilities = 1 / (1 + np.exp(-(w * z + b)))
    np.testing.assert_allclose(r["probabilities"], probabilities, rtol=1e-8, atol=1e-15)
    assert r["predictions"] == [False, False, False, True, True]
    assert r["accuracy"] == 1.0
    losses = [row["loss"] for row in r["history"]]
    assert losses == sorted(losses, reverse=True)  # separable data: the loss keeps falling


# ---- perceptron ------------------------------------------------------------------------------


def _numpy_perceptron(x, y, lr=1.0, max_epochs=100):
    w, b, mistakes = np.zeros(x.shape[1]), 0.0, []
    for _ in range(max_epochs):
        wrong = 0
        for xi, yi in zip(x, y):
            y_hat = 1 if xi @ w + b > 0 else 0
            if y_hat != yi:
                w = w + lr * (yi - y_hat) * xi
                b = b + lr * (yi - y_hat)
                wrong += 1
        mistakes.append(wrong)
        if wrong == 0:
            break
    return mistakes, w, b


def test_perceptron_and_gate(computed):
    gate = computed["perceptron"].results["and_gate"]
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    mistakes, w, b = _numpy_perceptron(x, np.array([0, 0, 0, 1]))
    assert gate["mistakes"] == mistakes == [1, 3, 3, 2, 1, 0]
    assert gate["updates"] == sum(mistakes)
    np.testing.assert_array_equal(gate["w"], w)
    assert gate["b"] == b == -2.0
    assert list((x @ w + b > 0).astype(int)) == [0, 0, 0, 1]


def test_perceptron_converges_on_separable_data(computed):
    r = computed["perceptron"].results
    sep = r["separable"]
    x, y = np.array(r["data"]["x"]), np.array(r["data"]["y"])
    mistakes, w, b = _numpy_perceptron(x, y)
    assert sep["mistakes"] == mistakes
    assert mistakes[-1] == 0 and len(mistakes) > 2
    assert sep["epochs"] == len(mistakes)
    assert sep["updates"] == sum(mistakes)
    np.testing.assert_allclose(sep["w"], w, rtol=1e-12)
    assert sep["b"] == pytest.approx(b)
    assert sep["training_errors"] == 0
    assert np.all((x @ w + b > 0).astype(int) == y)
    radius = np.sqrt(np.max(np.sum(x**2, axis=1)) + 1)
    assert sep["radius"] == pytest.approx(radius, rel=1e-12)
    assert sep["updates"] <= sep["update_bound"] == pytest.approx((radius / 0.1) ** 2)
