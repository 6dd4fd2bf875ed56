"""Every lesson, faithful to its slides and honest about them.

For every lesson in the registry: it names its deck and slides (``DECK``, ``SLIDES``);
its ``--json`` holds every number its text prints; each slide slip it points out is said
in one line, names a line of its deck where the slide's value stands (checked against the
deck text when the decks are found), and its correct value is what a plain computation
gives, not the slide's. ``descent lesson --list`` groups the lessons by deck.
"""

from __future__ import annotations

import inspect
import math
import re

import pytest

from descent import lessons
from descent.cli import main
from descent.lessons.decks import DECKS, SCHEDULE_ONLY, sources
from tools.lecture_numbers import find_decks, read_deck, slide_of

_computed: dict = {}


def _lesson(name: str):
    if name not in _computed:
        _computed[name] = lessons.run(name)
    return _computed[name]


DECK_DIR = find_decks()
needs_decks = pytest.mark.skipif(DECK_DIR is None, reason="the lecture decks are not here")


# ---- the deck and slides of each lesson -----------------------------------------------------


@pytest.mark.parametrize("name", lessons.names())
def test_lesson_names_its_deck_and_slide_ranges(name):
    found = sources(lessons.LESSONS[name])
    module = inspect.getmodule(lessons.LESSONS[name])
    if not found and getattr(module, "DECK", "") is None:  # from no deck (a paper's experiment)
        assert module.SOURCE in _lesson(name).render(), f"{name} does not name its source"
        return
    assert found, f"{name}'s module sets no DECK and SLIDES"
    for deck, slides in found.items():
        assert deck in DECKS, f"{name}: unknown deck {deck}"
        assert slides, f"{name}: no slides of {deck}"
        for topic, (first, last) in slides.items():
            assert 1 <= first <= last, f"{name}: {topic}: {first}-{last}"
            if DECK_DIR is not None:
                lines = read_deck(DECK_DIR, deck)
                assert last <= slide_of(lines, len(lines)), f"{name}: {deck} has no slide {last}"
    text = _lesson(name).render()
    primary = next(iter(found))
    assert primary in text, f"{name}'s text does not name its deck {primary}"


@needs_decks
def test_slides_are_counted_by_three_blank_lines():
    lines = read_deck(DECK_DIR, "001_06db21ae3b045989.txt")
    assert slide_of(lines, 1) == slide_of(lines, 19) == 1
    assert lines[874] == "Gradient Descent" and slide_of(lines, 875) == 34
    assert slide_of(lines, 874) == 33  # the blank lines before belong to the slide before
    assert slide_of(lines, 2237) == 83 and slide_of(lines, 3052) == 153


def test_slide_of_on_a_made_up_deck():
    deck = ["title", "", "", "", "two", "", "", "three?", "", "", "", " ", "three"]
    assert [slide_of(deck, n) for n in (1, 4, 5, 8, 12, 13)] == [1, 1, 2, 2, 2, 3]
    assert slide_of(["", "", "", "", "first"], 5) == 1  # no slide before the first text


def test_lessons_are_listed_by_deck_with_their_slides(capsys):
    assert main(["lesson", "--list"]) == 0
    out = capsys.readouterr().out
    table = lessons.by_deck()
    assert [d for d in table if d is not None] == list(DECKS)
    for deck, entry in table.items():
        if deck is None:
            continue
        assert f"{deck}: {entry['title']}" in out
        for name, slides in entry["lessons"]:
            assert re.search(rf"^  {re.escape(name)} +{lessons.slide_ranges(slides)}  ", out, re.M)
    for topics in SCHEDULE_ONLY.values():
        for topic, _ in topics:
            assert f"not a lesson: only in the schedule: {topic}" in out
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("  ")}
    assert set(lessons.names()) <= listed
    assert "k-nearest neighbours" in out and "naive Bayes" in out


def test_by_deck_lists_a_new_lesson_under_its_deck():
    def made_up():
        """A lesson of the future."""

    made_up.__module__ = "descent.lessons.gravity"  # as if written next to gravity
    table = lessons.decks.by_deck({"made-up": made_up})
    assert table["001_06db21ae3b045989.txt"]["lessons"][0][0] == "made-up"
    assert all(not e["lessons"] for d, e in table.items() if d != "001_06db21ae3b045989.txt")


# ---- every number the text prints is in the JSON --------------------------------------------

