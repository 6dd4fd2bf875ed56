"""Mutants of a valid file: generic byte edits, and edits that know the format.

Every mutator takes the seed's bytes and a ``random.Random`` and returns the mutant and a
short description of the edit (printed with a bad outcome, kept for replay).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import zipfile

# Numbers a length, count, size or offset field is likely to mishandle.
INTERESTING = [
    0, 1, 2, 7, 8, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
    2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, 2**64 - 1,
]  # fmt: skip
INT_FIELDS = {"<H": 2**16, ">H": 2**16, "<I": 2**32, ">I": 2**32, "<Q": 2**64, ">i": 2**32}


# ---- generic byte edits ---------------------------------------------------------------------


def flip_bits(data: bytes, rng: random.Random):
    out = bytearray(data)
    offsets = [rng.randrange(len(out)) for _ in range(rng.choice([1, 1, 1, 2, 4]))]
    for offset in offsets:
        out[offset] ^= 1 << rng.randrange(8)
    return bytes(out), f"flip bits at {offsets}"


def set_byte(data: bytes, rng: random.Random):
    out = bytearray(data)
    offset = rng.randrange(len(out))
    value = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    out[offset] = value
    return bytes(out), f"byte {offset} = 0x{value:02x}"


def truncate(data: bytes, rng: random.Random):
    offset = rng.randrange(len(data))
    return data[:offset], f"truncate at {offset}"


def insert_bytes(data: bytes, rng: random.Random):
    offset = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([1, 1, 2, 8, 64])))
    return data[:offset] + junk + data[offset:], f"insert {junk[:8].hex()} at {offset}"


def delete_range(data: bytes, rng: random.Random):
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.choice([1, 1, 2, 4, 16, 256]))
    return data[:start] + data[end:], f"delete bytes {start}:{end}"


def duplicate_chunk(data: bytes, rng: random.Random):
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.choice([1, 4, 16, 128]))
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[start:end] + data[at:], f"copy {start}:{end} to {at}"


def set_int(data: bytes, rng: random.Random):
    """A huge, zero or off-by-one claim written over any 2-, 4- or 8-byte field."""
    fmt = rng.choice(list(INT_FIELDS))
    width = struct.calcsize(fmt)
    if len(data) < width:
        return truncate(data, rng)
    offset = rng.randrange(len(data) - width + 1)
    (old,) = struct.unpack_from(fmt, data, offset)
    value = rng.choice(INTERESTING + [old + 1, old - 1, old * 2]) % INT_FIELDS[fmt]
    if fmt == ">i" and value >= 2**31:
        value -= 2**32
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out), f"{fmt} at {offset} = {value}"


GENERIC = [flip_bits, set_byte, truncate, insert_bytes, delete_range, duplicate_chunk, set_int]


# ---- safetensors checkpoints ----------------------------------------------------------------


def _split_safetensors(data: bytes):
    (n,) = struct.unpack_from("<Q", data)
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join_safetensors(header, body: bytes, text: str | None = None) -> bytes:
    raw = (text if text is not None else json.dumps(header, separators=(",", ":"))).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def header_length(data: bytes, rng: random.Random):
    (n,) = struct.unpack_from("<Q", data)
    value = rng.choice([0, 1, 2, n - 1, n + 1, n + 8, n - 8, len(data), len(data) - 8, 2**63,
                        2**64 - 1, 100 * 2**20 + 1, rng.randrange(2 * n)]) % 2**64  # fmt: skip
    return struct.pack("<Q", value) + data[8:], f"header length {n} -> {value}"


DTYPES = ["F32", "F64", "F16", "BF16", "I32", "I64", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2",
          "C64", "XX", "", 3, None]  # fmt: skip
JUNK_VALUES = [None, -1, 0, 2**64, 1.5, "x", [], {}, [[]], [-1], [2**62], "F32", True]


def _tensor_entry(header: dict, rng: random.Random):
    names = [k for k in header if k != "__metadata__"]
    return rng.choice(names) if names else None


def edit_tensor_table(data: bytes, rng: random.Random):
    header, body = _split_safetensors(data)
    name = _tensor_entry(header, rng)
    if name is None:
        return header_length(data, rng)
    info = header[name]
    kind = rng.choice(["dtype", "shape", "offsets", "delete", "add", "junk", "rename"])
    if kind == "dtype":
        info["dtype"] = rng.choice(DTYPES)
    elif kind == "shape":
        shape = list(info["shape"])
        choice = rng.randrange(6)
        if choice == 0 or not shape:
            shape.append(rng.choice([0, 1, 2, -1, 2**40]))
        elif choice == 1:
            shape[rng.randrange(len(shape))] = rng.choice([-1, 0, 2**31, 2**62, 2**64 + 1])
        elif choice == 2:
            shape = shape[::-1]
        elif choice == 3:
            shape = shape[:-1]
        elif choice == 4:
            shape = [2**30, 2**30, 2**30]
        else:
            shape[rng.randrange(len(shape))] += rng.choice([-1, 1])
        info["shape"] = shape
    elif kind == "offsets":
        start, end = info["data_offsets"]
        info["data_offsets"] = rng.choice(
            [[end, start], [start + 1, end + 1], [start, end + 4], [start - 4, end], [0, end],
             [start, 2**64], [-1, end], [start], [start, end, end], "0,4", [start + 0.5, end]]
        )  # fmt: skip
    elif kind == "delete":
        del header[name]
    elif kind == "add":
        header[name + "_extra"] = dict(info)
    elif kind == "junk":
        header[name] = rng.choice(JUNK_VALUES)
    else:
        header[name + "x"] = header.pop(name)
    return _join_safetensors(header, body), f"tensor {name!r}: {kind} -> {header.get(name)}"


def _nest(depth: int, leaf="0") -> str:
    return "[" * depth + leaf + "]" * depth


def edit_metadata(data: bytes, rng: random.Random):
    header, body = _split_safetensors(data)
    meta = header.get("__metadata__")
    kind = rng.choice(["junk", "format", "structure-text", "extra", "deep-header", "delete"])
    if kind == "junk":
        header["__metadata__"] = rng.choice(JUNK_VALUES)
    elif kind == "format" and isinstance(meta, dict):
        meta["format"] = rng.choice(["descent.checkpoint/3", "", None, 1, "descent.checkpoint/2 "])
    elif kind == "structure-text" and isinstance(meta, dict):
        text = meta.get("structure", "")
        meta["structure"] = rng.choice(
            [text[: len(text) // 2], text + "]", "", "null", "[]", "{}", _nest(100_000),
             '{"__dict__": 5}', '{"__tensor__": "nope"}', '{"__dict__": [[1, 2, 3]]}',
             '{"__dict__": [[[1], 2]]}', '{"__tuple__": 5}', "1e999", '"\\ud800"']
        )  # fmt: skip
    elif kind == "extra" and isinstance(meta, dict):
        meta[rng.choice(["structure2", "__metadata__", "x" * 1000])] = rng.choice(["", "x", 1])
    elif kind == "deep-header":
        text = json.dumps(header)
        return _join_safetensors(None, body, text[:-1] + ', "deep": ' + _nest(200_000) + "}"), kind
    else:
        header.pop("__metadata__", None)
    return _join_safetensors(header, body), f"metadata: {kind}"


def _structure_nodes(node, path=()):
    """Every (path, node) of a checkpoint's JSON structure."""
    yield path, node
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from _structure_nodes(v, path + (i,))
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _structure_nodes(v, path + (k,))


