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
