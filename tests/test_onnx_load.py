"""ds.onnx.load on files another producer wrote: PyTorch's two ONNX exporters (TorchScript,
``dynamo=False``, and torch.export, ``dynamo=True``), and files built with onnx.helper.

The imported model must give PyTorch's outputs at any batch size, PyTorch's gradients, and
train; an op it cannot run, or a file that is not ONNX, is an error that names it.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import descent as ds

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ATOL = 1e-5
BATCHES = (1, 4, 9)
EXPORTERS = {"legacy": False, "dynamo": True}


# ---- the PyTorch models and their files ----------------------------------------------------


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))


def mlp_variants() -> nn.Module:
    return nn.Sequential(
        nn.Linear(5, 12),
        nn.LeakyReLU(0.2),
        nn.Linear(12, 7),
        nn.Sigmoid(),
        nn.Linear(7, 4),
        nn.Softmax(dim=1),
    )


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(8 * 2 * 2, 10),
    )


MODELS = {"mlp": (mlp, (5,)), "mlp_variants": (mlp_variants, (5,)), "cnn": (cnn, (3, 16, 16))}


def _trained_stats(model: nn.Module, shape) -> nn.Module:
    """Give BatchNorm running statistics that are not 0 and 1, then eval mode."""
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, *shape) * 2 + 0.5)
    return model.eval()


def export(model: nn.Module, shape, path, dynamo: bool, **kwargs):
    x = torch.randn(4, *shape)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (x,),
            str(path),
            dynamo=dynamo,
            input_names=["input"],
            dynamic_axes={"input": {0: "batch"}},
            **kwargs,
        )
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(model name, exporter) -> (the torch model in eval mode, the ONNX file)."""
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("onnx")
    files = {}
    for name, (make, shape) in MODELS.items():
        model = _trained_stats(make(), shape)
        for exporter, dynamo in EXPORTERS.items():
            files[name, exporter] = (
                model,
                export(model, shape, root / f"{name}_{exporter}.onnx", dynamo),
            )
    return files


def _opset(path) -> int:
    return next(o.version for o in onnx.load(str(path)).opset_import if o.domain in ("", "ai.onnx"))


def max_diffs(model: nn.Module, imported, shape, seed: int = 0) -> dict:
    """Batch size -> max |descent - torch| on a random batch."""
    rng = np.random.default_rng(seed)
    diffs = {}
    for n in BATCHES:
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        got = imported(ds.tensor(x)).numpy()
        assert got.shape == expected.shape
        diffs[n] = float(np.abs(got - expected).max())
    return diffs


@pytest.mark.parametrize("exporter", list(EXPORTERS))
@pytest.mark.parametrize("name", list(MODELS))
def test_outputs_equal_torch_at_every_batch_size(exported, name, exporter):
    model, path = exported[name, exporter]
    imported = ds.onnx.load(path)
    diffs = max_diffs(model, imported, MODELS[name][1])
    print(f"{name} {exporter} opset {_opset(path)}: max |descent - torch| {diffs}")
    assert max(diffs.values()) <= ATOL, diffs


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_layers_are_descent_layers_named_as_torch(exported, exporter):
    model, path = exported["mlp", exporter]
    imported = ds.onnx.load(path)
    assert [type(m).__name__ for _, m in imported.named_children()] == ["Linear"] * 3
    state, expected = imported.state_dict(), model.state_dict()
    assert list(state) == list(expected)
    for k, v in expected.items():
        np.testing.assert_array_equal(state[k].numpy(), v.numpy())
    assert not imported.training  # the exported model was in eval mode
    assert "Linear(in_features=5, out_features=16, bias=True)" in repr(imported)


def test_cnn_layers(exported):
    imported = ds.onnx.load(exported["cnn", "dynamo"][1])
    kinds = {type(m).__name__ for m in imported.modules()}
    assert {"Conv2d", "Linear"} <= kinds  # BatchNorm2d was folded into the Conv by the exporter


# ---- training ------------------------------------------------------------------------------


