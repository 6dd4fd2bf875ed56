"""Checkpoints in safetensors: arrays as tensors, everything else as JSON in the metadata.

No pickle: a checkpoint holds NumPy arrays and a JSON description of the nested state
(dicts, lists, numbers, strings), so loading one never runs code. Files are written to a
temporary name in the same folder and renamed, so a crash never leaves a half-written
checkpoint behind.

The file is plain safetensors: an 8-byte little-endian header length, a JSON header (each
tensor's dtype, shape and byte range, and ``__metadata__``, a map of strings), then the
tensors' bytes back to back. descent's metadata holds the format tag, the description
(``structure``) and ``checksums``: the CRC-32 of each tensor's bytes with its dtype and
shape, and of the rest of the metadata, all checked on load. The format tag says they
are there (``descent.checkpoint/2``), so a file that lost them is refused; checkpoints
written before checksums (``descent.checkpoint/1``) and files written by other tools have
none and load unchecked.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np

from ..tensor import Tensor, check_device, make_tensor
from .files import atomic_file

__all__ = ["save", "load", "load_file", "load_metadata", "CheckpointError"]

_FORMAT = "descent.checkpoint/2"  # what save writes: checksums always
_UNCHECKED_FORMAT = "descent.checkpoint/1"  # written before checksums: loads unchecked
_DESCENT_KEYS = ("format", "structure", "checksums")
_MAX_HEADER = 100 * 1024 * 1024  # the limit safetensors itself sets
_CHUNK = 64 * 1024 * 1024  # bytes per read or write call: large files go in pieces

# safetensors dtype -> the NumPy dtype of its bytes (safetensors is little-endian)
_NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}  # fmt: skip
_SAFETENSORS = {np.dtype(v): k for k, v in _NUMPY.items()}


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, truncated or not a descent checkpoint."""


# ---- dtypes NumPy does not have, read as float32 ------------------------------------------


def _from_bf16(raw: np.ndarray) -> np.ndarray:
    """bfloat16 is the top half of a float32: shift the 16 bits into place."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def _from_e5m2(raw: np.ndarray) -> np.ndarray:
    """float8 E5M2 is the top byte of a float16 (same exponent bias, 15)."""
    return (raw.astype(np.uint16) << 8).view(np.float16).astype(np.float32)


def _e4m3_table() -> np.ndarray:
    """The 256 values of float8 E4M3 (the 'fn' variant: bias 7, no inf, NaN at S.1111.111)."""
    b = np.arange(256)
    exponent, mantissa = (b >> 3) & 0xF, b & 0x7
    value = np.where(
        exponent == 0, mantissa / 8 * 2.0**-6, (1 + mantissa / 8) * 2.0 ** (exponent - 7)
    )
    value = np.where(b & 0x80, -value, value)
    value[(exponent == 15) & (mantissa == 7)] = np.nan
    return value.astype(np.float32)


_E4M3 = _e4m3_table()

# safetensors dtype -> (the NumPy dtype of its bits, their conversion to float32)
_WIDENED = {
    "BF16": (np.dtype("<u2"), _from_bf16),
    "F8_E5M2": (np.dtype("u1"), _from_e5m2),
    "F8_E4M3": (np.dtype("u1"), lambda raw: _E4M3[raw]),
}


# ---- writing ------------------------------------------------------------------------------


def _storable(value: np.ndarray, path: str) -> np.ndarray:
    """``value`` as safetensors stores it: C order, little-endian; 0-d stays 0-d."""
    dtype = value.dtype
    if dtype.kind not in "biuf" or dtype.newbyteorder("<") not in _SAFETENSORS:
        raise TypeError(
            f"save: array at '{path}' has dtype {dtype}, which a checkpoint cannot hold; "
            f"convert it to a float, int, uint or bool dtype of at most 64 bits"
        )
    return np.asarray(value, dtype=dtype.newbyteorder("<"), order="C")


def _tensor_name(path: str, arrays: dict) -> str:
    """A name for the tensor at ``path``: the path itself, made unique when two entries
    flatten to the same path (``{'a/b': x, 'a': {'b': y}}``, ``{1: x, '1': y}``) or it
    is the header's reserved ``__metadata__``; the description says which is which."""
    name, n = path, 1
    while name in arrays or name == "__metadata__":
        name, n = f"{path}~{n}", n + 1
    return name


