"""ONNX files: ``ds.onnx.export(model, example_input, path)`` writes one from a Module or a
fitted estimator (see ``descent/onnx/export.py``).

>>> ds.onnx.export(model, ds.randn(1, 4), "mlp.onnx")  # doctest: +SKIP
PosixPath('mlp.onnx')
"""

from .export import ExportError, Graph, export

__all__ = ["export", "ExportError", "Graph"]