NUMBER = re.compile(r"(?<![A-Za-z_0-9.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![A-Za-z_0-9])(%?)")
# The allowance: numbers that are names or labels, not results.
# - a slide reference: "slide 39", "slides 40-69", "slides 4-16, 19-33 and 34-69";
SLIDE_REFERENCE = re.compile(r"\bslides? \d+(?:-\d+)?(?:(?:, | and )\d+(?:-\d+)?)*")
# - a deck's name: "deck 004", "Deck 003", "decks 001 and 003", "004_feeceb0db53be35a.txt";
DECK_REFERENCE = re.compile(r"\b(?:[Dd]ecks? \d{3}(?:(?:, | and )\d{3})*|\d{3}_[0-9a-f]+\.txt)")
# - an exponent written in a formula: "a^3", "x^2";
EXPONENT = re.compile(r"\^\d+")
# - a grid's column heading: "col 3";
GRID_COLUMN = re.compile(r"^col \d+$")
# - a table column that counts or names its rows (the step, the epoch, the example...) or
#   the element of a tensor a row shows ("[1, 0]").
LABEL_COLUMNS = {"step", "epoch", "iteration", "example", "row", "image", "unit", "digit",
                 "element"}  # fmt: skip


def _json_numbers(value, out: list) -> list:
    """Every number in a JSON value: the numbers, and the numbers written in its strings."""
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, (int, float)):
        out.append(float(value))
    elif isinstance(value, str):
        out += [float(m.group(0).rstrip("%")) for m in NUMBER.finditer(value)]
    elif isinstance(value, dict):
        for key, v in value.items():
            _json_numbers(key, out)
            _json_numbers(v, out)
    elif isinstance(value, list):
        for v in value:
            _json_numbers(v, out)
    return out


def _printed_text(lesson) -> list[str]:
    """What the lesson prints in words: title, summary, paragraphs, each table's title and
    column names. (A table's cells are in the JSON as the table's rows.)"""
    parts = [lesson.title, lesson.summary]
    for section in lesson.sections:
        if isinstance(section, str):
            parts.append(section)
            continue
        parts.append(section.title)
        parts += section.columns
    return [
        EXPONENT.sub("", GRID_COLUMN.sub("", DECK_REFERENCE.sub("", SLIDE_REFERENCE.sub("", p))))
        for p in parts
    ]


def _table_rows(data: dict) -> list:
    """The rows of every table of a lesson's JSON, but for its label columns."""
    rows = []
    for section in data["sections"]:
        if isinstance(section, dict):
            keep = [i for i, c in enumerate(section["columns"]) if c not in LABEL_COLUMNS]
            rows += [[row[i] for i in keep] for row in section["rows"]]
    return rows


def _found(token: str, percent: bool, pool: list[float]) -> bool:
    """Is the printed ``token`` one of ``pool``'s numbers (or its size), to its precision?"""
    value = float(token) / (100 if percent else 1)
    mantissa, _, exponent = token.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    half_unit = 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))
    half_unit /= 100 if percent else 1
    return any(abs(abs(p) - abs(value)) <= half_unit * (1 + 1e-9) + 1e-15 for p in pool)


@pytest.mark.parametrize("name", lessons.names())
def test_the_json_holds_every_number_the_text_prints(name):
    lesson = _lesson(name)
    data = lesson.to_dict()
    pool = _json_numbers(
        {"results": data["results"], "slips": data["slips"], "tables": _table_rows(data)}, []
    )
    missing = []
    for text in _printed_text(lesson):
        for m in NUMBER.finditer(text):
            token, percent = m.group(0).rstrip("%"), m.group(1) == "%"
            if not _found(token, percent, pool):
                missing.append(f"{m.group(0)} in {text[max(0, m.start() - 30) : m.end() + 10]!r}")
    assert not missing, f"{name}: printed but not in to_dict()['results']:\n" + "\n".join(
        sorted(set(missing))
    )


def test_the_number_check_catches_a_number_missing_from_the_json():
    lesson = lessons.Lesson(name="made-up", title="A made-up lesson", summary="L(2) = 4.25.")
    lesson.results = {"loss_at": {"2": 4.25}}
    assert not [t for t in _printed_text(lesson) for m in NUMBER.finditer(t)
                if not _found(m.group(0), False, _json_numbers(lesson.results, []))]  # fmt: skip
    lesson.say("And L(3) = 9.5 (slide 12).")
    found = [m.group(0) for t in _printed_text(lesson) for m in NUMBER.finditer(t)
             if not _found(m.group(0), False, _json_numbers(lesson.results, []))]  # fmt: skip
    assert found == ["3", "9.5"]


# ---- the slide slips -----------------------------------------------------------------------


def _arithmetic(expression: str) -> float:
    """A plain arithmetic expression: numbers, + - * / ** , brackets and log, nothing else."""
    assert re.fullmatch(r"(?:[\d.\s()+\-*/]|log)+", expression), expression
    return eval(expression, {"__builtins__": {}, "log": math.log})  # noqa: S307 (arithmetic)


