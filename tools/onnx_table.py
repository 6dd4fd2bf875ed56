"""The largest |onnxruntime - descent| of every ONNX export case (``python -m tools.onnx_table``).

Runs the cases of ``tests/test_onnx_export.py`` (every layer and activation, the example
networks at opsets 13, 17 and 20, every estimator method, and a ``descent train`` run
exported with ``descent export``) and prints one row each: the model kind, the opset and
the largest absolute difference over batches of 1, 3 and 17 examples (float32; labels
must be equal, shown as 0).
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import descent as ds
from descent.cli import main as descent_main
from descent.runs import run_predictor
from tests import test_onnx_export as T


def _run_rows(folder: Path) -> list:
    rows = []
    for dataset, model in (("iris", "mlp"), ("diabetes", "linear")):
        runs = folder / "runs"
        descent_main(["train", "--dataset", dataset, "--model", model, "--epochs", "3",
                      "--quiet", "--runs-dir", str(runs), "--name", dataset])  # fmt: skip
        out = folder / f"{dataset}.onnx"
        descent_main(["export", str(runs / dataset), "--onnx", str(out)])
        T.check_file(out)
        X = getattr(ds.datasets, f"load_{dataset}")().data
        predictor, _, _ = run_predictor(runs / dataset)
        worst = 0.0
        for n in T.BATCHES:
            x = X[:n].astype(np.float32)
            (got,) = T.session(out).run(None, {"input": x})
            with ds.no_grad():
                want = predictor(ds.tensor(x)).numpy()
            worst = max(worst, float(np.abs(got - want).max()))
        rows.append((f"descent export ({dataset} {model} run)", 17, worst))
    return rows


def main() -> int:
    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.onnx"
        for name, make, shape in T.LAYERS:
            ds.manual_seed(0)
            rows.append((name, 17, T.max_diff_module(make(), shape, path)))
        for opset in T.OPSETS:
            for name, make in T.ACTIVATIONS:
                ds.manual_seed(0)
                rows.append((name, opset, T.max_diff_module(make(), (6,), path, opset=opset)))
            for name, make, shape in T.MODELS:
                ds.manual_seed(0)
                rows.append((f"{name} network", opset,
                             T.max_diff_module(make(), shape, path, opset=opset)))  # fmt: skip
        for name, make, data, method in T.CASES:
            rows.append((f"{name}.{method}", 17, T.estimator_diff(make, data, method, path)))
        rows += _run_rows(Path(tmp))
    width = max(len(r[0]) for r in rows)
    print(f"{'model kind'.ljust(width)}  opset  max |onnxruntime - descent|")
    for name, opset, diff in rows:
        print(f"{name.ljust(width)}  {opset:>5}  {diff:.2e}")
    print(f"\n{len(rows)} cases, largest difference {max(r[2] for r in rows):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