def _grads_equal(model: nn.Module, imported, x: np.ndarray, y: np.ndarray) -> float:
    """One batch's MSE loss backward on both; the largest gradient difference (and every
    gradient name must match)."""
    model.zero_grad()
    imported.zero_grad()
    loss = ((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
    loss.backward()
    out = imported(ds.tensor(x))
    ds_loss = ((out - ds.tensor(y)) ** 2).mean()
    ds_loss.backward()
    assert abs(ds_loss.item() - loss.item()) <= 1e-6
    torch_grads = {k: p.grad.numpy() for k, p in model.named_parameters()}
    ds_grads = {k: p.grad.numpy() for k, p in imported.named_parameters()}
    assert set(ds_grads) == set(torch_grads)
    return max(float(np.abs(ds_grads[k] - g).max()) for k, g in torch_grads.items())


@pytest.mark.parametrize("exporter", list(EXPORTERS))
@pytest.mark.parametrize("name", ["mlp", "mlp_variants"])
def test_gradients_equal_torch(exported, name, exporter):
    model, path = exported[name, exporter]
    imported = ds.onnx.load(path)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    outputs = [m for m in model if isinstance(m, nn.Linear)][-1].out_features
    y = rng.standard_normal((6, outputs))
    assert _grads_equal(model, imported, x, y.astype(np.float32)) <= 1e-6


def cnn_with_batchnorm() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 2),
        nn.LogSoftmax(dim=-1),
    )


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_batchnorm_kept_is_a_descent_batchnorm_in_both_modes(tmp_path, exporter):
    """Exported without folding, BatchNormalization is a BatchNorm2d: in eval mode it uses
    the running statistics, in train mode the batch's (and moves the running ones), as
    PyTorch's; gradients equal PyTorch's in both modes."""
    torch.manual_seed(2)
    model = _trained_stats(cnn_with_batchnorm(), (3, 8, 8))
    if exporter == "legacy":
        kwargs = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False}
    else:
        kwargs = {"optimize": False}
    path = export(model, (3, 8, 8), tmp_path / "bn.onnx", EXPORTERS[exporter], **kwargs)
    imported = ds.onnx.load(path)
    assert type(vars(imported)["1"]).__name__ == "BatchNorm2d"
    assert list(imported.state_dict()) == list(model.state_dict())
    assert max(max_diffs(model, imported, (3, 8, 8)).values()) <= ATOL
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 8, 8)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    assert _grads_equal(model, imported, x, y) <= 1e-5
    model.train()
    imported.train()
    assert _grads_equal(model, imported, x, y) <= 1e-5  # batch statistics
    for k in ("1.running_mean", "1.running_var"):
        np.testing.assert_allclose(
            imported.state_dict()[k].numpy(), model.state_dict()[k], atol=1e-6
        )


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_sgd_steps_reduce_the_loss(exported, exporter):
    imported = ds.onnx.load(exported["cnn", exporter][1])
    imported.train()
    rng = np.random.default_rng(4)
    x = ds.tensor(rng.standard_normal((16, 3, 16, 16)).astype(np.float32))
    y = ds.tensor(rng.integers(0, 10, 16))
    opt = ds.optim.SGD(imported.parameters(), lr=0.2, momentum=0.9)
    losses = []
    ds.manual_seed(0)
    for _ in range(8):
        opt.zero_grad()
        loss = ds.nn.functional.cross_entropy(imported(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.9, losses


# ---- files built by hand -----------------------------------------------------------------


def _model(nodes, inputs, outputs, initializers=(), opset=17, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _save(model, path):
    onnx.save(model, str(path))
    return path


def _float(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _ort(path, **feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]


def test_an_unsupported_op_names_op_node_and_position(tmp_path):
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="first"),
        helper.make_node("Einsum", ["r", "r"], ["y"], name="my_einsum", equation="ij,ij->i"),
    ]
    path = _save(_model(nodes, [_float("x", [2, 3])], [_float("y", [2])]), tmp_path / "e.onnx")
    with pytest.raises(ds.onnx.OnnxError) as info:
        ds.onnx.load(path)
    message = str(info.value)
    assert "'Einsum'" in message and "'my_einsum'" in message and "node 1" in message
    assert "Gemm" in message and "Conv" in message  # the supported ops are listed
    assert isinstance(info.value, ValueError)


def test_an_op_of_another_domain_is_unsupported(tmp_path):
    node = helper.make_node("FusedGemm", ["x", "x"], ["y"], name="fg", domain="com.microsoft")
    model = _model([node], [_float("x", [2, 2])], [_float("y", [2, 2])])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    path = tmp_path / "ms.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(ds.onnx.OnnxError, match=r"com\.microsoft::FusedGemm.*'fg'"):
        ds.onnx.load(path)


def test_files_that_are_not_onnx(tmp_path, exported):
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        ds.onnx.load(tmp_path / "missing.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff\xfe not a protobuf \x00\x01" * 10)
    text = tmp_path / "notes.onnx"
    text.write_text("hello, this is not a model\n")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    good = exported["mlp", "legacy"][1].read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good[: len(good) // 2])
    for path in (garbage, text, empty, cut):
        with pytest.raises(ds.onnx.OnnxError, match=path.name) as info:
            ds.onnx.load(path)
        assert "DecodeError" not in type(info.value).__name__


def test_a_model_the_checker_rejects(tmp_path):
    node = helper.make_node("Relu", ["nowhere"], ["y"], name="r")
    path = _save(_model([node], [_float("x", [2])], [_float("y", [2])]), tmp_path / "bad.onnx")
    with pytest.raises(ds.onnx.OnnxError, match=r"bad\.onnx.*onnx\.checker"):
        ds.onnx.load(path)


def test_an_old_opset_is_refused(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"])
    path = _save(
        _model([node], [_float("x", [2])], [_float("y", [2])], opset=7), tmp_path / "old.onnx"
    )
    with pytest.raises(ds.onnx.OnnxError, match="opset 7"):
        ds.onnx.load(path)


@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_semantics_follow_the_opset(tmp_path, opset):
    """Before opset 13 Softmax(axis=1) normalises over every dim from 1 on; from 13 on
    over dim 1 alone."""
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], axis=1),
        helper.make_node("LogSoftmax", ["x"], ["l"], axis=1),
    ]
    path = _save(
        _model(
            nodes,
            [_float("x", [2, 3, 4])],
            [_float("s", [2, 3, 4]), _float("l", [2, 3, 4])],
            opset=opset,
        ),
        tmp_path / "sm.onnx",
    )
    x = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    s, lsm = ds.onnx.load(path)(x)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    es, el = sess.run(None, {"x": x})
    np.testing.assert_allclose(s.numpy(), es, atol=1e-6)
    np.testing.assert_allclose(lsm.numpy(), el, atol=1e-5)
    t = torch.from_numpy(x)
    expected = t.reshape(2, 12).softmax(1).reshape(2, 3, 4) if opset < 13 else t.softmax(1)
    np.testing.assert_allclose(s.numpy(), expected.numpy(), atol=1e-6)


def test_hand_built_graph_matches_onnxruntime(tmp_path):
    """Conv with auto_pad SAME_UPPER and with asymmetric pads, Gemm with transA, alpha and
    beta, MaxPool, GlobalAveragePool, Reshape with 0 and -1, Sub, Mul, Div; the float
    initializers the generic ops read are Parameters and get gradients."""
    rng = np.random.default_rng(6)
    w1 = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    w2 = rng.standard_normal((4, 4, 2, 2)).astype(np.float32)
    g = rng.standard_normal((4, 5)).astype(np.float32)
    c = rng.standard_normal((5,)).astype(np.float32)
    inits = [
        numpy_helper.from_array(a, n)
        for a, n in [
            (w1, "c1.w"),
            (w2, "c2.w"),
            (g, "fc.g"),
            (c, "fc.c"),
            (np.array([0, -1], np.int64), "shape"),
            (np.asarray(2.0, np.float32), "two"),
        ]
    ]
    nodes = [
        helper.make_node("Conv", ["x", "c1.w"], ["a"], auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Conv", ["a", "c2.w"], ["b"], pads=[1, 0, 0, 1]),
        helper.make_node("MaxPool", ["b"], ["p"], kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("GlobalAveragePool", ["p"], ["gp"]),
        helper.make_node("Reshape", ["gp", "shape"], ["flat"]),
        helper.make_node("Transpose", ["flat"], ["ft"], perm=[1, 0]),
        helper.make_node("Gemm", ["ft", "fc.g", "fc.c"], ["h"], transA=1, alpha=0.5, beta=2.0),
        helper.make_node("Sub", ["h", "two"], ["h2"]),
        helper.make_node("Mul", ["h2", "h2"], ["h3"]),
        helper.make_node("Div", ["h3", "two"], ["y"]),
    ]
    path = _save(
        _model(nodes, [_float("x", ["n", 2, 9, 9])], [_float("y", ["n", 5])], inits),
        tmp_path / "hand.onnx",
    )
    imported = ds.onnx.load(path)
    for n in (1, 3):
        x = rng.standard_normal((n, 2, 9, 9)).astype(np.float32)
        np.testing.assert_allclose(imported(x).numpy(), _ort(path, x=x), rtol=1e-5, atol=1e-5)
    names = dict(imported.named_parameters())
    assert set(names) == {"c1.w", "c2.w", "fc.g", "fc.c"}  # the 0-d "two" is a literal
    imported(ds.tensor(x)).sum().backward()
    assert all(p.grad is not None for p in names.values())


def test_wrong_input_shape_or_count(exported):
    imported = ds.onnx.load(exported["mlp", "legacy"][1])
    with pytest.raises(ValueError, match=r"'input'.*\(\?, 5\)"):
        imported(ds.randn(3, 4))
    with pytest.raises(TypeError, match="1 input"):
        imported(ds.randn(3, 5), ds.randn(3, 5))


def test_refused_settings_name_the_node(tmp_path):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], ceil_mode=1)
    path = _save(
        _model([node], [_float("x", [1, 1, 5, 5])], [_float("y", [1, 1, 3, 3])]),
        tmp_path / "ceil.onnx",
    )
    with pytest.raises(ds.onnx.OnnxError, match="'pool'.*ceil_mode"):
        ds.onnx.load(path)


class _ViewNet(nn.Module):
    """``h.view(h.size(0), -1)``: the legacy exporter writes Shape, Gather, Unsqueeze and
    Concat for it; AdaptiveAvgPool2d(1) is GlobalAveragePool or ReduceMean; 2 * x - 1
    puts literals in the graph."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 4, 3, padding=1)
        self.p = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        h = self.p(torch.relu(self.c(x)))
        return torch.log_softmax(self.fc(h.view(h.size(0), -1)) * 2 - 1, dim=1)


@pytest.mark.parametrize("exporter, opset", [("legacy", 11), ("legacy", 17), ("dynamo", 18)])
def test_shape_arithmetic_of_the_exporters(tmp_path, exporter, opset):
    torch.manual_seed(7)
    model = _ViewNet().eval()
    path = export(
        model, (3, 8, 8), tmp_path / "view.onnx", EXPORTERS[exporter], opset_version=opset
    )
    imported = ds.onnx.load(path)
    assert list(imported.state_dict()) == list(model.state_dict())  # literals stay constants
    assert max(max_diffs(model, imported, (3, 8, 8)).values()) <= ATOL


def test_descents_own_export_loads_back_with_equal_outputs_and_trains(tmp_path):
    # the two halves of ds.onnx meet: a CNN written by ds.onnx.export, read by ds.onnx.load
    ds.manual_seed(0)
    model = ds.nn.Sequential(
        ds.nn.Conv2d(1, 3, 3, padding=1), ds.nn.ReLU(), ds.nn.MaxPool2d(2),
        ds.nn.Flatten(), ds.nn.Linear(12, 4), ds.nn.Tanh(), ds.nn.Linear(4, 2),
    )  # fmt: skip
    path = ds.onnx.export(model, ds.randn(1, 1, 4, 4), tmp_path / "cnn.onnx")
    loaded = ds.onnx.load(path)
    for n in (1, 6):
        x = ds.randn(n, 1, 4, 4)
        with ds.no_grad():
            np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)
    x, target = ds.randn(8, 1, 4, 4), ds.randn(8, 2)
    loaded.train()
    opt = ds.optim.SGD(loaded.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((loaded(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ---- the ops descent's exporter (and PyTorch's GELU, LayerNorm, ReLU6) write ---------------

_F32, _I64, _BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
_N = helper.make_node
_SLOPE = np.array([0.1, -0.2, 0.3, 0.5], np.float32)
_ROW = np.array([-0.5, 0.0, 0.5, 1.0], np.float32)
# (id, nodes from x (3, 4) to y, y's type, initializers, opset)
OP_CASES = [
    ("Erf", [_N("Erf", ["x"], ["y"])], _F32, {}, 17),
    ("Gelu", [_N("Gelu", ["x"], ["y"])], _F32, {}, 20),
    ("Gelu-tanh", [_N("Gelu", ["x"], ["y"], approximate="tanh")], _F32, {}, 20),
    ("LayerNormalization", [_N("LayerNormalization", ["x", "s", "b"], ["y"], epsilon=1e-3)],
     _F32, {"s": _SLOPE, "b": _ROW}, 17),
    ("LayerNormalization-axis0", [_N("LayerNormalization", ["x", "s"], ["y"], axis=0)], _F32,
     {"s": np.full((3, 4), 1.5, np.float32)}, 17),
    ("Pad", [_N("Pad", ["x", "p", "v"], ["y"])], _F32,
     {"p": np.array([0, 1, 2, 0], np.int64), "v": np.asarray(1.5, np.float32)}, 17),
    ("Pad-axes", [_N("Pad", ["x", "p", "", "ax"], ["y"])], _F32,
     {"p": np.array([1, 2], np.int64), "ax": np.array([-1], np.int64)}, 18),
    ("Pad-attribute", [_N("Pad", ["x"], ["y"], pads=[1, 0, 0, 2], value=-1.0)], _F32, {}, 10),
    ("PRelu", [_N("PRelu", ["x", "s"], ["y"])], _F32, {"s": _SLOPE}, 17),
    ("Min-Max", [_N("Min", ["x", "r", "c"], ["m"]), _N("Max", ["m", "r"], ["y"])], _F32,
     {"r": _ROW, "c": np.asarray(0.8, np.float32)}, 17),
    ("Where-Greater", [_N("Greater", ["x", "r"], ["g"]), _N("Neg", ["x"], ["n"]),
                       _N("Where", ["g", "x", "n"], ["y"])], _F32, {"r": _ROW}, 17),
    ("Less", [_N("Less", ["x", "r"], ["y"])], _BOOL, {"r": _ROW}, 17),
    ("Equal", [_N("Equal", ["x", "x"], ["y"])], _BOOL, {}, 17),
    ("GreaterOrEqual-Not", [_N("GreaterOrEqual", ["x", "r"], ["g"]), _N("Not", ["g"], ["y"])],
     _BOOL, {"r": _ROW}, 17),
    ("LessOrEqual-Cast", [_N("LessOrEqual", ["x", "r"], ["g"]), _N("Cast", ["g"], ["y"], to=1)],
     _F32, {"r": _ROW}, 17),
    ("Clip", [_N("Clip", ["x", "lo", "hi"], ["y"])], _F32,
     {"lo": np.asarray(-0.5, np.float32), "hi": np.asarray(0.7, np.float32)}, 17),
    ("Clip-max-only", [_N("Clip", ["x", "", "hi"], ["y"])], _F32,
     {"hi": np.asarray(0.2, np.float32)}, 17),
    ("Clip-attributes", [_N("Clip", ["x"], ["y"], min=-0.3, max=0.4)], _F32, {}, 10),
    ("ArgMax", [_N("ArgMax", ["x"], ["y"], axis=1, keepdims=0)], _I64, {}, 17),
    ("ArgMax-keepdims", [_N("ArgMax", ["x"], ["y"], axis=0)], _I64, {}, 17),
    ("ArgMin", [_N("ArgMin", ["x"], ["y"], axis=-1, keepdims=0)], _I64, {}, 17),
    ("ReduceSumSquare", [_N("ReduceSumSquare", ["x"], ["y"], axes=[1])], _F32, {}, 17),
    ("ReduceSumSquare-18", [_N("ReduceSumSquare", ["x", "a"], ["y"], keepdims=0)], _F32,
     {"a": np.array([0], np.int64)}, 18),
    ("ReduceMax", [_N("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0)], _F32, {}, 17),
    ("ReduceMin", [_N("ReduceMin", ["x"], ["y"])], _F32, {}, 17),
    ("ReduceProd", [_N("ReduceProd", ["x", "a"], ["y"])], _F32,
     {"a": np.array([1], np.int64)}, 18),
    ("Pow", [_N("Pow", ["x", "e"], ["y"])], _F32, {"e": np.asarray(2.0, np.float32)}, 17),
    ("Pow-abs", [_N("Abs", ["x"], ["a"]), _N("Pow", ["a", "r"], ["y"])], _F32, {"r": _ROW}, 17),
    ("Softplus", [_N("Softplus", ["x"], ["y"])], _F32, {}, 17),
    ("Elu", [_N("Elu", ["x"], ["y"], alpha=0.7)], _F32, {}, 17),
    ("Selu", [_N("Selu", ["x"], ["y"])], _F32, {}, 17),
    ("HardSigmoid", [_N("HardSigmoid", ["x"], ["y"], alpha=0.3, beta=0.4)], _F32, {}, 17),
    ("Softsign", [_N("Softsign", ["x"], ["y"])], _F32, {}, 17),
    ("Reciprocal", [_N("Reciprocal", ["x"], ["y"])], _F32, {}, 17),
]  # fmt: skip


@pytest.mark.parametrize("name,nodes,kind,inits,opset", OP_CASES, ids=[c[0] for c in OP_CASES])
def test_each_op_matches_onnxruntime_and_carries_gradients(tmp_path, name, nodes, kind, inits,
                                                           opset):  # fmt: skip
    initializers = [numpy_helper.from_array(a, n) for n, a in inits.items()]
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32) * 2

    def save(shape):
        out = helper.make_tensor_value_info("y", kind, shape)
        model = _model(nodes, [_float("x", [3, 4])], [out], initializers, opset=opset)
        return _save(model, tmp_path / "op.onnx")

    want = _ort(save(None), x=x)  # onnxruntime gives the output's shape, the checker needs it
    path = save(list(want.shape))
    imported = ds.onnx.load(path)
    xt = ds.tensor(x, requires_grad=True)
    got = imported(xt)
    assert isinstance(got, ds.Tensor)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    if kind == _F32 and name != "LessOrEqual-Cast":
        got.sum().backward()
        assert xt.grad is not None and np.isfinite(xt.grad.numpy()).all()
    else:
        assert not got.requires_grad


def test_op_settings_descent_cannot_run_are_refused_at_load(tmp_path):
    cases = [
        (_N("Pad", ["x", "p"], ["y"], mode="reflect"), "mode='reflect'"),
        (_N("ArgMax", ["x"], ["y"], select_last_index=1), "select_last_index=1"),
        (_N("Gelu", ["x"], ["y"], approximate="fast"), "approximate='fast'"),
    ]
    for node, message in cases:
        opset = 20 if node.op_type == "Gelu" else 17
        inits = [numpy_helper.from_array(np.zeros(4, np.int64), "p")]
        out = _float("y", [3, 4])
        model = _model([node], [_float("x", [3, 4])], [out], inits, opset=opset)
        path = _save(model, tmp_path / "bad.onnx")
        with pytest.raises(ds.onnx.OnnxError, match=rf"\({node.op_type}\): {message}"):
            ds.onnx.load(path)
    ln = _N("LayerNormalization", ["x", "s"], ["y", "mean"])
    model = _model([ln], [_float("x", [3, 4])], [_float("y", [3, 4]), _float("mean", [3, 1])],
                   [numpy_helper.from_array(_SLOPE, "s")])  # fmt: skip
    with pytest.raises(ds.onnx.OnnxError, match="Mean and InvStdDev outputs"):
        ds.onnx.load(_save(model, tmp_path / "ln.onnx"))


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_a_torch_embedding_is_a_descent_embedding_that_takes_indices(tmp_path, exporter):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2)).eval()
    path = tmp_path / "emb.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randint(0, 10, (2, 3)),), str(path),
                          dynamo=EXPORTERS[exporter], input_names=["input"],
                          dynamic_axes={"input": {0: "batch"}})  # fmt: skip
    imported = ds.onnx.load(path)
    layer = dict(imported.named_modules())["0"]
    assert isinstance(layer, ds.nn.Embedding)
    rng = np.random.default_rng(0)
    for n in (1, 5):
        idx = rng.integers(0, 10, (n, 3))
        with torch.no_grad():
            want = model(torch.from_numpy(idx)).numpy()
        np.testing.assert_allclose(imported(idx).numpy(), want, atol=ATOL)
        np.testing.assert_allclose(imported(ds.tensor(idx)).numpy(), want, atol=ATOL)
    model(torch.from_numpy(idx)).sum().backward()
    imported(idx).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), model[0].weight.grad.numpy(), atol=ATOL)


def test_gather_with_computed_indices_along_any_axis_is_differentiable(tmp_path):
    nodes = [_N("Gather", ["x", "i"], ["y"], axis=1)]
    inputs = [_float("x", [2, 5]), helper.make_tensor_value_info("i", _I64, ["k"])]
    path = _save(_model(nodes, inputs, [_float("y", [2, "k"])]), tmp_path / "g.onnx")
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    i = np.array([4, -1, 0], np.int64)  # ONNX counts a negative index from the end
    imported = ds.onnx.load(path)
    xt = ds.tensor(x, requires_grad=True)
    y = imported(xt, i)
    np.testing.assert_array_equal(y.numpy(), _ort(path, x=x, i=i))
    y.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), [[1, 0, 0, 0, 2]] * 2)
    with pytest.raises(ds.onnx.OnnxError, match=r"\(Gather\): an index is out of range"):
        imported(xt, np.array([5], np.int64))


def torch_norm_act() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 6), nn.GELU(), nn.LayerNorm(6), nn.ReLU6(),
                         nn.Linear(6, 6), nn.GELU("tanh"), nn.Linear(6, 2))  # fmt: skip


@pytest.mark.parametrize("exporter, opset", [("legacy", 11), ("legacy", 17), ("dynamo", 18)])
def test_torch_gelu_layernorm_relu6_load_with_torch_outputs_and_gradients(tmp_path, exporter,
                                                                          opset):  # fmt: skip
    torch.manual_seed(0)
    model = torch_norm_act().eval()
    path = export(model, (5,), tmp_path / "na.onnx", EXPORTERS[exporter], opset_version=opset)
    imported = ds.onnx.load(path)
    assert max(max_diffs(model, imported, (5,)).values()) <= ATOL
    x = np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)
    y = np.random.default_rng(2).standard_normal((6, 2)).astype(np.float32)
    assert _grads_equal(model, imported, x, y) <= 1e-4


def _export_again_after_a_step(imported, shape, path):
    """One SGD step in train mode, then ds.onnx.export of the module; the largest
    |onnxruntime - the trained module| (eval mode) over two batch sizes."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, *shape)).astype(np.float32)
    before = {k: p.numpy().copy() for k, p in imported.named_parameters()}
    imported.train()
    opt = ds.optim.SGD(imported.parameters(), lr=0.1)
    opt.zero_grad()
    (imported(x) ** 2).mean().backward()
    opt.step()
    assert any((p.numpy() != before[k]).any() for k, p in imported.named_parameters())
    imported.eval()
    ds.onnx.export(imported, x[:2], path, opset=imported._opset)
    worst = 0.0
    for n in (1, 5):
        xb = rng.standard_normal((n, *shape)).astype(np.float32)
        with ds.no_grad():
            want = imported(xb).numpy()
        got = _ort(path, **{onnx.load(str(path)).graph.input[0].name: xb})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_a_loaded_torch_model_trains_and_exports_again(tmp_path, exporter):
    torch.manual_seed(0)
    model = _trained_stats(cnn_with_batchnorm(), (3, 8, 8))
    imported = ds.onnx.load(export(model, (3, 8, 8), tmp_path / "t.onnx", EXPORTERS[exporter]))
    _export_again_after_a_step(imported, (3, 8, 8), tmp_path / "again.onnx")


def test_a_loaded_descent_model_trains_and_exports_again(tmp_path):
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(5, 8), ds.nn.LayerNorm(8), ds.nn.GELU(),
                             ds.nn.Dropout(0.2), ds.nn.Linear(8, 3), ds.nn.Softplus())  # fmt: skip
    imported = ds.onnx.load(ds.onnx.export(model, ds.randn(2, 5), tmp_path / "d.onnx"))
    _export_again_after_a_step(imported, (5,), tmp_path / "again.onnx")
    emb = ds.nn.Sequential(ds.nn.Embedding(10, 4), ds.nn.Flatten(), ds.nn.Linear(12, 2))
    idx = np.array([[1, 2, 3], [9, 0, 4]])
    imported = ds.onnx.load(ds.onnx.export(emb, idx, tmp_path / "e.onnx"))
    path = ds.onnx.export(imported, idx, tmp_path / "e2.onnx")
    with ds.no_grad():
        np.testing.assert_allclose(_ort(path, input=idx), emb(idx).numpy(), atol=1e-6)


def test_an_onnx_module_exports_only_at_its_files_opset(tmp_path):
    imported = ds.onnx.load(ds.onnx.export(ds.nn.Linear(3, 2), ds.randn(2, 3), tmp_path / "l.onnx"))
    with pytest.raises(ds.onnx.ExportError, match="opset 17 file.*export it with opset=17"):
        ds.onnx.export(imported, ds.randn(2, 3), None, opset=18)
