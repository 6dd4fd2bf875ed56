"""The README's examples run and print what the README says they print."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)


def test_three_op_gradient_example_prints_what_the_readme_shows():
    blocks = _blocks(README.read_text())
    i = next(k for k, (lang, code) in enumerate(blocks) if lang == "python" and "backward" in code)
    code, shown = blocks[i][1], blocks[i + 1][1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown


def test_gradcheck_example_holds():
    blocks = _blocks(README.read_text())
    code = next(c for lang, c in blocks if lang == "python" and "gradcheck" in c)
    namespace: dict = {}
    code = "import descent as ds\n" + code.replace("ds.gradcheck(", "result = ds.gradcheck(")
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["result"] is True


def test_quick_start_is_exactly_the_two_commands():
    blocks = _blocks(README.read_text())
    assert ("sh", "make demo\nmake test\n") in blocks


def test_digits_training_example_learns():
    blocks = _blocks(README.read_text())
    code = next(c for lang, c in blocks if lang == "python" and "load_digits" in c)
    namespace: dict = {}
    code = code.replace('metrics=["accuracy"],', 'metrics=["accuracy"], verbose=0,')
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["history"]["val_accuracy"][-1] > 0.9


def test_second_derivative_example_prints_the_gravity_curvature():
    blocks = _blocks(README.read_text())
    i = next(k for k, (lang, code) in enumerate(blocks) if "create_graph=True" in code)
    code, shown = blocks[i][1], blocks[i + 1][1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown
    slope, curvature = (float(v) for v in shown.split())
    x, y = [2.0, 4.5, 10.0], [19.6, 44.1, 98.0]
    assert curvature == 2 * sum(v * v for v in x)  # J'' = 2 sum x^2
    assert abs(slope - sum(2 * (8.0 * u - v) * u for u, v in zip(x, y))) < 1e-9
