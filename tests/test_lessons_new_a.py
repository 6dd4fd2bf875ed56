"""The lessons two-parameters, partial-derivatives, bce-gradient, numerical-gradient,
tf-optimizer and vectorisation: each one's numbers against an independent computation
(closed forms and grids in NumPy, PyTorch's autograd), the slides' own numbers, every number
their text prints in their --json, and their pictures written by --plot."""

import importlib
import json
import math
import re

import numpy as np
import pytest
import torch

from descent import lessons
from descent.cli import main
from descent.lessons.lesson import Lesson

NAMES = [
    "two-parameters",
    "partial-derivatives",
    "tf-optimizer",
    "vectorisation",
    "bce-gradient",
    "numerical-gradient",
]
_computed: dict = {}


def lesson_of(name: str) -> Lesson:
    """Each lesson computed once for the whole module."""
    if name not in _computed:
        _computed[name] = lessons.run(name)
    return _computed[name]


def results_of(name: str) -> dict:
    """The lesson's results as its --json has them (plain data, no NaN)."""
    return json.loads(json.dumps(lesson_of(name).to_dict(), allow_nan=False))["results"]


# ---- two-parameters --------------------------------------------------------------------------

X2 = np.array([-0.3, -0.2, 0.2, 0.3])
Y2 = np.array([1.9, 1.85, 1.85, 1.85])


def line_loss(line: str, a, b=2.0):
    a = np.asarray(a, dtype=np.float64)[..., None]
    y_hat = -5.5 * (a - 0.246) * X2 + b - 0.217 if line == "A" else a * X2 + b - 2 * a**2
    return np.sum((y_hat - Y2) ** 2, axis=-1)


def grid_minima(line: str) -> list[tuple[float, float]]:
    """The local minima of L(a), b = 2, on a fine grid: (a, L) each."""
    a = np.linspace(-0.6, 0.6, 1_200_001)
    L = line_loss(line, a)
    inner = np.where((L[1:-1] < L[:-2]) & (L[1:-1] < L[2:]))[0] + 1
    return [(float(a[i]), float(L[i])) for i in inner]


def test_two_parameters_line_a_has_one_minimum_where_the_closed_form_puts_it():
    r = results_of("two-parameters")
    ((a_min, loss_min),) = grid_minima("A")
    assert r["a"]["a_min"] == pytest.approx(a_min, abs=2e-6)
    assert r["a"]["loss_min"] == pytest.approx(loss_min, rel=1e-9)
    # the best slope with the intercept fixed at 2 - 0.217, by least squares
    slope = np.linalg.lstsq(X2[:, None], Y2 - 1.783, rcond=None)[0][0]
    assert r["a"]["best_slope"] == pytest.approx(slope, rel=1e-12)
    assert r["a"]["a_min"] == pytest.approx(0.246 + slope / -5.5, rel=1e-12)


def test_two_parameters_line_b_is_a_quartic_with_two_minima():
    r = results_of("two-parameters")["b_line"]
    a = np.linspace(-1, 1, 41)
    np.testing.assert_allclose(np.polyfit(a, line_loss("B", a), 4), r["quartic"], atol=1e-10)
    assert r["quartic"] == pytest.approx([16, 0, -1.94, 0.03, 0.0775], abs=1e-12)
    found = grid_minima("B")
    assert len(found) == 2
    np.testing.assert_allclose(r["minima"], [m[0] for m in found], atol=2e-6)
    np.testing.assert_allclose(r["loss_at_minima"], [m[1] for m in found], rtol=1e-9)
    assert r["minima"][0] == pytest.approx(-0.25, abs=1e-12)  # 64 a^3 - 3.88 a + 0.03 = 0
    assert -0.25 < r["maximum"] < r["minima"][1]


def test_two_parameters_the_slides_numbers_come_out():
    """0.246: where line B's minima sit without the small linear term; 0.217: the offset that
    makes line A's one valley as deep as line B's shallower one."""
    r = results_of("two-parameters")
    assert r["b_line"]["symmetric_minima"] == pytest.approx(math.sqrt(3.88 / 64), rel=1e-12)
    assert round(r["b_line"]["symmetric_minima"], 3) == 0.246
    offset = r["a"]["offset_for_equal_depth"]
    assert round(offset, 3) == 0.217
    u = 2 - offset  # line A's intercept with that offset: its minimum then has line B's depth
    depth = np.sum((Y2 - u) ** 2) - np.sum(X2 * Y2) ** 2 / np.sum(X2**2)
    assert depth == pytest.approx(r["b_line"]["loss_at_minima"][1], rel=1e-9)


