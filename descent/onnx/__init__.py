"""ONNX files, both ways: ``ds.onnx.export(model, example_input, path)`` writes one from a
Module or a fitted estimator (``descent/onnx/export.py``), and ``ds.onnx.load(path)`` builds
a trainable descent Module from one, e.g. from ``torch.onnx.export`` (``descent/onnx/load.py``).

>>> ds.onnx.export(model, ds.randn(1, 4), "mlp.onnx")  # doctest: +SKIP
PosixPath('mlp.onnx')
>>> ds.onnx.load("mlp.onnx")(ds.randn(5, 4)).shape  # doctest: +SKIP
descent.Size([5, 3])
"""

from .export import ExportError, Graph, export
from .load import OnnxError, OnnxModule, load

__all__ = ["export", "load", "ExportError", "OnnxError", "Graph", "OnnxModule"]
