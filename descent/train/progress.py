"""What ``fit`` prints while it trains: a progress line per epoch, fitted to the terminal.

On a terminal (``verbose=1``) each epoch has one line, rewritten in place with ``\\r`` while
its batches run and finished with every metric and the epoch's time, Keras's display:

    epoch 3/43 [====================] 34/34 0.21s - loss 0.3211 - accuracy 0.9100 - ...

When that does not fit the terminal's width the line is shortened step by step (a shorter
bar, no lr, single spaces, ``acc`` for ``accuracy``, no bar, fewer digits) and, if it still
does not fit, wrapped onto further lines; a metric is never cut off. Off a terminal (a
file, a pipe) and with ``verbose=2`` each epoch prints one plain line when it ends.
``wrap_prose`` fits the command's paragraphs to the terminal the same way.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import time

__all__ = ["Progress", "terminal_width", "wrap_prose", "is_tty"]

MAX_PROSE_WIDTH = 100  # paragraphs read badly wider than this, however wide the terminal

# Shorter names for the final line when the full ones do not fit.
_SHORT_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc"}

# The ways to write an epoch's final line, longest first: (bar width, show lr, separator,
# short names, digits). The first that fits the terminal is used.
_LAYOUTS = [
    (20, True, " - ", False, 4),
    (10, True, " - ", False, 4),
    (10, False, " - ", False, 4),
    (10, False, " ", False, 4),
    (10, False, " ", True, 4),
    (0, False, " ", True, 4),
    (0, False, " ", True, 3),
]


def is_tty(stream) -> bool:
    """Whether ``stream`` is a terminal (False for anything that cannot say)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def terminal_width(default: int = 80) -> int:
    """The terminal's width in columns (``COLUMNS`` if set), ``default`` if unknown."""
    return shutil.get_terminal_size((default, 24)).columns


def wrap_prose(text: str, width: int | None = None) -> str:
    """``text`` with its paragraphs wrapped to ``width`` columns (at most 100; the
    terminal's width by default), between words only.

    A line that starts with a space (an indented block, a table's row) is left as it is, and
    so is every line of a block that has one; lines that are blank stay blank.

    >>> print(wrap_prose("one two three four", width=10))
    one two
    three four
    """
    width = min(width or terminal_width(), MAX_PROSE_WIDTH)
    blocks = text.split("\n\n")
    return "\n\n".join(_wrap_block(block, width) for block in blocks)


def _wrap_block(block: str, width: int) -> str:
    lines = block.split("\n")
    if any(line[:1].isspace() for line in lines):
        return block  # preformatted: an indented listing, a table
    return "\n".join(
        textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
        for line in lines
    )


