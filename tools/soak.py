"""The kill -9 soak: training runs killed with SIGKILL at random moments, then resumed.

    python -m tools.soak [--kills 20] [--epochs 8] [--hidden 1024] [--seed 0] [--keep DIR]

One uninterrupted run of a digits MLP (dropout, Adam, shuffling, a checkpoint every epoch
and a CSV log) is the reference. Each of ``--kills`` runs of the same training is killed
with SIGKILL, half of them while a checkpoint is being written (the folder is watched for
the temporary name of an atomic write), the others at a random moment; then it is resumed
with ``fit(resume_from=...)`` from its latest checkpoint. For each run the soak checks that

- every checkpoint left on disk loads whole,
- the resumed run's final weights and optimizer state are byte-identical to the reference's,
- its ``metrics.csv`` and ``history.json`` equal the reference's,
- no temporary file is left in its folder,

and prints one table. The exit status is 0 only when every check held for every run.
``python -m tools.soak child ...`` is one training run (what the soak starts and kills).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import descent as ds
from descent import nn

ROOT = Path(__file__).resolve().parent.parent
CKPT = "ckpt-{epoch:02d}.safetensors"
_CKPT_NAME = re.compile(r"ckpt-(\d+)\.safetensors")
_TEMP_NAME = re.compile(r"^\..+\.tmp$")  # atomic_write's temporary ".NAME.XXXX.tmp"


# ---- one training run (the child process) ------------------------------------------------


def child(argv: list[str]) -> None:
    """Train, checkpointing every epoch; write final.safetensors and history.json at the end."""
    parser = argparse.ArgumentParser(prog="tools.soak child")
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--order", choices=["csv,ckpt", "ckpt,csv"], default="csv,ckpt")
    parser.add_argument("--resume")
    args = parser.parse_args(argv)

    X, y = ds.datasets.load_digits(return_X_y=True)
    X = ds.data.Standardizer().fit_transform(np.asarray(X, np.float32))
    y = np.asarray(y, np.int64)
    ds.manual_seed(0)
    h = args.hidden
    model = nn.Sequential(
        nn.Linear(64, h), nn.ReLU(), nn.Dropout(0.2), nn.Linear(h, h), nn.ReLU(),
        nn.Dropout(0.2), nn.Linear(h, 10),
    )  # fmt: skip
    optimizer = ds.optim.Adam(model.parameters(), lr=1e-3)
    log = ds.train.CSVLogger(args.out / "metrics.csv")
    ckpt = ds.train.ModelCheckpoint(args.out / CKPT)
    callbacks = [log, ckpt] if args.order == "csv,ckpt" else [ckpt, log]
    history = ds.train.fit(
        model, "cross_entropy", optimizer, (X[:1500], y[:1500]), (X[1500:], y[1500:]),
        epochs=args.epochs, batch_size=64, metrics=["accuracy"], callbacks=callbacks,
        shuffle=True, seed=1, verbose=0, resume_from=args.resume,
    )  # fmt: skip
    ds.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
        args.out / "final.safetensors",
    )
    text = json.dumps({"history": history.history, "epoch": history.epoch}, sort_keys=True)
    ds.io.atomic_write(args.out / "history.json", text)


# ---- the soak (the parent) ---------------------------------------------------------------


@dataclass
class Trial:
    """What happened to one killed and resumed run."""

    index: int
    mode: str  # "write": killed while a temporary checkpoint file existed; "random"
    order: str
    killed_at: float = 0.0  # seconds after the start
    during_write: bool = False  # a temporary file was there when the process died
    checkpoints: int = 0
    loadable: bool = True
    resumed_from: str | None = None
    identical: bool = False
    logs_identical: bool = False
    temp_left: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _command(out: Path, settings: dict, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "tools.soak", "child", str(out), "--epochs",
        str(settings["epochs"]), "--hidden", str(settings["hidden"]), *extra,
    ]  # fmt: skip


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"  # the same sums in every run
    return env


def _run(out: Path, settings: dict, *extra: str) -> float:
    """One run to its end; the seconds it trained (from its log's creation to its exit)."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        _command(out, settings, *extra), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    began = _training_began(proc, out)
    _, stderr = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"soak: the run in {out} failed:\n{stderr[-3000:]}")
    return time.perf_counter() - began


def _training_began(proc: subprocess.Popen, out: Path) -> float:
    """When the run's first callback wrote its log (the start-up is over), or it ended."""
    log = out / "metrics.csv"
    while proc.poll() is None and not log.exists():
        time.sleep(0.001)
    return time.perf_counter()


def _temps(folder: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(folder) if _TEMP_NAME.match(e.name))


