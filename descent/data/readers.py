"""File readers: CSV tables, NumPy .npz archives and IDX files (the MNIST format).

Every reader checks its input before trusting it. A bad file is a ``DataFormatError`` (a
``ValueError``; a missing file is a ``FileNotFoundError``) that names the file, where the
problem is (line, byte offset or array) and how to fix it. Nothing is unpickled, no size
read from a header is allocated before it is checked against the size of the file, and a
compressed file is inflated only up to ``max_bytes`` (1 GiB unless raised).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
import os
import re
import stat
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
# The most bytes read_idx and read_npz inflate from compressed data unless given max_bytes:
# a 1 MiB file may hold 1 GiB of zeros, and the reader stops before that, not after.
MAX_BYTES = 2**30


class DataFormatError(ValueError):
    """A data file a reader cannot read: damaged, truncated, or not in the reader's format.

    ``path`` is the file. The message names it, says where the problem is (line, byte
    offset or array) and how to fix it. Every reader raises this one type for a bad file
    (a missing file is a ``FileNotFoundError``, a bad argument a ``ValueError``).
    """

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path

    def __reduce__(self):
        return type(self), (str(self), self.path)


def _check_max_bytes(max_bytes, reader: str) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(
            f"{reader}: max_bytes must be an int (a number of bytes), got {max_bytes!r}"
        )
    if max_bytes < 0:
        raise ValueError(f"{reader}: max_bytes must be >= 0, got {max_bytes}")
    return int(max_bytes)


def _too_big(p: str, reader: str, what: str, max_bytes: int) -> DataFormatError:
    return DataFormatError(
        f"{reader}: {p}: {what}, over the limit max_bytes={max_bytes}; a small compressed "
        f"file that inflates this far may be a decompression bomb. If you trust the file, "
        f"raise the limit: {reader}(path, max_bytes=...)",
        p,
    )


def _file_size(path: str, reader: str) -> int:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{reader}: no such file: {path!r}") from None
    except OSError as e:  # a name too long, a loop of links, no permission
        raise DataFormatError(f"{reader}: cannot read {path!r}: {e.strerror}", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"{reader}: {path!r} is a directory; give the path of a file")
    if not stat.S_ISREG(info.st_mode):
        raise DataFormatError(
            f"{reader}: {path!r} is not a regular file (a pipe, socket or device); give the "
            f"path of a data file",
            path,
        )
    if info.st_size == 0:
        raise DataFormatError(
            f"{reader}: {path!r} is empty (0 bytes); check the path or rewrite it", path
        )
    return info.st_size


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


# What a CSV number is: an optional sign, ASCII digits with an optional decimal point, an
# optional exponent, or nan / inf / infinity in any case. Python's float() also takes
# "1_000" and the digits of other scripts (Arabic-Indic, fullwidth); a CSV reader must not.
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|nan|inf|infinity)",
    re.ASCII | re.IGNORECASE,
)
_BLANKS = " \t"
TARGET_TYPES = ("auto", "classes", "regression")


def _number(text: str) -> float:
    """The value of a CSV number field; ValueError if the field is not one."""
    text = text.strip(_BLANKS)
    if not _NUMBER.fullmatch(text):
        raise ValueError(text)
    return float(text)


def read_csv(
    path,
    target=None,
    delimiter: str = ",",
    header: bool = True,
    dtype="float32",
    return_names: bool = False,
    target_type: str = "auto",
):
    """Read a CSV file of numbers into Tensors.

    Returns ``X`` (examples x features), or ``(X, y)`` when ``target`` names a column (by
    its header name, or by index). X has ``dtype`` (float32 unless asked). With
    ``return_names=True`` a ``CSVColumns`` (feature names, target name, class labels) is
    appended: ``X, y, cols = read_csv(...)``.

    A number is what a CSV number is: an optional sign, ASCII digits, a decimal point, an
    exponent (``-1.5e3``), or the words ``nan`` and ``inf``; ``1_000`` and digits of other
    scripts are not numbers. Fields may be quoted (the csv module's rules); blank lines
    are skipped. Missing values are an error (fill or drop them first).

    ``target_type`` says what the target column is:

    - ``"auto"`` (the default): a column of integers that fit int64 (``3``, ``-1``) is
      class labels, y int64 as written; a column of numbers with any written as a float
      (``2.5``, ``1.0``, ``1e3``) is a regression target, y of ``dtype``; any other column
      is text labels (``setosa``), y the class indices 0..k-1 in sorted label order.
    - ``"classes"``: class labels; numbers must be whole (``1.0`` is class 1).
    - ``"regression"``: every value must be a number; y of ``dtype``.

    A target of ``nan`` or ``inf`` is an error naming its line, and so is an integer label
    outside int64.

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
    if target_type not in TARGET_TYPES:
        raise ValueError(
            f"read_csv: target_type must be one of {TARGET_TYPES}, got {target_type!r}"
        )
    rows = _csv_rows(p, delimiter)
    first_line, first = rows[0]
    if header:
        names = [name.strip() for name in first]
        duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicated:
            raise DataFormatError(
                f"read_csv: {p}: line {first_line}: the header repeats column names "
                f"{duplicated}; give every column its own name",
                p,
            )
        rows = rows[1:]
        if not rows:
            raise DataFormatError(
                f"read_csv: {p} has a header (line {first_line}) but no data rows", p
            )
    else:
        names = [f"x{i}" for i in range(len(first))]
    t = _target_index(p, names, target, header)
    features = [j for j in range(len(names)) if j != t]

    table, labels, label_lines = [], [], []
    for line, row in rows:
        if len(row) != len(names):
            where = "the header" if header else f"the first row (line {first_line})"
            raise DataFormatError(
                f"read_csv: {p}: line {line}: expected {len(names)} fields as in {where}, "
                f"found {len(row)}; check for a missing or extra delimiter {delimiter!r}",
                p,
            )
        try:
            table.append([_number(row[j]) for j in features])
        except ValueError:
            _raise_bad_number(p, line, row, features, names)
        if t is not None:
            label = row[t].strip(_BLANKS)
            if not label:
                raise DataFormatError(
                    f"read_csv: {p}: line {line}: the target column {names[t]!r} is empty; "
                    f"missing values are not supported, fill or drop that row",
                    p,
                )
            labels.append(label)
            label_lines.append(line)
    x = tensor(np.array(table, dtype=np.float64).reshape(len(table), len(features)), dtype=dtype)
    feature_names = [names[j] for j in features]
    if t is None:
        return (x, CSVColumns(feature_names, None, None)) if return_names else x
    column = _TargetColumn(p, names[t], labels, label_lines)
    y, classes = column.values(target_type, dtype)
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
        raise DataFormatError(
            f"read_csv: {p}: line {line} (byte offset {offset}) is not UTF-8 text "
            f"(byte 0x{data[offset]:02x}); save the file as UTF-8",
            p,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    row_start = 1  # the line the next row starts on
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):  # not a blank line
                rows.append((reader.line_num, row))
            row_start = reader.line_num + 1
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise DataFormatError(
                f"read_csv: {p}: line {row_start}: a field is longer than "
                f"{csv.field_size_limit()} characters, more than any number or label; if "
                f"the field starts with a quote, that quote may never be closed",
                p,
            ) from None
        raise DataFormatError(
            f"read_csv: {p}: line {reader.line_num}: malformed CSV ({e}); check the quotes "
            f"on that line",
            p,
        ) from None
    if not rows:
        raise DataFormatError(
            f"read_csv: {p} holds no rows (only blank lines); is it the right file?", p
        )
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
            raise DataFormatError(
                f"read_csv: {p}: no column named {target!r}; the columns are {names}", p
            )
        return names.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise DataFormatError(
                f"read_csv: {p}: target column index {target} is out of range for "
                f"{len(names)} columns {names}",
                p,
            )
        return int(target) % len(names)
    raise TypeError(f"read_csv: target must be a column name or index, got {target!r}")


def _raise_bad_number(p: str, line: int, row: list, features: list, names: list):
    for j in features:
        text = row[j]
        try:
            _number(text)
        except ValueError:
            if not text.strip(_BLANKS):
                problem = "is empty; missing values are not supported, fill or drop that row"
            else:
                problem = (
                    f"holds {text!r}, which is not a number (a CSV number is an optional "
                    f"sign, ASCII digits, a decimal point and an exponent, or nan/inf)"
                )
            raise DataFormatError(
                f"read_csv: {p}: line {line}, column {names[j]!r} (field {j + 1}) {problem}", p
            ) from None


class _TargetColumn:
    """The target column's fields and their lines, turned into y by ``target_type``."""

    def __init__(self, p: str, name: str, labels: list, lines: list):
        self.p, self.name, self.labels, self.lines = p, name, labels, lines

    def fail(self, i: int, problem: str, fix: str):
        raise DataFormatError(
            f"read_csv: {self.p}: line {self.lines[i]}: the target column {self.name!r} holds "
            f"{problem}; {fix}",
            self.p,
        )

    def values(self, target_type: str, dtype) -> tuple[Tensor, list | None]:
        numbers = [_NUMBER.fullmatch(v) is not None for v in self.labels]
        if target_type == "regression":
            if not all(numbers):
                i = numbers.index(False)
                self.fail(
                    i, f"{self.labels[i]!r}, which is not a number", "a regression target is"
                    " numbers; use target_type='classes' for labels",
                )  # fmt: skip
            return tensor(self.finite(), dtype=dtype), None
        if not all(numbers):  # text labels: class indices in sorted label order
            classes = sorted(set(self.labels))
            index = {c: i for i, c in enumerate(classes)}
            return tensor(np.array([index[v] for v in self.labels], dtype=np.int64)), classes
        integers = all(_INTEGER.fullmatch(v) for v in self.labels)
        if target_type == "auto" and not integers:
            return tensor(self.finite(), dtype=dtype), None
        return tensor(self.classes()), None

    def finite(self) -> np.ndarray:
        values = np.array([float(v) for v in self.labels])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            self.fail(
                i, f"{self.labels[i]!r}", "a target must be a finite number (a missing value "
                "is not supported: drop or fill that row)",
            )  # fmt: skip
        return values

    def classes(self) -> np.ndarray:
        """Whole-number class labels as int64."""
        values = []
        for i, text in enumerate(self.labels):
            if _INTEGER.fullmatch(text):
                value = int(text)
            else:
                number = float(text)
                if not math.isfinite(number):
                    self.fail(
                        i, f"{text!r}", "a class label must be a whole number (a missing "
                        "label is not supported: drop or fill that row)",
                    )  # fmt: skip
                if not number.is_integer():
                    self.fail(
                        i, f"{text!r}, which is not a whole number", "class labels are whole "
                        "numbers or text; use target_type='regression' for values",
                    )  # fmt: skip
                value = int(number)
            if not -(2**63) <= value < 2**63:
                self.fail(
                    i, f"{value}, which does not fit int64 as a class label", "for a "
                    "regression target pass target_type='regression'",
                )  # fmt: skip
            values.append(value)
        return np.array(values, dtype=np.int64)


# ---- NPZ ------------------------------------------------------------------------------------

# Errors of zipfile and zlib on a damaged archive (a bad name is a UnicodeDecodeError, an
# unknown feature a NotImplementedError, an encrypted member a RuntimeError).
_ZIP_ERRORS = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, UnicodeDecodeError,
    RuntimeError, struct.error, OverflowError,
)  # fmt: skip


