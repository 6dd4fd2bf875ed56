"""The table and the JSON file of a run's results."""

from __future__ import annotations

import json
import os
import textwrap

from .mnist1d import render_mnist1d

NOISY_SPREAD = 0.25  # 2-thread rounds on a quiet 2-core VM spread 10-25%; more: disturbed


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "MISS", None: "n/a"}[passed]


def render(results: dict) -> str:
    """The table: header (date, machine, versions, BLAS, threads), then one section per kind."""
    env, st = results["environment"], results["settings"]
    blas = env["numpy_blas"]
    lines = [
        f"descent bench  {env['date']}",
        f"machine   {env['platform']}; {env['cpu']}; {env['cores']} cores "
        f"({env['usable_cores']} usable)",
        f"versions  Python {env['python']}, NumPy {env['numpy']}, PyTorch {env['torch'] or 'n/a'}, "
        f"JAX {env.get('jax') or 'n/a'}, scikit-learn {env['sklearn'] or 'n/a'}, "
        f"descent {env['descent']}"
        f"{' (' + env['descent_commit'] + ')' if env.get('descent_commit') else ''}",
        f"NumPy BLAS {blas.get('internal_api')} {blas.get('version') or ''} "
        f"(coretype {blas.get('architecture')}, {blas.get('threading_layer')}, "
        f"{blas.get('num_threads')} threads)",
        f"threads   {env['threads']} for all (torch.set_num_threads "
        f"{env['torch_threads'] or 'n/a'}; threadpoolctl for BLAS/OpenMP; JAX: "
        f"{env.get('jax_threads') or 'n/a'}; the process held to CPUs "
        f"{env.get('cpus') or 'all'})",
        f"load      1-min load average {env['load_average']} before, "
        f"{env.get('load_average_after')} after (other processes on these cores skew timings)",
        f"method    warm-up, then {st['repeat']} interleaved rounds (descent, compiled, torch, "
        f"jax, numpy, descent, ...) of k timed steps,",
        f"          each after a {st['pause_seconds']:g} s pause and {st['rewarm_steps']} untimed "
        f"steps; medians of the rounds;",
        "          ratios of medians within this run",
    ]
    for w in results["warnings"]:
        lines.append(f"WARNING   {w}")
    if results["workloads"]:
        lines += ["", _step_table(results["workloads"])]
    notes = status_notes(results["workloads"])
    load, cores = env["load_average"], env["usable_cores"] or 1
    if load is not None and load > cores / 2:
        notes.append(
            f"  the load average was {load} on {cores} cores before the run: other processes "
            f"were busy, and every timing (and ratio) may be off"
        )
    noisy = [w["name"] for w in results["workloads"] if (w["spread"] or 0) > NOISY_SPREAD]
    if noisy:
        notes.append(
            f"  rounds disagree by more than {NOISY_SPREAD:.0%} in {', '.join(noisy)}: the "
            f"machine was busy; rerun when it is quiet (or with --threads 1, which suffers less)"
        )
    fit = results["fit_digits"]
    if fit:
        lines += ["", _fit_table(fit)]
        notes += [f"  fit-digits {n}: {s}" for n, s in fit["status"].items() if s != "ok"]
    if results.get("mnist1d"):
        lines += ["", render_mnist1d(results["mnist1d"])]
    mem = results["peak_memory"]
    if mem:
        lines += ["", _memory_table(mem)]
        notes += [f"  peak-memory {fw}: {s}" for fw, s in mem["status"].items() if s not in ("ok",)]
    imp = results["import_time"]
    if imp:
        lines += [
            "",
            f"import    {imp['command']}: {imp['seconds']:.3f} s median of "
            f"{len(imp['samples'])} fresh runs (bare `python -c pass`: "
            f"{imp['python_startup_seconds']:.3f} s)",
        ]
    if results["targets"]:
        lines += ["", _target_table(results["targets"])]
    if notes:
        lines += ["", "notes"]
        lines += [textwrap.fill(n, 100, subsequent_indent="    ") for n in notes]
    return "\n".join(lines) + "\n"


