"""ds.data readers: CSV, NPZ and IDX files, good ones and hostile ones."""

import gzip
import io
import os
import re
import struct
import zipfile

import numpy as np
import pytest

import descent as ds
from descent.data import DataFormatError, read_csv, read_idx, read_npz, readers, write_idx


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


# ---- CSV ------------------------------------------------------------------------------------

IRIS_LIKE = """sepal_length,sepal_width,label
5.1,3.5,0
4.9,3.0,0

6.3,3.3,2
"""


def test_csv_features_labels_and_names(tmp_path):
    path = write(tmp_path, "iris.csv", IRIS_LIKE)
    X, y = read_csv(path, target="label")
    assert X.dtype == ds.float32 and X.shape == (3, 2)
    np.testing.assert_array_equal(X.numpy(), np.array([[5.1, 3.5], [4.9, 3.0], [6.3, 3.3]], "f4"))
    assert y.dtype == ds.int64 and y.tolist() == [0, 0, 2]
    X2, y2, cols = read_csv(path, target=-1, dtype="float64", return_names=True)
    assert X2.dtype == ds.float64 and np.array_equal(y2.numpy(), y.numpy())
    assert cols.features == ["sepal_length", "sepal_width"] and cols.target == "label"
    assert cols.classes is None
    everything, cols = read_csv(path, return_names=True)
    assert everything.shape == (3, 3) and cols.features[-1] == "label" and cols.target is None


def test_csv_float_and_text_targets(tmp_path):
    prices = write(tmp_path, "p.csv", "a,price\n1,2.5\n2,3\n3,-1e3\n")
    _, price = read_csv(prices, target="price")
    assert price.dtype == ds.float32 and price.tolist() == [2.5, 3.0, -1000.0]
    path = write(tmp_path, "t.csv", "a,price,kind\n1,2.5,cat\n2,3,dog\n3,-1e3,cat\n")
    X, kind, cols = read_csv(path, target="kind", return_names=True)
    assert kind.dtype == ds.int64 and kind.tolist() == [0, 1, 0]
    assert cols.classes == ["cat", "dog"] and cols.features == ["a", "price"]


def test_csv_quotes_delimiters_bom_crlf_and_no_header(tmp_path):
    text = '\ufeff"width, cm";"height"\r\n"1.5";2\r\n3;" 4 "\r\n'
    X, cols = read_csv(write(tmp_path, "q.csv", text), delimiter=";", return_names=True)
    assert cols.features == ["width, cm", "height"]
    assert X.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    X, y, cols = read_csv(
        write(tmp_path, "n.csv", "1,2,7\n3,4,8\n"), target=2, header=False, return_names=True
    )
    assert X.tolist() == [[1.0, 2.0], [3.0, 4.0]] and y.tolist() == [7, 8]
    assert cols.features == ["x0", "x1"] and cols.target == "x2"


def test_csv_matches_numpy_on_a_larger_table(tmp_path):
    data = np.random.default_rng(0).normal(size=(200, 5))
    buf = io.StringIO()
    np.savetxt(buf, data, delimiter=",", header="a,b,c,d,e", comments="")
    X = read_csv(write(tmp_path, "big.csv", buf.getvalue()), dtype=ds.float64)
    np.testing.assert_array_equal(
        X.numpy(), np.loadtxt(io.StringIO(buf.getvalue()), delimiter=",", skiprows=1)
    )


