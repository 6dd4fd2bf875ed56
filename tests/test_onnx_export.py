"""ds.onnx.export: every layer and estimator, checked by onnx's checker and run by onnxruntime.

Each case is exported once, checked with ``onnx.checker.check_model(full_check=True)`` and
run in onnxruntime on random batches of 1, 3 and 17 examples (one graph for all: the batch
dim is symbolic), and its outputs are compared with descent's. ``python -m
tools.onnx_table`` prints the largest difference of every case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent import nn
from descent.cli import main
from descent.runs import run_predictor

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

BATCHES = (1, 3, 17)
TOL = 1e-5


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def check_file(path):
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def max_diff_module(model, shape, path, opset=17, dtype=np.float32, integers=None, seed=0):
    """Export ``model`` for examples of ``shape``; the largest |onnxruntime - descent| over
    random batches of BATCHES examples."""
    rng = np.random.default_rng(seed)

    def batch(n):
        if integers is not None:
            return rng.integers(0, integers, (n, *shape)).astype(np.int64)
        return (rng.standard_normal((n, *shape)) * 2).astype(dtype)

    ds.onnx.export(model, batch(2), path, opset=opset)
    proto = check_file(path)
    assert proto.opset_import[0].version == opset
    run = session(path)
    worst = 0.0
    model.eval()
    for n in BATCHES:
        x = batch(n)
        (got,) = run.run(None, {"input": x})
        with ds.no_grad():
            want = model(ds.tensor(x, dtype=x.dtype)).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
        worst = max(worst, float(np.abs(got.astype(np.float64) - want).max()))
    return worst


def _bn(cls, c):
    m = cls(c)
    m.running_mean._data[...] = np.linspace(-1, 1, c)
    m.running_var._data[...] = np.linspace(0.5, 2, c)
    m.weight._data[...] = np.linspace(0.5, 1.5, c)
    m.bias._data[...] = np.linspace(-0.3, 0.3, c)
    return m


# (name, a function making the model, the shape of one example)
LAYERS = [
    ("Linear", lambda: nn.Linear(5, 3), (5,)),
    ("Linear-nobias", lambda: nn.Linear(5, 3, bias=False), (5,)),
    ("Linear-3d", lambda: nn.Linear(5, 3), (4, 5)),
    ("Conv2d", lambda: nn.Conv2d(3, 4, 3), (3, 8, 8)),
    ("Conv2d-stride-pad", lambda: nn.Conv2d(3, 4, (3, 2), stride=2, padding=(1, 0)), (3, 9, 8)),
    ("Conv2d-same", lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False), (2, 7, 7)),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), (2, 6, 6)),
    ("MaxPool2d-pad", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 7)),
    ("AvgPool2d", lambda: nn.AvgPool2d(2), (2, 6, 6)),
    ("AvgPool2d-pad", lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 7)),
    ("Conv1d", lambda: nn.Conv1d(3, 4, 3), (3, 9)),
    ("Conv1d-stride-pad-dilation", lambda: nn.Conv1d(2, 4, 3, 2, 1, dilation=2), (2, 11)),
    ("Conv1d-groups-same", lambda: nn.Conv1d(4, 6, 4, padding="same", groups=2), (4, 7)),
    ("MaxPool1d-pad", lambda: nn.MaxPool1d(3, stride=2, padding=1), (2, 9)),
    ("AvgPool1d", lambda: nn.AvgPool1d(2), (2, 6)),
    ("AvgPool1d-excluding-pad", lambda: nn.AvgPool1d(3, 1, 1, count_include_pad=False), (2, 7)),
    ("AdaptiveAvgPool2d-1", lambda: nn.AdaptiveAvgPool2d(1), (3, 6, 4)),
    ("AdaptiveAvgPool2d-2x2", lambda: nn.AdaptiveAvgPool2d((2, 2)), (3, 6, 4)),
    ("Flatten", lambda: nn.Flatten(), (2, 3, 4)),
    ("Flatten-2", lambda: nn.Flatten(2), (2, 3, 4)),
    ("Flatten-1-2", lambda: nn.Flatten(1, 2), (2, 3, 4)),
    ("Flatten-0", lambda: nn.Flatten(0), (3,)),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), (6,)),
    ("Dropout", lambda: nn.Dropout(0.5), (4,)),
    ("Dropout1d", lambda: nn.Dropout1d(0.5), (3, 4)),
    ("Dropout2d", lambda: nn.Dropout2d(0.5), (3, 4, 4)),
    ("Identity", lambda: nn.Identity(), (4,)),
    ("BatchNorm1d", lambda: _bn(nn.BatchNorm1d, 4), (4,)),
    ("BatchNorm1d-3d", lambda: _bn(nn.BatchNorm1d, 4), (4, 5)),
    ("BatchNorm2d", lambda: _bn(nn.BatchNorm2d, 3), (3, 4, 4)),
    ("BatchNorm2d-noaffine", lambda: nn.BatchNorm2d(3, affine=False), (3, 4, 4)),
    ("LayerNorm", lambda: nn.LayerNorm(6), (6,)),
    ("LayerNorm-2d", lambda: nn.LayerNorm((3, 4), elementwise_affine=False), (2, 3, 4)),
    ("ZeroPad2d", lambda: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 3)),
    ("ConstantPad2d", lambda: nn.ConstantPad2d(1, 2.5), (2, 3, 3)),
]

ACTIVATIONS = [
    ("ReLU", lambda: nn.ReLU()),
    ("Sigmoid", lambda: nn.Sigmoid()),
    ("Tanh", lambda: nn.Tanh()),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.2)),
    ("Softmax", lambda: nn.Softmax(1)),
    ("Softmax-last", lambda: nn.Softmax(-1)),
    ("LogSoftmax", lambda: nn.LogSoftmax(1)),
    ("Softmin", lambda: nn.Softmin(1)),
    ("GELU", lambda: nn.GELU()),
    ("GELU-tanh", lambda: nn.GELU("tanh")),
    ("Softplus", lambda: nn.Softplus()),
    ("Softplus-beta", lambda: nn.Softplus(beta=2.0, threshold=3.0)),
    ("ELU", lambda: nn.ELU(0.7)),
    ("CELU", lambda: nn.CELU(1.5)),
    ("SELU", lambda: nn.SELU()),
    ("SiLU", lambda: nn.SiLU()),
    ("Mish", lambda: nn.Mish()),
    ("Hardsigmoid", lambda: nn.Hardsigmoid()),
    ("Hardswish", lambda: nn.Hardswish()),
    ("Hardtanh", lambda: nn.Hardtanh(-0.5, 2.0)),
    ("ReLU6", lambda: nn.ReLU6()),
    ("Softsign", lambda: nn.Softsign()),
    ("LogSigmoid", lambda: nn.LogSigmoid()),
    ("Threshold", lambda: nn.Threshold(0.3, -2.0)),
    ("PReLU", lambda: nn.PReLU()),
    ("PReLU-channels", lambda: nn.PReLU(6, init=0.1)),
]


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), _bn(nn.BatchNorm2d, 4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3), nn.GELU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
        nn.Linear(8, 10), nn.LogSoftmax(1),
    )  # fmt: skip


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.LayerNorm(16), nn.Tanh(),
                         nn.Sequential(nn.Linear(16, 8), nn.SiLU()), nn.Linear(8, 3))  # fmt: skip


class Chain(nn.Module):
    """A forward that is a chain of child calls (no Sequential)."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