def _kill(trial: Trial, out: Path, settings: dict, rng: random.Random, duration: float) -> bool:
    """Start a run and SIGKILL it; False if it finished before the kill."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(out, settings, "--order", trial.order), cwd=ROOT, env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    if trial.mode == "write":
        # the n-th checkpoint write seen (its temporary name) is where this run dies
        target, seen = rng.randrange(1, settings["epochs"]), set()
        while proc.poll() is None:
            names = [n for n in _temps(out) if n.startswith(".ckpt-")]
            seen.update(names)
            if names and len(seen) >= target:
                break
            time.sleep(0.0002)
    else:  # a random moment of the training (the start-up is the same in every run)
        deadline = _training_began(proc, out) + rng.uniform(0.0, duration)
        while proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.001)
    if proc.poll() is not None:
        proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"soak: run {trial.index} failed before its kill")
        return False
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    trial.killed_at = time.perf_counter() - start
    trial.during_write = bool(_temps(out))
    return proc.returncode == -signal.SIGKILL


def flat_state(state, prefix=""):
    """(path, value) of every leaf of a nested state: dicts, lists and tuples walked."""
    if isinstance(state, dict):
        for k, v in state.items():
            yield from flat_state(v, f"{prefix}/{k}")
    elif isinstance(state, (list, tuple)):
        for i, v in enumerate(state):
            yield from flat_state(v, f"{prefix}/{i}")
    else:
        yield prefix, state


def same_state(a, b) -> bool:
    """Byte for byte: the same names, dtypes, shapes and bytes, the same plain values."""
    fa, fb = dict(flat_state(a)), dict(flat_state(b))
    if fa.keys() != fb.keys():
        return False
    for k, va in fa.items():
        vb = fb[k]
        if hasattr(va, "numpy") or isinstance(va, np.ndarray):
            va, vb = np.asarray(va), np.asarray(vb)
            if va.dtype != vb.dtype or va.shape != vb.shape or va.tobytes() != vb.tobytes():
                return False
        elif va != vb:
            return False
    return True


def _check(trial: Trial, out: Path, ref: Path, settings: dict) -> None:
    # every checkpoint the kill left loads whole, and the latest is where to resume
    latest, latest_epoch = None, 0
    for path in sorted(out.glob("ckpt-*.safetensors")):
        trial.checkpoints += 1
        try:
            epoch = int(ds.load(path)["epoch"])
        except Exception as e:  # noqa: BLE001 - any failure to load is what the soak counts
            trial.loadable = False
            trial.problems.append(f"{path.name} does not load: {e}")
            continue
        if epoch != int(_CKPT_NAME.fullmatch(path.name).group(1)):
            trial.loadable = False
            trial.problems.append(f"{path.name} holds epoch {epoch}")
        if epoch > latest_epoch:
            latest, latest_epoch = path, epoch
    extra = ["--order", trial.order]
    if latest is not None:
        trial.resumed_from = latest.name
        extra += ["--resume", str(latest)]
    _run(out, settings, *extra)
    trial.identical = same_state(
        ds.load(ref / "final.safetensors"), ds.load(out / "final.safetensors")
    )
    if not trial.identical:
        trial.problems.append("the final weights or optimizer state differ")
    csv_same = (ref / "metrics.csv").read_bytes() == (out / "metrics.csv").read_bytes()
    history_same = (ref / "history.json").read_text() == (out / "history.json").read_text()
    trial.logs_identical = csv_same and history_same
    if not csv_same:
        trial.problems.append("metrics.csv differs")
    if not history_same:
        trial.problems.append("history.json differs")
    trial.temp_left = _temps(out)


@dataclass
class Report:
    trials: list[Trial]
    reference_seconds: float

    @property
    def kills(self) -> int:
        return len(self.trials)

    def count(self, name: str) -> int:
        return sum(bool(getattr(t, name)) for t in self.trials)

    @property
    def temp_files_left(self) -> int:
        return sum(len(t.temp_left) for t in self.trials)

    @property
    def ok(self) -> bool:
        n = self.kills
        return (
            self.count("loadable") == self.count("identical") == self.count("logs_identical") == n
            and self.temp_files_left == 0
        )

    def table(self) -> str:
        n = self.kills
        head = ["kills", "during a write", "checkpoints loadable", "resumes bit-identical",
                "logs identical", "temp files left"]  # fmt: skip
        row = [str(n), str(self.count("during_write")), f"{self.count('loadable')}/{n}",
               f"{self.count('identical')}/{n}", f"{self.count('logs_identical')}/{n}",
               str(self.temp_files_left)]  # fmt: skip
        widths = [max(len(a), len(b)) for a, b in zip(head, row)]
        lines = [
            " | ".join(h.ljust(w) for h, w in zip(head, widths)),
            "-+-".join("-" * w for w in widths),
            " | ".join(r.ljust(w) for r, w in zip(row, widths)),
        ]
        for t in self.trials:
            if t.problems or t.temp_left:
                what = "; ".join(
                    t.problems + [f"left {', '.join(t.temp_left)}"] * bool(t.temp_left)
                )
                lines.append(
                    f"run {t.index} ({t.mode}, {t.order}, killed at {t.killed_at:.2f}s): {what}"
                )
        return "\n".join(lines)


def soak(kills: int, epochs: int, hidden: int, seed: int, folder: Path, log=print) -> Report:
    """Run the soak in ``folder``; the Report of every trial."""
    settings = {"epochs": epochs, "hidden": hidden}
    rng = random.Random(seed)
    ref = folder / "reference"
    duration = _run(ref, settings)
    log(f"reference run: {epochs} epochs trained in {duration:.1f}s")
    trials = []
    for i in range(kills):
        trial = Trial(i, "write" if i % 2 == 0 else "random", rng.choice(["csv,ckpt", "ckpt,csv"]))
        out = folder / f"run-{i:03d}"
        for attempt in range(20):  # a run that finished before its kill is started again
            if attempt == 5:  # writes too quick to catch here: kill at a random moment
                trial.mode = "random"
            if _kill(trial, out, settings, rng, duration):
                break
            for path in out.iterdir():
                path.unlink()
        else:
            raise RuntimeError(f"soak: run {i} finished before every kill of 20 tries")
        _check(trial, out, ref, settings)
        trials.append(trial)
        state = "ok" if not trial.problems and not trial.temp_left else "FAILED"
        log(
            f"run {i:3d}: {trial.mode:6s} kill at {trial.killed_at:5.2f}s"
            f"{' (during a write)' if trial.during_write else ''}, resumed from "
            f"{trial.resumed_from or 'the start'}: {state}"
        )
    return Report(trials, duration)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=1024, help="width of the two hidden layers")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        report = soak(args.kills, args.epochs, args.hidden, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            report = soak(args.kills, args.epochs, args.hidden, args.seed, Path(folder))
    print(report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