@pytest.mark.parametrize(
    "content, kwargs, pattern",
    [
        ("", {}, r"empty \(0 bytes\)"),
        ("\n\n  \n", {}, "only blank lines"),
        ("a,b\n", {}, "header .* but no data rows"),
        ("a,b\n1,2\n", {"target": "c"}, r"no column named 'c'; the columns are \['a', 'b'\]"),
        ("a,b\n1,2\n", {"target": 5}, "index 5 is out of range for 2 columns"),
        ("a,b\n1,2\n", {"target": "a", "header": False}, "give the target column's index"),
        ("a,b\n1,2\n3,4,5\n", {}, r"line 3: expected 2 fields as in the header, found 3"),
        ("a,b\n1,2\n\n3\n", {}, r"line 4: expected 2 fields"),
        ("1,2\n3\n", {"header": False}, r"line 2: expected 2 fields as in the first row"),
        ("a,b\n1,2\n3,abc\n", {}, r"line 3, column 'b' \(field 2\) holds 'abc', which is not a"),
        ("a,b\n1,\n", {}, r"line 2, column 'b' \(field 2\) is empty; missing values"),
        ("a,b,y\n1,2,\n", {"target": "y"}, r"line 2: the target column 'y' is empty"),
        ('a,b\n1,2\n"3,4\n', {}, r"line 3: malformed CSV"),
        ('a,b\n1,"2"x\n', {}, r"line 2: malformed CSV"),
        ("a,a\n1,2\n", {}, r"repeats column names \['a'\]"),
        (b"a,b\n1,2\n3,\xff\n", {}, r"line 3 \(byte offset 10\) is not UTF-8"),
        ("a,b\n1,2\n", {"dtype": "int64"}, "dtype must be a floating type"),
        ("a,b\n1,2\n", {"delimiter": ";;"}, "delimiter must be one character"),
    ],
    ids=[
        "empty", "blank", "header-only", "unknown-target", "target-index", "name-no-header",
        "extra-field", "line-after-blank", "no-header-fields", "not-a-number", "empty-field",
        "empty-target", "open-quote", "junk-after-quote", "duplicate-names", "not-utf8",
        "int-dtype", "long-delimiter",
    ],
)  # fmt: skip
def test_csv_errors_name_the_file_the_line_and_the_value(tmp_path, content, kwargs, pattern):
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(ValueError, match=pattern) as info:
        read_csv(path, **kwargs)
    if "dtype" not in kwargs and "delimiter" not in kwargs:
        assert path in str(info.value)


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*nope.csv"):
        read_csv(tmp_path / "nope.csv")


# ---- NPZ ------------------------------------------------------------------------------------


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed], ids=["stored", "deflated"])
def test_npz_round_trip_keeps_dtypes(tmp_path, save):
    arrays = {
        "w": np.random.default_rng(0).normal(size=(3, 4)),
        "labels": np.arange(5, dtype=np.int32),
        "image": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "mask": np.array([True, False]),
        "fortran": np.asfortranarray(np.arange(6.0, dtype=np.float32).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i2"),
        "scalar": np.float64(2.5),
        "empty": np.zeros((0, 3)),
    }
    path = tmp_path / "a.npz"
    save(path, **arrays)
    out = read_npz(path)
    assert set(out) == set(arrays)
    for key, expected in arrays.items():
        got = out[key]
        assert isinstance(got, ds.Tensor)
        assert got.dtype == expected.dtype.newbyteorder("=") and got.dtype.isnative, key
        np.testing.assert_array_equal(got.numpy(), expected)


def npz_member(header: dict, data: bytes) -> bytes:
    """A .npy member with a hand-written header (the NPY 1.0 layout)."""
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def zipped(members: dict, method=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def saved(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def objects_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, evil=np.array([{"a": 1}, None], dtype=object))
    return buf.getvalue()


def flipped_data_byte() -> bytes:
    data = bytearray(saved(x=np.arange(100, dtype=np.int64)))
    data[200] ^= 0xFF  # inside the stored array data: the CRC no longer matches
    return bytes(data)


HUGE = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", r"empty \(0 bytes\)"),
        (b"hello, this is not an archive", "not an .npz archive: it starts with bytes 68 65"),
        (b"\x93NUMPY\x01\x00", "is a .npy file"),
        (saved(x=np.arange(1000))[:500], "not a readable .npz archive"),
        (objects_npz(), "refuses pickle"),
        (saved(s=np.array(["ab", "c"])), "dtype <U2, which a Tensor cannot hold"),
        (zipped({"x.npy": npz_member(HUGE, b"\x00" * 8)}), r"declares shape \(1000000000000,\)"),
        (zipped({"x.npy": npz_member(HUGE, b"\x00" * 8)}, zipfile.ZIP_DEFLATED), "declares shape"),
        (zipped({"x.npy": b"\x93NUMPY\x01\x00\xff"}), "bad .npy header"),
        (zipped({"notes.txt": b"hi"}), "member 'notes.txt' is not a .npy array"),
        (flipped_data_byte(), "not a readable .npz archive.*CRC"),
    ],
    ids=[
        "empty", "garbage", "npy", "truncated", "pickled", "strings", "huge-shape",
        "huge-shape-deflated", "bad-header", "not-npy", "bad-crc",
    ],
)  # fmt: skip
def test_npz_errors_are_clear(tmp_path, content, pattern):
    path = write(tmp_path, "bad.npz", content)
    with pytest.raises(ValueError, match=pattern) as info:
        read_npz(path)
    assert path in str(info.value)