MODELS = [
    ("CNN", cnn, (1, 8, 8)),
    ("MLP", mlp, (6,)),
    ("Chain", Chain, (4,)),
]

OPSETS = (13, 17, 20)


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_every_layer_runs_in_onnxruntime_as_in_descent(tmp_path, name, make, shape):
    ds.manual_seed(0)
    max_diff_module(make(), shape, tmp_path / "m.onnx")


@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
@pytest.mark.parametrize("opset", OPSETS)
def test_every_activation_runs_in_onnxruntime_as_in_descent(tmp_path, name, make, opset):
    ds.manual_seed(0)
    max_diff_module(make(), (6,), tmp_path / "a.onnx", opset=opset)


@pytest.mark.parametrize("name,make,shape", MODELS, ids=[c[0] for c in MODELS])
@pytest.mark.parametrize("opset", OPSETS)
def test_networks_export_at_several_opsets(tmp_path, name, make, shape, opset):
    ds.manual_seed(0)
    max_diff_module(make(), shape, tmp_path / "n.onnx", opset=opset)


def test_embedding_takes_integer_indices(tmp_path):
    ds.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    max_diff_module(model, (3,), tmp_path / "e.onnx", integers=10)


def test_a_float64_model_is_a_double_graph(tmp_path):
    ds.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    assert max_diff_module(model, (5,), tmp_path / "d.onnx", dtype=np.float64) < 1e-12
    proto = onnx.load(str(tmp_path / "d.onnx"))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_export_uses_eval_mode_and_restores_the_models_mode(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    model.train()
    ds.onnx.export(model, ds.randn(2, 4), tmp_path / "m.onnx")
    assert model.training and model[1].training
    kinds = [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert "Dropout" not in kinds


def test_the_batch_dim_is_symbolic_unless_asked_otherwise(tmp_path):
    model = nn.Linear(3, 2)
    proto = ds.onnx.export(model, ds.randn(2, 3), None)
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch"
    proto = ds.onnx.export(model, ds.randn(2, 3), None, dynamic_batch=False,
                           input_names=["x"], output_names=["y"])  # fmt: skip
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert [proto.graph.input[0].name, proto.graph.output[0].name] == ["x", "y"]


# ---- errors -----------------------------------------------------------------------------


class Square(nn.Module):
    def forward(self, x):
        return x * x


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 3)

    def forward(self, x):
        return x + self.inner(x)


def test_an_unsupported_layer_is_named_by_its_path(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.ReLU(), Square()))
    with pytest.raises(ds.onnx.ExportError, match=r"model\.1\.1 \(Square\) has no ONNX form"):
        ds.onnx.export(model, ds.randn(2, 3), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_a_forward_that_is_not_a_chain_is_refused_saying_what_is_supported(tmp_path):
    with pytest.raises(ValueError, match=r"model\.0 \(Residual\).*not a chain.*onnx_export"):
        ds.onnx.export(nn.Sequential(Residual()), ds.randn(2, 3), tmp_path / "x.onnx")


class ScaledBetween(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 2)

    def forward(self, x):
        y = self.a(x)
        y.mul_(2)  # in place, between the two calls
        return self.b(y)


class ShiftedAfter(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)

    def forward(self, x):
        y = self.a(x)
        y += 1  # in place, after the last call
        return y


class ChangedInside(nn.Module):
    """The next layer changes its input in place: still a chain (the layer's own work)."""

    def __init__(self):
        super().__init__()
        self.a, self.act = nn.Linear(3, 3), nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.a(x))


