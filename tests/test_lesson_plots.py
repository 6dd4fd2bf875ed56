"""The lessons' pictures (``descent lesson NAME --plot DIR``) and chain-rule walk-throughs
(``descent explain NAME``): every picture is written and is not blank; every explanation
ends on the gradient that autodiff, or a closed form, gives independently."""

import ast
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import descent as ds
from descent import lessons
from descent.nn import functional as F

pytest.importorskip("matplotlib")

# The pictures each lesson draws, in order; those drawn by Graphviz's dot are marked.
FIGURES = {
    "secret-number": ["secret-number-learning-rates.png", "secret-number-noisy.png"],
    "gravity": ["gravity-descent.png"],
    "learning-rate": ["learning-rate-runs.png"],
    "curvature": [
        "curvature-rates.png",
        "curvature-gradient-graph.png",
        "curvature-zigzag.png",
    ],
    "two-parameters": ["two-parameters-lines.png", "two-parameters-theta.png"],
    "partial-derivatives": ["partial-derivatives-level-curves.png"],
    "linear-regression": ["linear-regression-distance.png", "linear-regression-fits.png"],
    "tf-optimizer": ["tf-optimizer-graph.png", "tf-optimizer-path.png"],
    "vectorisation": ["vectorisation-times.png"],
    "model-choice": ["model-choice-fits.png", "model-choice-losses.png"],
    "logistic-regression": ["logistic-regression-sigmoid.png", "logistic-regression-loss.png"],
    "perceptron": ["perceptron-boundary.png", "perceptron-mistakes.png"],
    "bce-gradient": ["bce-gradient-factors.png"],
    "softmax-svm": ["softmax-svm-losses.png"],
    "backprop": ["backprop-graph.png"],
    "autoencoder-classifier": ["autoencoder-classifier-graph.png"],
    "supervised-unsupervised": ["supervised-unsupervised-scores.png"],
    "conv-forward": ["conv-forward-maps.png"],
    "numerical-gradient": ["numerical-gradient-errors.png"],
    "gradient-check": ["gradient-check-agreement.png"],
    "regularisation": ["regularisation-weights.png", "regularisation-validation.png"],
    "svm-questions": ["svm-questions-variants.png", "svm-questions-kl.png"],
    "differentiation": ["differentiation-costs.png"],
    "convexity": ["convexity-minima.png", "convexity-activations.png"],
    "search-methods": ["search-methods-traces.png"],
    "digits": [
        "digits-softmax-history.png",
        "digits-mlp-history.png",
        "digits-mlp-confusion.png",
        "digits-softmax-templates.png",
    ],
    "mnist1d": [
        "mnist1d-examples.png",
        "mnist1d-examples-shuffled.png",
        "mnist1d-curves.png",
        "mnist1d-table.png",
    ],
}
DRAWN_BY_DOT = {"backprop", "autoencoder-classifier", "curvature", "tf-optimizer"}
EXPLAINED = {
    "secret-number", "gravity", "curvature", "linear-regression", "logistic-regression",
    "backprop",
}  # fmt: skip
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_VARIANCE = 1e-3  # of the pixel values in [0, 1]: a blank picture has about 0


def read_png(path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(path, format="png")


def assert_picture(path, size=None) -> None:
    """A PNG file, not empty, not blank, and (given ``size``) of (width, height) pixels."""
    data = path.read_bytes()
    assert len(data) > 0, f"{path.name} is empty"
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    pixels = read_png(path)
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4), pixels.shape
    assert float(pixels[..., :3].var()) > MIN_VARIANCE, f"{path.name} is blank"
    if size is not None:
        assert (pixels.shape[1], pixels.shape[0]) == size


def test_every_lesson_is_listed():
    assert set(FIGURES) == set(lessons.names())
    assert EXPLAINED <= set(FIGURES)


# ---- the pictures ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FIGURES))
def test_lesson_writes_its_pictures(name, tmp_path):
    if name in DRAWN_BY_DOT and shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed: the computation graph cannot be drawn")
    lesson = lessons.run(name)
    assert [filename for filename, _ in lesson.figures] == FIGURES[name]
    out = tmp_path / "pictures"  # plot() makes the folder
    paths = lesson.plot(out)
    assert [p.name for p in paths] == FIGURES[name]
    assert sorted(p.name for p in out.iterdir()) == sorted(FIGURES[name])
    for path in paths:
        assert_picture(path)