def test_two_parameters_the_slides_scale_is_line_bs_outer_wall():
    """-5.5: for line A's loss to meet line B's on the outer wall of its right-hand valley,
    found here by a sign change over a fine grid of scales, not the lesson's quadratic."""
    r = results_of("two-parameters")["a"]
    scales = np.linspace(-10, -1, 900_001)
    for a, lesson_scale in zip(r["wall"]["at"], r["wall"]["scales"]):
        c = scales * (a - 0.246)
        gap = np.sum((c[:, None] * X2 + 2 - 0.217 - Y2) ** 2, axis=1) - line_loss("B", a)
        (cross,) = np.where(np.diff(np.sign(gap)) != 0)[0][:1]
        assert lesson_scale == pytest.approx(scales[cross], abs=2e-5), a
    assert r["wall"]["mean"] == pytest.approx(np.mean(r["wall"]["scales"]), rel=1e-12)
    assert round(r["wall"]["mean"], 1) == -5.5
    # the curvature at line B's right-hand minimum would give a much wider parabola
    quartic = np.array([16, 0, -1.94, 0.03, 0.0775])
    minimum = results_of("two-parameters")["b_line"]["minima"][1]
    curvature = np.polyval(np.polyder(quartic, 2), minimum)
    assert r["scale_for_equal_curvature"] == pytest.approx(-math.sqrt(curvature / 0.52), rel=1e-9)
    assert results_of("two-parameters")["b_line"]["largest_difference"] < 1e-12


def test_two_parameters_slopes_are_torch_autograd():
    r = results_of("two-parameters")
    for at, row in r["at"].items():
        a = torch.tensor(float(at), dtype=torch.float64, requires_grad=True)
        x, y = torch.tensor(X2), torch.tensor(Y2)
        for line, key in (("A", "slope_a"), ("B", "slope_b")):
            y_hat = -5.5 * (a - 0.246) * x + 2 - 0.217 if line == "A" else a * x + 2 - 2 * a**2
            (g,) = torch.autograd.grad(((y_hat - y) ** 2).sum(), [a])
            assert row[key] == pytest.approx(g.item(), abs=1e-12), (at, line)
        assert row["loss_a"] == pytest.approx(float(line_loss("A", float(at))), rel=1e-12)
        assert row["loss_b"] == pytest.approx(float(line_loss("B", float(at))), rel=1e-12)


def test_two_parameters_descent_finds_the_minimum_its_start_leads_to():
    r = results_of("two-parameters")
    minima, hump = r["b_line"]["minima"], r["b_line"]["maximum"]
    for run in r["runs"]:
        if run["line"] == "A":
            expected = r["a"]["a_min"]
        else:
            expected = minima[0] if run["start"] < hump else minima[1]
        assert run["end"] == pytest.approx(expected, abs=1e-6), run


def test_two_parameters_with_b_free_is_the_least_squares_line():
    r = results_of("two-parameters")["theta"]
    (slope, intercept), residual, *_ = np.linalg.lstsq(np.c_[X2, np.ones(4)], Y2, rcond=None)
    assert r["best_loss"] == pytest.approx(residual[0], rel=1e-9)
    optimum_b = [slope, intercept + 2 * slope**2]
    np.testing.assert_allclose(r["optimum_line_b"], optimum_b, rtol=1e-12)
    for run in r["runs_line_b"]:  # both starts, one minimum
        np.testing.assert_allclose([run["a"], run["b"]], optimum_b, atol=1e-8)
        assert run["loss"] == pytest.approx(residual[0], rel=1e-6)
    a_line = r["run_line_a"]
    np.testing.assert_allclose(
        [a_line["a"], a_line["b"]], [0.246 + slope / -5.5, intercept + 0.217], atol=1e-8
    )


# ---- partial-derivatives ---------------------------------------------------------------------


