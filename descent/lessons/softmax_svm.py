"""softmax-svm: one linear classifier's scores, judged by two losses.

The multiclass SVM (hinge) loss $L_i = \\sum_{j \\ne y_i} \\max(0, s_j - s_{y_i} + 1)$ and
the softmax cross-entropy $L_i = -\\log(e^{s_{y_i}} / \\sum_j e^{s_j})$ on the lectures'
cat / car / frog scores, and what both give at initialisation (C - 1 and log C).

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slides 13-22 (the multiclass SVM loss
of the three images, 2.9, 0 and 12.9, their mean 5.27, and its questions) and 23-26
(softmax: exp gives 24.5, 164.0 and 0.18, normalising 0.13, 0.87 and 0.00, the loss
-log(0.13), its range, and log C at initialisation), after CS 231n.
"""

from __future__ import annotations

import math

import numpy as np

from .. import viz
from ..nn import functional as F
from ..random import manual_seed
from ..tensor import float64, randn, tensor
from .lesson import Lesson

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {
    "the multiclass SVM loss: 2.9, 0, 12.9, mean 5.27; C - 1 at initialisation": [13, 22],
    "softmax and cross-entropy: 0.13, 0.87, 0.00, -log(0.13); log C at initialisation": [23, 26],
}
CLASSES = ["cat", "car", "frog"]
# One row per image: the scores s = W x + b that a linear classifier gave it (the
# lectures' example; on the slide they are the columns).
SCORES = [
    [3.2, 5.1, -1.7],  # a cat image
    [1.3, 4.9, 2.0],  # a car image
    [2.2, 2.5, -3.1],  # a frog image
]
LABELS = [0, 1, 2]  # cat, car, frog
INIT_CLASSES = (3, 10, 100)
INIT_EXAMPLES = 200
INIT_STD = 1e-3


def _draw_losses(probs: np.ndarray, hinge: np.ndarray, ce: np.ndarray):
    def draw(path):
        images = [f"{CLASSES[label]} image" for label in LABELS]
        viz.plot_bars(
            {
                "softmax probabilities": {f"p({k})": probs[:, j] for j, k in enumerate(CLASSES)},
                "the loss of each image": {
                    "multiclass SVM (hinge) L_i": hinge,
                    "cross-entropy -log p(true class)": ce,
                },
            },
            images,
            ylabel=["probability", "L_i"],
            title="Three images, one linear classifier's scores, two losses",
            path=path,
        )

    return draw


