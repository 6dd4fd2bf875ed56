"""The lectures' worked examples, runnable: ``descent lesson NAME`` or ``ds.lessons.run(NAME)``.

Each lesson is a function returning a ``Lesson`` (text, tables of iterations, key
numbers). The table below is the one place that lists them.
"""

from __future__ import annotations

from .lesson import Lesson, Table

LESSONS: dict = {
    # "name": function, in the order of the lectures
}


def names() -> list[str]:
    return list(LESSONS)


def run(name: str) -> Lesson:
    """Compute lesson ``name`` and return it (``.render()`` for text, ``.to_dict()`` for JSON)."""
    try:
        lesson = LESSONS[name]
    except KeyError:
        raise KeyError(f"no lesson {name!r}; the lessons are: {', '.join(LESSONS)}") from None
    return lesson()


__all__ = ["Lesson", "Table", "LESSONS", "names", "run"]