def read_npz(path, max_bytes: int = MAX_BYTES) -> dict:
    """Read a NumPy ``.npz`` archive (``np.savez`` / ``np.savez_compressed``) as a dict
    of Tensors, keeping each array's dtype.

    Pickled data is refused: an array of Python objects is an error, never unpickled.
    ``max_bytes``: the most bytes the compressed members may inflate to, all together
    (1 GiB); the sizes the archive claims are checked before anything is inflated.

    >>> arrays = read_npz("weights.npz")  # doctest: +SKIP
    """
    p = os.fspath(path)
    max_bytes = _check_max_bytes(max_bytes, "read_npz")
    size = _file_size(p, "read_npz")
    with open(p, "rb") as f:
        head = f.read(6)
    if head.startswith(b"\x93NUMPY"):
        raise DataFormatError(
            f"read_npz: {p} is a .npy file (one array), not an .npz archive; load it with "
            f"np.load(path, allow_pickle=False) and ds.tensor",
            p,
        )
    if not head.startswith(b"PK"):
        raise DataFormatError(
            f"read_npz: {p} is not an .npz archive: it starts with bytes {head.hex(' ')} where "
            f"a zip archive starts with 'PK'; write it with np.savez",
            p,
        )
    out = {}
    inflated = 0  # bytes of the compressed members, as the archive claims them
    try:
        with zipfile.ZipFile(p) as archive:
            members = archive.infolist()
            _check_member_count(p, len(members), size)
            for info in members:
                key = _npz_key(p, info, out)
                if info.compress_type != zipfile.ZIP_STORED:
                    inflated += info.file_size
                    if inflated > max_bytes:
                        raise _too_big(
                            p, "read_npz", f"array {key!r} brings the archive's inflated size "
                            f"to {inflated} bytes", max_bytes,
                        )  # fmt: skip
                out[key] = _read_npz_member(p, archive, info, size)
    except _ZIP_ERRORS as e:
        raise DataFormatError(
            f"read_npz: {p} is not a readable .npz archive ({type(e).__name__}: {e}); it may "
            f"be truncated or corrupt, so write it again",
            p,
        ) from None
    return out


