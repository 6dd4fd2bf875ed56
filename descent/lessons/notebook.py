"""A lesson as a Jupyter notebook: ``descent lesson NAME --notebook PATH``.

The notebook runs the lesson step by step: a setup cell, a cell that computes the lesson
with ``ds.lessons.run(NAME)``, then one cell per table (with the paragraphs that lead up
to it), the chain-rule walk-through where the lesson has one, its key numbers as the JSON
of ``--json``, and its pictures. The cells call the lesson rather than copy its code, so
a notebook written today shows what the lesson computes when it is run, and every lesson
gets one without a line of its own. Writing one needs nbformat (the ``notebook`` extra).
"""

from __future__ import annotations

import inspect
from pathlib import Path

from .._extras import require
from ..io import atomic_write
from . import LESSONS, run
from .decks import slide_ranges, sources
from .lesson import Lesson, Table

__all__ = ["lesson_notebook", "write_notebook"]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _nbformat():
    return require("nbformat", "notebook", "descent lesson --notebook")


def _about(name: str) -> str:
    """The markdown under the title: what the lesson is, and where in the lectures it is from."""
    fn = LESSONS[name]
    module = inspect.getmodule(fn)
    lines = []
    if fn.__doc__:
        lines.append(inspect.cleandoc(fn.__doc__))
    doc = inspect.getdoc(module) if module is not None else None
    if doc:
        lines.append(doc)
    for deck, slides in sources(fn).items():
        where = f"From the lecture deck `{deck}`"
        if slides:
            where += ", " + "; ".join(
                f"{slide_ranges({topic: span})} ({topic})" for topic, span in slides.items()
            )
        lines.append(where + ".")
    return "\n\n".join(lines)


def _steps(lesson: Lesson) -> list[tuple[str, str]]:
    """(markdown heading, code) for each table with the paragraphs before it, then the rest."""
    steps, waiting = [], []
    for i, section in enumerate(lesson.sections):
        if isinstance(section, Table):
            code = [f"print(lesson.sections[{j}])" for j in waiting]
            code.append(f"lesson.sections[{i}]  # the table {section.title!r}")
            steps.append((f"### {section.title}", "\n".join(code)))
            waiting = []
        else:
            waiting.append(i)
    if waiting:
        code = "\n".join(f"print(lesson.sections[{j}])" for j in waiting)
        steps.append(("### What it shows", code))
    return steps


def lesson_notebook(name: str, lesson: Lesson | None = None):
    """The notebook (an ``nbformat`` v4 NotebookNode) that runs lesson ``name`` step by step.

    ``lesson``, the lesson already computed, saves computing it again to learn its shape.
    """
    nbformat = _nbformat()
    v4 = nbformat.v4
    if lesson is None:
        lesson = run(name)
    md, code = v4.new_markdown_cell, v4.new_code_cell
    cells = [
        md(f"# {lesson.title}\n\n{_about(name)}"),
        md(
            f"This notebook was written by `descent lesson {name} --notebook PATH`. Each cell "
            f"below is one step of the lesson; run them in order (Run All). `lesson` alone "
            f"in a cell shows the whole lesson at once, and `print(lesson.render())` the text "
            f"that `descent lesson {name}` prints."
        ),
        code("import json\n\nimport descent as ds\nfrom descent import lessons"),
        md(f"## Run the lesson\n\n{lesson.summary}"),
        code(
            f"lesson = lessons.run({name!r})  # computes the worked example with descent\n"
            f"print(lesson.title)"
        ),
        md("## Step by step"),
    ]
    for heading, source in _steps(lesson):
        cells += [md(heading), code(source)]
    if lesson.explain is not None:
        cells += [
            md(
                f"## The chain rule, edge by edge\n\nWhat `descent explain {name}` prints: "
                f"each edge's local derivative and the product along every path, checked "
                f"against autodiff."
            ),
            code("lesson.explain()"),
        ]
    cells += [
        md(
            f"## The key numbers\n\n`lesson.results`, as `descent lesson {name} --json` gives them."
        ),
        code('print(json.dumps(lesson.to_dict()["results"], indent=1))'),
    ]
    if lesson.figures:
        cells += [
            md(
                f"## The pictures\n\nWhat `descent lesson {name} --plot DIR` draws "
                f"(matplotlib, the `viz` extra)."
            ),
            code(
                "import tempfile\n\nfrom IPython.display import Image, display\n\n"
                "with tempfile.TemporaryDirectory() as folder:\n"
                "    for path in lesson.plot(folder):\n"
                "        print(path.name)\n"
                "        display(Image(filename=str(path)))"
            ),
        ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["descent"] = {"lesson": name}
    nbformat.validate(nb)
    return nb


def write_notebook(name: str, path, lesson: Lesson | None = None) -> Path:
    """Write lesson ``name``'s notebook to ``path`` (atomically); return the path."""
    nb = lesson_notebook(name, lesson)
    return atomic_write(Path(path), _nbformat().writes(nb))