DEEP = "\u0000deep\u0000"


def edit_structure(data: bytes, rng: random.Random):
    """Edit one node of the nested state: rename a key (exp_avg -> exp_arg), change a number
    or a type, drop an item, point a tensor elsewhere, nest deeply."""
    header, body = _split_safetensors(data)
    meta = header.get("__metadata__", {})
    structure = json.loads(meta["structure"])
    nodes = list(_structure_nodes(structure))
    path, node = rng.choice(nodes)

    def replace(new):
        nonlocal structure
        if not path:
            structure = new
            return
        parent = structure
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = new

    if isinstance(node, list) and len(node) == 2 and isinstance(node[0], (str, int)):
        key = node[0]  # a [key, value] item of a __dict__
        new_key = rng.choice(
            [f"{key}x", str(key)[:-1] or "?", str(key).replace("avg", "arg"), key, 1, None, [1]]
        )
        if new_key == key:
            new_key = f"{key}_"
        node[0] = new_key
        what = f"key {key!r} -> {new_key!r}"
    elif isinstance(node, list) and node:
        node.pop(rng.randrange(len(node)))
        what = "drop a list item"
    elif isinstance(node, dict) and ("__tensor__" in node or "__array__" in node):
        kind = "__tensor__" if "__tensor__" in node else "__array__"
        node[kind] = rng.choice(["nope", "", 3, None, node[kind] + "x"])
        what = f"{kind} -> {node[kind]!r}"
    elif isinstance(node, bool) or node is None:
        replace(rng.choice([0, 1, "true", [], {}]))
        what = f"{node!r} -> another type"
    elif isinstance(node, (int, float)):
        new = rng.choice([node + 1, -node, 0, -1, 2**63, 2**70, 1e308, float("nan"), str(node)])
        replace(new)
        what = f"{node!r} -> {new!r}"
    elif isinstance(node, str):
        new = rng.choice([node + "x", "", 1, None])
        replace(new)
        what = f"{node!r} -> {new!r}"
    else:
        replace(DEEP)  # spliced in as text: json would recurse as deep as the nesting
        what = "deep nesting"
    text = json.dumps(structure)
    meta["structure"] = text.replace(json.dumps(DEEP), _nest(rng.choice([500, 5000, 100_000])))
    return _join_safetensors(header, body), f"structure at {list(path)[:6]}: {what}"