@pytest.mark.parametrize("name", lessons.names())
def test_each_slip_is_said_in_one_line_with_both_values(name):
    lesson = _lesson(name)
    for slip in lesson.slips:
        assert slip["deck"] in DECKS and slip["line"] >= 1 and slip["slide"] >= 1
        said = slip["said"]
        assert said.startswith("slide slip: ") and "\n" not in said
        assert said in lesson.sections and said in lesson.render()
        assert slip["slide_value"] != slip["correct"]
        shown = [str(slip["slide_value"])]
        if isinstance(slip["correct"], str):
            shown.append(slip["correct"])
        for value in shown:
            assert value in said, f"{name}: {value} is not in {said!r}"
        assert slip in lesson.to_dict()["slips"]


@pytest.mark.parametrize("name", lessons.names())
def test_each_numeric_slip_is_corrected_by_independent_arithmetic(name):
    for slip in _lesson(name).slips:
        if "arithmetic" not in slip:
            continue
        value = _arithmetic(slip["arithmetic"])
        assert value == pytest.approx(slip["correct"], rel=1e-9, abs=1e-12)
        assert not math.isclose(value, float(slip["slide_value"]), rel_tol=1e-3)
        assert f"{value:g}" in slip["said"], f"{name}: the line does not give {value:g}"


@needs_decks
@pytest.mark.parametrize("name", lessons.names())
def test_each_slip_quotes_its_deck_line_and_slide(name):
    for slip in _lesson(name).slips:
        lines = read_deck(DECK_DIR, slip["deck"])
        for line_key, slide_key in (("line", "slide"), ("last_line", "last_slide")):
            if line_key not in slip:
                continue
            text = lines[slip[line_key] - 1]
            assert slip["quote"] in text, f"{slip['deck']}:{slip[line_key]} is {text!r}"
            assert slide_of(lines, slip[line_key]) == slip[slide_key]
        if not isinstance(slip["slide_value"], str):
            assert f"{slip['slide_value']:g}" in slip["quote"]


def test_a_slip_line_must_say_it_is_one():
    lesson = lessons.Lesson(name="made-up", title="made up", summary="")
    with pytest.raises(ValueError, match="slide slip: "):
        lesson.slip("the slide is wrong", {"deck": "x", "line": 1})
    assert lesson.slips == [] and lesson.sections == []


# ---- the slips that are formulas, not numbers ------------------------------------------------


def test_the_autoencoder_answer_fits_only_with_transposes_and_sums():
    import numpy as np

    lesson = _lesson("autoencoder-classifier")
    r = lesson.results
    p = {k: np.array(v) for k, v in r["inputs"].items()}
    x, z, y, c = p["X"], *(np.array(r["forward"][k]) for k in ("Z", "Y", "C"))
    d_y, d_s = y - x, c - np.eye(c.shape[1])[p["labels"]]
    a = x @ p["W1"] + p["b1"]
    # the slide's dW2 = Z(Y - X), dW3 = Z(C - C_gt), W2(Y - X), W3(C - C_gt): no product fits
    for left, right in ((z, d_y), (z, d_s), (p["W2"], d_y), (p["W3"], d_s)):
        with pytest.raises(ValueError):
            np.matmul(left, right)
    # the slide's db2 = Y - X and db3 = C - C_gt have a row per example, not b's shape
    assert d_y.shape != p["b2"].shape and d_s.shape != p["b3"].shape
    d_a = (d_y @ p["W2"].T + d_s @ p["W3"].T) * (a > 0)
    fixed = {"W1": x.T @ d_a, "b1": d_a.sum(axis=0), "W2": z.T @ d_y, "b2": d_y.sum(axis=0),
             "W3": z.T @ d_s, "b3": d_s.sum(axis=0)}  # fmt: skip
    for name, value in fixed.items():
        np.testing.assert_allclose(r["autodiff"][name], value, atol=1e-12, err_msg=name)
    assert {s["line"] for s in lesson.slips} == {2988, 2990, 2993, 2995, 2997, 2999}


def test_the_loss_written_out_has_three_different_terms():
    r = _lesson("gravity").results
    x, y = r["data"]["x"], r["data"]["y"]
    as_written = (y[0] - 8 * x[0]) ** 2 + 2 * (y[1] - 8 * x[1]) ** 2  # (y_2 - a x_2)^2 twice
    right = sum((yi - 8 * xi) ** 2 for xi, yi in zip(x, y))
    assert r["loss_at"]["8"] == pytest.approx(right) == pytest.approx(402.57)
    assert as_written == pytest.approx(144.18)
    slip = next(s for s in _lesson("gravity").slips if s["line"] == 592)
    assert slip["correct"] == "(y_3 - a x_3)^2"


def test_slide_ranges_join_the_ranges_that_touch():
    assert lessons.slide_ranges({"a": [34, 69], "b": [83, 86]}) == "slides 34-69, 83-86"
    assert lessons.slide_ranges({"a": [3, 11], "b": [12, 34], "c": [30, 60]}) == "slides 3-60"
    assert lessons.slide_ranges({"a": [38, 38]}) == "slide 38"
    assert lessons.slide_ranges({"a": [32, 32], "b": [38, 38]}) == "slides 32, 38"