def torch_grad(f, *point):
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
    value = f(*xs)
    return value.item(), [g.item() for g in torch.autograd.grad(value, xs)]


def test_partial_derivatives_of_the_polynomial_against_torch():
    r = results_of("partial-derivatives")["polynomial"]
    for row in r["rows"]:
        value, g = torch_grad(
            lambda x, y: 10 * x**3 * y**2 + 5 * x * y**3 + 4 * x + y, *row["point"]
        )
        assert row["f"] == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(row["autodiff"], g, rtol=1e-12)
        np.testing.assert_allclose(row["by_hand"], g, rtol=1e-12)
    assert r["rows"][0]["by_hand"] == [164, 101]  # at (1, 2), by hand on paper


def test_partial_derivatives_a_number_like_7():
    r = results_of("partial-derivatives")["number_like_7"]
    # f(x, 7) = 490 x^3 + 1719 x + 7, d/dx = 1470 x^2 + 1719 = 3189 at x = 1
    assert r["derivative"] == [1470, 1719]
    assert r["one_variable"] == r["by_hand"] == r["autodiff"] == 3189


def test_partial_derivatives_gradients_on_the_level_curves():
    r = results_of("partial-derivatives")["level_curves"]
    for row in r["rows"]:
        x, y = row["point"]
        value, g = torch_grad(lambda x, y: 4 * x**2 + y**2, x, y)
        assert row["c"] == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(row["autodiff"], g, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(row["by_hand"], [8 * x, 2 * y], rtol=1e-12)
        # the tangent of the ellipse through (x, y), by finite differences of a parametrisation
        c = row["c"]
        t = math.atan2(y / math.sqrt(c), 2 * x / math.sqrt(c))

        def curve(s, c=c):
            return np.array([math.sqrt(c) / 2 * math.cos(s), math.sqrt(c) * math.sin(s)])

        tangent = (curve(t + 1e-6) - curve(t - 1e-6)) / 2e-6
        np.testing.assert_allclose(row["tangent"], tangent, atol=1e-8)
        assert abs(np.dot(g, tangent)) < 1e-7  # perpendicular
        assert row["dot"] == 0
        # the steepest of the directions is the gradient's, to the 0.1 degree step
        angle = math.degrees(math.atan2(g[1], g[0])) % 360
        gap = abs((row["steepest_direction"] - angle + 180) % 360 - 180)
        assert gap <= 0.05 + 1e-9
        assert row["steepest_rate"] == pytest.approx(math.hypot(*g), rel=1e-6)


def test_partial_derivatives_of_deck_003_against_torch():
    rows = results_of("partial-derivatives")["deck_003"]["rows"]
    functions = {
        "log x1 + log x2": lambda a, b: torch.log(a) + torch.log(b),
        "x1 (x1 + x2)": lambda a, b: a * (a + b),
    }
    assert len(rows) == 4
    for row in rows:
        value, g = torch_grad(functions[row["f"]], *row["point"])
        assert row["value"] == pytest.approx(value, rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(row["autodiff"], g, rtol=1e-12)
        np.testing.assert_allclose(row["by_hand"], g, rtol=1e-12)
    x1, x2 = rows[0]["point"]
    assert rows[0]["by_hand"][0] == 1 / x1  # the slide's 1/x1
    assert rows[2]["by_hand"][1] == x1  # the slide's x1


# ---- bce-gradient ----------------------------------------------------------------------------


def test_bce_gradient_each_factor_and_the_collapse_against_torch():
    r = results_of("bce-gradient")
    for y in r["labels"]:
        f = r["factors"][f"y={y:g}"]
        w = torch.tensor(r["w"], dtype=torch.float64, requires_grad=True)
        b = torch.tensor(r["b"], dtype=torch.float64, requires_grad=True)
        z = (torch.tensor(r["x"], dtype=torch.float64) * w).sum() + b
        z.retain_grad()
        y_hat = torch.sigmoid(z)
        y_hat.retain_grad()
        loss = torch.nn.functional.binary_cross_entropy(y_hat, torch.tensor(y, dtype=torch.float64))
        loss.backward()
        assert f["z"] == pytest.approx(z.item(), rel=1e-15)
        assert f["y_hat"] == pytest.approx(y_hat.item(), rel=1e-15)
        assert f["loss"] == pytest.approx(loss.item(), rel=1e-12)
        assert f["dl_dyhat"] == pytest.approx(y_hat.grad.item(), rel=1e-12)
        assert f["dl_dz"] == pytest.approx(z.grad.item(), rel=1e-12)
        assert f["dyhat_dz"] == pytest.approx(z.grad.item() / y_hat.grad.item(), rel=1e-12)
        assert f["chain"] == pytest.approx(w.grad[0].item(), rel=1e-12)
        assert f["collapsed"] == pytest.approx((y_hat.item() - y) * r["x"][0], rel=1e-12)
        assert f["chain"] == pytest.approx(f["collapsed"], rel=1e-12)
        a = r["autodiff"][f"y={y:g}"]
        np.testing.assert_allclose([a["w11"], a["w12"]], w.grad.numpy(), rtol=1e-12)
        assert a["b"] == pytest.approx(b.grad.item(), rel=1e-12)


def test_bce_gradient_confidently_wrong():
    r = results_of("bce-gradient")["confidently_wrong"]
    p = 1 / (1 + math.exp(6))
    assert r["bce_dl_dz"] == pytest.approx(p - 1, rel=1e-12)
    assert r["mse_dl_dz"] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)
    assert abs(r["bce_dl_dz"]) > 100 * abs(r["mse_dl_dz"])


# ---- numerical-gradient ----------------------------------------------------------------------


def test_numerical_gradient_reproduces_the_slides_quotients():
    r = results_of("numerical-gradient")["slide"]
    assert r["w"][:3] == [0.34, -1.11, 0.78] and r["loss"] == 1.25347 and r["h"] == 0.0001
    assert r["recomputed"] == [-2.5, 0.6, 0.0] == r["quotients"]
    assert r["quotient_half_range"] == pytest.approx(0.1, rel=1e-12)  # 2 * 0.000005 / 0.0001


def softmax_cross_entropy(x, w, classes):
    s = x @ w
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(classes)), classes])


