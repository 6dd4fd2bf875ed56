"""The lessons differentiation, svm-questions, regularisation, convexity, activations,
bias-trick-and-updates, search-methods and supervised-unsupervised: their numbers against
independent computations (NumPy by hand, closed forms, torch and scikit-learn) (every number
their text prints is checked against their JSON for every lesson, in test_lessons_faithful.py)."""

import json
import math

import numpy as np
import pytest

from descent import lessons


def _run(name):
    lesson = lessons.run(name)
    data = json.loads(json.dumps(lesson.to_dict(), allow_nan=False))
    return lesson, data["results"]


@pytest.fixture(scope="module")
def computed():
    return {}


def _get(computed, name):
    if name not in computed:
        computed[name] = _run(name)
    return computed[name]


# ---- differentiation ---------------------------------------------------------------------------


def test_differentiation_three_ways_against_torch_and_by_hand(computed):
    torch = pytest.importorskip("torch")
    lesson, r = _get(computed, "differentiation")
    x = torch.tensor(r["x"], dtype=torch.float64)
    y = torch.tensor(r["y"], dtype=torch.float64)
    w = torch.tensor(r["w"], dtype=torch.float64, requires_grad=True)
    loss = ((y - torch.sigmoid(x @ w)) ** 2).sum()
    loss.backward()
    reference = w.grad.numpy()
    assert r["loss"] == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(r["automatic"], reference, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(r["symbolic"], reference, rtol=1e-13, atol=1e-15)

    def f(v):
        return float(np.sum((np.array(r["y"]) - 1 / (1 + np.exp(-np.array(r["x"]) @ v))) ** 2))

    w0, h = np.array(r["w"]), r["h"]
    assert h == 1e-4  # the slide's
    eye = np.eye(w0.size) * h
    central = [(f(w0 + e) - f(w0 - e)) / (2 * h) for e in eye]
    one_sided = [(f(w0 + e) - f(w0)) / h for e in eye]
    np.testing.assert_allclose(r["central"], central, rtol=1e-12)
    np.testing.assert_allclose(r["one_sided"], one_sided, rtol=1e-12)
    assert r["evaluations"] == {"one_sided": w0.size + 1, "central": 2 * w0.size, "automatic": 2}
    assert r["errors"]["automatic (ds.grad)"] < 1e-14


def test_differentiation_leaves_the_error_in_h_to_numerical_gradient(computed):
    """O(h) against O(h^2) is taught once, in numerical-gradient (deck 004's walk-through);
    differentiation points there in one sentence and counts the costs instead."""
    lesson, r = _get(computed, "differentiation")
    text = lesson.render()
    assert "descent lesson numerical-gradient" in text and "Taylor" not in text
    assert not {"steps", "one_sided_errors", "central_errors", "best_h"} & set(r)
    numerical = lessons.run("numerical-gradient")
    assert "Taylor" in numerical.render() and "O(h^2)" in numerical.render()
    for d, c in zip(r["sizes"], r["costs_by_size"]):
        assert c == {"one_sided": d + 1, "central": 2 * d, "automatic": 2}


# ---- svm-questions ------------------------------------------------------------------------------

SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])  # the slide's, by image
LABELS = np.array([0, 1, 2])


def _hinge(s, labels, all_classes=False):
    out = []
    for row, y in zip(s, labels):
        terms = [max(0.0, row[j] - row[y] + 1) for j in range(len(row)) if all_classes or j != y]
        out.append(sum(terms))
    return np.array(out)


def test_svm_questions_variants_against_the_slide_and_by_hand(computed):
    _, r = _get(computed, "svm-questions")
    np.testing.assert_allclose(r["hinge"], [2.9, 0.0, 12.9], atol=1e-12)
    assert round(r["hinge_mean"], 2) == 5.27  # the slide's (2.9 + 0 + 12.9) / 3
    np.testing.assert_allclose(r["hinge_descent"], r["hinge"], atol=1e-12)
    np.testing.assert_allclose(r["over_all"], _hinge(SCORES, LABELS, True), atol=1e-12)
    np.testing.assert_allclose(np.array(r["over_all"]) - r["hinge"], 1.0, atol=1e-12)
    np.testing.assert_allclose(r["mean_over_classes"], _hinge(SCORES, LABELS) / 2, atol=1e-12)
    assert r["over_all_mean"] == pytest.approx(5.27 + 1, abs=0.01)
    assert r["car_margin"] == pytest.approx(2.9)
    assert r["car_nudged"] == [0.0] * len(r["car_nudged"])
    for t, loss in zip(r["scales"], r["frog_growth"]):
        s = SCORES.copy()
        s[2, :2] *= t
        assert loss == pytest.approx(_hinge(s, LABELS)[2], rel=1e-12)
    assert np.all(np.diff(r["frog_growth"]) > 0)