def _seconds(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 100:
        return f"{seconds:.1f}s"
    return f"{seconds:.0f}s"


def _bar(done: int, total: int, width: int) -> str:
    if width == 0:
        return ""
    filled = width if total <= 0 else min(width, width * done // total)
    head = ">" if filled < width else ""
    return "[" + ("=" * filled + head).ljust(width) + "]"


class Progress:
    """The display of one ``fit``: ``verbose`` 0 silent, 1 a line per epoch updated in place
    on a terminal (a plain line per epoch otherwise), 2 a plain line per epoch; 'auto' is 1.

    ``stream`` (stderr by default) takes the terminal's line; the plain lines go to stdout.
    ``columns`` fixes the width (else the terminal's, read at each epoch); ``interval`` is
    the least time in seconds between two updates of the line.
    """

    def __init__(
        self,
        verbose,
        epochs: int,
        steps: int,
        stream=None,
        columns: int | None = None,
        interval: float = 0.1,
    ):
        if verbose == "auto":
            verbose = 1
        if isinstance(verbose, bool) or verbose not in (0, 1, 2):
            raise ValueError(
                f"fit: verbose must be 0 (silent), 1 (a progress line), 2 (a line per epoch) "
                f"or 'auto', got {verbose!r}"
            )
        self.stream = stream or sys.stderr
        self.epochs, self.steps = epochs, steps
        self.columns, self.interval = columns, interval
        if verbose == 0:
            self.mode = "off"
        else:
            self.mode = "bar" if verbose == 1 and is_tty(self.stream) else "line"
        self.start = self.shown = time.perf_counter()
        self.step, self.loss, self.drawn = 0, None, 0

    def _width(self) -> int:
        # NOTE: one column less than the terminal's, so a full line never makes the terminal
        # wrap it itself (then \r would return to the wrapped part, not the line's start).
        return max((self.columns or terminal_width()) - 1, 20)

    def _head(self, epoch: int) -> str:
        return f"epoch {epoch + 1}/{self.epochs}"

    def epoch_begin(self, epoch: int) -> None:
        self.start = time.perf_counter()
        self.epoch, self.step, self.loss, self.drawn = epoch, 0, None, 0
        if self.mode == "bar":
            self._draw(self._running_line())

    def batch_end(self, loss: float) -> None:
        self.step += 1
        self.loss = loss
        if self.mode != "bar":
            return
        now = time.perf_counter()
        if now - self.shown >= self.interval:
            self.shown = now
            self._draw(self._running_line())

    def epoch_end(self, epoch: int, logs: dict) -> None:
        seconds = time.perf_counter() - self.start
        if self.mode == "line":
            text = " - ".join(f"{k} {v:.4g}" for k, v in logs.items())
            print(f"{self._head(epoch)} - {text} - {_seconds(seconds)}", flush=True)
        elif self.mode == "bar":
            lines = self.final_lines(epoch, logs, seconds, self._width())
            self._draw(lines[0])
            rest = "".join("\n" + line for line in lines[1:])
            self.stream.write(rest + "\n")
            self.stream.flush()
            self.drawn = 0

    def _running_line(self) -> str:
        """The line while the epoch runs: the bar, the steps done, the time, the loss."""
        width = self._width()
        elapsed = _seconds(time.perf_counter() - self.start)
        loss = "" if self.loss is None else f" - loss {self.loss:.4f}"
        count = f"{self.step}/{self.steps}"
        for bar in (20, 10, 0):
            parts = [self._head(self.epoch), _bar(self.step, self.steps, bar), count, elapsed]
            line = " ".join(p for p in parts if p) + loss
            if len(line) <= width:
                return line
        return line[:width]  # a very narrow terminal: the running line only, never the final

    def _draw(self, line: str) -> None:
        """Rewrite the current line with ``line``, blanking what is left of a longer one."""
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)

    def final_lines(self, epoch: int, logs: dict, seconds: float, width: int) -> list[str]:
        """The finished epoch as lines of at most ``width`` columns, every metric whole: the
        first layout of ``_LAYOUTS`` that fits on one line, else the last one wrapped."""
        for bar, show_lr, sep, short, digits in _LAYOUTS:
            parts = [self._head(epoch), _bar(self.steps, self.steps, bar)]
            parts += [f"{self.steps}/{self.steps}", _seconds(seconds)]
            head = " ".join(p for p in parts if p)
            items = [
                f"{_SHORT_NAMES.get(k, k) if short else k} {_value(v, digits)}"
                for k, v in logs.items()
                if show_lr or k != "lr"
            ]
            line = sep.join([head, *items])
            if len(line) <= width:
                return [line]
        lines = [head]
        for item in items:
            if len(lines[-1]) + len(sep) + len(item) <= width:
                lines[-1] += sep + item
            else:
                lines.append("  " + item)
        return lines


def _value(value: float, digits: int) -> str:
    """A metric as the line shows it: fixed digits, or scientific for very large or small."""
    value = float(value)
    if value != 0 and (abs(value) >= 10**5 or abs(value) < 10 ** (-digits + 1)):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"