def _encode(value, path: str, arrays: dict):
    """The JSON form of ``value``; arrays go to ``arrays`` under readable names."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = value._data if isinstance(value, Tensor) else value
        name = _tensor_name(path, arrays)
        arrays[name] = _storable(array, path)
        return {"__tensor__" if isinstance(value, Tensor) else "__array__": name}
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
        return _encode(value.item(), path, arrays)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at '{path}'; a checkpoint holds tensors, "
        f"arrays, numbers, strings, None, and dicts, lists and tuples of them"
    )


def _as_bytes(array: np.ndarray) -> memoryview:
    return memoryview(array.reshape(-1).view(np.uint8))


def _crc(data) -> str:
    return f"{zlib.crc32(data):08x}"


def _description_crc(meta: dict) -> str:
    """The checksum of every metadata entry but the checksums themselves."""
    rest = {k: v for k, v in meta.items() if k != "checksums"}
    return _crc(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def save(obj_state, path, metadata: dict | None = None) -> Path:
    """Write ``obj_state`` (nested dicts of tensors, arrays, numbers, strings) to ``path``.

    ``metadata``: extra strings stored in the file's header (e.g. a description). The
    file is written to a temporary name and renamed, so ``path`` is always whole.

    >>> ds.save({"model": model.state_dict(), "epoch": 3}, "run/ckpt.safetensors")
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj_state, "", arrays)
    meta = {"format": _FORMAT, "structure": json.dumps(structure, separators=(",", ":"))}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str) or k in _DESCENT_KEYS:
            raise ValueError(
                f"save: metadata {k!r} must be a str under a str key other than "
                f"{', '.join(map(repr, _DESCENT_KEYS))}"
            )
        meta[k] = v
    table, sums, offset = {}, {}, 0
    for name, array in arrays.items():
        dtype, shape = _SAFETENSORS[array.dtype], list(array.shape)
        table[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + array.nbytes],
        }
        sums[name] = [dtype, shape, _crc(_as_bytes(array))]
        offset += array.nbytes
    checksums = {"algorithm": "crc32", "description": _description_crc(meta), "tensors": sums}
    meta["checksums"] = json.dumps(checksums, separators=(",", ":"))
    header = json.dumps({"__metadata__": meta, **table}, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)  # the tensors start 8-byte aligned, as safetensors'
    with atomic_file(path) as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for array in arrays.values():
            data = _as_bytes(array)
            for start in range(0, len(data), _CHUNK):
                f.write(data[start : start + _CHUNK])
    return Path(path)


# ---- reading ------------------------------------------------------------------------------


def _open(path: Path):
    """``path`` opened for reading, after checking that it is a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except OSError as e:
        raise _os_error(path, e) from None
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a directory" if stat.S_ISDIR(info.st_mode)
            else "a FIFO" if stat.S_ISFIFO(info.st_mode)
            else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket or other special file"
        )  # fmt: skip
        raise CheckpointError(f"checkpoint {path} is not a regular file (it is {kind})")
    try:
        return open(path, "rb")
    except OSError as e:
        raise _os_error(path, e) from None


def _os_error(path: Path, e: OSError) -> CheckpointError:
    if e.errno == errno.ENAMETOOLONG:
        return CheckpointError(
            f"checkpoint {path}: the path name is too long for the file system; check the path"
        )
    return CheckpointError(f"cannot read checkpoint {path}: {e.strerror or e}")


def _unique_keys(pairs):
    """A JSON object as a dict, refusing a key given twice (json keeps the last silently)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {k!r} appears twice")
        out[k] = v
    return out


def _json(text: str, what: str, fail):
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise fail(f"is corrupt: its {what} is nested too deeply to be one descent wrote") from None
    except ValueError as e:  # JSONDecodeError, a repeated key, an int too long
        raise fail(f"is corrupt: its {what} is not valid JSON ({e})") from None