def test_npz_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_npz(tmp_path / "nope.npz")


# ---- IDX ------------------------------------------------------------------------------------


def idx_bytes(code: int, dims: tuple, fmt: str, values: list) -> bytes:
    """An IDX file by the spec: 0x00 0x00, type, ndim, big-endian int32 dims, big-endian data."""
    head = struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(f">{len(dims)}i", *dims)
    return head + struct.pack(f">{len(values)}{fmt}", *values)


SPEC_CASES = [
    (0x08, (2, 3), "B", [0, 1, 2, 127, 128, 255], np.uint8),
    (0x09, (4,), "b", [-128, -1, 0, 127], np.int8),
    (0x0B, (2, 2), "h", [-32768, -2, 300, 32767], np.int16),
    (0x0C, (3,), "i", [-(2**31), 7, 2**31 - 1], np.int32),
    (0x0D, (1, 2, 2), "f", [0.5, -1.25, 3e8, 1e-20], np.float32),
    (0x0E, (2,), "d", [np.pi, -1e300], np.float64),
]
SPEC_IDS = ["ubyte", "sbyte", "short", "int", "float", "double"]


@pytest.mark.parametrize("code, dims, fmt, values, dtype", SPEC_CASES, ids=SPEC_IDS)
def test_idx_reads_hand_built_files_of_every_type(tmp_path, code, dims, fmt, values, dtype):
    path = write(tmp_path, "x-idx", idx_bytes(code, dims, fmt, values))
    t = read_idx(path)
    assert isinstance(t, ds.Tensor) and t.dtype == dtype and t.shape == dims
    np.testing.assert_array_equal(t.numpy(), np.array(values, dtype=dtype).reshape(dims))


@pytest.mark.parametrize("code, dims, fmt, values, dtype", SPEC_CASES, ids=SPEC_IDS)
def test_write_idx_writes_the_spec_bytes(tmp_path, code, dims, fmt, values, dtype):
    path = tmp_path / "out-idx"
    write_idx(path, np.array(values, dtype=dtype).reshape(dims))
    assert path.read_bytes() == idx_bytes(code, dims, fmt, values)
    gz = tmp_path / "out-idx.gz"
    write_idx(gz, ds.tensor(np.array(values, dtype=dtype).reshape(dims), dtype=dtype))
    assert gzip.decompress(gz.read_bytes()) == idx_bytes(code, dims, fmt, values)


def test_idx_mnist_labels_and_gzip_by_content(tmp_path):
    labels = idx_bytes(0x08, (5,), "B", [5, 0, 4, 1, 9])
    assert labels[:4] == b"\x00\x00\x08\x01"  # MNIST's label magic 2049
    assert read_idx(write(tmp_path, "l-idx1-ubyte", labels)).tolist() == [5, 0, 4, 1, 9]
    # a gzip file is recognised by its first bytes, whatever its name
    t = read_idx(write(tmp_path, "labels.bin", gzip.compress(labels)))
    assert t.tolist() == [5, 0, 4, 1, 9] and t.dtype == np.uint8