def _check_member_count(p: str, listed: int, size: int) -> None:
    """The end of a zip archive says how many members its directory holds; zipfile reads
    the directory by its byte size and ignores that count, so a damaged directory could
    lose a member without a word."""
    with open(p, "rb") as f:
        f.seek(max(0, size - (22 + 0xFFFF)))  # the end record and its longest comment
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise zipfile.BadZipFile("no end of central directory record")
        (claimed,) = struct.unpack_from("<H", tail, at + 10)
        locator = at - 20  # a ZIP64 archive keeps the true count in its own end record
        if claimed == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
            (offset,) = struct.unpack_from("<Q", tail, locator + 8)
            f.seek(offset)
            record = f.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                (claimed,) = struct.unpack_from("<Q", record, 32)
    if claimed != listed:
        raise DataFormatError(
            f"read_npz: {p}: the archive's end record claims {claimed} "
            f"{'array' if claimed == 1 else 'arrays'} but its directory lists {listed}; the "
            f"archive is corrupt (an array may be lost), so write it again",
            p,
        )


def _npz_key(p: str, info: zipfile.ZipInfo, seen: dict) -> str:
    if not info.filename.endswith(".npy"):
        raise DataFormatError(
            f"read_npz: {p}: member {info.filename!r} is not a .npy array; an .npz archive "
            f"holds only arrays",
            p,
        )
    key = info.filename[: -len(".npy")]
    if key in seen:
        raise DataFormatError(f"read_npz: {p}: the archive holds array {key!r} twice", p)
    return key


