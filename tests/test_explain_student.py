"""``descent explain`` as a student checks it: the lesson's own names, small arrays in full,
no rounding noise, and every arithmetic line evaluating (as Python reads it) to the number
printed after it."""

import ast
import math
import re
import sys

import numpy as np
import pytest

import descent as ds
from descent import lessons, viz
from descent.cli import EXPLAINED, main

FUNCTIONS = {"exp": np.exp, "ln": np.log, "log": np.log, "sqrt": np.sqrt, "cos": np.cos,
             "sin": np.sin}  # fmt: skip


def evaluate(text: str):
    """The value of an arithmetic line as printed (``^`` a power, ``×`` a product), read by
    Python's own parser: a lesson's line must mean what its reader takes it to mean."""
    tree = ast.parse(text.replace("^", "**").replace("\u00d7", "*"), mode="eval")

    def value(node):
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List):
            return np.array([value(e) for e in node.elts], dtype=np.float64)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                   ast.Div: np.divide, ast.Pow: np.power}  # fmt: skip
            return ops[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Call) and node.func.id in FUNCTIONS:
            return FUNCTIONS[node.func.id](*[value(a) for a in node.args])
        raise ValueError(f"not arithmetic: {ast.dump(node)} in {text!r}")

    return np.asarray(value(tree), dtype=np.float64)


def arithmetic_lines(text: str) -> list:
    """(expression, printed result) for each arithmetic line: '= expr' followed by '= value',
    and 'Sum over the N paths: dJ/dX = expr' followed by 'dJ/dX = value'."""
    lines = text.splitlines()
    out = []
    for here, after in zip(lines, lines[1:]):
        h, a = here.strip(), after.strip()
        if h.startswith("= ") and a.startswith("= "):
            out.append((h[2:], a[2:]))
        m = re.match(r"Sum over the \d+ paths: \S+ = (.*)", h)
        if m:
            out.append((m.group(1), a.split(" = ", 1)[1]))
    return out


def edge_arithmetic(explanation) -> list:
    return [(row.filled, row.value) for row in explanation.edges if row.filled and row.value]


def every_explanation():
    for name in EXPLAINED + ("curvature",):
        first = lessons.run(name).explain()
        for wrt in first.parameters:
            yield f"{name} --wrt {wrt}", first.walk_to(wrt)


EXPLANATIONS = list(every_explanation())


def tanh_chain():
    w = ds.tensor(0.5, requires_grad=True, dtype=ds.float64)
    x = ds.tensor(-0.6, dtype=ds.float64)
    h = (w * x).tanh()
    J = 0.5 * h * h + (w * x) ** 2
    return viz.explain(J, wrt=w)


@pytest.mark.parametrize("label,explanation", EXPLANATIONS, ids=[e[0] for e in EXPLANATIONS])
def test_every_arithmetic_line_evaluates_to_the_number_printed(label, explanation):
    checked = arithmetic_lines(explanation.text) + edge_arithmetic(explanation)
    for expression, printed in checked:
        got, want = evaluate(expression), evaluate(printed)
        assert np.allclose(got, want, rtol=1e-4, atol=1e-6), (
            f"{label}: {expression!r} evaluates to {got}, but the line after it says {printed}"
        )


def test_a_scalar_chain_groups_each_factor_so_its_product_is_the_printed_value():
    e = tanh_chain()
    checked = arithmetic_lines(e.text) + edge_arithmetic(e)
    assert len(checked) >= 3, e.text
    for expression, printed in checked:
        assert math.isclose(float(evaluate(expression)), float(printed), rel_tol=1e-4), (
            f"{expression} is not {printed}:\n{e.text}"
        )
    assert "(1 - " in e.text  # the tanh factor 1 - h^2 stands in parentheses in a product


def test_names_come_from_the_callers_variables_never_from_keywords():
    b = ds.tensor(0.1, requires_grad=True)
    x, y = ds.tensor([1.0, 2.0]), ds.tensor([3.0, 5.0])
    J = ((x * b - y) ** 2).sum()
    text = str(viz.explain(J, wrt=b))
    assert "dJ/db" in text and "x = [1, 2]" in text and "y = [3, 5]" in text
    for bad in ("wrt", "param", "mul2", "const", "minus", "input"):
        assert bad not in text, f"{bad!r} in:\n{text}"
    assert "x*b - y = [-2.9, -4.8]" in text  # an intermediate is named by what it computes


@pytest.mark.parametrize("label,explanation", EXPLANATIONS, ids=[e[0] for e in EXPLANATIONS])
def test_lesson_explanations_have_no_made_up_names_nor_noise(label, explanation):
    text = explanation.text
    for bad in ("wrt", "param", "mul2", "mul3", "const", "minus", "e-1"):
        assert bad not in text, f"{label}: {bad!r} in\n{text}"
    assert "min " not in text or "shape (" in text  # only large arrays are summarised


