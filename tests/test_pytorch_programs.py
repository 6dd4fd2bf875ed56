"""PyTorch programs run on descent with only their imports changed (DESIGN.md principle 12).

Each script in ``tests/pytorch_programs/`` is a plain PyTorch program. The test runs it
under PyTorch as written, rewrites its import lines to descent's (``rewrite_imports``),
runs that under descent, and compares the two printouts line by line as the program's
``# compare:`` header says:

- ``# compare: exact`` (the lines are equal) or ``# compare: rtol=R[, atol=A]`` (the text
  between numbers is equal and the numbers agree to that tolerance): every line;
- ``# compare[PREFIX]: RULE`` for the lines that start with PREFIX (the longest matching
  prefix wins), RULE being ``exact``, ``rtol=R[, atol=A]``, ``below B`` or ``above B`` (every
  number after the prefix, in both printouts) or ``skip`` (the line is there in both; its
  numbers come from each framework's own random generator).

PyTorch's printout is read with the framework's own names put as descent says them
(``as_descent_says``): a program run with ``import descent as torch`` cannot print the
module name ``torch``, so ``torch.Size([2])`` is ``descent.Size([2])`` and
``torch::autograd::AccumulateGrad`` is ``descent::autograd::AccumulateGrad``; and descent's
dtypes are NumPy's, which print as ``float32`` where PyTorch's print ``torch.float32``.
Nothing else is changed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "pytorch_programs"
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120

# The programs that do not yet run on descent, each with the piece that is missing.
XFAIL: dict[str, str] = {}

# ---- the import rewrite ---------------------------------------------------------------------

_IMPORT = re.compile(
    r"^(?P<indent>\s*)import\s+torch(?P<sub>(\.\w+)*)(\s+as\s+(?P<alias>\w+))?\s*$"
)
_FROM = re.compile(r"^(?P<indent>\s*)from\s+torch(?P<sub>(\.\w+)*)\s+import\s+(?P<rest>.*)$")
_MENTIONS_TORCH = re.compile(r"^\s*(import|from)\s+.*\btorch\b")


def rewrite_imports(source: str) -> str:
    """``source`` with each import of torch made an import of descent, nothing else changed.

    ``import torch`` -> ``import descent as torch``; ``import torch.nn as nn`` ->
    ``import descent.nn as nn``; ``import torch.nn`` -> ``import descent.nn; import descent
    as torch`` (the name it binds is ``torch``); ``from torch.X import Y`` -> ``from
    descent.X import Y``. An import line that names torch in any other way (``import numpy,
    torch``) is refused rather than half-rewritten.
    """
    out = []
    for line in source.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if m := _IMPORT.match(body):
            indent, sub, alias = m["indent"], m["sub"], m["alias"]
            if alias:
                body = f"{indent}import descent{sub} as {alias}"
            elif sub:
                body = f"{indent}import descent{sub}; import descent as torch"
            else:
                body = f"{indent}import descent as torch"
        elif m := _FROM.match(body):
            body = f"{m['indent']}from descent{m['sub']} import {m['rest']}"
        elif _MENTIONS_TORCH.match(body):
            raise ValueError(f"rewrite_imports: cannot rewrite the import line {body!r}")
        out.append(body + ending)
    return "".join(out)


@pytest.mark.parametrize(
    ("torch_line", "descent_line"),
    [
        ("import torch", "import descent as torch"),
        ("import torch as T", "import descent as T"),
        ("import torch.nn as nn", "import descent.nn as nn"),
        ("import torch.nn.functional as F", "import descent.nn.functional as F"),
        ("import torch.nn", "import descent.nn; import descent as torch"),
        ("from torch import nn, optim", "from descent import nn, optim"),
        (
            "from torch.utils.data import Dataset, DataLoader",
            "from descent.utils.data import Dataset, DataLoader",
        ),
        (
            "from torch.optim.lr_scheduler import StepLR",
            "from descent.optim.lr_scheduler import StepLR",
        ),
        ("    import torch", "    import descent as torch"),
        ("from torch.utils.data import (", "from descent.utils.data import ("),
    ],
)
def test_rewrite_imports_changes_the_import_line(torch_line, descent_line):
    assert rewrite_imports(torch_line + "\n") == descent_line + "\n"


def test_rewrite_imports_leaves_everything_else_alone():
    source = (
        "import numpy as np\n"
        "import torchvision_like_name\n"
        "x = torch.zeros(3)  # import torch\n"
        's = "from torch import nn"\n'
        "import torch\n"
    )
    rewritten = rewrite_imports(source)
    assert rewritten.splitlines()[:4] == source.splitlines()[:4]
    assert rewritten.splitlines()[4] == "import descent as torch"


def test_rewrite_imports_refuses_an_import_it_cannot_rewrite():
    with pytest.raises(ValueError, match="numpy, torch"):
        rewrite_imports("import numpy, torch\n")


# ---- the comparison of two printouts ----------------------------------------------------------

_DTYPES = "float64|float32|float16|bfloat16|int64|int32|int16|int8|uint8|bool|complex64|complex128"
_TORCH_DTYPE = re.compile(rf"\btorch\.({_DTYPES})\b")
_TORCH_NAME = re.compile(r"\btorch(\.Size\(|::)")


def as_descent_says(printout: str) -> str:
    """PyTorch's printout with its names as descent prints them: ``torch.float32`` ->
    ``float32`` (descent's dtypes are NumPy's), ``torch.Size(`` -> ``descent.Size(`` and
    ``torch::`` -> ``descent::`` (the module a program imports as ``torch``)."""
    return _TORCH_NAME.sub(r"descent\1", _TORCH_DTYPE.sub(r"\1", printout))


def test_as_descent_says_renames_only_the_frameworks_names():
    assert as_descent_says("torch.float64 torch.Size([2]) torch::autograd::X") == (
        "float64 descent.Size([2]) descent::autograd::X"
    )
    assert as_descent_says("tensor([1.], dtype=torch.float64) mytorch.Size( torch.tensor") == (
        "tensor([1.], dtype=float64) mytorch.Size( torch.tensor"
    )


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")
_HEADER = re.compile(r"^#\s*compare(?:\[(?P<prefix>[^\]]+)\])?:\s*(?P<rule>.+?)\s*$")


@dataclass(frozen=True)
class Rule:
    kind: str  # exact | close | below | above | skip
    rtol: float = 0.0
    atol: float = 0.0
    bound: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Rule:
        words = text.replace(",", " ").split()
        if words in (["exact"], ["skip"]):
            return cls(words[0])
        if len(words) == 2 and words[0] in ("below", "above"):
            return cls(words[0], bound=float(words[1]))
        tolerances = dict(w.split("=", 1) for w in words if "=" in w)
        if tolerances and set(tolerances) <= {"rtol", "atol"} and len(tolerances) == len(words):
            return cls("close", float(tolerances.get("rtol", 0)), float(tolerances.get("atol", 0)))
        raise ValueError(f"unknown comparison {text!r}")


def comparison_of(source: str) -> tuple[Rule, dict[str, Rule]]:
    """The default rule and the per-prefix rules a program's header declares."""
    default, by_prefix = None, {}
    for line in source.splitlines():
        if m := _HEADER.match(line):
            if m["prefix"] is None:
                default = Rule.parse(m["rule"])
            else:
                by_prefix[m["prefix"]] = Rule.parse(m["rule"])
    if default is None:
        raise ValueError("the program declares no '# compare:' rule")
    return default, by_prefix


def _numbers(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text)]


def line_mismatch(expected: str, actual: str, rule: Rule, prefix: str = "") -> str | None:
    """Why ``actual`` (descent's line) fails ``rule`` against ``expected`` (PyTorch's), or
    None when it passes."""
    if not actual.startswith(prefix) or not expected.startswith(prefix):
        return "the lines do not start alike"
    if rule.kind == "skip":
        return None
    if rule.kind == "exact":
        return None if expected == actual else "the lines differ"
    if rule.kind in ("below", "above"):
        for side, line in (("torch", expected), ("descent", actual)):
            values = _numbers(line[len(prefix) :])
            if not values:
                return f"{side}'s line has no number"
            for v in values:
                if not (v < rule.bound if rule.kind == "below" else v > rule.bound):
                    return f"{side}'s {v} is not {rule.kind} {rule.bound}"
        return None
    if _NUMBER.split(expected) != _NUMBER.split(actual):
        return "the text between the numbers differs"
    for text, e, a in zip(_NUMBER.findall(expected), _numbers(expected), _numbers(actual)):
        # both sides were rounded to the printed digits: one unit of the last one is noise
        tol = max(rule.rtol * abs(e), rule.atol) + _last_digit(text)
        if not (abs(a - e) <= tol or (e != e and a != a)):
            return f"{a} is not {e} to rtol={rule.rtol}, atol={rule.atol}"
    return None


def _last_digit(number: str) -> float:
    """The value of one unit in the last printed digit of ``number`` ('0.0714' -> 1e-4,
    '1.5e-03' -> 1e-4, '12' -> 1)."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals) if number[-1:].isdigit() else 0.0


def compare_outputs(expected: str, actual: str, source: str) -> list[str]:
    """Every line of the two printouts that breaks the program's declared comparison."""
    default, by_prefix = comparison_of(source)
    want, got = expected.splitlines(), actual.splitlines()
    problems = []
    for i, (e, a) in enumerate(zip(want, got), 1):
        prefixes = [p for p in by_prefix if e.startswith(p)]
        prefix = max(prefixes, key=len) if prefixes else ""
        why = line_mismatch(e, a, by_prefix[prefix] if prefix else default, prefix)
        if why:
            problems.append(f"line {i}: {why}\n  torch:   {e}\n  descent: {a}")
    if len(want) != len(got):
        problems.append(f"torch printed {len(want)} lines, descent {len(got)}")
    return problems


def test_compare_outputs_applies_each_rule():
    source = "# compare: rtol=1e-3\n# compare[loss]: below 0.5\n# compare[seed]: skip\n"
    assert (
        compare_outputs("a 1.0000\nloss: 0.1\nseed 7", "a 1.0004\nloss: 0.3\nseed 9", source) == []
    )
    bad = compare_outputs("a 1.0\nloss: 0.1\nseed 7", "b 1.1\nloss: 0.7\n", source)
    assert len(bad) == 3
    assert "text between" in bad[0] and "not below 0.5" in bad[1] and "printed 3 lines" in bad[2]
    assert compare_outputs("x 1.000", "x 1.010", "# compare: rtol=1e-3\n") != []
    # rounded to the printed digits, two equal-enough values may differ in the last one
    assert compare_outputs("x 0.071374", "x 0.071373", "# compare: rtol=1e-5\n") == []
    assert compare_outputs("x 0.071374", "x 0.071372", "# compare: rtol=1e-5\n") != []
    assert compare_outputs("x 7.1374e-02", "x 7.1373e-02", "# compare: rtol=1e-5\n") == []
    assert compare_outputs("x True", "x True", "# compare: exact\n") == []
    assert compare_outputs("x True", "x False", "# compare: exact\n") != []


def test_a_program_without_a_comparison_is_refused():
    with pytest.raises(ValueError, match="no '# compare:'"):
        comparison_of("import torch\n")


# ---- the programs ------------------------------------------------------------------------------


def _run(script: Path, cwd: Path, pythonpath: str | None) -> str:
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def _programs():
    for path in sorted(PROGRAMS.glob("*.py")):
        marks = (
            [pytest.mark.xfail(strict=True, reason=XFAIL[path.stem])] if path.stem in XFAIL else []
        )
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("program", list(_programs()))
def test_pytorch_program_runs_on_descent_with_only_its_imports_changed(program, tmp_path):
    pytest.importorskip("torch")
    source = program.read_text()
    if "sklearn" in source:
        pytest.importorskip("sklearn")
    torch_dir, descent_dir = tmp_path / "torch", tmp_path / "descent"
    torch_dir.mkdir()
    descent_dir.mkdir()
    expected = _run(program, torch_dir, None)
    rewritten = descent_dir / program.name
    rewritten.write_text(rewrite_imports(source))
    actual = _run(rewritten, descent_dir, str(ROOT))
    problems = compare_outputs(as_descent_says(expected), actual, source)
    assert not problems, f"{program.name}:\n" + "\n".join(problems)
