"""The optional extras: import one of their modules, or say which ``pip install`` brings it.

descent itself needs only NumPy. What reaches further (matplotlib for plots,
scikit-learn for the bundled datasets, onnx, a TensorBoard writer, nbformat) is an extra
of the package, imported only when it is used, and a missing one is an ImportError that
names what needed it and the line that installs it.
"""

from __future__ import annotations

import importlib

__all__ = ["require"]


def require(module: str, extra: str, needed_for: str, package: str | None = None):
    """The module ``module``, imported; if it is not installed, an ImportError saying that
    ``needed_for`` needs it and naming ``pip install 'descent[extra]'`` (or the package
    alone, ``package`` where its name on the package index is not the module's)."""
    top = module.split(".")[0]
    try:
        importlib.import_module(top)  # a package blocked or missing fails here, even when
        return importlib.import_module(module)  # its submodule was imported before
    except ImportError as e:
        raise ImportError(
            f"{needed_for} needs {top}, an optional extra: pip install 'descent[{extra}]' "
            f"(or pip install {package or top})"
        ) from e
