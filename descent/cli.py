"""The ``descent`` command: demo, train, export, lesson, explain, gradcheck, bench.

A user's mistake (a bad argument, file or value, a diverged run, too little memory) ends
in one line on stderr and exit status 2, Ctrl-C in one line and 130; only a bug in descent
shows a traceback. ``docs/errors.md`` lists the messages.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import inspect
import json
import signal
import sys
import threading
from pathlib import Path

import numpy as np

from . import __version__


def _hidden(text: str) -> tuple:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden wants sizes like 64,32, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"--hidden wants positive sizes like 64,32, got {text!r}")
    return sizes


def _add_train_flags(p: argparse.ArgumentParser, defaults) -> None:
    from .runs import DATASETS, OPTIMIZERS

    src = p.add_argument_group("data (a bundled dataset, or a CSV file)")
    src.add_argument("--dataset", choices=sorted(DATASETS), default=defaults.dataset,
                     help="a dataset bundled with descent (%(default)s)")  # fmt: skip
    src.add_argument("--csv", metavar="PATH", help="a CSV file with a header row")
    src.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    hp = p.add_argument_group("model and training")
    hp.add_argument("--model", choices=["linear", "mlp"], default=defaults.model,
                    help="a linear model or a multilayer perceptron (%(default)s)")  # fmt: skip
    hp.add_argument("--hidden", type=_hidden, default=defaults.hidden, metavar="SIZES",
                    help="hidden layer sizes of the MLP, e.g. 64,32")  # fmt: skip
    hp.add_argument("--activation", choices=["relu", "tanh", "sigmoid"],
                    default=defaults.activation,
                    help="the MLP's activation between layers (%(default)s)")  # fmt: skip
    hp.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=defaults.optimizer,
                    help="the update rule (%(default)s)")  # fmt: skip
    hp.add_argument("--lr", type=float, default=defaults.lr, help="learning rate (%(default)s)")
    hp.add_argument("--weight-decay", type=float, default=defaults.weight_decay,
                    help="L2 penalty on the weights (%(default)s)")  # fmt: skip
    hp.add_argument("--dropout", type=float, default=defaults.dropout,
                    help="chance a hidden unit is dropped in training (%(default)s)")  # fmt: skip
    hp.add_argument("--epochs", type=int, default=defaults.epochs,
                    help="the most passes over the training data (%(default)s)")  # fmt: skip
    hp.add_argument("--batch-size", type=int, default=defaults.batch_size,
                    help="examples per gradient step (%(default)s)")  # fmt: skip
    hp.add_argument("--patience", type=int, default=defaults.patience,
                    help="early stopping: epochs without a better val_loss "
                         "(%(default)s)")  # fmt: skip
    hp.add_argument("--seed", type=int, default=defaults.seed,
                    help="seed of the split, weights and batches (%(default)s)")  # fmt: skip
    hp.add_argument("--compile", action="store_true", default=defaults.compile,
                    help="trace each training step once and replay it (ds.compile): the "
                         "same numbers, less time per step")  # fmt: skip
    out = p.add_argument_group("output")
    out.add_argument("--runs-dir", default=defaults.runs_dir,
                     help="where run folders go (%(default)s)")  # fmt: skip
    out.add_argument("--name", default=defaults.name, help="the run folder's name")
    out.add_argument("--quiet", action="store_true",
                     help="print only the test results and the run folder")  # fmt: skip
    out.add_argument("--tensorboard", metavar="DIR", default=defaults.tensorboard,
                     help="also write TensorBoard event files into DIR "
                          "(pip install 'descent[tensorboard]')")  # fmt: skip
    par = p.add_argument_group("parallel")
    par.add_argument("--distributed", action="store_true",
                     help="train data-parallel over the ranks of an MPI job: mpiexec -n 4 "
                          "descent train ... (on by itself under mpiexec or srun; "
                          "pip install 'descent[distributed]')")  # fmt: skip


def _config(args):
    from .runs import RunConfig

    return RunConfig(
        dataset=None if args.csv else args.dataset, csv=args.csv, target=args.target,
        model=args.model, hidden=args.hidden, activation=args.activation,
        optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay,
        dropout=args.dropout, epochs=args.epochs, batch_size=args.batch_size,
        patience=args.patience, seed=args.seed, runs_dir=args.runs_dir, name=args.name,
        tensorboard=args.tensorboard, compile=args.compile,
    )  # fmt: skip


def demo_config():
    """The main job: an MLP on the real digits data."""
    from .runs import RunConfig

    return RunConfig(dataset="digits", model="mlp", hidden=(64,), lr=1e-3, epochs=100,
                     patience=8, batch_size=32, name=None)  # fmt: skip


def _run(config, quiet: bool, distributed: bool = False) -> None:
    from .runs import run

    # NOTE: fit stops a run whose loss overflows and says why; NumPy's overflow warnings on
    # the way there would only bury that one line.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        run(config, quiet=quiet, distributed=distributed)


def cmd_train(args) -> int:
    from .distributed import launched_by_mpi

    if args.distributed and not launched_by_mpi():
        raise ValueError(
            "--distributed trains over the ranks of an MPI job, and no MPI launcher started "
            "this one; run mpiexec -n 2 descent train ... (or srun on a cluster)"
        )
    _run(_config(args), args.quiet, distributed=args.distributed or launched_by_mpi())
    return 0


def cmd_export(args) -> int:
    from .runs import export_run

    path = export_run(args.run_dir, args.onnx, opset=args.opset)
    print(f"wrote {path} (ONNX opset {args.opset}: raw features in, the run's predictions out)")
    return 0


DEMO_INTRO = (
    "descent demo: a multilayer perceptron learns to read handwritten digits (8x8 images "
    "from scikit-learn), by mini-batch gradient descent with Adam and early stopping."
)


def cmd_demo(args) -> int:
    config = demo_config()
    config.runs_dir, config.seed = args.runs_dir, args.seed
    config.name = args.name if args.name is not None else f"demo-seed{args.seed}"
    config.check()
    if not args.quiet:
        from .train.progress import wrap_prose

        print(wrap_prose(DEMO_INTRO) + "\n")
    _run(config, args.quiet)
    return 0


def _lesson_index(lessons) -> str:
    """The lessons by deck: a heading per deck (file and title), then each lesson drawn
    from it with its slides and what it does, then the topics only the deck's schedule names."""
    table = lessons.by_deck()
    rows = [(name, lessons.slide_ranges(slides) if slides else "")
            for entry in table.values() for name, slides in entry["lessons"]]  # fmt: skip
    name_width = max(len(name) for name, _ in rows)
    slides_width = max(len(ranges) for _, ranges in rows)
    lines = []
    for deck, entry in table.items():
        lines.append(f"{deck}: {entry['title']}" if deck else entry["title"])
        for name, slides in entry["lessons"]:
            doc = lessons.LESSONS[name].__doc__
            first = doc.strip().splitlines()[0] if doc else ""
            ranges = lessons.slide_ranges(slides) if slides else ""
            lines.append(f"  {name.ljust(name_width)}  {ranges.ljust(slides_width)}  {first}")
        for topic, slides in entry["schedule_only"]:
            where = lessons.slide_ranges({topic: slides})
            lines.append(f"  not a lesson: only in the schedule: {topic} ({where})")
        if not entry["lessons"] and not entry["schedule_only"]:
            lines.append("  (no lesson yet)")
    return "\n".join(lines)