def test_graph_lessons_fail_clearly_without_dot(tmp_path, monkeypatch):
    """Without dot the graph pictures raise the error that names the package to install."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    lesson = lessons.run("backprop")
    with pytest.raises(ds.viz.GraphvizNotFoundError, match="Graphviz"):
        lesson.plot(tmp_path)


# lessons whose data package imports matplotlib itself (mnist1d's __init__ imports pyplot
# for its own plots); tests/test_mnist1d.py checks that the lesson draws nothing until plot()
DATA_IMPORTS_MATPLOTLIB = {"mnist1d"}


def test_running_the_lessons_needs_no_matplotlib():
    """Pictures are drawn only by plot(): computing every lesson never imports matplotlib."""
    code = (
        "import sys\n"
        "from descent import lessons\n"
        f"for name in sorted(set(lessons.names()) - {DATA_IMPORTS_MATPLOTLIB!r}):\n"
        "    lesson = lessons.run(name)\n"
        "    lesson.render()\n"
        "    lesson.to_dict()\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---- the chain-rule walk-throughs ---------------------------------------------------------------


def final_value(explanation) -> np.ndarray:
    """The gradient that the text ends on: 'dJ/dX = number', or the array listed after it."""
    text = str(explanation)
    lines = text.splitlines()
    head = f"d{explanation.loss_name}/d{explanation.wrt_name} = "
    at = max(i for i, line in enumerate(lines) if line.startswith(head))
    rest = lines[at][len(head) :]
    if re.fullmatch(r"[-+0-9.eE]+(?:e[-+]?\d+)?", rest):
        return np.array(float(rest))
    if rest.startswith("["):  # a small array: all its values on the line
        return np.array(ast.literal_eval(rest), dtype=np.float64)
    assert rest.startswith("shape"), rest
    listed = []
    for line in lines[at + 1 :]:
        if line.startswith("autodiff"):
            break
        listed.append(line)
    return np.array(ast.literal_eval(" ".join(listed)), dtype=np.float64)


def check_explanation(explanation, expected) -> None:
    expected = np.asarray(expected, dtype=np.float64)
    assert explanation.equal
    text = str(explanation)
    assert text.rstrip().endswith(": equal"), text[-200:]
    assert "NOT EQUAL" not in text
    value = final_value(explanation)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explanation.value, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(FIGURES) - EXPLAINED))
def test_other_lessons_have_no_walk_through(name):
    assert lessons.run(name).explain is None


def test_gravity_explains_the_slope_at_8():
    from descent.lessons.gravity import A0, X, Y

    explanation = lessons.run("gravity").explain()
    x, y = np.array(X), np.array(Y)
    closed_form = 2 * np.sum(x * (A0 * x - y))  # dL/da = 2 sum x (a x - y)
    assert closed_form == pytest.approx(-447.3)
    check_explanation(explanation, closed_form)
    assert explanation.paths == [["L", "(a*x - y)^2", "a*x - y", "a*x", "a"]]
    assert "dL/da = -447.3" in str(explanation)


def test_curvature_explains_the_second_derivative_through_the_gradients_graph():
    from descent.lessons.gravity import A0, X

    explanation = lessons.run("curvature").explain()
    closed_form = 2 * np.sum(np.array(X) ** 2)  # J'' = 2 sum x^2, the same at every a
    check_explanation(explanation, closed_form)
    assert explanation.value == pytest.approx(248.5)
    # The graph of dJ/da = sum(x * 2 (a x - y)): its rule for r * r used r twice, so two
    # paths reach a, each giving sum x^2.
    assert len(explanation.paths) == 2
    assert all(p[0] == "g" and p[-1] == "a" for p in explanation.paths)
    assert f"a = {A0:g}" in str(explanation)


def test_secret_number_explains_the_slope_at_theta0():
    from descent.lessons.secret_number import THETA0, X, Y

    explanation = lessons.run("secret-number").explain()
    theta = ds.tensor(THETA0, dtype=ds.float64, requires_grad=True)
    loss = F.mse_loss(ds.tensor(X, dtype=ds.float64) + theta, ds.tensor(Y, dtype=ds.float64))
    (autodiff,) = ds.grad(loss, [theta])
    check_explanation(explanation, autodiff.numpy())
    check_explanation(explanation, 2 * (THETA0 - 2))  # J = (theta - 2)^2 here


@pytest.mark.parametrize("wrt", ["b", "W"])
def test_linear_regression_explains_the_lecture_graph(wrt):
    from descent.lessons.linear_regression import INTERCEPT, SLOPE, explain_points

    lesson = lessons.run("linear-regression")
    explanation = lesson.explain() if wrt == "b" else lesson.explain("W")
    x, y = (np.array(v) for v in explain_points())
    assert len(x) == 3
    residual = SLOPE * x + INTERCEPT - y
    closed_form = {"b": 2 * residual.sum(), "W": 2 * (x * residual).sum()}[wrt]
    check_explanation(explanation, closed_form)
    # The lectures' chain, each node named by what it computes: J <- (W*x + b - y)^2 <- ...;
    # the weight is W, as deck 000 and the lesson's text write it (y^ = W x + b)
    chain = ["J", "(W*x + b - y)^2", "W*x + b - y", "W*x + b"]
    chain += (["W*x"] if wrt == "W" else []) + [wrt]
    assert explanation.paths == [chain]
    head = f"dJ/d{wrt} = dJ/d[(W*x + b - y)^2] * d[(W*x + b - y)^2]/d[W*x + b - y] * "
    assert head in str(explanation)
    assert "w*x" not in str(explanation) and "W x + b" in lesson.render()


def test_logistic_regression_explains_dloss_dw_at_the_start():
    from descent.lessons.logistic_regression import SPEEDS, TICKETS

    explanation = lessons.run("logistic-regression").explain()
    speeds = np.array(SPEEDS)
    z = (speeds - speeds.mean()) / speeds.std()
    y = np.array(TICKETS, dtype=np.float64)
    w = ds.tensor(0.0, dtype=ds.float64, requires_grad=True)
    b = ds.tensor(0.0, dtype=ds.float64, requires_grad=True)
    z_t, y_t = ds.tensor(z, dtype=ds.float64), ds.tensor(y, dtype=ds.float64)
    loss = F.binary_cross_entropy_with_logits(w * z_t + b, y_t)
    (autodiff,) = ds.grad(loss, [w])
    check_explanation(explanation, autodiff.numpy())
    check_explanation(explanation, np.mean((0.5 - y) * z))  # mean((sigmoid(0) - y) z)
    assert len(explanation.paths) == 2  # through log p and through log(1 - p), meeting at p


def test_backprop_explains_db1_through_the_whole_network():
    from descent.lessons.backprop import B1, B2, W1, W2, X, Y

    explanation = lessons.run("backprop").explain()
    params = [ds.tensor(v, dtype=ds.float64, requires_grad=True) for v in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    hidden = (ds.tensor(X, dtype=ds.float64) @ w1 + b1).sigmoid()
    out = hidden @ w2 + b2
    loss = 0.5 * F.mse_loss(out, ds.tensor(Y, dtype=ds.float64), reduction="sum")
    (autodiff,) = ds.grad(loss, [b1])
    check_explanation(explanation, autodiff.numpy())
    # by hand, in NumPy: sum over the examples of ((Yp - Y) W2^T) * Z3 (1 - Z3)
    x, y = np.array(X), np.array(Y)
    z3 = 1 / (1 + np.exp(-(x @ np.array(W1) + np.array(B1))))
    yp = z3 @ np.array(W2) + np.array(B2)
    check_explanation(explanation, (((yp - y) @ np.array(W2).T) * z3 * (1 - z3)).sum(axis=0))
    assert explanation.paths[0][0] == "L" and explanation.paths[0][-1] == "b1"


def test_backprop_explains_another_parameter():
    from descent.lessons.backprop import B1, B2, W1, W2, X, Y

    explanation = lessons.run("backprop").explain("W2")
    x, y = np.array(X), np.array(Y)
    z3 = 1 / (1 + np.exp(-(x @ np.array(W1) + np.array(B1))))
    yp = z3 @ np.array(W2) + np.array(B2)
    check_explanation(explanation, z3.T @ (yp - y))


# ---- the plot functions the lessons added to ds.viz ---------------------------------------------


def test_plot_series_lines_points_and_reference_lines(tmp_path):
    path = tmp_path / "series.png"
    xs = np.linspace(0, 3, 50)
    fig = ds.viz.plot_series(
        {"falling": [4.0, 2.0, 1.0, 0.5], "curve": (xs, np.sin(xs))},
        points={"data": ([0.0, 1.0, 2.0], [1.0, 0.0, 1.0])},
        vlines={"x = 1.5": 1.5},
        hlines={"y = 0": 0.0},
        log_y=False,
        ylim=(-1.5, 4.5),
        title="series",
        path=path,
        figsize=(5, 4),
        dpi=80,
    )
    assert_picture(path, size=(400, 320))
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"falling", "curve", "data", "x = 1.5", "y = 0"} <= set(labels)
    ds.viz.plot_series({"loss": [1.0, 0.1, 0.01]}, log_y=True, path=tmp_path / "log.png")
    assert fig.axes[0].get_ylim() == (-1.5, 4.5)
    assert_picture(tmp_path / "log.png")
    with pytest.raises(ValueError, match="nothing to plot"):
        ds.viz.plot_series()
    with pytest.raises(ValueError, match="2 x values for 3 y values"):
        ds.viz.plot_series({"bad": ([0, 1], [1, 2, 3])})


def test_plot_bars_one_panel_and_several(tmp_path):
    one = tmp_path / "bars.png"
    fig = ds.viz.plot_bars(
        {"train": [2.0, 0.2, 0.1], "val": [3.0, 0.3, 4.0]},
        ["a", "b", "c"],
        xlabel="model",
        ylabel="loss",
        title="one panel",
        path=one,
        figsize=(5, 3),
        dpi=100,
    )
    assert_picture(one, size=(500, 300))
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "one panel"
    assert len(fig.axes[0].patches) == 6  # 3 categories x 2 series
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"2", "0.2", "4"} <= texts  # the value on each bar
    two = tmp_path / "panels.png"
    fig = ds.viz.plot_bars(
        {"p": {"x": [0.2, 0.8]}, "loss": {"l1": [1.0, 2.0], "l2": [0.5, 0.1]}},
        ["first", "second"],
        ylabel=["probability", "loss"],
        log_y=True,
        annotate=False,
        title="two panels",
        path=two,
    )
    assert_picture(two)
    assert [ax.get_title() for ax in fig.axes] == ["p", "loss"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["probability", "loss"]
    with pytest.raises(ValueError, match="3 values for 2 categories"):
        ds.viz.plot_bars({"x": [1, 2, 3]}, ["a", "b"])
    with pytest.raises(ValueError, match="nothing to plot"):
        ds.viz.plot_bars({}, ["a"])


def test_plot_heatmaps_write_every_number(tmp_path):
    path = tmp_path / "maps.png"
    arrays = {
        "image": np.array([[1, 3, 2], [4, 8, 3]]),
        "filter": np.array([[1.0, -2.0], [0.5, 0.0]]),
        "row": ds.tensor([0.125, -7.0]),
    }
    fig = ds.viz.plot_heatmaps(arrays, title="maps", path=path, figsize=(7, 3), dpi=100)
    assert_picture(path, size=(700, 300))
    assert len(fig.axes) == 3
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["1", "3", "2", "4", "8", "3", "1", "-2", "0.5", "0", "0.125", "-7"]
    assert fig.axes[0].get_title() == "image\n2x3"
    assert fig.axes[2].get_title() == "row\n1x2"  # a 1-D array is drawn as one row
    with pytest.raises(ValueError, match="must be 2-D"):
        ds.viz.plot_heatmaps({"cube": np.zeros((2, 2, 2))})
    with pytest.raises(ValueError, match="nothing to plot"):
        ds.viz.plot_heatmaps({})


def _marks(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def test_learning_rate_panels_keep_every_path_on_the_axes_and_name_the_marks():
    def loss(w):
        return (w - 2.0) ** 2

    settles, one_step, diverges = [0.0, 1.5, 1.9, 2.0], [0.0, 2.0], [0.0, 5.0, -8.0, 15.0]
    fig = ds.viz.plot_learning_rates(loss, runs=[(0.3, settles), (0.5, one_step), (1.2, diverges)])
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["start", "optimizer steps", "end"]
    for ax in fig.axes:
        (x_lo, x_hi), (y_lo, y_hi) = ax.get_xlim(), ax.get_ylim()
        for line in ax.get_lines():
            xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            assert np.all((x_lo <= xs) & (xs <= x_hi)) and np.all((y_lo <= ys) & (ys <= y_hi))
    titles = [ax.get_title() for ax in fig.axes]
    assert "after 1 step" in titles[1] and "after 1 steps" not in titles[1]
    assert "after 3 steps" in titles[0]
    assert "wider view" in titles[2] and "wider view" not in titles[0]
    assert fig.axes[2].get_xlim()[1] > 15 > fig.axes[0].get_xlim()[1]


def test_a_run_back_at_its_start_rings_the_end_mark():
    def loss(theta):
        return (theta - 2.0) ** 2

    fig = ds.viz.plot_learning_rates(loss, runs=[(1.0, [5.0, -1.0, 5.0]), (0.5, [5.0, 2.0])])
    back, away = _marks(fig.axes[0]), _marks(fig.axes[1])
    assert back["start"].get_zorder() > back["end"].get_zorder()
    assert back["start"].get_markersize() > back["end"].get_markersize()
    assert back["start"].get_markerfacecolor() == "none"  # hollow: the star shows through
    assert away["start"].get_markersize() < away["end"].get_markersize()


def test_plot_series_can_put_its_legend_below_the_axes():
    xs = np.linspace(0.0, 1.0, 50)
    curves = {"up": (xs, xs), "down": (xs, 1 - xs)}
    inside = ds.viz.plot_series(curves)
    assert inside.axes[0].get_legend() is not None and not inside.legends
    fig = ds.viz.plot_series(curves, points={"data": ([0.2], [0.5])}, legend_below=True)
    (legend,) = fig.legends
    assert fig.axes[0].get_legend() is None
    assert {t.get_text() for t in legend.get_texts()} == {"up", "down", "data"}
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    box, axes_box = legend.get_window_extent(renderer), fig.axes[0].get_window_extent(renderer)
    assert box.y1 <= axes_box.y0  # under the axes, clear of every curve