def test_svm_questions_answers_of_the_slides(computed):
    torch = pytest.importorskip("torch")
    _, r = _get(computed, "svm-questions")
    assert r["over_all_added"] == pytest.approx(1.0, abs=1e-12)  # 'add constant 1'
    assert r["mean_scale"] == pytest.approx(1 / 2, rel=1e-12)  # the mean over C - 1 = 2 terms
    assert r["mean_verdict"] == "scaling by a constant"
    assert r["hinge_range"] == [0.0, "inf"]  # '[0, inf]'
    assert r["cross_entropy_range"] == [0.0, "unbounded"]  # 'infimum is 0, max is unbounded'
    for t, up, down in zip(r["scales"], r["cross_entropy_true_scaled"],
                           r["cross_entropy_wrong_scaled"]):  # fmt: skip
        for scores, lesson_value in ((SCORES[0] * [t, 1, 1], up), (SCORES[0] * [1, t, t], down)):
            expected = torch.nn.functional.cross_entropy(
                torch.tensor(scores[None], dtype=torch.float64), torch.tensor([0])
            ).item()
            assert lesson_value == pytest.approx(expected, rel=1e-12, abs=1e-15), t
    assert r["cross_entropy_true_scaled"][0] == pytest.approx(r["cross_entropy_cat"], rel=1e-12)
    assert np.all(np.diff(r["cross_entropy_true_scaled"]) <= 0)


def test_svm_questions_kl_of_the_8_class_slide(computed):
    _, r = _get(computed, "svm-questions")
    assert r["p_hat"] == [0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.3]
    assert r["kl"] == pytest.approx(-math.log(0.01), rel=1e-14)
    assert r["kl_descent"] == pytest.approx(-math.log(0.01), rel=1e-12)
    assert r["cross_entropy"] == pytest.approx(math.log(100), rel=1e-14)
    assert r["entropy"] == 0.0
    assert r["log_classes"] == pytest.approx(math.log(8))
    p_cat = math.exp(3.2) / (math.exp(3.2) + math.exp(5.1) + math.exp(-1.7))
    assert r["p_cat"] == pytest.approx(p_cat, rel=1e-14) and round(p_cat, 2) == 0.13


# ---- regularisation -----------------------------------------------------------------------------


def _objective(x, y, a, w, lam, norm):
    from descent.lessons.model_choice import DEGREE, _powers

    phi = _powers(np.asarray(x), DEGREE)[:, 1:]
    penalty = np.sum(np.square(w)) if norm == 2 else np.sum(np.abs(w))
    return np.mean((np.asarray(y) - a - phi @ np.asarray(w)) ** 2) + lam * penalty


def test_regularisation_against_scikit_learns_ridge_and_lasso(computed):
    linear_model = pytest.importorskip("sklearn.linear_model")
    from descent.lessons.model_choice import DEGREE, _powers

    _, r = _get(computed, "regularisation")
    x, y = np.array(r["data"]["x_train"]), np.array(r["data"]["y_train"])
    phi = _powers(x, DEGREE)[:, 1:]
    n = len(y)
    for lam, fit in zip(r["penalties"], r["l2"]):
        ridge = linear_model.Ridge(alpha=n * lam).fit(phi, y)  # |y - a - phi w|^2 + alpha |w|^2
        np.testing.assert_allclose(fit["w"], ridge.coef_, rtol=1e-6, atol=1e-8)
        assert fit["a"] == pytest.approx(ridge.intercept_, rel=1e-6, abs=1e-8)
    for lam, fit in zip(r["penalties"], r["l1"]):
        lasso = linear_model.Lasso(alpha=lam / 2, max_iter=200000, tol=1e-12).fit(phi, y)
        ours = _objective(x, y, fit["a"], fit["w"], lam, 1)
        theirs = _objective(x, y, lasso.intercept_, lasso.coef_, lam, 1)
        assert ours <= theirs * (1 + 1e-9) + 1e-12  # ours is at least as low as sklearn's
        if lam >= 1e-3:  # where sklearn's coordinate descent converges, the same weights
            np.testing.assert_allclose(fit["w"], lasso.coef_, atol=1e-5)
        assert fit["nonzero"] == int(np.count_nonzero(fit["w"]))
    assert r["largest_violation"] < 1e-9