def test_the_constant_of_one_minus_p_shows_its_value_and_small_arrays_are_in_full():
    text = lessons.run("logistic-regression").explain().text
    assert "q = 1 - p = [0.5, 0.5, 0.5, 0.5, 0.5]" in text
    assert "mean 9" not in text and "z = [-1.53644, " in text  # no 9.3e-16 mean
    gravity = lessons.run("gravity").explain().text
    assert "a*x - y = [-3.6, -8.1, -18]" in gravity  # the slide's per-point residuals


def test_broadcast_note_only_where_an_input_was_broadcast():
    text = lessons.run("gravity").explain().text
    notes = [line.strip() for line in text.splitlines() if "summed over broadcast" in line]
    assert notes and all(n.startswith("d[a*x]/da") for n in notes), notes  # a, broadcast


def test_cli_walks_to_another_parameter_and_lists_them_for_an_unknown_name(capsys):
    assert main(["explain", "backprop", "--wrt", "W2"]) == 0
    assert "The chain rule for dL/dW2" in capsys.readouterr().out
    assert main(["explain", "linear-regression", "--wrt", "W"]) == 0
    assert "The chain rule for dJ/dW" in capsys.readouterr().out
    assert main(["explain", "linear-regression", "--wrt", "w"]) == 0  # the case alone differs
    assert "The chain rule for dJ/dW" in capsys.readouterr().out
    assert main(["explain", "backprop", "--wrt", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no parameter 'nope'" in err and "W1, b1, W2, b2" in err


@pytest.mark.parametrize("width", [100, 80, 60])
@pytest.mark.parametrize("label,explanation", EXPLANATIONS, ids=[e[0] for e in EXPLANATIONS])
def test_long_lines_are_broken_to_the_width_and_only_white_space_changes(label, explanation, width):
    shown = explanation.render(width)
    assert re.sub(r"\s+", " ", shown) == re.sub(r"\s+", " ", explanation.text), label
    for line in shown.splitlines():
        if len(line) > width:  # only an arithmetic line a student types in stays whole,
            kept = line.strip().startswith(("= ", "Sum over ")) or " " not in line.strip()
            assert kept, f"{label}, width {width}: {line!r}"
    # the arithmetic lines are still there, each followed by its value
    assert arithmetic_lines(shown) == arithmetic_lines(explanation.text), label


def test_a_long_chain_breaks_before_a_factor_and_an_array_between_its_rows():
    text = lessons.run("backprop").explain().render(80)
    lines = text.splitlines()
    head = next(k for k, line in enumerate(lines) if line.startswith("  dL/db1 = dL/d["))
    assert lines[head + 1].lstrip().startswith("* ")  # the chain goes on under its first factor
    assert lines[head + 1].index("*") == lines[head].index("= ") + 2
    rows = [k for k, line in enumerate(lines) if line.lstrip().startswith("->  [[")]
    rows = [k for k in rows if lines[k].endswith(",")]  # the matrices too wide for one line
    assert rows and all(lines[k + 1].lstrip().startswith("[") for k in rows)  # a row a line
    assert max(len(line) for line in lines) <= 80


def test_cli_lays_the_walk_out_to_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    assert main(["explain", "backprop"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip("\n") == lessons.run("backprop").explain().render(72)
    monkeypatch.setenv("COLUMNS", "300")  # at most 100 columns, however wide the terminal
    assert main(["explain", "backprop"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == lessons.run("backprop").explain().render(100)


def test_softmax_loss_line_shows_the_unrounded_probability_and_the_natural_log():
    lesson = lessons.run("softmax-svm")
    text = lesson.render() if hasattr(lesson, "render") else str(lesson)
    m = re.search(r"-ln\((0\.\d{8,})\) = (\d+\.\d+)", text)
    assert m, text[:2000]
    assert math.isclose(-math.log(float(m.group(1))), float(m.group(2)), abs_tol=5e-5)
    assert "natural log" in text


# ---- pictures a learner reads at a glance ---------------------------------------------------


def test_perceptron_boundary_is_one_straight_line_not_a_staircase():
    pytest.importorskip("matplotlib")
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 0, 1])
    w, b = np.array([2.0, -1.0]), -0.5
    fig = viz.plot_decision_boundary(lambda p: (p @ w + b > 0).astype(np.int64), x, y, line=(w, b))
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "boundary"]
    xs, ys = line.get_data()
    assert len(xs) == 2  # two end points: a straight line
    assert np.allclose(w[0] * np.asarray(xs) + w[1] * np.asarray(ys) + b, 0)


def test_conv_forward_panels_share_one_colour_scale():
    pytest.importorskip("matplotlib")
    import inspect

    from descent.lessons import conv_forward as conv_module

    maps = {"a": np.array([[1.0, -2.0]]), "b": np.array([[9.0, 0.0]]), "c": [[-2.0, 3.0]]}
    fig = viz.plot_heatmaps(maps, shared_scale=True)
    limits = {im.get_clim() for ax in fig.axes for im in ax.get_images()}
    assert limits == {(-9.0, 9.0)}, limits  # -2 is the same blue in every panel
    source = inspect.getsource(sys.modules[conv_module.__module__])
    assert "shared_scale=True" in source