CHECKPOINT = [header_length, edit_tensor_table, edit_metadata, edit_structure]


# ---- CSV ------------------------------------------------------------------------------------

TOKENS = [
    "1_000", "\u0661\u0662", "\u0967", "\uff11", "1.0", "nan", "NaN", "-inf", "Infinity", "",
    " ", '"', '""', "1e400", "0x10", "1e", ".", "+", "--1", "x", str(2**70), str(2**63),
    "1,5", '"1"', "\u00a01", "True", "1.0e+3", "\x00", "\ufeff1", "1" * 200_000, "-0",
    '"a\nb"', "1 2", "\t3\t", "\u2212" + "1", "5.", ".5", "1e-400", "infinit", "nan(1)",
]  # fmt: skip


def edit_csv(data: bytes, rng: random.Random):
    text = data.decode("utf-8")
    kind = rng.choice(["token", "token", "token", "insert", "line", "bytes"])
    if kind == "token":  # replace one field (between delimiters) with a hostile token
        cuts = [i for i, c in enumerate(text) if c in ",;\n"]
        i = rng.randrange(len(cuts) - 1)
        start, end = cuts[i] + 1, cuts[i + 1]
        token = rng.choice(TOKENS)
        return (text[:start] + token + text[end:]).encode(), f"field at {start} -> {token[:20]!r}"
    if kind == "insert":
        offset = rng.randrange(len(text) + 1)
        piece = rng.choice([",", ";", '"', "\n", "\r", "\r\n", "\n\n", "\ufeff", "#", "'", "\\"])
        return (text[:offset] + piece + text[offset:]).encode(), f"insert {piece!r} at {offset}"
    if kind == "line":
        lines = text.split("\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        choice = rng.randrange(3)
        if choice == 0:
            lines.insert(j, lines[i])
        elif choice == 1:
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines).encode(), f"line edit {choice} of {i}, {j}"
    offset = rng.randrange(len(data))
    bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"])
    return data[:offset] + bad + data[offset:], f"invalid UTF-8 {bad.hex()} at {offset}"


# ---- IDX ------------------------------------------------------------------------------------


def edit_idx_header(plain: bytes, rng: random.Random):
    out = bytearray(plain)
    ndim = out[3]
    kind = rng.choice(["code", "ndim", "dim", "dim", "claim"])
    if kind == "code":
        out[2] = rng.choice([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0A, 0x00, 0xFF])
    elif kind == "ndim":
        out[3] = rng.choice([0, 1, 2, ndim - 1, ndim + 1, 32, 33, 255]) % 256
    elif kind == "dim" and ndim:
        i = rng.randrange(min(ndim, (len(out) - 4) // 4))
        (d,) = struct.unpack_from(">i", out, 4 + 4 * i)
        value = rng.choice([0, -1, d + 1, d - 1, 2**31 - 1, -(2**31)])
        struct.pack_into(">i", out, 4 + 4 * i, value)
    else:  # a huge claim with a short body: a small file that says it is a big one
        out = bytearray(out[:4]) + struct.pack(">i", 2**31 - 1) * ndim + out[4 + 4 * ndim :]
    return bytes(out), f"IDX header: {kind}"


def edit_idx(data: bytes, rng: random.Random):
    compressed = data[:2] == b"\x1f\x8b"
    plain = gzip.decompress(data) if compressed else data
    choice = rng.randrange(3)
    if choice == 0:
        plain, what = edit_idx_header(plain, rng)
    elif choice == 1:
        plain, what = rng.choice(GENERIC)(plain, rng)
    else:  # a well-formed gzip of a gzip bomb: a header claiming much, many zeros
        head = struct.pack(">BBBBi", 0, 0, 0x08, 1, 2**31 - 1)
        plain, what = head + bytes(rng.choice([2**20, 2**24])), "gzip bomb"
        compressed = True
    if compressed:  # a valid gzip of the edited content (the CRC agrees)
        plain = gzip.compress(plain, mtime=0)
    return plain, what


# ---- NPZ ------------------------------------------------------------------------------------


def _members(data: bytes) -> tuple[list, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        return [(i.filename, archive.read(i)) for i in infos], infos[0].compress_type


def _rezip(members: list, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buf.getvalue()


NPY_HEADERS = [
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-2, -4), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }",
    "{'descr': '<f8', 'fortran_order': 'yes', 'shape': (3,), }",
    "{'descr': 'O', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<U3', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<c16', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<M8[s]', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': 'x', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'shape': (3,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': 3, }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3.5,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 300 + ")" * 300 + ", }",
    "[" * 5000 + "]" * 5000,
    "__import__('os').system('true')",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2**70,), }",
]


