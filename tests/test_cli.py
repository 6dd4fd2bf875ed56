"""The `descent` command."""

import io
import math
import subprocess
import sys

from descent.cli import demo


def test_demo_gradients_match_the_closed_form_and_the_fit_reaches_the_optimum():
    out = io.StringIO()
    slope = demo(out)
    text = out.getvalue()
    x, w = 2.0, -3.0
    assert f"{w * math.exp(x * w) + 2 * x:.6f}" in text  # dy/dx
    assert f"{x * math.exp(x * w):.6f}" in text  # dy/dw
    xs, ys = [2.0, 4.5, 10.0], [19.6, 44.1, 98.0]
    closed = sum(a * b for a, b in zip(xs, ys)) / sum(a * a for a in xs)
    assert abs(slope - closed) < 1e-5


def test_command_runs_the_demo_and_prints_help():
    run = subprocess.run(
        [sys.executable, "-m", "descent.cli", "demo"], capture_output=True, text=True, check=True
    )
    assert "closed form" in run.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "descent.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in helped.stdout
