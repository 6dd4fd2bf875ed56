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


def _block_with(text: str) -> str:
    return next(c for lang, c in _blocks(README.read_text()) if lang == "python" and text in c)


def test_weights_shared_with_pytorch_both_ways(tmp_path, monkeypatch):
    import numpy as np
    import torch

    import descent as ds

    monkeypatch.chdir(tmp_path)
    code = _block_with("save_file(torch_model.state_dict()")
    to_torch, to_descent = code.split("save_file(torch_model", 1)
    assert len([line for line in code.splitlines() if line.strip()]) == 5  # six with the model
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(4, 8), ds.nn.Tanh(), ds.nn.Linear(8, 2))
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    namespace = {"ds": ds, "model": model, "torch_model": torch_model}
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)

    def outputs():
        with ds.no_grad(), torch.no_grad():
            return model(ds.tensor(x)).numpy(), torch_model(torch.tensor(x)).numpy()

    assert not np.allclose(*outputs())  # two different initialisations, to begin with
    exec(compile(to_torch, "README.md", "exec"), namespace)
    np.testing.assert_allclose(*outputs(), rtol=1e-5, atol=1e-6)  # torch now has descent's weights
    with torch.no_grad():
        torch_model[0].weight.mul_(2.0)  # then torch's change travels back
    exec(compile("save_file(torch_model" + to_descent, "README.md", "exec"), namespace)
    np.testing.assert_allclose(*outputs(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model[0].weight.numpy(), torch_model[0].weight.detach().numpy())


def test_onnx_example_runs_in_onnxruntime(tmp_path, monkeypatch):
    import numpy as np

    import descent as ds

    monkeypatch.chdir(tmp_path)
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(4, 8), ds.nn.ReLU(), ds.nn.Linear(8, 3))
    x = ds.randn(6, 4)
    namespace = {"ds": ds, "model": model, "x": x}
    exec(compile(_block_with("onnxruntime.InferenceSession"), "README.md", "exec"), namespace)
    with ds.no_grad():
        expected = model(x).numpy()
        np.testing.assert_allclose(namespace["out"], expected, atol=1e-5)
        np.testing.assert_allclose(namespace["twin"](x).numpy(), expected, atol=1e-6)
    assert namespace["twin"].parameters() and all(
        p.requires_grad for p in namespace["twin"].parameters()
    )


def test_keras_example_trains_stops_early_and_summarises(capsys):
    code = _block_with("ds.keras.Sequential")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    model, stop = namespace["model"], namespace["stop"]
    assert namespace["accuracy"] > 0.9
    n = sum(p.numel() for p in model.module.parameters())
    assert f"Total params: {n}" in out and "(None, 16)" in out
    assert "restoring the weights of epoch" in out and stop.best_epoch is not None


def test_tf1_example_prints_what_the_readme_shows():
    blocks = _blocks(README.read_text())
    i = next(k for k, (lang, code) in enumerate(blocks) if "GradientDescentOptimizer" in code)
    code, shown = blocks[i][1], blocks[i + 1][1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == shown
    steps, a = shown.split()
    assert int(steps) == 100 and abs(float(a) - 98.0 / 10.0) < 1e-4  # the slide's g = 9.8