@pytest.mark.parametrize("make", [ScaledBetween, ShiftedAfter], ids=["mul_", "iadd"])
def test_an_in_place_change_between_sub_modules_is_refused(tmp_path, make):
    with pytest.raises(ds.onnx.ExportError, match=r"model \(\w+\).*not a chain.*in-place"):
        ds.onnx.export(make(), ds.randn(2, 3), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    max_diff_module(ChangedInside(), (3,), tmp_path / "ok.onnx")


@pytest.mark.parametrize("name", ["gemm", "weight", "bias", "relu", "input_2", "output"])
def test_an_output_name_the_layers_would_use_is_the_models_output(name):
    ds.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    proto = ds.onnx.export(model, ds.randn(2, 3), None, output_names=name)
    assert [o.name for o in proto.graph.output] == [name]
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    (got,) = ort.InferenceSession(proto.SerializeToString()).run(None, {"input": x})
    with ds.no_grad():
        np.testing.assert_allclose(got, model(ds.tensor(x)).numpy(), atol=1e-6)
    proto = ds.onnx.export(model, ds.randn(2, 3), None, input_names="weight")
    assert proto.graph.input[0].name == "weight"
    assert "weight" not in [t.name for t in proto.graph.initializer]


def test_a_one_dim_example_has_no_batch_dim(tmp_path):
    proto = ds.onnx.export(nn.Linear(3, 2), ds.randn(3), None)
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [3]
    assert [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim] == [2]
    # an estimator's rows in, one value per row out: both batch dims symbolic
    est, _ = _fit(lambda: M.LinearRegression(), _diabetes)
    proto = ds.onnx.export(est, None, None)
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_a_module_may_give_its_own_onnx_form(tmp_path):
    class OwnSquare(Square):
        def onnx_export(self, g, x):
            return g.node("Mul", x, x)

    max_diff_module(nn.Sequential(nn.Linear(3, 2), OwnSquare()), (3,), tmp_path / "s.onnx")


def test_settings_onnx_cannot_express_are_refused():
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    with pytest.raises(ValueError, match=r"model \(BatchNorm1d\).*track_running_stats"):
        ds.onnx.export(bn, ds.randn(2, 3), None)
    with pytest.raises(ValueError, match="opset 12 is not supported"):
        ds.onnx.export(nn.ReLU(), ds.randn(2, 3), None, opset=12)
    with pytest.raises(ValueError, match="example_input"):
        ds.onnx.export(nn.ReLU(), None, None)
    with pytest.raises(ValueError, match="neither a descent nn.Module nor an estimator"):
        ds.onnx.export(object(), ds.randn(2, 3), None)


# ---- estimators -------------------------------------------------------------------------


def _standardised(X):
    return (X - X.mean(0)) / X.std(0)


def _iris():
    X, y = ds.datasets.load_iris(return_X_y=True)
    return _standardised(X), y


def _cancer():
    X, y = ds.datasets.load_breast_cancer(return_X_y=True)
    return _standardised(X), np.array(["malignant", "benign"])[y]


def _diabetes():
    X, y = ds.datasets.load_diabetes(return_X_y=True)
    return X, y


def _digits():
    X, y = ds.datasets.load_digits(return_X_y=True)
    return X / 16.0, y


M = ds.models
# (name, the estimator, the data, its methods)
ESTIMATORS = [
    ("LinearRegression", lambda: M.LinearRegression(), _diabetes, ["predict"]),
    ("LinearRegression-gd", lambda: M.LinearRegression("gd", eta0=0.5, max_iter=20), _diabetes,
     ["predict"]),
    ("PolynomialRegression", lambda: M.PolynomialRegression(degree=2, alpha=0.1),
     lambda: (_diabetes()[0][:, :4], _diabetes()[1]), ["predict"]),
    ("LogisticRegression", lambda: M.LogisticRegression(max_iter=30, random_state=0), _cancer,
     ["predict", "predict_proba", "decision_function"]),
    ("LogisticRegression-multinomial", lambda: M.LogisticRegression(max_iter=30, random_state=0),
     _iris,
     ["predict", "predict_proba", "decision_function"]),
    ("LinearSVC", lambda: M.LinearSVC(max_iter=30, random_state=0), _iris,
     ["predict", "decision_function"]),
    ("Perceptron", lambda: M.Perceptron(max_iter=5), _cancer,
     ["predict", "decision_function"]),
    ("MLPClassifier", lambda: M.MLPClassifier((16,), max_iter=15, random_state=0), _digits,
     ["predict", "predict_proba"]),
    ("MLPRegressor", lambda: M.MLPRegressor((16,), activation="tanh", max_iter=15,
                                            random_state=0),
     lambda: (_diabetes()[0], _diabetes()[1] / 100), ["predict"]),
    ("Autoencoder", lambda: M.Autoencoder(code_size=2, hidden_layer_sizes=(8,), max_iter=15,
                                          random_state=0), _iris,
     ["transform", "reconstruct", "predict", "predict_proba"]),
    ("KMeans", lambda: M.KMeans(3, n_init=2, random_state=0), _iris, ["predict", "transform"]),
]  # fmt: skip

CASES = [(name, make, data, method) for name, make, data, methods in ESTIMATORS
         for method in methods]  # fmt: skip


def _fit(make, data):
    X, y = data()
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few epochs: a ConvergenceWarning is expected
        if isinstance(est, (M.KMeans,)):
            est.fit(X)
        else:
            est.fit(X, y)
    return est, X


def estimator_diff(make, data, method, path, opset=17, dtype=None):
    """Export ``method`` of the fitted estimator; (max |onnxruntime - descent|, the kind of
    output) over batches of BATCHES rows of its data; labels must be equal."""
    est, X = _fit(make, data)
    ds.onnx.export(est, None, path, opset=opset, method=method, dtype=dtype)
    check_file(path)
    run = session(path)
    feed = np.float64 if dtype == "float64" else np.float32
    rng = np.random.default_rng(0)
    worst = 0.0
    for n in BATCHES:
        rows = X[rng.choice(len(X), n, replace=False)].astype(feed)
        (got,) = run.run(None, {"input": rows})
        want = getattr(est, method)(rows.astype(np.float64))
        assert got.shape == want.shape
        if want.dtype.kind in "iubUSO":  # labels: exactly the estimator's
            assert got.astype(want.dtype).tolist() == want.tolist()
        else:
            scale = max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL * scale)
            worst = max(worst, float(np.abs(got - want).max()))
    return worst