def _read_npz_member(p: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int):
    where = f"read_npz: {p}: array {info.filename[:-4]!r}"
    if info.compress_type == zipfile.ZIP_STORED:
        bound = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        bound = MAX_DEFLATE_RATIO * info.compress_size + 1024
    else:
        raise DataFormatError(
            f"{where} uses zip compression method {info.compress_type}; only stored and "
            f"deflated members (np.savez, np.savez_compressed) are read",
            p,
        )
    if info.flag_bits & 0x1:
        raise DataFormatError(
            f"{where} is encrypted; np.savez never encrypts, so this is no .npz", p
        )
    if info.compress_size > size or info.file_size > bound:
        raise DataFormatError(
            f"{where}: the archive claims {info.file_size} bytes stored in {info.compress_size}, "
            f"impossible in a file of {size} bytes; the archive is corrupt",
            p,
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
        except (ValueError, TypeError, SyntaxError, RecursionError) as e:
            raise DataFormatError(
                f"{where}: bad .npy header ({e}); the archive is corrupt", p
            ) from None
        if dtype.hasobject:
            raise DataFormatError(
                f"{where} holds Python objects (pickled data, dtype {dtype}); descent refuses "
                f"pickle because loading it can run arbitrary code. Save numeric arrays only",
                p,
            )
        if dtype.kind not in "fiub":
            raise DataFormatError(
                f"{where} has dtype {dtype}, which a Tensor cannot hold; save numbers "
                f"(float, int, uint or bool arrays)",
                p,
            )
        if any(d < 0 for d in shape):
            raise DataFormatError(
                f"{where}: its header declares shape {shape}, with a negative dimension; "
                f"the archive is corrupt",
                p,
            )
        header_size = f.tell()
        expected = math.prod(shape) * dtype.itemsize
        available = info.file_size - header_size
        if expected != available:
            raise DataFormatError(
                f"{where}: its header declares shape {shape} of {dtype} ({expected} bytes) but "
                f"the member holds {available} bytes of data; the archive is corrupt",
                p,
            )
        data = f.read(expected)
        if len(data) != expected or f.read(1):  # reading to the end checks the CRC
            raise DataFormatError(
                f"{where}: expected {expected} bytes of data, found another size; the "
                f"archive is corrupt",
                p,
            )
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


def read_idx(path, max_bytes: int = MAX_BYTES) -> Tensor:
    """Read an IDX file (the MNIST format), gzip-compressed or not, as a Tensor.

    The header is two zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian int32; the data follow, big-endian, in row-major order. The
    Tensor keeps the file's type: uint8 (0x08), int8 (0x09), int16 (0x0B), int32 (0x0C),
    float32 (0x0D) or float64 (0x0E); e.g. MNIST images come as uint8, so scale them with
    ``images.float() / 255``. A gzip file (``train-images-idx3-ubyte.gz``) is recognised by
    its first bytes, whatever its name; ``max_bytes`` is the most it may inflate to (1 GiB),
    checked against the header before anything is inflated.

    >>> images = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    p = os.fspath(path)
    max_bytes = _check_max_bytes(max_bytes, "read_idx")
    size = _file_size(p, "read_idx")
    with open(p, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not compressed:
            return _read_idx_stream(p, raw, size, size, None)
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                bound = MAX_DEFLATE_RATIO * size + 1024
                return _read_idx_stream(p, stream, bound, None, max_bytes)
        except (OSError, EOFError, zlib.error) as e:
            raise DataFormatError(
                f"read_idx: {p} is gzip-compressed but the compressed data is corrupt or "
                f"truncated ({e}); download or write the file again",
                p,
            ) from None


def _read_idx_stream(p: str, f, limit: int, size: int | None, max_bytes: int | None) -> Tensor:
    """Parse an IDX stream. ``size`` is its exact length when known (an uncompressed file),
    ``limit`` an upper bound on it, ``max_bytes`` the most a compressed one may inflate to."""
    gz = " (after gzip decompression)" if size is None else ""
    head = f.read(4)
    if len(head) < 4:
        raise DataFormatError(
            f"read_idx: {p} is too short for an IDX header{gz}: it needs 4 bytes (0x00 0x00, "
            f"type code, number of dimensions), found {len(head)}",
            p,
        )
    zero, code, ndim = head[:2], head[2], head[3]
    if zero != b"\x00\x00":
        raise DataFormatError(
            f"read_idx: {p}: bad magic number 0x{head.hex()} at byte offset 0{gz}; an IDX file "
            f"starts with two zero bytes, a type code and the number of dimensions (MNIST "
            f"images: 0x00000803, labels: 0x00000801). Is this an IDX file?",
            p,
        )
    if code not in IDX_TYPES:
        raise DataFormatError(
            f"read_idx: {p}: unknown data type code 0x{code:02X} at byte offset 2{gz}; IDX "
            f"type codes are {_idx_type_list()}",
            p,
        )
    if not 1 <= ndim <= MAX_IDX_DIMS:
        raise DataFormatError(
            f"read_idx: {p}: the header declares {ndim} dimensions at byte offset 3{gz}; "
            f"expected 1 to {MAX_IDX_DIMS} (MNIST images have 3, labels 1)",
            p,
        )
    header_size = 4 + 4 * ndim
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataFormatError(
            f"read_idx: {p}: the header declares {ndim} dimensions, so it needs {header_size} "
            f"bytes, but the file{gz} has only {4 + len(raw_dims)}; it is truncated",
            p,
        )
    dims = struct.unpack(f">{ndim}i", raw_dims)
    for i, d in enumerate(dims):
        if d < 0:
            raise DataFormatError(
                f"read_idx: {p}: dimension {i} (byte offset {4 + 4 * i}) is negative ({d}); "
                f"the header is corrupt",
                p,
            )
    dtype = IDX_TYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    shape_text = f"shape {dims} of {dtype.newbyteorder('=')}"
    if header_size + expected > limit:  # checked before anything is allocated
        what = "the file holds" if size is not None else "a gzip file this size can hold at most"
        raise DataFormatError(
            f"read_idx: {p}: the header declares {shape_text}, {expected} bytes of data after "
            f"the {header_size}-byte header, but {what} {limit - header_size}; the file is "
            f"truncated or its header is corrupt",
            p,
        )
    if max_bytes is not None and header_size + expected > max_bytes:  # before inflating
        what = (
            f"the header declares {shape_text}: {expected} bytes of data, "
            f"{header_size + expected} with the header once inflated"
        )
        raise _too_big(p, "read_idx", what, max_bytes)
    if size is not None and header_size + expected < size:
        extra = size - header_size - expected
        raise DataFormatError(
            f"read_idx: {p}: {extra} unexpected bytes after the data: the header declares "
            f"{shape_text}, so the file should end at byte offset {header_size + expected}; "
            f"it may be a different file glued on, or a wrong header",
            p,
        )
    data = f.read(expected)
    if len(data) < expected:
        raise DataFormatError(
            f"read_idx: {p}: expected {expected} bytes of data ({shape_text}) after the "
            f"{header_size}-byte header{gz}, found {len(data)}; the file is truncated",
            p,
        )
    if size is None and f.read(1):
        raise DataFormatError(
            f"read_idx: {p}: unexpected bytes after the data{gz}: the header declares "
            f"{shape_text}, so the data should end at byte offset {header_size + expected}",
            p,
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
    a = np.asarray(array._data if isinstance(array, Tensor) else array)
    native = a.dtype.newbyteorder("=")
    if native not in IDX_CODES:
        raise ValueError(
            f"write_idx: IDX has no type for dtype {a.dtype}; convert first, e.g. "
            f"labels.astype(np.uint8) or x.astype(np.float32) (IDX types: {_idx_type_list()})"
        )
    if not 1 <= a.ndim <= MAX_IDX_DIMS:
        raise ValueError(
            f"write_idx: IDX needs 1 to {MAX_IDX_DIMS} dims, got shape {tuple(a.shape)}"
        )
    if any(d >= 2**31 for d in a.shape):
        raise ValueError(
            f"write_idx: dimension sizes must fit an int32, got shape {tuple(a.shape)}"
        )
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
