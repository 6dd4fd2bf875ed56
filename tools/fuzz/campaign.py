"""The campaign: mutants out to a pool of bounded workers, outcomes into a table.

The parent makes every mutant (seeded, so a run repeats exactly), writes it to a file,
and hands its path to a free worker. A worker that dies while reading an input crashed on
it; one that does not answer within the timeout (or that the kernel ended for its CPU
time) hung on it. Either way it is replaced and the campaign goes on. Inputs with a bad
outcome are saved, with a manifest, for ``--replay``.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from . import seeds as seedlib
from .mutate import mutate

OUTCOMES = ("clear", "unclear", "crash", "hang", "silent", "changed", "harmless")
BAD = ("unclear", "crash", "hang", "silent")
ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self, seeds_dir: str, memory_mb: int, timeout: float):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tools.fuzz.worker", seeds_dir, str(memory_mb), str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1, cwd=str(ROOT), env=env,
        )  # fmt: skip
        self.job = None  # the input it is reading
        self.deadline = 0.0
        self.ready = False

    def send(self, job: dict, path: str, timeout: float):
        self.job = (job, path)
        self.deadline = time.monotonic() + timeout
        self.proc.stdin.write(json.dumps(dict(job, path=path)) + "\n")
        self.proc.stdin.flush()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _death(proc: subprocess.Popen) -> tuple[str, str]:
    code = proc.wait()
    if code == -signal.SIGXCPU:
        return "hang", "ran out of CPU time (SIGXCPU)"
    if code < 0:
        return "crash", f"killed by signal {signal.Signals(-code).name}"
    return "crash", f"exited with status {code} without a report"


def inputs(formats, seeds: dict, seeds_dir: str, count: int, seed: int):
    """``count`` mutants, round-robin over the formats and their seeds."""
    contents = {n: Path(seeds_dir, n).read_bytes() for f in formats for n in seeds[f]}
    for i in range(count):
        fmt = formats[i % len(formats)]
        names = seeds[fmt]
        name = names[(i // len(formats)) % len(names)]
        rng = random.Random(f"{seed}-{i}")
        data, what = mutate(fmt, contents[name], rng)
        yield {"id": i, "format": fmt, "seed": name, "mutation": what}, data


def run(args, out=sys.stdout) -> Counter:
    work = tempfile.mkdtemp(prefix="fuzz-")
    try:
        return _run(args, work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args, work: str, out) -> Counter:
    seeds_dir = os.path.join(work, "seeds")
    os.mkdir(seeds_dir)
    seeds = seedlib.build(seeds_dir)
    if args.replay:
        manifest = [json.loads(line) for line in Path(args.replay, "manifest.jsonl").open()]
        jobs = ((dict(m), Path(args.replay, m["file"]).read_bytes()) for m in manifest)
        total = len(manifest)
    else:
        jobs = inputs(args.formats, seeds, seeds_dir, args.inputs, args.seed)
        total = args.inputs
    counts = Counter()
    bad = []
    start = time.monotonic()
    _pool(args, seeds_dir, work, jobs, counts, bad)
    seconds = time.monotonic() - start
    print_table(counts, args.formats, out)
    print(f"{total} inputs in {seconds:.1f}s with {args.jobs} workers", file=out)
    if bad:
        save_dir = Path(args.save)
        save_dir.mkdir(parents=True, exist_ok=True)
        with open(save_dir / "manifest.jsonl", "w") as manifest:
            for job, data in bad:
                (save_dir / job["file"]).write_bytes(data)
                manifest.write(json.dumps(job) + "\n")
        print(f"\n{len(bad)} bad outcomes, saved to {save_dir} (replay: --replay {save_dir}):",
              file=out)  # fmt: skip
        for job, _ in bad[:40]:
            print(f"  {job['outcome']:8} {job['format']:10} {job['seed']:22} "
                  f"{job['mutation'][:50]:50} {job['detail'][:120]}", file=out)  # fmt: skip
    return counts


def _pool(args, seeds_dir, work, jobs, counts, bad):
    selector = selectors.DefaultSelector()
    workers = []

    def start():
        w = Worker(seeds_dir, args.memory, args.timeout)
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)
        workers.append(w)
        return w

    def finish(w: Worker, outcome: str, detail: str):
        job, path = w.job
        w.job = None
        counts[(job["format"], outcome)] += 1
        if outcome in BAD:
            job = dict(job, outcome=outcome, detail=detail, file=os.path.basename(path))
            bad.append((job, Path(path).read_bytes()))
        os.unlink(path)

    def replace(w: Worker):
        selector.unregister(w.proc.stdout)
        w.kill()
        workers.remove(w)
        start()

    for _ in range(args.jobs):
        start()
    pending = iter(jobs)
    exhausted = False
    while True:
        for w in list(workers):
            if w.ready and w.job is None and not exhausted:
                try:
                    job, data = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                ext = _extension(job["seed"])
                path = os.path.join(work, f"{job['format']}-{job['id']}{ext}")
                Path(path).write_bytes(data)
                w.send(job, path, args.timeout)
        if exhausted and all(w.job is None for w in workers):
            break
        now = time.monotonic()
        busy = [w for w in workers if w.job is not None]
        wait = min([w.deadline for w in busy], default=now + 60) - now
        events = selector.select(timeout=max(0.0, wait) if busy else 60)
        for key, _ in events:
            w = key.data
            line = w.proc.stdout.readline()
            if not line:  # the worker died
                if w.job is not None:
                    finish(w, *_death(w.proc))
                elif not w.ready:
                    raise RuntimeError("a fuzz worker died while starting")
                replace(w)
                continue
            reply = json.loads(line)
            if reply.get("ready"):
                w.ready = True
            elif time.monotonic() > w.deadline:  # an answer too late is a hang all the same
                finish(w, "hang", f"no answer within {args.timeout}s")
                replace(w)
            else:
                finish(w, reply["outcome"], reply["detail"])
        now = time.monotonic()
        for w in [w for w in workers if w.job is not None and now > w.deadline]:
            finish(w, "hang", f"no answer within {args.timeout}s")
            replace(w)
    for w in workers:
        w.proc.stdin.close()
        w.kill()


def _extension(seed: str) -> str:
    for ext in (".safetensors", ".csv", ".npz", ".gz"):
        if seed.endswith(ext):
            return ext
    return "-idx"


def print_table(counts: Counter, formats, out) -> None:
    width = 12
    print(
        f"{'format':{width}}" + "".join(f"{o:>10}" for o in OUTCOMES) + f"{'total':>10}", file=out
    )
    rows = list(formats) + ["total"]
    for fmt in rows:
        cells = [
            sum(n for (f, o), n in counts.items() if o == outcome and fmt in (f, "total"))
            for outcome in OUTCOMES
        ]
        print(f"{fmt:{width}}" + "".join(f"{c:>10}" for c in cells) + f"{sum(cells):>10}", file=out)