@pytest.mark.parametrize("name,make,data,method", CASES, ids=[f"{c[0]}.{c[3]}" for c in CASES])
def test_every_estimator_method_runs_in_onnxruntime_as_in_descent(tmp_path, name, make, data,
                                                                  method):  # fmt: skip
    estimator_diff(make, data, method, tmp_path / "est.onnx")


@pytest.mark.parametrize("opset", OPSETS)
def test_estimators_export_at_several_opsets(tmp_path, opset):
    for name in ("PolynomialRegression", "KMeans"):
        _, make, data, methods = next(c for c in ESTIMATORS if c[0] == name)
        for method in methods:
            estimator_diff(make, data, method, tmp_path / "est.onnx", opset=opset)


def test_an_estimator_exported_in_float64_agrees_to_double_rounding(tmp_path):
    _, make, data, _ = next(c for c in ESTIMATORS if c[0] == "LogisticRegression-multinomial")
    assert estimator_diff(make, data, "predict_proba", tmp_path / "d.onnx",
                          dtype="float64") < 1e-12  # fmt: skip


def test_a_classifier_predicts_its_own_labels_strings_included(tmp_path):
    est, X = _fit(lambda: M.LogisticRegression(max_iter=10, random_state=0), _cancer)
    ds.onnx.export(est, None, tmp_path / "c.onnx")
    (got,) = session(tmp_path / "c.onnx").run(None, {"input": X.astype(np.float32)})
    assert set(got.tolist()) == {"benign", "malignant"}
    assert (got == est.predict(X)).all()


