"""ds.onnx.load of 1-D convolution and pooling files written by torch.onnx.export (both of
its exporters), and of hand-built 1-D nodes that descent's export never writes (asymmetric
pads, auto_pad): each run against PyTorch and onnxruntime, and trained a step."""

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
from onnx import TensorProto, helper  # noqa: E402


def _paper_cnn() -> nn.Module:
    """The MNIST-1D paper's CNN, with a pooling layer of each kind added."""
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1, groups=5),
        nn.ReLU(),
        nn.MaxPool1d(3, stride=1, padding=1),
        nn.Conv1d(25, 25, 3, padding=2, dilation=2),
        nn.ReLU(),
        nn.AvgPool1d(2),
        nn.Flatten(),
        nn.Linear(125, 10),
    )


def _export(model, path, dynamo: bool):
    x = torch.randn(4, 1, 40)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=dynamo, input_names=["input"],
                          dynamic_axes={"input": {0: "batch"}})  # fmt: skip
    return path


def _ort(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("dynamo", [False, True], ids=["legacy", "dynamo"])
def test_a_pytorch_conv1d_file_loads_runs_and_trains(tmp_path, dynamo):
    torch.manual_seed(0)
    model = _paper_cnn().eval()
    path = _export(model, tmp_path / "cnn.onnx", dynamo)
    imported = ds.onnx.load(path)
    kinds = {type(m).__name__ for m in imported.modules()}
    assert "Conv1d" in kinds, kinds  # the Conv nodes became descent layers
    x = np.random.default_rng(0).standard_normal((7, 1, 40)).astype(np.float32)
    ours = imported(ds.tensor(x)).numpy()
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours, _ort(path, x), rtol=1e-4, atol=1e-5)
    # the layers' weights are the file's, at PyTorch's state_dict keys when the exporter
    # keeps them, and SGD on them lowers the loss
    y = ds.tensor(np.arange(7) % 10)
    opt = ds.optim.SGD(imported.parameters(), lr=0.05)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ds.nn.functional.cross_entropy(imported(ds.tensor(x)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses


def _file(tmp_path, nodes, inits, length: int, out_shape) -> str:
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2, length])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()],
    )  # fmt: skip
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


@pytest.mark.parametrize(
    "node,out_len",
    [
        (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3], pads=[2, 0]), 7),
        (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3], strides=[2],
                          auto_pad="SAME_UPPER"), 4),
        (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3], dilations=[2], pads=[1, 3]),
         7),
        (helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3], pads=[0, 2]), 7),
        (helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2], strides=[2],
                          auto_pad="SAME_LOWER"), 4),
    ],
    ids=["conv-asymmetric", "conv-same-upper", "conv-dilated-asymmetric", "maxpool-asymmetric",
         "avgpool-same-lower"],
)  # fmt: skip
def test_hand_built_1d_nodes_match_onnxruntime(tmp_path, node, out_len):
    rng = np.random.default_rng(1)
    inits = (
        {"w": rng.standard_normal((2, 2, 3)).astype(np.float32)} if node.op_type == "Conv" else {}
    )
    path = _file(tmp_path, [node], inits, 7, [2, 2, out_len])
    x = rng.standard_normal((2, 2, 7)).astype(np.float32)
    ours = ds.onnx.load(path)(ds.tensor(x)).numpy()
    assert ours.shape == (2, 2, out_len)
    np.testing.assert_allclose(ours, _ort(path, x), rtol=1e-5, atol=1e-6)


def test_a_3d_window_is_refused_naming_what_descent_has(tmp_path):
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2, 2])
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3, 3, 3])],
    )  # fmt: skip
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(Exception, match="MaxPool over 3-d windows is not supported .*1-d and 2-d"):
        ds.onnx.load(path)