def _read_header(f, size: int, fail) -> tuple[dict, int]:
    head = f.read(9)  # the header's length, then its first byte: '{' in every safetensors file
    f.seek(8)
    pickled = head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    if head[8:] != b"{" and (head.startswith(b"PK\x03\x04") or pickled):  # zip, or a pickle
        raise fail(
            "is a PyTorch file written by torch.save (a pickle), which descent never reads "
            "(loading a pickle can run any code); in PyTorch, save the weights as safetensors "
            "with safetensors.torch.save_file(model.state_dict(), path), then "
            "model.load_state_dict(ds.load(path))"
        )
    if len(head) < 8:
        raise fail(f"is truncated or not a safetensors file ({size} bytes)")
    (n,) = struct.unpack("<Q", head[:8])
    if n > _MAX_HEADER:
        raise fail(
            f"is corrupt or not a safetensors file: its header claims {n} bytes, over the "
            f"limit of {_MAX_HEADER} bytes"
        )
    if n > size - 8:
        raise fail(
            f"is corrupt or truncated: its header claims {n} bytes but the file has "
            f"{size - 8} after the length field"
        )
    raw = f.read(n)
    if len(raw) < n:
        raise fail("is truncated (it changed while being read)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail(f"has a corrupt header (not UTF-8: {e})") from None
    header = _json(text, "header", fail)
    if not isinstance(header, dict):
        raise fail("has a corrupt header (not a JSON object)")
    return header, n


def _is_count(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _tensor_table(header: dict, data_size: int, fail) -> dict:
    """name -> (safetensors dtype, shape, start, end), checked: known dtypes, sizes that
    match the shapes, and byte ranges that tile the data exactly."""
    table = {}
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise fail(f"has a corrupt entry for tensor {name!r}: {str(info)[:80]}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str):
            raise fail(f"has a corrupt dtype for tensor {name!r}: {dtype!r}")
        if dtype not in _NUMPY and dtype not in _WIDENED:
            known = ", ".join([*_NUMPY, *_WIDENED])
            raise fail(
                f"holds tensor {name!r} in dtype {dtype}, and dtype {dtype} is not supported "
                f"(descent reads {known})"
            )
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise fail(f"has a corrupt shape for tensor {name!r}: {shape!r}")
        if (
            not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_count(o) for o in offsets) or offsets[0] > offsets[1]
        ):  # fmt: skip
            raise fail(f"has corrupt data_offsets for tensor {name!r}: {offsets!r}")
        itemsize = (_WIDENED[dtype][0] if dtype in _WIDENED else np.dtype(_NUMPY[dtype])).itemsize
        nbytes = int(np.prod(shape, dtype=object)) * itemsize  # Python ints: no overflow
        if nbytes != offsets[1] - offsets[0]:
            raise fail(
                f"is corrupt: tensor {name!r} of dtype {dtype} and shape {shape} needs {nbytes} "
                f"bytes, its data_offsets {offsets} span {offsets[1] - offsets[0]}"
            )
        table[name] = (dtype, tuple(shape), offsets[0], offsets[1])
    end = 0
    for name, (_, _, start, stop) in sorted(table.items(), key=lambda item: item[1][2:]):
        if start != end:
            gap = "a hole before" if start > end else "an overlap at"
            raise fail(f"is corrupt: its tensor data has {gap} tensor {name!r} (byte {start})")
        end = stop
    if end != data_size:
        raise fail(
            f"is truncated or has trailing bytes: its tensors take {end} bytes, the file has "
            f"{data_size} after the header"
        )
    return table


def _read_tensor(f, base: int, entry, fail, name: str) -> tuple[np.ndarray, str]:
    """The tensor's array, read straight into its final buffer, and its bytes' CRC-32."""
    dtype, shape, start, _ = entry
    stored = _WIDENED[dtype][0] if dtype in _WIDENED else np.dtype(_NUMPY[dtype])
    array = np.empty(shape, stored)
    data = _as_bytes(array)
    f.seek(base + start)
    got = 0
    while got < len(data):
        count = f.readinto(data[got : got + _CHUNK])
        if not count:
            raise fail(f"is truncated (tensor {name!r} ends early; it changed while being read)")
        got += count
    if dtype == "BOOL" and data and np.frombuffer(data, np.uint8).max() > 1:
        raise fail(f"is corrupt: bool tensor {name!r} holds bytes other than 0 and 1")
    return array, _crc(data)


def _checksums(meta: dict, table: dict, fail) -> dict | None:
    """The checksums a descent file records (None when it has none), checked against the
    header: each tensor's dtype and shape, and the description's CRC-32."""
    if "checksums" not in meta:
        return None
    sums = _json(meta["checksums"], "checksums", fail)
    if (
        not isinstance(sums, dict) or sums.get("algorithm") != "crc32"
        or not isinstance(sums.get("tensors"), dict)
    ):  # fmt: skip
        raise fail("has corrupt checksums in its metadata")
    recorded = sums["tensors"]
    if set(recorded) != set(table):
        names = sorted(set(recorded) ^ set(table))[:5]
        raise fail(f"is corrupt: its checksums and its tensor table list different tensors {names}")
    for name, (dtype, shape, _, _) in table.items():
        entry = recorded[name]
        if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[2], str):
            raise fail(f"has a corrupt checksum for tensor {name!r}")
        if entry[0] != dtype or entry[1] != list(shape):
            raise fail(
                f"is corrupt: tensor {name!r} is {dtype} of shape {list(shape)} in the header "
                f"but {entry[0]} of shape {entry[1]} in its checksums (one of them was altered)"
            )
    if sums.get("description") != _description_crc(meta):
        raise fail(
            "is corrupt: its description (the metadata) fails its checksum; the header was "
            "altered or damaged"
        )
    return recorded


class _Decoder:
    """The nested state from its JSON description; every malformed part is a
    CheckpointError, and every tensor must be used exactly once."""

    def __init__(self, arrays: dict, fail):
        self.arrays, self.fail, self.used = arrays, fail, set()

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in _TAGS:
                raise self.fail(f"has an unknown entry in its description: {sorted(value)[:5]}")
            ((tag, body),) = value.items()
            return getattr(self, _TAGS[tag])(body)
        return value  # JSON's None, bool, int, float or str

    def tensor(self, name, wrap=True):
        if not isinstance(name, str) or name not in self.arrays:
            raise self.fail(
                f"is corrupt: its description refers to tensor {name!r}, which it does not hold"
            )
        if name in self.used:
            raise self.fail(f"is corrupt: its description uses tensor {name!r} twice")
        self.used.add(name)
        return make_tensor(self.arrays[name]) if wrap else self.arrays[name]

    def array(self, name):
        return self.tensor(name, wrap=False)

    def tuple(self, body):
        if not isinstance(body, list):
            raise self.fail(f"is corrupt: a tuple in its description is a {type(body).__name__}")
        return tuple(self(v) for v in body)

    def dict(self, body):
        if not isinstance(body, list):
            raise self.fail(f"is corrupt: a dict in its description is a {type(body).__name__}")
        out = {}
        for pair in body:
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(
                    f"is corrupt: a dict item in its description is not a [key, value] pair: "
                    f"{str(pair)[:60]}"
                )
            key, value = pair
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise self.fail(
                    f"is corrupt: a dict key in its description is {str(key)[:60]} (not a str "
                    f"or an int)"
                )
            if key in out:
                raise self.fail(
                    f"is corrupt: the dict key {key!r} appears twice in its description"
                )
            out[key] = self(value)
        return out


_TAGS = {"__tensor__": "tensor", "__array__": "array", "__tuple__": "tuple", "__dict__": "dict"}


def _is_descents(meta: dict) -> bool:
    """Whether a file's metadata says descent wrote it (any format tag of ours, or our
    description or checksums, even damaged), rather than another tool (no metadata, or
    another tool's format tag, such as ``'pt'``)."""
    tag = meta.get("format")
    return (isinstance(tag, str) and tag.startswith("descent")) or any(
        k in meta for k in _DESCENT_KEYS if k != "format"
    )


class MissingEntryError(CheckpointError, KeyError):
    """A name that a ``PlainTensors`` lacks: a ``CheckpointError`` that says which file and
    what it holds, and a ``KeyError``, so ``except KeyError`` still catches it."""

    __str__ = ValueError.__str__  # the message as written, not KeyError's quoted repr


class PlainTensors(dict):
    """The tensors of a safetensors file that descent did not write, by name, as
    ``ds.load`` returns them: a state dict for ``load_state_dict``. Asking it for a name
    it lacks is a ``MissingEntryError`` naming the file and the names it holds (a training
    checkpoint's ``'model'``, say), not a bare KeyError."""

    def __init__(self, tensors: dict, path: Path):
        super().__init__(tensors)
        self.path = path

    def __missing__(self, key):
        names = sorted(self)
        shown = ", ".join(map(repr, names[:8])) + (", ..." if len(names) > 8 else "")
        raise MissingEntryError(
            f"checkpoint {self.path} is a plain safetensors file of {len(names)} tensors "
            f"({shown}), not a descent checkpoint, so it has no entry {key!r}; it loads as a "
            f"state dict (model.load_state_dict(ds.load(path)))"
        )


def _read(path: Path, checkpoint: bool) -> tuple[dict, dict, object]:
    """The metadata and arrays of the safetensors file ``path`` (BF16 and F8 as float32),
    checked against its checksums when it is a descent checkpoint; with ``checkpoint``,
    a file that descent wrote must be a whole checkpoint."""

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path} {what}")

    with _open(path) as f:
        size = os.fstat(f.fileno()).st_size
        header, n = _read_header(f, size, fail)
        meta = header.pop("__metadata__", {})
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise fail("has a corrupt header: __metadata__ must be a JSON object of strings")
        table = _tensor_table(header, size - 8 - n, fail)
        ours = meta.get("format") in (_FORMAT, _UNCHECKED_FORMAT)
        checkpoint = checkpoint and _is_descents(meta)
        if checkpoint and not ours:
            raise fail(
                f"has the format tag {meta.get('format')!r}; this descent reads {_FORMAT!r} "
                f"and {_UNCHECKED_FORMAT!r} "
                f"(a newer descent may have written it)"
            )
        if checkpoint and "structure" not in meta:
            raise fail("is corrupt: its metadata has no description ('structure')")
        if meta.get("format") == _FORMAT and "checksums" not in meta:
            raise fail("is corrupt: its format tag promises checksums, but it has none")
        sums = _checksums(meta, table, fail) if ours else None
        arrays = {}
        for name, entry in table.items():
            array, crc = _read_tensor(f, 8 + n, entry, fail, name)
            if sums is not None and sums[name][2] != crc:
                raise fail(
                    f"is damaged: tensor {name!r} fails its checksum (crc32 {crc}, written as "
                    f"{sums[name][2]}); restore the file from a copy"
                )
            dtype = entry[0]
            arrays[name] = _WIDENED[dtype][1](array) if dtype in _WIDENED else array
    return meta, arrays, fail


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Read a checkpoint written by ``save``; tensors come back as Tensors.

    PyTorch's keywords are accepted so that ``model.load_state_dict(torch.load(path,
    map_location=device, weights_only=True))`` runs as written: ``map_location`` may name
    the CPU (``'cpu'``, ``ds.device('cpu')``; another device is refused, as everywhere),
    and ``weights_only`` and ``mmap`` change nothing, since a checkpoint holds only
    tensors and plain data and never runs code.

    Every tensor is read straight into its own array (no copy of the whole file) and
    checked against the CRC-32 ``save`` recorded, with its dtype and shape, and so is the
    description. A checkpoint without checksums (written by another tool) loads
    unchecked; its BF16, F8_E4M3 and F8_E5M2 tensors, which NumPy lacks, come back as
    float32. A plain safetensors file (another tool's, such as a PyTorch ``state_dict``
    written by ``safetensors.torch.save_file``) has no description: it loads as a flat
    dict of name -> Tensor (a ``PlainTensors``), ready for ``model.load_state_dict``.

    Raises ``CheckpointError`` naming the file and the problem for a missing, unreadable,
    corrupt, truncated or altered file. Loading also removes the temporary files that
    killed writes of ``path`` left beside it.
    """
    check_device(map_location)
    meta, arrays, fail = _read(Path(path), checkpoint=True)
    if not _is_descents(meta):
        return PlainTensors({k: make_tensor(a) for k, a in arrays.items()}, Path(path))
    structure = _json(meta["structure"], "description", fail)
    decode = _Decoder(arrays, fail)
    try:
        state = decode(structure)
    except RecursionError:
        raise fail("has a description nested too deeply to be one descent wrote") from None
    unused = [name for name in arrays if name not in decode.used]
    if unused:
        raise fail(f"is corrupt: it holds tensors its description never uses: {unused[:5]}")
    return state


def load_metadata(path) -> dict:
    """The extra strings ``save(..., metadata=...)`` stored in the checkpoint ``path`` (its
    own format keys left out), after the same checks as ``load``.

    >>> ds.io.load_metadata("runs/iris/model.safetensors")["config"]  # doctest: +SKIP
    """
    meta, _, _ = _read(Path(path), checkpoint=True)
    return {k: v for k, v in meta.items() if k not in _DESCENT_KEYS}


def load_file(path) -> dict:
    """The tensors of any safetensors file, as a flat dict of name -> Tensor (safetensors'
    ``load_file``): a model's weights written by another tool, say. BF16, F8_E4M3 and
    F8_E5M2 tensors come back as float32. A descent checkpoint's tensors are checked
    against its checksums; other files have none and load unchecked.

    >>> model.load_state_dict(ds.io.load_file("weights.safetensors"))
    """
    _, arrays, _ = _read(Path(path), checkpoint=False)
    return {name: make_tensor(array) for name, array in arrays.items()}
