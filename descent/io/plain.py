"""Plain data: nested state as the Python values JSON and a checkpoint's description hold."""

from __future__ import annotations

__all__ = ["plain_data"]


def plain_data(value):
    """A copy of ``value`` in plain Python: dicts (string keys), lists, numbers, strings.

    Tuples become lists and NumPy scalars and arrays their ``tolist()``, so the result can
    be written as JSON and never aliases the arrays or dicts it came from.
    """
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value
