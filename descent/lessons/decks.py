"""The five lecture decks the lessons come from, and the lessons of each deck.

Each lesson's module names its deck and slides: ``DECK`` (the deck's file name) and
``SLIDES`` (``{topic: [first, last]}``), and ``ALSO`` (``{deck: {topic: [first, last]}}``)
where it draws on other decks too. Slides are counted as the decks' plain text separates
its pages, by three blank lines (``tools/lecture_numbers.py`` maps a line to its slide).
``by_deck(LESSONS)`` reads those names from every registered lesson, so a new lesson is
listed as soon as it is registered.
"""

from __future__ import annotations

import inspect

# The deck files, in the order of the lectures, each with its title as its first slides give it.
DECKS = {
    "000_3ab0e19925976932.txt": (
        "Loss functions, gradient descent and automatic differentiation (with TensorFlow)"
    ),
    "001_06db21ae3b045989.txt": "Machine Learning Tutorial (Paulius Sasnauskas, 2025-10-02)",
    "002_aa120863d57339f7.txt": (
        "Gradient Descent (LING 282/482: Deep Learning for Computational Linguistics, C.M. Downey)"
    ),
    "003_51de2ede2fa02b51.txt": "Neural networks: from the perceptron to training an MLP",
    "004_feeceb0db53be35a.txt": (
        "Linear classification, loss functions, gradient descent (CS 4644-DL / 7643-A, Zsolt Kira)"
    ),
}

# Topics a deck only names in its schedule of lectures, with no slide of their own to follow.
SCHEDULE_ONLY = {
    "003_51de2ede2fa02b51.txt": [("k-nearest neighbours", [1, 1]), ("naive Bayes", [1, 1])],
}


def sources(lesson_fn) -> dict:
    """``{deck: {topic: [first, last]}}`` of one lesson function: its ``DECK`` first."""
    module = inspect.getmodule(lesson_fn)
    deck = getattr(module, "DECK", None)
    found = {}
    if deck:
        found[deck] = dict(getattr(module, "SLIDES", None) or {})
    for other, slides in (getattr(module, "ALSO", None) or {}).items():
        found.setdefault(other, {}).update(slides)
    return found


def slide_ranges(slides: dict) -> str:
    """'slides 34-69, 83-86' from ``{topic: [first, last]}``: in slide order, ranges that
    touch or overlap joined into one."""
    spans = []
    for a, b in sorted((int(a), int(b)) for a, b in slides.values()):
        if spans and a <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
    single = len(spans) == 1 and spans[0][0] == spans[0][1]
    return ("slide " if single else "slides ") + text


def by_deck(lessons: dict) -> dict:
    """Every deck with the lessons of ``lessons`` (name -> function) drawn from it, in the
    order of ``DECKS`` and then of ``lessons``.

    ``{deck: {"title": str, "lessons": [(name, {topic: [first, last]}), ...],
    "schedule_only": [(topic, [first, last]), ...]}}``; lessons that name no deck are
    listed under the key ``None``.
    """
    table = {
        deck: {"title": title, "lessons": [], "schedule_only": list(SCHEDULE_ONLY.get(deck, []))}
        for deck, title in DECKS.items()
    }
    for name, fn in lessons.items():
        found = sources(fn)
        if not found:
            table.setdefault(None, {"title": "not from a deck", "lessons": [], "schedule_only": []})
            table[None]["lessons"].append((name, {}))
        for deck, slides in found.items():
            if deck not in table:
                raise ValueError(f"lesson {name!r} names an unknown deck {deck!r}")
            table[deck]["lessons"].append((name, slides))
    return table