def test_numerical_gradient_walk_against_numpy_and_torch():
    r = results_of("numerical-gradient")["walk"]
    x, w, classes = np.array(r["x"]), np.array(r["w"]), np.array(r["classes"])
    assert w.ravel().tolist() == results_of("numerical-gradient")["slide"]["w"]
    base = softmax_cross_entropy(x, w, classes)
    assert r["loss"] == pytest.approx(base, rel=1e-12)
    h = r["h"]
    one, central = np.zeros(9), np.zeros(9)
    for i in range(9):
        e = np.zeros(9)
        e[i] = h
        up = softmax_cross_entropy(x, w + e.reshape(3, 3), classes)
        down = softmax_cross_entropy(x, w - e.reshape(3, 3), classes)
        one[i], central[i] = (up - base) / h, (up - down) / (2 * h)
    np.testing.assert_allclose(np.ravel(r["one_sided"]), one, atol=1e-9)
    np.testing.assert_allclose(np.ravel(r["central"]), central, atol=1e-9)
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.tensor(x) @ wt, torch.tensor(classes))
    (g,) = torch.autograd.grad(loss, [wt])
    np.testing.assert_allclose(r["analytic"], g.numpy(), atol=1e-14)
    assert r["one_sided_error"] > 100 * r["central_error"]
    assert r["evaluations"] == {"one_sided": 10, "central": 18}


def test_numerical_gradient_errors_fall_as_h_and_h_squared():
    r = results_of("numerical-gradient")["errors"]
    for h, one, central in zip(r["steps"], r["one_sided"], r["central"]):
        rounding = 4 * np.finfo(np.float64).eps / h  # exp's last bit, divided by h
        assert one == pytest.approx(abs((math.exp(h) - 1) / h - 1), abs=rounding)
        assert central == pytest.approx(
            abs((math.exp(h) - math.exp(-h)) / (2 * h) - 1), abs=rounding
        )
    one_slope, central_slope = r["slopes"]
    assert 0.97 < one_slope < 1.03
    assert 1.97 < central_slope < 2.03
    hs = np.array(r["steps"])
    fit = (hs >= 1e-4 * (1 - 1e-9)) & (hs <= 1e-2 * (1 + 1e-9))
    np.testing.assert_allclose(np.array(r["one_sided"])[fit], hs[fit] / 2, rtol=0.02)  # Taylor
    np.testing.assert_allclose(np.array(r["central"])[fit], hs[fit] ** 2 / 6, rtol=0.02)
    assert 1e-9 < r["best_h"][0] < 1e-7 and 1e-7 < r["best_h"][1] < 1e-4  # rounding wins below