def test_every_estimator_answers_to_module_and_refuses_a_method_it_lacks():
    est, _ = _fit(lambda: M.LinearSVC(max_iter=5, random_state=0), _iris)
    with pytest.raises(ValueError, match=r"no module for 'predict_proba'.*'decision_function'"):
        est.to_module("predict_proba")
    for unfitted in (M.KMeans(3), M.PolynomialRegression(), M.MLPClassifier(), M.Autoencoder()):
        with pytest.raises(M.NotFittedError, match=f"This {type(unfitted).__name__} instance"):
            unfitted.to_module("predict")


# ---- descent export RUN_DIR --onnx PATH ----------------------------------------------------

_QUICK = ["--epochs", "3", "--quiet", "--seed", "1"]


@pytest.mark.parametrize("dataset,model", [("iris", "mlp"), ("diabetes", "linear")])
def test_descent_export_writes_a_run_folder_as_onnx(tmp_path, dataset, model):
    runs = tmp_path / "runs"
    assert main(["train", "--dataset", dataset, "--model", model, *_QUICK,
                 "--runs-dir", str(runs), "--name", "r"]) == 0  # fmt: skip
    out = tmp_path / "r.onnx"
    assert main(["export", str(runs / "r"), "--onnx", str(out)]) == 0
    check_file(out)
    bunch = getattr(ds.datasets, f"load_{dataset}")()
    X, y = bunch.data, bunch.target
    stratify = y if dataset == "iris" else None
    *_, X_te, _, _, y_te = ds.data.train_val_test_split(X, y, seed=1, stratify=stratify)
    (got,) = session(out).run(None, {"input": X_te.astype(np.float32)})
    results = json.loads((runs / "r" / "results.json").read_text())
    if dataset == "iris":  # probabilities whose argmax gives the run's test accuracy
        np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
        assert ds.train.accuracy(got, y_te) == pytest.approx(results["test"]["accuracy"])
    else:  # predictions in the target's units, which give the run's test MSE
        assert got.shape == (len(X_te),)
        assert ds.train.mse(got.astype(np.float64), y_te) == pytest.approx(
            results["test"]["mse"], rel=1e-4)  # fmt: skip
    predictor, _, _ = run_predictor(runs / "r")
    with ds.no_grad():
        want = predictor(ds.tensor(X_te, dtype=ds.float32)).numpy()
    np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL * max(1.0, np.abs(want).max()))


