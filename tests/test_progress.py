"""fit's progress display: one line per epoch, fitted to the terminal's width."""

import io
import re
import sys

import numpy as np
import pytest

import descent as ds
from descent.train.progress import Progress, wrap_prose


class _Terminal(io.StringIO):
    def isatty(self):
        return True


LOGS = {
    "loss": 0.32114,
    "accuracy": 0.91,
    "val_loss": 0.29871,
    "val_accuracy": 0.925,
    "lr": 0.001,
}


def _screen(text: str) -> list[str]:
    """What a terminal shows after ``text``: each line as the last ``\\r`` left it."""
    return [line.split("\r")[-1].rstrip() for line in text.split("\n")]


def _show(width: int, epochs: int = 3, steps: int = 12, logs=LOGS) -> str:
    term = _Terminal()
    progress = Progress(1, epochs, steps, stream=term, columns=width, interval=0.0)
    for epoch in range(epochs):
        progress.epoch_begin(epoch)
        for step in range(steps):
            progress.batch_end(1.0 / (step + 1))
        progress.epoch_end(epoch, logs)
    return term.getvalue()


def _metric_pattern(name: str, short: str) -> str:
    return rf"(^|[ -])({name}|{short}) -?\d"


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_each_epoch_ends_in_one_line_with_every_metric_within_the_width(width):
    text = _show(width)
    lines = _screen(text)[:-1]  # the text ends with a newline
    assert all(len(line) < width for line in lines), max(lines, key=len)
    epochs = [i for i, line in enumerate(lines) if line.startswith("epoch ")]
    assert [lines[i].split()[1] for i in epochs] == ["1/3", "2/3", "3/3"]
    for n, first in enumerate(epochs):
        last = epochs[n + 1] if n + 1 < len(epochs) else len(lines)
        shown = " ".join(lines[first:last])  # the epoch's line and any it wraps onto
        for name, short in [("val_accuracy", "val_acc"), ("accuracy", "acc")]:
            assert re.search(_metric_pattern(name, short), shown), (name, shown)
        for name in ("loss", "val_loss"):
            assert re.search(rf"(^|[ -]){name} 0\.\d{{3}}", shown), (name, shown)
        assert "0.32" in shown and "0.29" in shown and "0.91" in shown and "0.92" in shown
        assert re.search(r"\d\.\d+s", shown) and "12/12" in shown
    if width >= 100:
        assert len(epochs) == len(lines), "a wide terminal needs no second line"


def test_the_line_is_rewritten_in_place_while_the_epoch_runs():
    text = _show(120, epochs=2, steps=5)
    first_epoch = text.split("\n")[0]
    updates = first_epoch.split("\r")[1:]
    assert len(updates) >= 6  # the start, each of 5 batches, the end
    steps = [re.search(r" (\d+)/5 ", u).group(1) for u in updates]
    assert steps[0] == "0" and steps[-1] == "5" and steps == sorted(steps, key=int)
    assert "loss 0.2000" in updates[-2]  # the running loss of the last batch
    assert text.count("\n") == 2  # one finished line per epoch


def test_a_shorter_update_blanks_what_the_longer_one_left():
    term = _Terminal()
    progress = Progress(1, 1, 2, stream=term, columns=100, interval=0.0)
    progress.epoch_begin(0)
    progress.batch_end(1.0)
    progress.epoch_end(0, {"loss": 0.5})
    updates = term.getvalue().rstrip("\n").split("\r")[1:]
    for before, after in zip(updates, updates[1:]):
        assert len(after) >= len(before.rstrip())


def test_a_metric_is_never_cut_on_a_narrow_terminal():
    logs = {f"val_metric_{i}": 0.123456 for i in range(6)}
    lines = _screen(_show(40, epochs=1, logs=logs))[:-1]
    assert len(lines) > 1 and all(len(line) < 40 for line in lines)
    shown = " ".join(lines)
    assert all(f"val_metric_{i} 0.12" in shown for i in range(6))


def test_off_a_terminal_and_with_verbose_2_a_plain_line_per_epoch(capsys):
    for verbose, stream in [(1, io.StringIO()), (2, _Terminal())]:
        progress = Progress(verbose, 2, 4, stream=stream, columns=80)
        for epoch in range(2):
            progress.epoch_begin(epoch)
            progress.batch_end(0.5)
            progress.epoch_end(epoch, {"loss": 0.25, "accuracy": 0.75})
        assert stream.getvalue() == ""
        lines = capsys.readouterr().out.splitlines()
        assert [line.split(" - ")[:3] for line in lines] == [
            ["epoch 1/2", "loss 0.25", "accuracy 0.75"],
            ["epoch 2/2", "loss 0.25", "accuracy 0.75"],
        ]


def test_verbose_takes_keras_values_and_refuses_others():
    assert Progress("auto", 1, 1, stream=_Terminal()).mode == "bar"
    assert Progress(0, 1, 1, stream=_Terminal()).mode == "off"
    with pytest.raises(ValueError, match="verbose must be 0 .* or 'auto', got 3"):
        Progress(3, 1, 1)


def test_fit_draws_the_line_on_a_terminal(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setenv("COLUMNS", "80")
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = ds.nn.Linear(4, 2)
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                 (X, y), epochs=2, batch_size=20, metrics=["accuracy"], verbose=1)  # fmt: skip
    lines = _screen(term.getvalue())[:-1]
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    for line in lines:
        assert len(line) < 80 and "3/3" in line
        assert all(f" {name} " in line for name in ("loss", "val_loss"))
        assert all(re.search(_metric_pattern(n, s), line) for n, s in
                   [("accuracy", "acc"), ("val_accuracy", "val_acc")])  # fmt: skip


PROSE = (
    "descent demo: a multilayer perceptron learns to read handwritten digits (8x8 images "
    "from scikit-learn), by mini-batch gradient descent with Adam and early stopping.\n\n"
    "  an indented block stays exactly as it is, however long it happens to be in columns\n"
    "table title\n  a  b\n  1  2"
)


@pytest.mark.parametrize("width", [60, 80])
def test_prose_is_wrapped_between_words_and_blocks_stay(width):
    wrapped = wrap_prose(PROSE, width)
    prose, block = wrapped.split("\n\n")
    assert all(len(line) <= width for line in prose.splitlines())
    assert len(prose.splitlines()) > 1
    assert prose.split() == PROSE.split("\n\n")[0].split()  # no word broken or lost
    assert block == PROSE.split("\n\n")[1]


def test_prose_is_never_wider_than_100_columns():
    lines = wrap_prose("word " * 100, 200).splitlines()
    assert max(len(line) for line in lines) <= 100 < len("word " * 100)