def test_regularisation_shrinks_the_weights_and_draws_a_u(computed):
    _, r = _get(computed, "regularisation")
    l2_size = [np.sum(np.square(f["w"])) for f in r["l2"]]
    for f in r["l2"] + r["l1"]:
        assert f["sum_squares"] == pytest.approx(np.sum(np.square(f["w"])), rel=1e-12)
        assert f["sum_abs"] == pytest.approx(np.sum(np.abs(f["w"])), rel=1e-12)
    assert np.all(np.diff(l2_size) < 0)
    assert r["l1"][0]["nonzero"] == 10 and r["l1"][-1]["nonzero"] == 0
    for fits, best in ((r["l2"], r["best_l2"]), (r["l1"], r["best_l1"])):
        val = [f["val"] for f in fits]
        train = [f["train"] for f in fits]
        assert np.all(np.diff(train) >= -1e-12)  # the penalty only pulls away from the data
        k = int(np.argmin(val))
        assert r["penalties"][k] == best and 0 < k < len(val) - 1  # the bottom of a U
        assert val[0] > 1.4 * val[k] and val[-1] > 1.4 * val[k]


# ---- convexity ----------------------------------------------------------------------------------


def test_convexity_runs_end_in_the_minima_of_the_closed_form(computed):
    _, r = _get(computed, "convexity")
    roots = np.roots([4.0, 0.0, -6.0, 1.0])  # g'(x) = 4x^3 - 6x + 1
    minima = sorted(x.real for x in roots if abs(x.imag) < 1e-12 and 12 * x.real**2 - 6 > 0)
    assert len(minima) == 2
    np.testing.assert_allclose(r["minima"], minima, atol=1e-6)
    for end in r["ends"]["convex"]:
        assert end["x"] == pytest.approx(1.0, abs=1e-8) and end["curvature"] == pytest.approx(2)
    reached = {round(e["x"], 5) for e in r["ends"]["non-convex"]}
    assert reached == {round(m, 5) for m in minima}  # different starts, different minima
    for end in r["ends"]["non-convex"]:
        x = end["x"]
        assert end["loss"] == pytest.approx(x**4 - 3 * x**2 + x, rel=1e-12)
        assert end["curvature"] == pytest.approx(12 * x**2 - 6, rel=1e-12)
        # plain gradient descent by hand lands in the same minimum
        v = end["start"]
        for _ in range(r["steps"]):
            v -= r["lr"] * (4 * v**3 - 6 * v + 1)
        assert x == pytest.approx(v, abs=1e-10)


def test_convexity_activations_against_closed_forms(computed):
    _, r = _get(computed, "convexity")
    x = np.array(r["activations_at"])
    a = r["activations"]
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(a["sigmoid"]["value"], s, rtol=1e-14)
    np.testing.assert_allclose(a["sigmoid"]["slope"], s * (1 - s), rtol=1e-13)
    np.testing.assert_allclose(a["tanh"]["value"], np.tanh(x), rtol=1e-14)
    np.testing.assert_allclose(a["tanh"]["slope"], 1 - np.tanh(x) ** 2, rtol=1e-13)
    np.testing.assert_allclose(a["ReLU"]["value"], np.maximum(x, 0), rtol=0)
    np.testing.assert_allclose(a["ReLU"]["slope"], (x > 0) * 1.0, rtol=0)
    np.testing.assert_allclose(a["step"]["value"], (x > 0) * 1.0, rtol=0)
    assert a["step"]["slope"] == [0.0] * len(x)


