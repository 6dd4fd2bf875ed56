"""Checkpoints in safetensors: arrays as tensors, everything else as JSON in the metadata.

No pickle: a checkpoint holds NumPy arrays and a JSON description of the nested state
(dicts, lists, numbers, strings), so loading one never runs code. Files are written to a
temporary name in the same folder and renamed, so a crash never leaves a half-written
checkpoint behind.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ..tensor import Tensor, make_tensor
from .files import atomic_write

__all__ = ["save", "load", "CheckpointError"]

_FORMAT = "descent.checkpoint/1"
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, truncated or not a descent checkpoint."""


def _encode(value, path: str, arrays: dict):
    """The JSON form of ``value``; arrays go to ``arrays`` under readable names."""
    if isinstance(value, Tensor):
        arrays[path] = np.ascontiguousarray(value.data)
        return {"__tensor__": path}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"save: array at '{path}' has dtype {value.dtype}, which is not numeric"
            )
        arrays[path] = np.ascontiguousarray(value)
        return {"__array__": path}
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"save: key {k!r} at '{path}' must be a str or an int")
            items.append([k, _encode(v, f"{path}/{k}" if path else str(k), arrays)])
        return {"__dict__": items}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{path}/{i}", arrays) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at '{path}'; a checkpoint holds tensors, "
        f"arrays, numbers, strings, None, and dicts, lists and tuples of them"
    )


def _decode(value, arrays: dict):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "__tensor__" in value:
            return make_tensor(arrays[value["__tensor__"]])
        if "__array__" in value:
            return arrays[value["__array__"]]
        if "__tuple__" in value:
            return tuple(_decode(v, arrays) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: _decode(v, arrays) for k, v in value["__dict__"]}
        raise CheckpointError(f"unknown entry in the checkpoint's description: {sorted(value)}")
    return value


def save(obj_state, path, metadata: dict | None = None) -> Path:
    """Write ``obj_state`` (nested dicts of tensors, arrays, numbers, strings) to ``path``.

    ``metadata``: extra strings stored in the file's header (e.g. a description).

    >>> ds.save({"model": model.state_dict(), "epoch": 3}, "run/ckpt.safetensors")
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj_state, "", arrays)
    header = {"format": _FORMAT, "structure": json.dumps(structure)}
    for k, v in (metadata or {}).items():
        if not isinstance(v, str) or k in header:
            raise ValueError(f"save: metadata {k!r} must be a str and not 'format'/'structure'")
        header[k] = v
    blob = st_save(arrays, metadata=header)
    return atomic_write(path, blob)


def read_header(path) -> tuple[dict, int]:
    """The safetensors JSON header of ``path`` and its length, checked against the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(
                f"checkpoint {path} is truncated or not a safetensors file ({size} bytes)"
            )
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER):
            raise CheckpointError(
                f"checkpoint {path} is corrupt or truncated: its header claims {n} bytes but "
                f"the file has {size - 8} after the length field"
            )
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"checkpoint {path} has a corrupt header: {e}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"checkpoint {path} has a corrupt header (not a JSON object)")
    return header, n


def load(path):
    """Read a checkpoint written by ``save``; tensors come back as Tensors.

    Raises ``CheckpointError`` with the file name on a missing, corrupt or truncated file.
    """
    path = Path(path)
    header, n = read_header(path)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != _FORMAT:
        raise CheckpointError(
            f"{path} is a safetensors file but not a descent checkpoint (no '{_FORMAT}' "
            f"format tag); use safetensors.numpy.load_file to read plain tensors"
        )
    expected = 8 + n
    try:
        for name, info in header.items():
            if name != "__metadata__":
                expected = max(expected, 8 + n + int(info["data_offsets"][1]))
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(f"checkpoint {path} has a corrupt tensor table: {e!r}") from None
    size = path.stat().st_size
    if size != expected:
        raise CheckpointError(
            f"checkpoint {path} is truncated or has trailing bytes: expected {expected} bytes, "
            f"found {size}"
        )
    try:
        arrays = {k: np.array(v) for k, v in st_load(path.read_bytes()).items()}  # writeable
        structure = json.loads(meta["structure"])
    except (SafetensorError, KeyError, json.JSONDecodeError, ValueError) as e:
        raise CheckpointError(f"checkpoint {path} is corrupt: {e}") from None
    return _decode(structure, arrays)
