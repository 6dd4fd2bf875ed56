"""The house holds: no floor imports a higher one, and ARCHITECTURE.md names what exists.

Each of the package's parts (a subpackage or a top-level module) has a floor; a part may
import its own floor's core group or any lower floor, never a sibling or a higher floor.
The imports are read from the source (module level and inside functions alike), so the
check needs nothing imported.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "descent"

# Lowest first. The parts of the first floor stand on NumPy and on each other (a Tensor's
# operators call ops, and ops make Tensors); from the second floor up, parts on one floor
# are siblings that do not import each other.
FLOORS = [
    {"tensor", "autograd", "ops", "random", "compile", "_malloc", "_extras", "cuda", "special"},
    {"gradcheck", "io", "datasets", "clip", "distributed"},
    {"nn", "optim", "data"},
    {"train", "utils"},
    {"models", "viz", "onnx", "keras"},
    {"lessons", "runs", "bench", "optable"},
    {"cli"},
]
CORE = FLOORS[0]
FLOOR_OF = {part: i for i, floor in enumerate(FLOORS) for part in floor}
# The public face (``import descent as ds``) may reach every floor (its ``__getattr__``
# loads submodules lazily); it counts as train's floor, so the parts on top may use it as
# a user would.
FACE = "__init__"
FLOOR_OF[FACE] = FLOOR_OF["train"]


def _part(module: str) -> str:
    """``descent.optim.sgd`` -> ``optim``; ``descent`` -> the face."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACE


def _module_name(path: Path, root: Path) -> tuple[str, str]:
    """(the module's dotted name, the package its relative imports start from)."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        name = ".".join(parts[:-1])
        return name, name
    name = ".".join(parts)
    return name, name.rsplit(".", 1)[0]


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every ``descent`` module ``path`` imports, with its line: ``[(line, module), ...]``."""
    _, package = _module_name(path, root)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if node.module is None:  # from . import a, b: a name is a module or an attribute
                for alias in node.names:
                    sub = root.joinpath(*module.split("."), alias.name)
                    is_module = sub.is_dir() or sub.with_suffix(".py").exists()
                    found.append((node.lineno, f"{module}.{alias.name}" if is_module else module))
            else:
                found.append((node.lineno, module))
    return [(line, m) for line, m in found if m == "descent" or m.startswith("descent.")]


def floor_violations(package: Path = PACKAGE) -> list[str]:
    """One line per import that breaks the floor rule, naming the file, line and floors."""
    root = package.parent
    bad = []
    for path in sorted(package.rglob("*.py")):
        name, _ = _module_name(path, root)
        source = _part(name)
        if source == FACE:
            continue
        if source not in FLOOR_OF:
            bad.append(f"{path.relative_to(root)}: part {source!r} has no floor in FLOORS")
            continue
        for line, module in imports_of(path, root):
            target = _part(module)
            if target == source or (source in CORE and target in CORE):
                continue
            if target not in FLOOR_OF or FLOOR_OF[target] >= FLOOR_OF[source]:
                where = "the public face" if target == FACE else f"{target!r}"
                bad.append(
                    f"{path.relative_to(root)}:{line}: {source!r} (floor "
                    f"{FLOOR_OF[source]}) imports {where} ({module}), which is not below it"
                )
    return bad


def test_every_part_of_the_package_has_a_floor():
    parts = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()}
    parts = {p for p in parts if not p.startswith((".", "__"))}
    missing = sorted(parts - set(FLOOR_OF))
    assert missing == [], f"parts without a floor: {missing}"


def test_no_floor_imports_a_higher_or_sibling_floor():
    assert floor_violations() == []


def test_the_check_catches_a_lower_floor_importing_a_higher_one(tmp_path):
    # a copy of two parts, one of which reaches up: nn importing train
    fake = tmp_path / "descent"
    (fake / "nn").mkdir(parents=True)
    (fake / "train").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "train" / "__init__.py").write_text("from ..nn import Module\n")
    (fake / "nn" / "__init__.py").write_text("def f():\n    from ..train import fit\n")
    bad = floor_violations(fake)
    assert len(bad) == 1 and "descent/nn/__init__.py:2: 'nn'" in bad[0] and "'train'" in bad[0]


def test_siblings_on_one_floor_do_not_import_each_other(tmp_path):
    fake = tmp_path / "descent"
    (fake / "data").mkdir(parents=True)
    (fake / "data" / "__init__.py").write_text("from descent.nn.functional import one_hot\n")
    bad = floor_violations(fake)
    assert len(bad) == 1 and "'data'" in bad[0] and "'nn'" in bad[0]


ARCHITECTURE = ROOT / "ARCHITECTURE.md"


def test_architecture_map_names_only_folders_and_files_that_exist():
    text = ARCHITECTURE.read_text()
    named = set(re.findall(r"`((?:descent|tests|benchmarks)/[\w./-]*)`", text))
    assert len(named) >= 15, "the code map should name the package's parts"
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_architecture_map_covers_every_part_of_the_package():
    text = ARCHITECTURE.read_text()
    for path in PACKAGE.iterdir():
        if path.name.startswith(("_", ".")) or path.suffix not in ("", ".py"):
            continue
        shown = f"descent/{path.name}/" if path.is_dir() else f"descent/{path.name}"
        assert shown in text, f"ARCHITECTURE.md does not map {shown}"


def test_readme_links_the_architecture_map():
    assert "ARCHITECTURE.md" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("part", sorted(set(FLOOR_OF) - {FACE}))
def test_floors_listed_in_the_map(part):
    # every floor's part appears in the map's floor list, so the two stay one story
    exists = (PACKAGE / part).exists() or (PACKAGE / f"{part}.py").exists()
    if not exists:
        pytest.skip(f"{part} is still to come")
    assert f"`{part}`" in ARCHITECTURE.read_text()