def test_numerical_gradient_check_needs_the_central_difference():
    r = results_of("numerical-gradient")
    analytic = np.ravel(r["walk"]["analytic"])
    for key in ("one_sided", "central"):
        n = np.ravel(r["walk"][key])
        expected = np.abs(analytic - n) / np.maximum(np.abs(analytic), np.abs(n))
        np.testing.assert_allclose(np.ravel(r["check"][key]), expected, rtol=1e-12)
    assert r["check"]["central_max"] < r["check"]["ok"] < r["check"]["one_sided_max"]


# ---- tf-optimizer ----------------------------------------------------------------------------


def test_tf_optimizer_compute_gradients_is_torch_autograd_and_moves_nothing():
    r = results_of("tf-optimizer")
    W = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(r["x"], dtype=torch.float64), torch.tensor(r["y"], dtype=torch.float64)
    grads = torch.autograd.grad(((W * x + b - y) ** 2).mean(), [W, b])
    c = r["compute_gradients"]
    np.testing.assert_allclose(c["autodiff"], [g.item() for g in grads], rtol=1e-15)
    assert c["autodiff"] == c["by_hand"] == [-35.0, -12.0]
    assert c["values_after"] == [0.0, 0.0] and c["grad_touched"] is False


def numpy_descent(x, y, lr, steps):
    """Plain gradient descent on mean((W x + b - y)^2) from (0, 0): (W, b) after each step."""
    w, b, path = 0.0, 0.0, [(0.0, 0.0)]
    for _ in range(steps):
        e = w * x + b - y
        w, b = w - lr * 2 * np.mean(x * e), b - lr * 2 * np.mean(e)
        path.append((w, b))
    return np.array(path)


def test_tf_optimizer_every_step_is_plain_gradient_descent():
    r = results_of("tf-optimizer")
    x, y = np.array(r["x"]), np.array(r["y"])
    path = numpy_descent(x, y, r["lr"], r["loop"]["global_step"])
    loop = r["loop"]["path"]
    np.testing.assert_allclose(np.c_[loop["W"], loop["b"]], path, rtol=1e-12, atol=1e-12)
    assert loop["gs"] == list(range(len(path)))
    assert r["apply_gradients"]["values_after"] == pytest.approx([1.75, 0.6], rel=1e-15)
    assert r["apply_gradients"]["gs_after"] == 1 == r["apply_gradients"]["returned"]
    m = r["minimize"]
    assert m["bitwise_equal"] is True and m["values_after"] == m["twin"]
    np.testing.assert_allclose(m["values_after"], path[2], rtol=1e-14)
    assert m["var_list_b_only"][0] == r["apply_gradients"]["values_after"][0]  # W did not move
    assert m["var_list_b_only"][1] == pytest.approx(path[2][1], rel=1e-14)
    np.testing.assert_allclose(r["loop"]["final"], [2.0, 1.0], atol=1e-7)
    assert r["loop"]["global_step"] == r["loop"]["optimizer_global_step"] == 1000


def test_tf_optimizer_a_schedule_reads_the_global_step():
    s = results_of("tf-optimizer")["schedule"]
    for step, lr in s["lr_used"].items():
        expected = s["initial"] * s["decay_rate"] ** (int(step) / s["decay_steps"])
        assert lr == pytest.approx(expected, rel=1e-10)
    assert s["lr_used"]["200"] == pytest.approx(0.0125, rel=1e-10)


# ---- vectorisation ---------------------------------------------------------------------------