def test_write_idx_is_atomic_and_repeatable(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    path = tmp_path / "images-idx3-ubyte.gz"
    write_idx(path, images)
    first = path.read_bytes()
    write_idx(path, images)
    assert path.read_bytes() == first  # no timestamp in the gzip header
    assert np.array_equal(read_idx(path).numpy(), images)
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(readers.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_idx(path, np.zeros(3, dtype=np.uint8))
    assert path.read_bytes() == first and os.listdir(tmp_path) == [path.name]


def test_write_idx_rejects_types_idx_does_not_have(tmp_path):
    with pytest.raises(ValueError, match="no type for dtype int64.*astype"):
        write_idx(tmp_path / "x", np.arange(3))
    with pytest.raises(ValueError, match="1 to 32 dims"):
        write_idx(tmp_path / "x", np.array(1.0, dtype=np.float32))


GOOD = idx_bytes(0x08, (2, 3), "B", [1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", r"empty \(0 bytes\)"),
        (b"\x00\x00", "too short for an IDX header: it needs 4 bytes .* found 2"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic number 0x01000801 at byte offset 0"),
        (b"GIF89a garbage garbage", "bad magic number"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "unknown data type code 0x0A at byte offset 2"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "needs 16 bytes, but the file has only 8"),
        (b"\x00\x00\x08\x01\xff\xff\xff\xfe", r"dimension 0 \(byte offset 4\) is negative \(-2\)"),
        (GOOD[:-2], r"declares shape \(2, 3\) of uint8, 6 bytes .* the file holds 4"),
        (GOOD + b"\x00\x00\x00", "3 unexpected bytes after the data.*end at byte offset 18"),
        (idx_bytes(0x0E, (2**30, 2**30), "d", []), r"declares shape \(1073741824, 1073741824\)"),
        (gzip.compress(GOOD)[:-12], "gzip-compressed but the compressed data is corrupt"),
        (gzip.compress(GOOD[:-1]), r"expected 6 bytes .* \(after gzip decompression\), found 5"),
        (gzip.compress(GOOD + b"\x07"), "unexpected bytes after the data .*after gzip"),
        (gzip.compress(idx_bytes(0x0D, (2**31 - 1, 2**30), "f", [])), "a gzip file this size can"),
        (gzip.compress(b"not an idx file"), r"bad magic .* \(after gzip decompression\)"),
        (b"\x1f\x8b\x08\x00garbage", "gzip-compressed but the compressed data is corrupt"),
    ],
    ids=[
        "empty", "short-header", "bad-magic", "garbage", "unknown-type", "zero-dims",
        "truncated-dims", "negative-dim", "truncated-data", "trailing-garbage", "absurd-size",
        "truncated-gzip", "gzip-truncated-data", "gzip-trailing", "gzip-absurd", "gzip-magic",
        "bad-gzip",
    ],
)  # fmt: skip
def test_idx_errors_say_what_and_where(tmp_path, content, pattern):
    path = write(tmp_path, "bad-idx", content)
    with pytest.raises(ValueError, match=pattern) as info:
        read_idx(path)
    assert path in str(info.value)


def test_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "nope")


# ---- hostile files: one error type, limits on inflating, strict numbers and labels ----------


def test_every_bad_file_is_a_data_format_error_naming_the_file(tmp_path):
    bad = {
        read_csv: write(tmp_path, "bad.csv", "a,b\n1,x\n"),
        read_npz: write(tmp_path, "bad.npz", b"PK garbage"),
        read_idx: write(tmp_path, "bad-idx", b"\x01\x02\x03\x04"),
    }
    bad[lambda path: read_csv(path, target="label")] = write(tmp_path, "h.csv", "a,lbl\n1,2\n")
    for reader, path in bad.items():
        with pytest.raises(DataFormatError) as info:
            reader(path)
        assert isinstance(info.value, ValueError) and info.value.path == path
        assert path in str(info.value)


def big_claim_gzip_idx(tmp_path) -> str:
    """A 1 MiB gzip file whose IDX header declares 1 GiB + 1 byte (a size deflate could
    reach from 1 MiB): only the limit on the inflated size stops it being inflated."""
    rng = np.random.default_rng(0)
    body = rng.integers(0, 256, size=2**20, dtype=np.uint8).tobytes()
    head = struct.pack(">BBBBi", 0, 0, 0x08, 1, 2**30 + 1)
    return write(tmp_path, "bomb-idx.gz", gzip.compress(head + body, compresslevel=1))


def test_idx_gzip_refuses_to_inflate_past_max_bytes(tmp_path):
    path = big_claim_gzip_idx(tmp_path)
    with pytest.raises(DataFormatError, match=r"1073741825 bytes .*max_bytes=1073741824") as info:
        read_idx(path)
    assert path in str(info.value)
    small = write(tmp_path, "small-idx.gz", gzip.compress(idx_bytes(0x08, (100,), "B", [1] * 100)))
    with pytest.raises(DataFormatError, match=r"100 bytes .*over the limit max_bytes=64"):
        read_idx(small, max_bytes=64)
    assert read_idx(small, max_bytes=108).tolist() == [1] * 100  # header and data: 108 bytes


def patch_member_size(data: bytes, new_size: int) -> bytes:
    """Set the uncompressed size of a one-member zip in its local header and its directory."""
    out = bytearray(data)
    struct.pack_into("<I", out, 22, new_size)  # local file header: uncompressed size
    directory = out.rfind(b"PK\x01\x02")
    struct.pack_into("<I", out, directory + 24, new_size)  # central directory entry
    return bytes(out)


def test_npz_refuses_to_inflate_past_max_bytes(tmp_path):
    # a 1 MiB deflated member that claims 1 GiB + 1 byte: refused before any inflating
    n = 2**30 + 1
    header = npz_member({"descr": "|u1", "fortran_order": False, "shape": (n,)}, b"")
    body = np.random.default_rng(0).integers(0, 256, 2**20, dtype=np.uint8).tobytes()
    archive = zipped({"x.npy": header + body}, zipfile.ZIP_DEFLATED)
    path = write(tmp_path, "bomb.npz", patch_member_size(archive, len(header) + n))
    with pytest.raises(DataFormatError, match=r"max_bytes=1073741824") as info:
        read_npz(path)
    assert path in str(info.value) and "'x'" in str(info.value)
    small = tmp_path / "small.npz"
    np.savez_compressed(small, a=np.zeros(1000), b=np.zeros(1000))
    with pytest.raises(DataFormatError, match=r"max_bytes=10000; .*read_npz\(path, max_bytes="):
        read_npz(small, max_bytes=10_000)  # 16 KB of arrays in all
    assert set(read_npz(small, max_bytes=20_000)) == {"a", "b"}


@pytest.mark.parametrize(
    "field", ["1_000", "\u0661\u0662", "\u0967", "\uff11", "0x10", "1e", "+", "."],
    ids=["underscore", "arabic-indic", "devanagari", "fullwidth", "hex", "bare-e", "sign", "dot"],
)  # fmt: skip
def test_csv_numbers_are_ascii_numbers_only(tmp_path, field):
    path = write(tmp_path, "n.csv", f"a,b\n1,2\n3,{field}\n")
    with pytest.raises(
        DataFormatError, match=rf"line 3, column 'b' \(field 2\) holds '{re.escape(field)}'"
    ):
        read_csv(path)


def test_csv_number_spellings_that_are_numbers(tmp_path):
    path = write(tmp_path, "n.csv", "a\n-1\n+2.5\n.5\n5.\n1e3\n-2E-2\n nan \nNaN\ninf\n-Infinity\n")
    got = read_csv(path, dtype="float64").numpy().ravel()
    np.testing.assert_array_equal(
        got, [-1, 2.5, 0.5, 5, 1000, -0.02, np.nan, np.nan, np.inf, -np.inf]
    )


def test_csv_label_kinds_are_explicit(tmp_path):
    def target(text, **kwargs):
        return read_csv(write(tmp_path, "t.csv", "x,y\n" + text), target="y", **kwargs)[1]

    assert target("1,3\n2,-1\n").dtype == ds.int64  # integers: class labels
    regression = target("1,1.0\n2,2.0\n")  # written as floats: a regression target
    assert regression.dtype == ds.float32 and regression.tolist() == [1.0, 2.0]
    classes = target("1,1.0\n2,2.0\n", target_type="classes")
    assert classes.dtype == ds.int64 and classes.tolist() == [1, 2]
    values = target("1,3\n2,-1\n", target_type="regression")
    assert values.dtype == ds.float32 and values.tolist() == [3.0, -1.0]
    with pytest.raises(DataFormatError, match=r"line 3: the target .* holds '2.5'.* not a whole"):
        target("1,1\n2,2.5\n", target_type="classes")
    with pytest.raises(DataFormatError, match=r"line 2: the target .* holds 'cat'.* not a number"):
        target("1,cat\n2,2.5\n", target_type="regression")
    with pytest.raises(ValueError, match="target_type must be"):
        target("1,1\n", target_type="labels")


@pytest.mark.parametrize(
    "labels, pattern",
    [
        (["0", "1", "nan"], r"line 4: the target column 'y' holds 'nan'"),
        (["0", "inf", "1"], r"line 3: the target column 'y' holds 'inf'"),
        (["0.5", "nan"], r"line 3: the target column 'y' holds 'nan'"),
        (["0", str(2**70)], r"line 3: .* holds 1180591620717411303424, .* int64"),
    ],
    ids=["nan-in-classes", "inf-in-classes", "nan-in-regression", "2**70"],
)
def test_csv_labels_that_are_no_class_and_no_value_are_errors(tmp_path, labels, pattern):
    text = "x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels))
    path = write(tmp_path, "t.csv", text)
    with pytest.raises(DataFormatError, match=pattern) as info:
        read_csv(path, target="y")
    assert path in str(info.value)


def test_csv_a_too_long_field_is_reported_as_too_long(tmp_path):
    path = write(tmp_path, "long.csv", "a,b\n1,2\n3," + "4" * 200_000 + "\n")
    with pytest.raises(DataFormatError, match=r"line 3: a field is longer than 131072 char") as e:
        read_csv(path)
    assert "quote" not in str(e.value).split(";")[0]


def npz_with(arrays: dict, edit) -> bytes:
    data = bytearray(saved(**arrays))
    edit(data)
    return bytes(data)


def set_eocd(field_offset: int, value: int, fmt: str = "<H"):
    def edit(data: bytearray):
        struct.pack_into(fmt, data, data.rfind(b"PK\x05\x06") + field_offset, value)

    return edit


def utf8_flag_and_bad_name(data: bytearray):
    directory = data.rfind(b"PK\x01\x02")
    data[directory + 9] |= 0x08  # general purpose flags: bit 11 (0x800) says UTF-8 names
    data[directory + 46] = 0xFF  # the first byte of the name: not UTF-8


def swallowing_comment(data: bytearray):
    # the first directory entry's comment length covers the second entry, which vanishes
    struct.pack_into("<H", data, data.find(b"PK\x01\x02") + 32, 0xFFFF)


def unknown_method(data: bytearray):
    directory = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, directory + 10, 99)  # compression method 99 (AES)
    struct.pack_into("<H", data, 8, 99)


def negative_shape() -> bytes:
    header = {"descr": "<i8", "fortran_order": False, "shape": (-1, -2)}
    return zipped({"x.npy": npz_member(header, b"\x00" * 16)})


@pytest.mark.parametrize(
    "content, pattern",
    [
        (npz_with({"a": np.arange(3), "b": np.arange(4)}, set_eocd(10, 1)), "claims 1 array but"),
        (npz_with({"a": np.arange(3), "b": np.arange(4)}, set_eocd(10, 3)), "claims 3 arrays"),
        (npz_with({"a": np.arange(3), "b": np.arange(4)}, swallowing_comment), "lists 1"),
        (npz_with({"a": np.arange(3)}, utf8_flag_and_bad_name), "not a readable"),
        (npz_with({"a": np.arange(3)}, unknown_method), "compression method 99"),
        (negative_shape(), r"shape \(-1, -2\).*negative"),
    ],
    ids=[
        "count-low",
        "count-high",
        "lost-entry",
        "bad-utf8-name",
        "unknown-method",
        "negative-shape",
    ],
)
def test_npz_damaged_directories_and_headers(tmp_path, content, pattern):
    path = write(tmp_path, "bad.npz", content)
    with pytest.raises(DataFormatError, match=pattern) as info:
        read_npz(path)
    assert path in str(info.value)


def patched_flag_bit(data: bytearray):
    data[6] |= 0x20  # flags: bit 5, compressed patched data (in the local header and directory)
    data[data.rfind(b"PK\x01\x02") + 8] |= 0x20


def test_npz_unsupported_zip_features_are_clear(tmp_path):
    path = write(tmp_path, "bad.npz", npz_with({"a": np.arange(3)}, patched_flag_bit))
    with pytest.raises(DataFormatError, match="not a readable") as info:
        read_npz(path)
    assert path in str(info.value)
