"""What a lesson returns: text, tables of iterations a student can follow, and its numbers.

A lesson is a plain function that computes its worked example with descent and returns a
``Lesson``. ``render()`` gives the text ``descent lesson NAME`` prints; ``to_dict()`` the
JSON of ``--json``; ``results`` holds the key numbers that the tests check against an
independent computation.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import viz
from ..io.plain import plain_data
from ..train.progress import wrap_prose


def vector_cell(values) -> str:
    """A small array as one table cell: '[0.1234, -2.0000]' (flattened, 4 decimals)."""
    return "[" + ", ".join(f"{float(v):.4f}" for v in np.ravel(values)) + "]"


def index_cell(shape: tuple, flat: int) -> str:
    """The position of element ``flat`` of an array of ``shape``, as '[i, j]'."""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def draw_graph(network: Callable[[], dict], path) -> None:
    """Render the graph of ``network()['L']`` to ``path``, drawn after backward so every
    node shows its gradient (the graph is taken before: backward frees it)."""
    net = network()
    drawn = viz.graph(net["L"], names=net)
    net["L"].backward()
    drawn.render(path)


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.4e}"
        return f"{value:.6g}" if abs(value) >= 1e3 else f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _paragraph(text: str) -> str:
    return f'<p style="white-space: pre-wrap">{html.escape(text)}</p>'


@dataclass
class Table:
    """A titled table: one row per iteration (or example, or parameter)."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    def add(self, *row) -> None:
        if len(row) != len(self.columns):
            raise ValueError(
                f"table {self.title!r}: {len(row)} values for {len(self.columns)} columns"
            )
        self.rows.append(list(row))

    def render(self) -> str:
        cells = [[_cell(v) for v in row] for row in self.rows]
        widths = [len(c) for c in self.columns]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]
        line = "  ".join(c.rjust(w) for c, w in zip(self.columns, widths))
        out = [self.title, line, "  ".join("-" * w for w in widths)]
        out += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"title": self.title, "columns": list(self.columns), "rows": plain_data(self.rows)}

    def _repr_html_(self) -> str:
        """The table in Jupyter: its title as the caption, the cells as ``render()`` writes them."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        return (
            f'<table class="descent-table"><caption style="text-align:left; font-weight:bold">'
            f"{html.escape(self.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text view: the rendered table
        p.text(self.render())


@dataclass
class Lesson:
    """A worked example: what it shows, its sections (text and tables), its key numbers."""

    name: str
    title: str
    summary: str
    sections: list = field(default_factory=list)  # str paragraphs and Tables, in order
    results: dict = field(default_factory=dict)
    # pictures for ``--plot DIR``: (file name, function(path) that writes that PNG)
    figures: list = field(default_factory=list)
    # for ``descent explain``: a function returning ds.viz.explain(...) of the lesson's graph
    explain: Callable | None = None
    # where the lecture's slide is wrong: one dict per wrong value (see ``slip``)
    slips: list = field(default_factory=list)

    def figure(self, filename: str, draw: Callable) -> None:
        """Add a picture: ``draw(path)`` writes it (with ds.viz's plot functions)."""
        self.figures.append((filename, draw))

    def plot(self, directory) -> list[Path]:
        """Write every picture of this lesson into ``directory``; return their paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for filename, draw in self.figures:
            path = directory / filename
            draw(path)
            paths.append(path)
        return paths

    def say(self, text: str) -> None:
        self.sections.append(text)

    def slip(self, text: str, *entries: dict) -> None:
        """Say in one line where a slide is wrong, and keep each wrong value as data.

        ``text`` is the line ("slide slip: the slide writes ...; it is ..."). Each entry
        names the slide and both values: ``deck``, ``line`` (of the deck's text), ``slide``,
        ``quote`` (the slide's words, verbatim), ``slide_value``, ``correct``, and where a
        plain computation gives the correct value, ``arithmetic`` (a Python expression).
        """
        if not text.startswith("slide slip: "):
            raise ValueError(f"a slip's line starts with 'slide slip: ', not {text[:20]!r}")
        self.say(text)
        self.slips += [{**entry, "said": text} for entry in entries]

    def table(self, title: str, columns: list[str]) -> Table:
        t = Table(title, columns)
        self.sections.append(t)
        return t

    def tables(self) -> list[Table]:
        return [s for s in self.sections if isinstance(s, Table)]

    def render(self, width: int | None = None) -> str:
        """The lesson as text; with ``width``, its paragraphs wrapped to that many columns
        (at most 100) between words, its tables and indented blocks as they are."""
        fit = (lambda text: wrap_prose(text, width)) if width else (lambda text: text)
        parts = [f"{self.title}\n{'=' * len(self.title)}", fit(self.summary)]
        parts += [s.render() if isinstance(s, Table) else fit(s) for s in self.sections]
        return "\n\n".join(parts) + "\n"

    def _repr_html_(self) -> str:
        """The lesson in Jupyter: its title, summary, paragraphs and tables, in order."""
        parts = [f"<h3>{html.escape(self.title)}</h3>", _paragraph(self.summary)]
        for s in self.sections:
            parts.append(s._repr_html_() if isinstance(s, Table) else _paragraph(s))
        if self.figures:
            names = ", ".join(html.escape(f) for f, _ in self.figures)
            parts.append(
                f"<p><i>{len(self.figures)} picture{'s' if len(self.figures) != 1 else ''} "
                f"({names}): <code>lesson.plot(DIR)</code> or <code>descent lesson "
                f"{html.escape(self.name)} --plot DIR</code> draws them.</i></p>"
            )
        return '<div class="descent-lesson">' + "\n".join(parts) + "</div>"

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text view: what the command prints
        p.text(self.render())

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "sections": [s.to_dict() if isinstance(s, Table) else s for s in self.sections],
            "results": plain_data(self.results),
            "slips": plain_data(self.slips),
        }
