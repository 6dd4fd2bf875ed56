"""File readers: CSV tables, NumPy .npz archives and IDX files (the MNIST format).

Every reader checks its input before trusting it. A bad file is a ``ValueError`` (a
missing one a ``FileNotFoundError``) that names the file, where the problem is (line,
byte offset or array) and how to fix it. Nothing is unpickled, and no size read from a
header is allocated before it is checked against the size of the file.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections import Counter
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor, as_dtype, tensor

# Deflate cannot expand data by more than about 1032:1; a gzip or zip member whose claimed
# size is beyond that bound lies about its size (or is a decompression bomb).
MAX_DEFLATE_RATIO = 1100


def _file_size(path: str, reader: str) -> int:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise FileNotFoundError(f"{reader}: no such file: {path!r}") from None
    if os.path.isdir(path):
        raise IsADirectoryError(f"{reader}: {path!r} is a directory; give the path of a file")
    if size == 0:
        raise ValueError(f"{reader}: {path!r} is empty (0 bytes); check the path or rewrite it")
    return size


# ---- CSV ------------------------------------------------------------------------------------


class CSVColumns(NamedTuple):
    """Column names from ``read_csv(..., return_names=True)``.

    ``features``: the names of X's columns, in order; ``target``: the target column's name
    (None without a target); ``classes``: for a target of text labels, the label of each
    class index (``classes[y[i]]``), else None. Without a header, column ``i`` is ``"x{i}"``.
    """

    features: list
    target: str | None
    classes: list | None


_INTEGER = re.compile(r"[+-]?\d+")


def read_csv(
    path,
    target=None,
    delimiter: str = ",",
    header: bool = True,
    dtype="float32",
    return_names: bool = False,
):
    """Read a CSV file of numbers into Tensors.

    Returns ``X`` (examples x features), or ``(X, y)`` when ``target`` names a column (by
    its header name, or by index). X has ``dtype`` (float32 unless asked). y is int64 when
    every target value is an integer such as ``3`` (class labels), floating when the values
    are numbers such as ``2.5``, and for text labels such as ``setosa`` it holds class
    indices 0..k-1 in sorted label order. With ``return_names=True`` a ``CSVColumns``
    (feature names, target name, class labels) is appended: ``X, y, cols = read_csv(...)``.

    Fields may be quoted (the csv module's rules); blank lines are skipped. Missing values
    are an error (fill or drop them first); the words ``nan`` and ``inf`` are numbers.

    >>> X, y = read_csv("iris.csv", target="species")  # doctest: +SKIP
    """
    p = os.fspath(path)
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"read_csv: dtype must be a floating type for X, got {dtype}")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise ValueError(
            f"read_csv: delimiter must be one character (not a quote or newline), got {delimiter!r}"
        )
    rows = _csv_rows(p, delimiter)
    first_line, first = rows[0]
    if header:
        names = [name.strip() for name in first]
        duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicated:
            raise ValueError(
                f"read_csv: {p}: line {first_line}: the header repeats column names "
                f"{duplicated}; give every column its own name"
            )
        rows = rows[1:]
        if not rows:
            raise ValueError(f"read_csv: {p}: has a header (line {first_line}) but no data rows")
    else:
        names = [f"x{i}" for i in range(len(first))]
    t = _target_index(p, names, target, header)
    features = [j for j in range(len(names)) if j != t]

    table, labels = [], []
    for line, row in rows:
        if len(row) != len(names):
            where = "the header" if header else f"the first row (line {first_line})"
            raise ValueError(
                f"read_csv: {p}: line {line}: expected {len(names)} fields as in {where}, "
                f"found {len(row)}; check for a missing or extra delimiter {delimiter!r}"
            )
        try:
            table.append([float(row[j]) for j in features])
        except ValueError:
            _raise_bad_number(p, line, row, features, names)
        if t is not None:
            label = row[t].strip()
            if not label:
                raise ValueError(
                    f"read_csv: {p}: line {line}: the target column {names[t]!r} is empty; "
                    f"missing values are not supported, fill or drop that row"
                )
            labels.append(label)
    x = tensor(np.array(table, dtype=np.float64).reshape(len(table), len(features)), dtype=dtype)
    feature_names = [names[j] for j in features]
    if t is None:
        return (x, CSVColumns(feature_names, None, None)) if return_names else x
    y, classes = _target_values(labels, dtype)
    if return_names:
        return x, y, CSVColumns(feature_names, names[t], classes)
    return x, y


def _csv_rows(p: str, delimiter: str) -> list:
    """The file's non-blank rows as ``(line number, fields)``."""
    _file_size(p, "read_csv")
    with open(p, "rb") as f:
        data = f.read()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a UTF-8 byte-order mark
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = start + e.start
        line = data.count(b"\n", 0, offset) + 1
        raise ValueError(
            f"read_csv: {p}: line {line} (byte offset {offset}) is not UTF-8 text "
            f"(byte 0x{data[offset]:02x}); save the file as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            rows.append((reader.line_num, row))
    except csv.Error as e:
        raise ValueError(
            f"read_csv: {p}: line {reader.line_num}: malformed CSV ({e}); check the quotes "
            f"on that line"
        ) from None
    if not rows:
        raise ValueError(f"read_csv: {p} holds no rows (only blank lines); is it the right file?")
    return rows


def _target_index(p: str, names: list, target, header: bool) -> int | None:
    if target is None:
        return None
    if isinstance(target, str):
        if not header:
            raise ValueError(
                f"read_csv: {p}: target={target!r} is a column name but header=False; give the "
                f"target column's index instead"
            )
        if target not in names:
            raise ValueError(f"read_csv: {p}: no column named {target!r}; the columns are {names}")
        return names.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(
                f"read_csv: {p}: target column index {target} is out of range for "
                f"{len(names)} columns {names}"
            )
        return int(target) % len(names)
    raise TypeError(f"read_csv: target must be a column name or index, got {target!r}")


def _raise_bad_number(p: str, line: int, row: list, features: list, names: list):
    for j in features:
        text = row[j]
        try:
            float(text)
        except ValueError:
            if not text.strip():
                problem = "is empty; missing values are not supported, fill or drop that row"
            else:
                problem = f"holds {text!r}, which is not a number"
            raise ValueError(
                f"read_csv: {p}: line {line}, column {names[j]!r} (field {j + 1}) {problem}"
            ) from None


def _target_values(labels: list, dtype) -> tuple[Tensor, list | None]:
    """y as int64 labels, floating values, or indices of sorted text labels."""
    if all(_INTEGER.fullmatch(v) for v in labels):
        values = [int(v) for v in labels]
        if all(-(2**63) <= v < 2**63 for v in values):
            return tensor(np.array(values, dtype=np.int64)), None
    try:
        return tensor(np.array([float(v) for v in labels]), dtype=dtype), None
    except ValueError:
        classes = sorted(set(labels))
        index = {c: i for i, c in enumerate(classes)}
        return tensor(np.array([index[v] for v in labels], dtype=np.int64)), classes


# ---- NPZ ------------------------------------------------------------------------------------


def read_npz(path) -> dict:
    """Read a NumPy ``.npz`` archive (``np.savez`` / ``np.savez_compressed``) as a dict
    of Tensors, keeping each array's dtype.

    Pickled data is refused: an array of Python objects is an error, never unpickled.

    >>> arrays = read_npz("weights.npz")  # doctest: +SKIP
    """
    p = os.fspath(path)
    size = _file_size(p, "read_npz")
    with open(p, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise ValueError(
            f"read_npz: {p} is a .npy file (one array), not an .npz archive; load it with "
            f"np.load(path, allow_pickle=False) and ds.tensor"
        )
    if not head.startswith(b"PK"):
        raise ValueError(
            f"read_npz: {p} is not an .npz archive: it starts with bytes {head.hex(' ')} where "
            f"a zip archive starts with 'PK'; write it with np.savez"
        )
    out = {}
    try:
        with zipfile.ZipFile(p) as archive:
            for info in archive.infolist():
                key = _npz_key(p, info, out)
                out[key] = _read_npz_member(p, archive, info, size)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise ValueError(
            f"read_npz: {p} is not a readable .npz archive ({e}); it may be truncated or "
            f"corrupt, so write it again"
        ) from None
    return out


def _npz_key(p: str, info: zipfile.ZipInfo, seen: dict) -> str:
    if not info.filename.endswith(".npy"):
        raise ValueError(
            f"read_npz: {p}: member {info.filename!r} is not a .npy array; an .npz archive "
            f"holds only arrays"
        )
    key = info.filename[: -len(".npy")]
    if key in seen:
        raise ValueError(f"read_npz: {p}: the archive holds array {key!r} twice")
    return key


def _read_npz_member(p: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int):
    where = f"read_npz: {p}: array {info.filename[:-4]!r}"
    if info.compress_type == zipfile.ZIP_STORED:
        bound = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        bound = MAX_DEFLATE_RATIO * info.compress_size + 1024
    else:
        raise ValueError(
            f"{where} uses zip compression method {info.compress_type}; only stored and "
            f"deflated members (np.savez, np.savez_compressed) are read"
        )
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted; np.savez never encrypts, so this is no .npz")
    if info.compress_size > size or info.file_size > bound:
        raise ValueError(
            f"{where}: the archive claims {info.file_size} bytes stored in {info.compress_size}, "
            f"impossible in a file of {size} bytes; the archive is corrupt"
        )
    with archive.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as e:
            raise ValueError(f"{where}: bad .npy header ({e}); the archive is corrupt") from None
        if dtype.hasobject:
            raise ValueError(
                f"{where} holds Python objects (pickled data, dtype {dtype}); descent refuses "
                f"pickle because loading it can run arbitrary code. Save numeric arrays only"
            )
        if dtype.kind not in "fiub":
            raise ValueError(
                f"{where} has dtype {dtype}, which a Tensor cannot hold; save numbers "
                f"(float, int, uint or bool arrays)"
            )
        header_size = f.tell()
        expected = math.prod(shape) * dtype.itemsize
        available = info.file_size - header_size
        if expected != available:
            raise ValueError(
                f"{where}: its header declares shape {shape} of {dtype} ({expected} bytes) but "
                f"the member holds {available} bytes of data; the archive is corrupt"
            )
        data = f.read(expected)
    if len(data) != expected:
        raise ValueError(f"{where}: expected {expected} bytes of data, found {len(data)}")
    arr = np.frombuffer(data, dtype=dtype)
    arr = arr.reshape(shape[::-1]).T if fortran_order else arr.reshape(shape)
    return tensor(arr, dtype=dtype.newbyteorder("="))


# ---- IDX (MNIST) ----------------------------------------------------------------------------

# Type code -> the big-endian dtype of the data (the IDX spec, yann.lecun.com/exdb/mnist).
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IDX_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
MAX_IDX_DIMS = 32


def _idx_type_list() -> str:
    return ", ".join(f"0x{c:02X} {dt.newbyteorder('=')}" for c, dt in IDX_TYPES.items())


def read_idx(path) -> Tensor:
    """Read an IDX file (the MNIST format), gzip-compressed or not, as a Tensor.

    The header is two zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian int32; the data follow, big-endian, in row-major order. The
    Tensor keeps the file's type: uint8 (0x08), int8 (0x09), int16 (0x0B), int32 (0x0C),
    float32 (0x0D) or float64 (0x0E); e.g. MNIST images come as uint8, so scale them with
    ``images.float() / 255``. A gzip file (``train-images-idx3-ubyte.gz``) is recognised by
    its first bytes, whatever its name.

    >>> images = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    p = os.fspath(path)
    size = _file_size(p, "read_idx")
    with open(p, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not compressed:
            return _read_idx_stream(p, raw, size, size)
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read_idx_stream(p, stream, MAX_DEFLATE_RATIO * size + 1024, None)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(
                f"read_idx: {p} is gzip-compressed but the compressed data is corrupt or "
                f"truncated ({e}); download or write the file again"
            ) from None


def _read_idx_stream(p: str, f, limit: int, size: int | None) -> Tensor:
    """Parse an IDX stream. ``size`` is its exact length when known (an uncompressed file),
    ``limit`` an upper bound on it."""
    gz = " (after gzip decompression)" if size is None else ""
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(
            f"read_idx: {p} is too short for an IDX header{gz}: it needs 4 bytes (0x00 0x00, "
            f"type code, number of dimensions), found {len(head)}"
        )
    zero, code, ndim = head[:2], head[2], head[3]
    if zero != b"\x00\x00":
        raise ValueError(
            f"read_idx: {p}: bad magic number 0x{head.hex()} at byte offset 0{gz}; an IDX file "
            f"starts with two zero bytes, a type code and the number of dimensions (MNIST "
            f"images: 0x00000803, labels: 0x00000801). Is this an IDX file?"
        )
    if code not in IDX_TYPES:
        raise ValueError(
            f"read_idx: {p}: unknown data type code 0x{code:02X} at byte offset 2{gz}; IDX "
            f"type codes are {_idx_type_list()}"
        )
    if not 1 <= ndim <= MAX_IDX_DIMS:
        raise ValueError(
            f"read_idx: {p}: the header declares {ndim} dimensions at byte offset 3{gz}; "
            f"expected 1 to {MAX_IDX_DIMS} (MNIST images have 3, labels 1)"
        )
    header_size = 4 + 4 * ndim
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(
            f"read_idx: {p}: the header declares {ndim} dimensions, so it needs {header_size} "
            f"bytes, but the file{gz} has only {4 + len(raw_dims)}; it is truncated"
        )
    dims = struct.unpack(f">{ndim}i", raw_dims)
    for i, d in enumerate(dims):
        if d < 0:
            raise ValueError(
                f"read_idx: {p}: dimension {i} (byte offset {4 + 4 * i}) is negative ({d}); "
                f"the header is corrupt"
            )
    dtype = IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    shape_text = f"shape {dims} of {dtype.newbyteorder('=')}"
    if header_size + expected > limit:  # checked before anything is allocated
        what = "the file holds" if size is not None else "a gzip file this size can hold at most"
        raise ValueError(
            f"read_idx: {p}: the header declares {shape_text}, {expected} bytes of data after "
            f"the {header_size}-byte header, but {what} {limit - header_size}; the file is "
            f"truncated or its header is corrupt"
        )
    if size is not None and header_size + expected < size:
        extra = size - header_size - expected
        raise ValueError(
            f"read_idx: {p}: {extra} unexpected bytes after the data: the header declares "
            f"{shape_text}, so the file should end at byte offset {header_size + expected}; "
            f"it may be a different file glued on, or a wrong header"
        )
    data = f.read(expected)
    if len(data) < expected:
        raise ValueError(
            f"read_idx: {p}: expected {expected} bytes of data ({shape_text}) after the "
            f"{header_size}-byte header{gz}, found {len(data)}; the file is truncated"
        )
    if size is None and f.read(1):
        raise ValueError(
            f"read_idx: {p}: unexpected bytes after the data{gz}: the header declares "
            f"{shape_text}, so the data should end at byte offset {header_size + expected}"
        )
    arr = np.frombuffer(data, dtype=dtype).reshape(dims)
    return tensor(arr, dtype=dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write a Tensor or array as an IDX file; a path ending in ``.gz`` is gzip-compressed.

    The dtype must be one IDX has (uint8, int8, int16, int32, float32, float64). The file is
    written to a temporary name and renamed, so it is never left half-written.

    >>> write_idx("labels-idx1-ubyte", np.array([5, 0, 4], dtype=np.uint8))  # doctest: +SKIP
    """
    p = os.fspath(path)
    a = np.asarray(array.data if isinstance(array, Tensor) else array)
    native = a.dtype.newbyteorder("=")
    if native not in IDX_CODES:
        raise ValueError(
            f"write_idx: IDX has no type for dtype {a.dtype}; convert first, e.g. "
            f"labels.astype(np.uint8) or x.astype(np.float32) (IDX types: {_idx_type_list()})"
        )
    if not 1 <= a.ndim <= MAX_IDX_DIMS:
        raise ValueError(f"write_idx: IDX needs 1 to {MAX_IDX_DIMS} dims, got shape {a.shape}")
    if any(d >= 2**31 for d in a.shape):
        raise ValueError(f"write_idx: dimension sizes must fit an int32, got shape {a.shape}")
    head = struct.pack(">BBBB", 0, 0, IDX_CODES[native], a.ndim)
    head += struct.pack(f">{a.ndim}i", *a.shape)
    body = np.ascontiguousarray(a, dtype=native.newbyteorder(">")).tobytes()
    write_atomic(p, head + body, compress=p.endswith(".gz"))


def write_atomic(path: str, data: bytes, compress: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if compress:  # mtime=0 and no name: the same array always gives the same bytes
                with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
                    gz.write(data)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