def status_notes(rows: list) -> list:
    """One note per framework and reason it was not timed, naming the workloads (or all)."""
    by_reason: dict = {}
    for w in rows:
        for fw, status in w["status"].items():
            if status != "ok":
                by_reason.setdefault((fw, status), []).append(w["name"])
    notes = []
    for (fw, status), names in by_reason.items():
        where = "every workload" if len(names) == len(rows) > 1 else ", ".join(names)
        notes.append(f"  {fw} ({where}): {status}")
    return notes


_NO_COMPILE = "n/a (descent has no"


def _has_compiled(rows: list) -> bool:
    """The compiled column is shown once descent has ``ds.compile``."""
    return any(not w["status"].get("compiled", _NO_COMPILE).startswith(_NO_COMPILE) for w in rows)


def _step_table(rows: list) -> str:
    frameworks = ["descent", "compiled", "torch", "jax", "numpy"]
    ratios = ["descent/torch", "descent/jax", "descent/numpy"]
    if _has_compiled(rows):
        ratios += ["compiled/descent", "compiled/jax", "compiled/numpy"]
    else:
        frameworks.remove("compiled")
    short = {"descent": "desc", "compiled": "comp"}
    head = ["workload", "unit", *frameworks]
    head += ["/".join(short.get(p, p) for p in r.split("/")) for r in ratios]
    table = [(*head, "k", "spread")]
    for w in rows:
        m, r = w["median"], w["ratios"]
        table.append(
            (
                w["name"],
                w["unit"],
                *(_num(m.get(fw)) for fw in frameworks),
                *(_times(r.get(name)) for name in ratios),
                str(w["steps_per_block"]),
                "n/a" if w["spread"] is None else f"{w['spread']:.0%}",
            )
        )
    legend = (
        "k: steps per timed block; spread: the widest interquartile range / median of a "
        "framework's rounds\njax: the same step compiled by jax.jit"
    )
    if "compiled" in frameworks:
        legend += "; compiled (comp): descent's step given to ds.compile"
    return f"{_columns(table, left=2)}\n{legend}"


def _fit_table(fit: dict) -> str:
    s = fit["settings"]
    title = (
        f"fit-digits: MLPClassifier hidden {tuple(s['hidden'])}, batch {s['batch_size']}, "
        f"{s['epochs']} epochs, adam lr {s['lr']:g}, alpha {s['alpha']:g}, 75/25 split;\n"
        f"accuracy: the mean over seeds {s['seeds'][0]}..{s['seeds'][-1]} (split and start)"
    )
    table = [("estimator", "fit s", "test accuracy", "epochs run")]
    for name in ("descent", "sklearn"):
        epochs = fit["epochs_run"][name]
        table.append(
            (
                name,
                _num(fit["seconds"][name]),
                _num(fit["accuracy"][name], 4),
                "n/a" if epochs is None else str(epochs),
            )
        )
    ratio = fit["ratios"]["descent/sklearn"]
    return f"{title}\n{_columns(table, left=1)}\ndescent/sklearn fit time {_times(ratio)}"


def _memory_table(mem: dict) -> str:
    title = (
        f"peak-memory: peak resident MiB of {mem['steps']} {mem['workload']} steps, fresh process"
    )
    table = [("framework", "MiB")]
    table += [(fw, _num(mib, 1)) for fw, mib in mem["mib"].items()]
    ratio = mem["ratios"]["descent/torch"]
    return f"{title}\n{_columns(table, left=1)}\ndescent/torch {_times(ratio)}"


def _target_table(targets: list) -> str:
    table = [("targets", "measure", "value", "target", "result")]
    for t in targets:
        value = t["value"]
        if value is None:
            shown = "n/a"
        elif t["measure"] == "seconds":
            shown = f"{value:.3f} s"
        elif t["measure"].startswith("accuracy"):
            shown = f"{value:+.4f}"
        else:
            shown = _times(value)
        table.append((t["workload"], t["measure"], shown, t["target"], _verdict(t["passed"])))
    return _columns(table, left=2)


def _columns(rows: list, left: int) -> str:
    """Rows aligned in columns: the first ``left`` columns to the left, the rest right."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            str(c).ljust(w) if i < left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def write_json(results: dict, path: str) -> None:
    """``results`` as JSON at ``path``, written to a temporary name and renamed."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
