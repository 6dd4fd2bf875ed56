"""What every lesson must do, for every lesson in the registry (descent.lessons.LESSONS).

The numbers of each lesson are checked against independent computations in
tests/test_lessons_part1.py, tests/test_lessons_part2.py and tests/test_lessons_curvature.py.
"""

import json

import pytest

from descent.lessons import LESSONS
from tests.helpers import computed_results, measured_keys, steady

_computed: dict = {}


def _lesson(name: str):
    if name not in _computed:
        _computed[name] = LESSONS[name]()
    return _computed[name]


def test_the_registry_holds_the_lectures_lessons_once_each():
    assert len(LESSONS) >= 14 and len(set(LESSONS)) == len(LESSONS)


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_renders_its_tables_and_serialises(name):
    lesson = _lesson(name)
    assert lesson.name == name
    text = lesson.render()
    tables = lesson.tables()
    assert tables, "a lesson prints at least one table"
    for table in tables:
        assert table.title in text
        assert table.rows, f"table {table.title!r} is empty"
        assert all(len(row) == len(table.columns) for row in table.rows)
    assert any(isinstance(s, str) for s in lesson.sections), "a lesson explains itself"
    data = json.loads(json.dumps(lesson.to_dict(), allow_nan=False))
    assert data["name"] == name
    assert data["results"], "a lesson records its key numbers"


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_is_deterministic(name):
    """The same lesson twice: the same dict; where a lesson measures times (MEASURED in its
    module), the same text but for its numbers, and the same computed results."""
    again, first = LESSONS[name]().to_dict(), _lesson(name).to_dict()
    if not measured_keys(name):
        assert again == first
        return
    assert steady(json.dumps(again)) == steady(json.dumps(first))
    assert computed_results(again["results"], name) == computed_results(first["results"], name)