def cmd_lesson(args) -> int:
    from . import lessons

    if args.plot and Path(args.plot).exists() and not Path(args.plot).is_dir():
        print(f"descent lesson: --plot wants a folder for the pictures, and {args.plot!r} "
              f"is not a folder", file=sys.stderr)  # fmt: skip
        return 2
    if not args.name and (args.notebook or args.plot or args.json):
        given = "--notebook" if args.notebook else "--plot" if args.plot else "--json"
        print(f"descent lesson: {given} needs a lesson's name (descent lesson NAME {given} ...); "
              f"descent lesson --list lists them", file=sys.stderr)  # fmt: skip
        return 2
    if args.list or not args.name:
        print(_lesson_index(lessons))
        return 0
    fn = lessons.LESSONS.get(args.name)
    if args.quick and fn is not None and "quick" not in inspect.signature(fn).parameters:
        print(f"descent lesson: {args.name} has no --quick mode (it is quick already); run it "
              f"without --quick", file=sys.stderr)  # fmt: skip
        return 2
    try:
        lesson = fn(quick=True) if args.quick and fn else lessons.run(args.name)
    except KeyError as e:
        print(f"descent lesson: {e.args[0]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(lesson.to_dict(), indent=1))
    elif not args.notebook:
        from .train.progress import terminal_width

        print(lesson.render(width=terminal_width()), end="")
    if args.notebook:
        from .lessons.notebook import write_notebook

        try:
            path = write_notebook(args.name, args.notebook, lesson)
        except ImportError as e:
            print(f"descent lesson: {e}", file=sys.stderr)
            return 2
        print(f"wrote {path}: run it in Jupyter, or `jupyter nbconvert --to html --execute "
              f"{path}`", file=sys.stderr if args.json else sys.stdout)  # fmt: skip
    if args.plot:
        if not lesson.figures:
            print(f"descent lesson: {args.name} has no pictures", file=sys.stderr)
        for path in lesson.plot(args.plot):
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


EXPLAINED = ("secret-number", "gravity", "linear-regression", "logistic-regression", "backprop")


def cmd_explain(args) -> int:
    from . import lessons

    try:
        lesson = lessons.run(args.lesson)
    except KeyError as e:
        print(f"descent explain: {e.args[0]}", file=sys.stderr)
        return 2
    if lesson.explain is None:
        print(
            f"descent explain: lesson {args.lesson!r} has no chain-rule walk-through; "
            f"try one of {', '.join(EXPLAINED)}",
            file=sys.stderr,
        )
        return 2
    explanation = lesson.explain()
    if args.wrt:
        try:
            explanation = explanation.walk_to(args.wrt)
        except KeyError as e:
            print(f"descent explain {args.lesson} --wrt: {e.args[0]}", file=sys.stderr)
            return 2
    from .train.progress import MAX_PROSE_WIDTH, terminal_width

    print(explanation.render(min(terminal_width(), MAX_PROSE_WIDTH)))
    return 0


def gradcheck_table(names=None) -> list[dict]:
    """``check_gradients`` on every row of the op table (float64); one dict per op."""
    import descent as ds
    import descent.nn.functional as F

    from .gradcheck import check_gradients
    from .optable import TABLE

    rows = []
    for op in TABLE:
        if names and op.name not in names:
            continue
        fn = functools.partial(op.fn, ds, F)
        worst, ok = 0.0, True
        for shapes in op.shapes:
            rng = np.random.default_rng(0)
            arrays = [make(rng, s) for make, s in zip(op.makers(len(shapes)), shapes)]
            xs = [
                ds.tensor(a, dtype=a.dtype, requires_grad=op.differentiable(i, a))
                for i, a in enumerate(arrays)
            ]
            report = check_gradients(fn, xs)
            worst, ok = max(worst, report.max_abs_diff), ok and report.ok
        rows.append({"op": op.name, "cases": len(op.shapes), "max_abs_diff": worst, "ok": ok})
    return rows


def cmd_gradcheck(args) -> int:
    from .optable import TABLE

    names = sorted(op.name for op in TABLE)
    unknown = [name for name in args.ops if name not in names]
    if unknown:
        close = [m for name in unknown for m in difflib.get_close_matches(name, names, n=3)]
        hint = f"did you mean {', '.join(dict.fromkeys(close))}? " if close else ""
        print(f"descent gradcheck: no op named {' '.join(unknown)}; {hint}the ops are: "
              f"{', '.join(names)}", file=sys.stderr)  # fmt: skip
        return 2
    rows = gradcheck_table(args.ops or None)
    width = max(len(r["op"]) for r in rows)
    print(f"{'op'.ljust(width)}  cases  max |autodiff - numerical|  result")
    for r in rows:
        result = "ok" if r["ok"] else "FAILED"
        print(f"{r['op'].ljust(width)}  {r['cases']:>5}  {r['max_abs_diff']:>26.2e}  {result}")
    failed = [r["op"] for r in rows if not r["ok"]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} ops pass gradcheck (float64, central "
          f"differences, random output gradient)")  # fmt: skip
    return 1 if failed else 0


def cmd_bench(args) -> int:
    from .bench import main as bench_main

    return bench_main(args)


EXIT_STATUS = """exit status:
  0    done
  1    descent gradcheck: an op failed its check
  2    a usage error or a user's mistake (a bad argument, file or value, a run that
       diverged, a model too big for memory), said in one line on stderr
  130  interrupted (Ctrl-C)"""


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (the usage is a --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _user_errors() -> tuple:
    """The exceptions that are a user's mistake, not a bug of descent's."""
    from .train import TrainingDivergedError

    return (ValueError, TypeError, OSError, MemoryError, ImportError, TrainingDivergedError)


def _one_line(error: BaseException, command: str) -> str:
    """``error`` as one line after ``descent COMMAND: ``, without a repeated prefix."""
    if isinstance(error, OSError) and error.strerror and error.filename:
        text = f"{error.strerror}: {str(error.filename)!r}"  # an OS error as the OS told it
    elif str(error):
        text = str(error)
    elif isinstance(error, MemoryError):
        text = "out of memory; try a smaller model (--hidden) or --batch-size"
    else:
        text = type(error).__name__
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    for prefix in (f"{command}: ", "train: "):  # runs.py's errors start with "train: "
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C, so a run removes its folder


def main(argv=None) -> int:
    """Run the ``descent`` command; return its exit status (see ``EXIT_STATUS``)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("descent: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:  # None: a handler not set from Python, so the default one
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def build_parser() -> argparse.ArgumentParser:
    """The ``descent`` command's parser: every subcommand and its options, each with help."""
    parser = _Parser(
        prog="descent",
        description="descent: learning from data by gradient descent.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"descent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="train an MLP on the digits data and write a run folder")
    p.add_argument("--runs-dir", default="runs", help="where run folders go (%(default)s)")
    p.add_argument("--name", help="the run folder's name (default demo-seedN)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the split, weights and batches (%(default)s)")  # fmt: skip
    p.add_argument("--quiet", action="store_true",
                   help="print only the test accuracy and the run folder")  # fmt: skip
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("train", help="train a model on a bundled dataset or a CSV file")
    from .runs import RunConfig

    _add_train_flags(p, RunConfig())
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("export", help="write a run folder's model as an ONNX file")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder descent train wrote")
    p.add_argument("--onnx", metavar="PATH", required=True, help="the ONNX file to write")
    p.add_argument("--opset", type=int, default=17, help="the ONNX opset (%(default)s)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("lesson", help="run a worked example of the lectures")
    p.add_argument("name", nargs="?", help="the lesson (see --list)")
    p.add_argument("--list", action="store_true", help="list the lessons")
    p.add_argument("--json", action="store_true", help="print the lesson as JSON")
    p.add_argument("--plot", metavar="DIR", help="also write the lesson's pictures (PNG) here")
    p.add_argument(
        "--quick", action="store_true", help="fewer steps, for lessons that train (e.g. mnist1d)"
    )
    p.add_argument(
        "--notebook", metavar="PATH", help="write the lesson as a Jupyter notebook (.ipynb) instead"
    )
    p.set_defaults(handler=cmd_lesson)

    p = sub.add_parser("explain", help="walk the chain rule of a lesson's graph, edge by edge")
    p.add_argument("lesson", help="a lesson with a chain-rule example, e.g. gravity")
    p.add_argument(
        "--wrt",
        metavar="NAME",
        help="walk to this parameter instead of the lesson's (backprop: W1, b1, W2, b2)",
    )
    p.set_defaults(handler=cmd_explain)

    p = sub.add_parser("gradcheck", help="check every built-in op's gradient numerically")
    p.add_argument("ops", nargs="*", help="only these ops (names as in the table)")
    p.set_defaults(handler=cmd_gradcheck)

    p = sub.add_parser("bench", help="time descent against PyTorch and a NumPy reference")
    from .bench import add_arguments as add_bench_arguments

    add_bench_arguments(p)
    p.set_defaults(handler=cmd_bench)
    return parser


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except Exception as e:
        if not isinstance(e, _user_errors()):
            raise  # a bug: the traceback is what its report needs
        if _main_rank():  # the ranks of an MPI job all meet an error in their setup alike
            print(f"descent {args.command}: {_one_line(e, args.command)}", file=sys.stderr)
        return 2


def _main_rank() -> bool:
    """False on the ranks other than 0 of a distributed run, which print nothing."""
    from .distributed import is_initialized, rank

    return not is_initialized() or rank() == 0


if __name__ == "__main__":
    sys.exit(main())