def softmax_svm() -> Lesson:
    """The multiclass SVM loss and the softmax cross-entropy of three images' scores."""
    lesson = Lesson(
        name="softmax-svm",
        title="Two losses for one linear classifier: multiclass SVM and softmax",
        summary=(
            "A linear classifier gives each image one score per class, s = W x + b. A loss "
            "turns those scores into one number that says how unhappy we are with them. "
            "Here are the two classic ones on three images (a cat, a car, a frog). The "
            f"lecture: deck {DECK}, slides 13-22 (the SVM loss) and 23-26 (softmax and "
            "cross-entropy)."
        ),
    )
    s = tensor(SCORES, dtype=float64)  # (N, C) = (3, 3)
    y = tensor(LABELS)
    n, c = s.shape

    scores = lesson.table(
        "Scores s = W x + b", ["image", "true class"] + [f"s_{k}" for k in CLASSES]
    )
    for i in range(n):
        scores.add(i + 1, CLASSES[LABELS[i]], *s._data[i].tolist())
    lesson.say(
        "The classifier is right about the car (its highest score is 'car'), wrong about the "
        "cat (it scores 'car' higher) and very wrong about the frog (frog is its lowest score)."
    )

    # ---- multiclass SVM -------------------------------------------------------------------
    lesson.say(
        "Multiclass SVM loss: every wrong class j should score at least 1 (the margin) below "
        "the true class y. Each wrong class adds max(0, s_j - s_y + 1); the true class adds "
        "nothing. A correct score beaten by a big enough margin costs 0."
    )
    true_score = s[np.arange(n), y._data].unsqueeze(1)  # (N, 1)
    margins = (s - true_score + 1.0).relu()._data  # (N, C), the true class's entry unused
    hinge = F.multiclass_hinge_loss(s, y, reduction="none")._data
    hinge_mean = F.multiclass_hinge_loss(s, y).item()
    svm = lesson.table(
        "Multiclass SVM loss: margins max(0, s_j - s_y + 1)",
        ["image", "true class"] + [f"margin {k}" for k in CLASSES] + ["L_i"],
    )
    for i in range(n):
        cells = ["(true)" if j == LABELS[i] else float(margins[i, j]) for j in range(c)]
        svm.add(i + 1, CLASSES[LABELS[i]], *cells, float(hinge[i]))
    sy = s._data[0, LABELS[0]]
    terms = [f"max(0, {s._data[0, j]:g} - {sy:g} + 1)" for j in range(c) if j != LABELS[0]]
    lesson.say(
        f"Cat: {' + '.join(terms)} = {hinge[0]:.4g}. "
        f"The loss over the data set is the mean, ({' + '.join(f'{v:.4g}' for v in hinge)}) / "
        f"{n} = {hinge_mean:.4g}."
    )

    # ---- softmax and cross-entropy ------------------------------------------------------------
    lesson.say(
        "Softmax: read the scores as unnormalised log-probabilities. Exponentiate them "
        "(everything becomes positive) and divide by their sum (they add up to 1). The "
        "cross-entropy loss is minus the log of the probability given to the true class."
    )
    first = s._data[0]
    unnormalised = np.exp(first)
    probs_cat = F.softmax(s[0], dim=0)._data
    steps = lesson.table(
        "Softmax step by step for the cat image",
        ["class", "score s_j", "exp(s_j)", "probability exp(s_j) / sum"],
    )
    for j in range(c):
        steps.add(CLASSES[j], float(first[j]), float(unnormalised[j]), float(probs_cat[j]))
    probs = F.softmax(s, dim=1)._data
    ce = F.cross_entropy(s, y, reduction="none")._data
    ce_mean = F.cross_entropy(s, y).item()
    lesson.say(
        f"The cat image gets p(cat) = {probs_cat[0]:.4f}, so its loss is "
        f"-ln({probs_cat[0]:.10f}) = {ce[0]:.4f}, with the unrounded probability and the "
        "natural log (ln, base e), as the cross-entropy uses. (The slide rounds: exp gives "
        "24.5, 164.0 and 0.18, the probabilities 0.13, 0.87 and 0.00, and L_i = -log(0.13).)"
    )
    soft = lesson.table(
        "Softmax probabilities and cross-entropy -log p(true class)",
        ["image", "true class"] + [f"p({k})" for k in CLASSES] + ["L_i"],
    )
    for i in range(n):
        soft.add(i + 1, CLASSES[LABELS[i]], *probs[i].tolist(), float(ce[i]))
    lesson.say(
        f"Mean cross-entropy: {ce_mean:.4f}. Unlike the SVM loss, it is never exactly 0: the "
        f"car image, classified correctly with room to spare, still costs {ce[1]:.4f}, because "
        f"softmax always wants the true class's probability a little closer to 1."
    )

    # ---- at initialisation ----------------------------------------------------------------------
    lesson.say(
        "A sanity check for the first step of training: with small random weights every score "
        "is close to 0. Then each of the C - 1 wrong classes costs max(0, 0 - 0 + 1) = 1, so the "
        "SVM loss is C - 1; and softmax gives every class 1/C, so the cross-entropy is "
        "-log(1/C) = log C. A first loss far from these numbers points to a bug."
    )
    manual_seed(0)
    init_rows = []
    init = lesson.table(
        f"Loss at initialisation: {INIT_EXAMPLES} examples, scores ~ N(0, {INIT_STD}^2)",
        ["classes C", "SVM loss", "C - 1", "cross-entropy", "log C"],
    )
    for k in INIT_CLASSES:
        s0 = randn(INIT_EXAMPLES, k, dtype=float64) * INIT_STD
        y0 = tensor(np.arange(INIT_EXAMPLES) % k)
        h0 = F.multiclass_hinge_loss(s0, y0).item()
        c0 = F.cross_entropy(s0, y0).item()
        init.add(k, h0, k - 1, c0, math.log(k))
        init_rows.append({"classes": k, "hinge": h0, "cross_entropy": c0,
                          "classes_minus_1": k - 1, "log_classes": math.log(k)})  # fmt: skip
    lesson.say(
        f"The slide's log(10) ~ 2 is this natural log to one figure: log 10 = {math.log(10):g} "
        "(the row C = 10)."
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES},
        exp_scores_cat=unnormalised.tolist(),
        init_examples=INIT_EXAMPLES,
        init_std=INIT_STD,
        classes=CLASSES,
        scores=s._data.tolist(),
        labels=list(LABELS),
        margins=margins.tolist(),
        hinge=hinge.tolist(),
        hinge_mean=hinge_mean,
        probabilities=probs.tolist(),
        cross_entropy=ce.tolist(),
        cross_entropy_mean=ce_mean,
        init=init_rows,
    )
    lesson.say(
        "descent lesson softmax-svm --plot DIR draws each image's softmax probabilities beside "
        "its two losses."
    )
    lesson.figure("softmax-svm-losses.png", _draw_losses(probs, hinge, ce))
    return lesson