def test_vectorisation_the_three_forms_are_equal_to_float_rounding():
    v = importlib.import_module("descent.lessons.vectorisation")
    x, w, b, y = v.data()
    expected = np.einsum("nm,mk->nk", x, w) + b
    for form in (v.by_sums, v.by_examples, v.by_matrix):
        np.testing.assert_allclose(form(x, w, b), expected, rtol=0, atol=1e-12)
    xt, wt = torch.tensor(x), torch.tensor(w, requires_grad=True)
    loss = ((xt @ wt + torch.tensor(b) - torch.tensor(y)) ** 2).sum() / len(x)
    (g,) = torch.autograd.grad(loss, [wt])
    for form in (v.gradient_by_examples, v.gradient_by_matrix, v.gradient_by_autodiff):
        np.testing.assert_allclose(form(x, w, b, y), g.numpy(), rtol=0, atol=1e-12)
    r = results_of("vectorisation")
    assert max(r["largest_difference"].values()) < 1e-12
    assert max(r["gradient_largest_difference"].values()) < 1e-12


def test_vectorisation_flags_the_three_slides_slips():
    v = importlib.import_module("descent.lessons.vectorisation")
    slips = {(s["deck"][:3], s["line"]): s for s in lesson_of("vectorisation").slips}
    assert set(slips) == {("000", 1190), ("001", 2527), ("001", 2581)}
    x, w, b, _ = v.data()
    with pytest.raises(RuntimeError):  # the slide's X^T W: M x N times M x K
        torch.tensor(x).T @ torch.tensor(w)
    assert slips[("000", 1190)]["correct"] == "Y^ = X W + b"
    row = torch.tensor(x[:1]) @ torch.tensor(w)  # x theta^(1): 1 x K
    assert tuple((row + torch.tensor(b)[None, :]).shape) == (1, v.K)
    assert tuple((row + torch.tensor(b)[:, None]).shape) == (v.K, v.K)  # the slide's N x 1
    checks = results_of("vectorisation")["slip_checks"]
    assert checks == {"x_transposed_times_w": "does not fit", "bias_as_row": [1, v.K],
                      "bias_as_column": [v.K, v.K]}  # fmt: skip
    assert slips[("001", 2581)]["correct"] == "b^(1): 1 x N"
    assert slips[("001", 2527)]["correct"] == "sum_{i=1}^m x_i theta_i"


def test_vectorisation_the_matrix_form_is_faster():
    """Measured when the lesson ran: no particular ratio, only which is faster."""
    t = results_of("vectorisation")["timing"]
    matrix = t["seconds"]["the matrix form, X W + b"]
    assert all(s > matrix for name, s in t["seconds"].items() if name != "the matrix form, X W + b")
    assert all(ratio >= 1 for ratio in t["ratio_to_matrix_form"].values())
    assert t["gradient_ratio"] > 1


def test_vectorisation_declares_its_measured_numbers():
    v = importlib.import_module("descent.lessons.vectorisation")
    assert v.MEASURED == ("timing",)
    assert set(v.MEASURED) <= set(results_of("vectorisation"))


# ---- every lesson: deck and slides, --plot ----------------------------------------------------
# (that every printed number is in --json is checked for every lesson by test_lessons_faithful.py)

DECK_FILE = re.compile(r"00[0-4]_[0-9a-f]{16}\.txt")


@pytest.mark.parametrize("name", NAMES)
def test_lesson_names_its_deck_slides_and_lines(name):
    from descent.lessons import LESSONS

    module = __import__(LESSONS[name].__module__, fromlist=["DECK"])
    text = lesson_of(name).render()
    assert DECK_FILE.fullmatch(module.DECK) and module.DECK in text
    assert module.DECK in (module.__doc__ or "")
    assert module.SLIDES and set(module.SLIDES) <= set(module.LINES) | set(module.SLIDES)
    for first, last in module.SLIDES.values():
        assert 0 < first <= last
    for first, last in module.LINES.values():
        assert 0 < first <= last
        assert f"{first}-" in (module.__doc__ or "")  # the docstring names the lines


@pytest.mark.parametrize("name", NAMES)
def test_plot_writes_the_lessons_pictures(name, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    if name == "tf-optimizer":
        import shutil

        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot draws the lecture's graph")
    out = tmp_path / "pictures"
    assert main(["lesson", name, "--plot", str(out)]) == 0
    written = capsys.readouterr().out
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f for f, _ in lesson_of(name).figures) and files
    for f in files:
        data = (out / f).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and f"wrote {out / f}" in written