def test_descent_export_refuses_a_missing_or_damaged_run_folder(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    assert "is not a run folder (no such folder)" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["export", str(tmp_path / "empty"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    assert "has no model.safetensors" in capsys.readouterr().err
    runs = tmp_path / "runs"
    assert main(["train", "--dataset", "iris", "--model", "linear", *_QUICK,
                 "--runs-dir", str(runs), "--name", "r"]) == 0  # fmt: skip
    file = runs / "r" / "model.safetensors"
    file.write_bytes(file.read_bytes()[:-7])
    assert main(["export", str(runs / "r"), "--onnx", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("descent export: checkpoint") and "model.safetensors" in err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("verb", ["export", "load"])
def test_without_onnx_both_verbs_name_the_extra(verb, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    call = {
        "export": lambda: ds.onnx.export(ds.nn.Linear(2, 1), ds.randn(1, 2), tmp_path / "m.onnx"),
        "load": lambda: ds.onnx.load(tmp_path / "m.onnx"),
    }[verb]
    with pytest.raises(
        ImportError, match=rf"ds.onnx.{verb} needs onnx.*pip install 'descent\[onnx\]'"
    ):
        call()
    assert not (tmp_path / "m.onnx").exists()


# ---- the round trip: ds.onnx.export, then ds.onnx.load ------------------------------------


def round_trip_diff(model, shape, path, opset=17, integers=None, seed=0):
    """Export ``model``, load the file back; the largest |loaded - model| over batches."""
    rng = np.random.default_rng(seed)

    def batch(n):
        if integers is not None:
            return rng.integers(0, integers, (n, *shape)).astype(np.int64)
        return (rng.standard_normal((n, *shape)) * 2).astype(np.float32)

    model.eval()
    ds.onnx.export(model, batch(2), path, opset=opset)
    loaded = ds.onnx.load(path)
    worst = 0.0
    for n in BATCHES:
        x = batch(n)
        with ds.no_grad():
            want = model(ds.tensor(x, dtype=x.dtype)).numpy()
            got = loaded(x).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL)
        worst = max(worst, float(np.abs(got.astype(np.float64) - want).max()))
    return worst


ROUND_TRIPS = (
    [(f"layer-{n}", make, shape, 17) for n, make, shape in LAYERS]
    + [(f"act-{n}-{o}", make, (6,), o) for n, make in ACTIVATIONS for o in OPSETS]
    + [(f"net-{n}-{o}", make, shape, o) for n, make, shape in MODELS for o in OPSETS]
)


@pytest.mark.parametrize("name,make,shape,opset", ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_every_exported_case_loads_back_with_equal_outputs(tmp_path, name, make, shape, opset):
    ds.manual_seed(0)
    round_trip_diff(make(), shape, tmp_path / "rt.onnx", opset=opset)


def test_an_exported_embedding_loads_back_and_takes_indices(tmp_path):
    ds.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    round_trip_diff(model, (3,), tmp_path / "e.onnx", integers=10)


def estimator_round_trip_diff(make, data, method, path):
    """Export ``method`` of the fitted estimator, load it back; (max |loaded - estimator|
    scaled to the answer's size, or 0 for labels, which must be equal)."""
    est, X = _fit(make, data)
    ds.onnx.export(est, None, path, method=method)
    loaded = ds.onnx.load(path)
    rng = np.random.default_rng(0)
    worst = 0.0
    for n in BATCHES:
        rows = X[rng.choice(len(X), n, replace=False)].astype(np.float32)
        want = getattr(est, method)(rows.astype(np.float64))
        with ds.no_grad():
            got = loaded(rows)
        if want.dtype.kind in "USO":  # text labels: a NumPy array of str
            assert isinstance(got, np.ndarray) and got.dtype.kind == "U"
            assert got.tolist() == want.tolist()
            continue
        assert isinstance(got, ds.Tensor)
        got = got.numpy()
        assert got.shape == want.shape
        if want.dtype.kind in "iub":  # numeric labels: an integer Tensor, equal
            assert got.dtype.kind in "iub" or (got == np.round(got)).all()
            assert got.astype(want.dtype).tolist() == want.tolist()
            continue
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=TOL, atol=TOL * scale)
        worst = max(worst, float(np.abs(got - want).max()) / scale)
    return worst


@pytest.mark.parametrize("name,make,data,method", CASES, ids=[f"{c[0]}.{c[3]}" for c in CASES])
def test_every_estimator_method_loads_back_with_equal_answers(tmp_path, name, make, data, method):
    estimator_round_trip_diff(make, data, method, tmp_path / "est.onnx")


def _unused_initializers(proto) -> list:
    used = {name for node in proto.graph.node for name in node.input}
    return [t.name for t in proto.graph.initializer if t.name not in used]


@pytest.mark.parametrize("name,make,shape,opset", ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_every_initializer_is_used_by_a_node(name, make, shape, opset):
    ds.manual_seed(0)
    proto = ds.onnx.export(make(), ds.randn(2, *shape), None, opset=opset)
    assert _unused_initializers(proto) == []


@pytest.mark.parametrize("name,make,data,method", CASES, ids=[f"{c[0]}.{c[3]}" for c in CASES])
def test_every_initializer_of_an_estimator_is_used_by_a_node(name, make, data, method):
    est, _ = _fit(make, data)
    assert _unused_initializers(ds.onnx.export(est, None, None, method=method)) == []


def test_descent_onnx_imports_without_onnx_and_its_verbs_name_the_extra(tmp_path):
    # a fresh interpreter where `import onnx` fails: importing descent.onnx (and every
    # module of it) works; only calling a verb asks for the extra
    code = (
        "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
        "import descent as ds, descent.onnx, descent.onnx._ops, descent.onnx._layers\n"
        "import descent.onnx.load, descent.onnx.export\n"
        "for verb, call in [('export', lambda: ds.onnx.export(ds.nn.Linear(2, 1), "
        "ds.randn(1, 2), 'm.onnx')), ('load', lambda: ds.onnx.load('m.onnx'))]:\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as e:\n"
        "        print(verb, e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(ds.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    for verb, line in zip(["export", "load"], lines):
        assert line.startswith(f"{verb} ds.onnx.{verb} needs onnx")
        assert "pip install 'descent[onnx]'" in line