def test_convexity_bias_trick_and_update_rules_against_torch(computed):
    torch = pytest.importorskip("torch")
    _, r = _get(computed, "convexity")
    bt = r["bias_trick"]
    w, b, x = (np.array(bt[k]) for k in ("W", "b", "x"))
    np.testing.assert_allclose(bt["Wx + b"], w @ x + b, rtol=1e-14)
    np.testing.assert_allclose(bt["[W b][x; 1]"], w @ x + b, rtol=1e-14)
    assert bt["difference"] < 1e-12
    for label, sigmoid_unit in (("w . x, squared error", False),
                                ("sigmoid(w . x), squared error", True)):  # fmt: skip
        wt = torch.tensor(r["rule_w"], dtype=torch.float64, requires_grad=True)
        xt = torch.tensor(r["rule_x"], dtype=torch.float64)
        out = xt @ wt
        if sigmoid_unit:
            out = torch.sigmoid(out)
        ((torch.tensor(r["rule_y"], dtype=torch.float64) - out) ** 2).sum().backward()
        stepped = (wt - r["alpha"] * wt.grad).detach().numpy()
        np.testing.assert_allclose(r["updates"][label]["formula"], stepped, rtol=1e-13)
        np.testing.assert_allclose(r["updates"][label]["autodiff"], stepped, rtol=1e-13)
        assert r["updates"][label]["difference"] < 1e-14


def test_convexity_flags_the_index_slips_of_deck_004(computed):
    lesson, r = _get(computed, "convexity")
    slips = {s["line"]: s for s in lesson.slips}
    assert set(slips) == {591, 1011, 1034}
    assert {s["deck"] for s in lesson.slips} == {"004_feeceb0db53be35a.txt"}
    rows, _ = np.array(r["bias_trick"]["W"]).shape  # the third row is class 3's: w31 w32 ...
    assert slips[591]["correct"] == f"w{rows}1 w{rows}2 ... w{rows}m b{rows}"
    assert (r["rule_examples"], r["rule_weights"]) == np.array(r["rule_x"]).shape
    assert slips[1011]["correct"] == "sum_{k=1}^d w_k x_ik"
    assert slips[1034]["correct"] == "sum_{i=1}^N delta_i"


# ---- search-methods -----------------------------------------------------------------------------

GX, GY = np.array([2.0, 4.5, 10.0]), np.array([19.6, 44.1, 98.0])  # the gravity data


def _j(w, b):
    return float(np.sum((w * GX + b - GY) ** 2))


def test_search_methods_counts_against_runs_by_hand(computed):
    _, r = _get(computed, "search-methods")
    target, runs = r["target"], r["runs"]
    # random search: the same seeded draws, the first to reach the target
    rng = np.random.default_rng(r["seed"])
    (w_lo, w_hi), (b_lo, b_hi) = r["box"]
    count = 0
    while True:
        count += 1
        w, b = rng.uniform(w_lo, w_hi), rng.uniform(b_lo, b_hi)
        if _j(w, b) <= target:
            break
    assert runs["random search"]["evaluations"] == count
    assert runs["random search"]["point"] == pytest.approx([w, b], rel=1e-14)
    # gradient descent: dJ/dw = 2 sum x r, dJ/db = 2 sum r, one evaluation per step
    w, b = r["start"]
    count = 1
    while _j(w, b) > target:
        res = w * GX + b - GY
        w, b = w - r["lr"] * 2 * np.sum(GX * res), b - r["lr"] * 2 * np.sum(res)
        count += 1
    assert runs["gradient descent"]["evaluations"] == count
    assert runs["gradient descent"]["point"] == pytest.approx([w, b], rel=1e-10)
    genetic = runs["genetic search"]
    assert genetic["evaluations"] == genetic["generations"] * r["population"]
    assert _j(*genetic["point"]) == pytest.approx(genetic["loss"], rel=1e-12)
    for run in runs.values():
        assert _j(*run["point"]) <= target
    assert (runs["gradient descent"]["evaluations"] < genetic["evaluations"]
            < runs["random search"]["evaluations"])  # fmt: skip