def edit_npy_header(data: bytes, rng: random.Random):
    """Rewrite one member's .npy header and zip it again, so every CRC agrees."""
    members, method = _members(data)
    i = rng.randrange(len(members))
    name, content = members[i]
    header_len = 10 + struct.unpack_from("<H", content, 8)[0]
    text = rng.choice(NPY_HEADERS)
    if rng.random() < 0.5:  # or keep this member's own header, with one field edited
        own = content[10:header_len].decode("latin1")
        shape = own[own.index("'shape':") :].split(")")[0] + ")"
        text = own.replace(shape, rng.choice(["'shape': (-1,)", "'shape': ()", "'shape': (1, 1, 1)",
                                              "'shape': (5, 5)", "'shape': (2**40,)"]))  # fmt: skip
        text = text.strip()
    raw = text.encode("latin1")
    raw += b" " * (-(10 + len(raw) + 1) % 64) + b"\n"
    version = b"\x01\x00" if len(raw) < 2**16 else b"\x02\x00"
    size = struct.pack("<H", len(raw)) if version == b"\x01\x00" else struct.pack("<I", len(raw))
    members[i] = (name, content[:6] + version + size + raw + content[header_len:])
    return _rezip(members, method), f"member {name!r}: header {text[:60]!r}"


def edit_zip_fields(data: bytes, rng: random.Random):
    """Edit a field of the end record, a directory entry or a local header."""
    out = bytearray(data)
    where = rng.choice(["end", "directory", "local"])
    if where == "end":
        at = out.rfind(b"PK\x05\x06")
        field = rng.choice([(8, "<H"), (10, "<H"), (12, "<I"), (16, "<I"), (20, "<H")])
    elif where == "directory":
        entries = [i for i in range(len(out)) if out.startswith(b"PK\x01\x02", i)]
        at = rng.choice(entries)
        field = rng.choice([(8, "<H"), (10, "<H"), (20, "<I"), (24, "<I"), (28, "<H"), (30, "<H"),
                            (32, "<H"), (42, "<I"), (46, "<B")])  # fmt: skip
    else:
        entries = [i for i in range(len(out)) if out.startswith(b"PK\x03\x04", i)]
        at = rng.choice(entries)
        field = rng.choice([(6, "<H"), (8, "<H"), (18, "<I"), (22, "<I"), (26, "<H"), (28, "<H")])
    offset, fmt = at + field[0], field[1]
    if offset + struct.calcsize(fmt) > len(out):
        return truncate(data, rng)
    (old,) = struct.unpack_from(fmt, out, offset)
    limit = 2 ** (8 * struct.calcsize(fmt))
    value = rng.choice([0, 1, old + 1, old - 1, old ^ 0x800, old ^ 0x20, old ^ 0x1, 99, 0xFFFF,
                        limit - 1, 0xFF]) % limit  # fmt: skip
    struct.pack_into(fmt, out, offset, value)
    return bytes(out), f"zip {where} field +{field[0]} {old} -> {value}"


NPZ = [edit_npy_header, edit_zip_fields]
SPECIFIC = {"checkpoint": CHECKPOINT, "csv": [edit_csv], "idx": [edit_idx], "npz": NPZ}


def mutate(fmt: str, data: bytes, rng: random.Random):
    """One mutant of ``data``: half generic byte edits, half edits that know the format."""
    mutator = rng.choice(GENERIC) if rng.random() < 0.5 else rng.choice(SPECIFIC[fmt])
    try:
        return mutator(data, rng)
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as e:
        # an edit that does not apply to this seed (no such field): a bit flip instead
        mutant, what = flip_bits(data, rng)
        return mutant, f"{what} ({mutator.__name__} did not apply: {type(e).__name__})"
