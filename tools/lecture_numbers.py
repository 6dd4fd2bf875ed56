"""Every worked number of the five lecture decks beside the lesson that shows it.

``python -m tools.lecture_numbers`` prints the table of ``docs/lectures.md``;
``--write`` writes it there, ``--check`` fails unless the file holds exactly what it
prints and every row holds (the test suite runs ``--check``). The rows are written by
hand below (``ROWS``): where in which deck, the slide's words (``quote``, verbatim from
that line), the slide's value, and which lesson shows it under which JSON path of
``descent lesson NAME --json``. Each row is checked:

- the quote is on that line of the deck (when the decks are found: ``--decks DIR``, the
  environment variable ``DESCENT_DECKS``, or a ``shared/seeds`` folder beside the
  repository or above it), and the slide's numbers are the quote's;
- MATCH: the lesson's value equals the slide's to the slide's precision (to its last
  digit, or within one unit of it where the slide writes "approximately");
- slide slip, flagged: the lesson holds the correct value, which differs from the
  slide's, and its ``slips`` name that line of that deck;
- a formula the slide writes: MATCH when the lesson writes the same one and its values by
  that formula agree with autodiff (``formula``);
- not yet tied to a lesson: no lesson's JSON path is given for the row yet; only the quote
  is checked (a topic only in a deck's schedule stays so: no lesson follows it).

Slides are counted as the text separates its pages, by three blank lines (``slide_of``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

from descent import lessons as registry

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "lectures.md"
DECK_FILES = [
    "000_3ab0e19925976932.txt",
    "001_06db21ae3b045989.txt",
    "002_aa120863d57339f7.txt",
    "003_51de2ede2fa02b51.txt",
    "004_feeceb0db53be35a.txt",
]
NUMBER = re.compile(r"(?<![A-Za-z_0-9.])-?\d+(?:\.\d+)?")


def find_decks(explicit: str | None = None) -> Path | None:
    """The folder holding the deck files, or None where none is found."""
    candidates = [explicit, os.environ.get("DESCENT_DECKS")]
    candidates += [p / "shared" / "seeds" for p in (ROOT, *ROOT.parents)]
    for folder in candidates:
        if folder and all((Path(folder) / f).is_file() for f in DECK_FILES):
            return Path(folder)
    return None


def read_deck(folder: Path, deck: str) -> list[str]:
    """The deck's lines (line n is ``lines[n - 1]``)."""
    return (Path(folder) / deck).read_text(encoding="utf-8").split("\n")


def slide_of(lines: list[str], line: int) -> int:
    """The slide that line ``line`` (1-based) is on: a slide ends at three blank lines.

    A blank (or white-space only) line belongs to the slide before it."""
    slide, blank, seen = 1, 0, False
    for text in lines[:line]:
        if text.strip():
            if blank >= 3 and seen:
                slide += 1
            blank, seen = 0, True
        else:
            blank += 1
    return slide


D0, D1, D2, D3, D4 = DECK_FILES


def match(deck, line, slide, quote, says, value, lesson, path, approx=False, quote_numbers=True):
    """A worked number a lesson shows: MATCH when the lesson's value is the slide's."""
    return dict(deck=deck, line=line, slide=slide, quote=quote, says=says, value=value,
                lesson=lesson, path=path, approx=approx, quote_numbers=quote_numbers)  # fmt: skip


def formula(deck, line, slide, quote, says, value, lesson, path, verified):
    """A formula the slide writes (``value``, in plain text): MATCH when the lesson writes the
    same formula at ``path`` and the number at ``verified`` (the largest difference between
    the values the lesson computes by that formula and by autodiff) is below 1e-9."""
    return dict(deck=deck, line=line, slide=slide, quote=quote, says=says, value=value,
                lesson=lesson, path=path, approx=False, verified=verified)  # fmt: skip


def slip(deck, line, slide, quote, says, value, correct, lesson, path):
    """A slide's slip that the lesson points out: the lesson holds ``correct``."""
    return dict(deck=deck, line=line, slide=slide, quote=quote, says=says, value=value,
                correct=correct, lesson=lesson, path=path)  # fmt: skip


def waiting(deck, line, slide, quote, says, topic, slip=None):
    """A worked number (or, with ``slip``, a slide's slip) that no lesson shows yet."""
    return dict(deck=deck, line=line, slide=slide, quote=quote, says=says, topic=topic,
                slip=slip)  # fmt: skip


SCHEDULE = "not a lesson: only in the schedule"

# fmt: off
ROWS = [
    # ---- deck 000: loss functions, gradient descent, autodiff --------------------------------
    match(D0, 1239, 12, "60%, 20%, 20%", "common split percentages are 60%, 20%, 20%",
      [60, 20, 20], "linear-regression", "results/split_percent"),
    slip(D0, 1190, 9, "𝑋𝑇𝑊 + 𝑏", "batch of n examples, X n-by-m: Y^ = X^T W + b",
      "Y^ = X^T W + b", "Y^ = X W + b", "vectorisation", "slips/line=1190/correct"),
    # ---- deck 001: Machine Learning Tutorial --------------------------------------------------
    match(D1, 68, 4, "2\t19.6", "x = 2, y = 19.6", [2, 19.6], "gravity",
      "results/data/x/0+results/data/y/0"),
    match(D1, 69, 4, "4.5\t44.1", "x = 4.5, y = 44.1", [4.5, 44.1], "gravity",
      "results/data/x/1+results/data/y/1"),
    match(D1, 70, 4, "10\t98", "x = 10, y = 98", [10, 98], "gravity",
      "results/data/x/2+results/data/y/2"),
    match(D1, 216, 11, "a = 9.8", "a = 9.8", 9.8, "gravity", "results/a_final"),
    match(D1, 236, 12, "g = 9.8", "F = m g, g = 9.8", 9.8, "gravity", "results/a_star"),
    slip(D1, 592, 22, "(y_2 - a \\cdot x_2)^2 + (y_2 - a \\cdot x_2)^2",
      "L = (y_1 - a x_1)^2 + (y_2 - a x_2)^2 + (y_2 - a x_2)^2", "(y_2 - a x_2)^2",
      "(y_3 - a x_3)^2", "gravity", "slips/line=592/correct"),
    match(D1, 667, 24, "= 402.57", "L(8) = 402.57", 402.57, "gravity", "results/loss_at/8"),
    match(D1, 753, 28, "= 79.52", "L(9) = 79.52", 79.52, "gravity", "results/loss_at/9"),
    match(D1, 823, 31, "= 4.97", "L(10) = 4.97", 4.97, "gravity", "results/loss_at/10"),
    match(D1, 966, 36, "\\approx 402", "L(8) ~ 402", 402, "gravity", "results/loss_at/8",
      approx=True),
    match(D1, 990, 37, "(8) \\approx -447", "dL/da(8) ~ -447", -447, "gravity",
      "results/slope_at/8", approx=True),
    match(D1, 1016, 38, "(11.5) \\approx 359", "L(11.5) ~ 359", 359, "gravity",
      "results/loss_at/11.5", approx=True),
    match(D1, 1044, 39, "(11.5) \\approx 422", "dL/da(11.5) ~ 422", 422, "gravity",
      "results/slope_at/11.5", approx=True),
    slip(D1, 1072, 40, "(8) \\approx 422", "dL/da(8) ~ 422 (slides 40-69)", 422, -447.3, "gravity",
      "results/slope_at/8"),
    match(D1, 1756, 62, "\\gamma = 0.003", "gamma = 0.003", 0.003, "gravity", "results/lr"),
    match(D1, 2042, 70, "-0.3\t1.9", "x = -0.3, y = 1.9", [-0.3, 1.9], "two-parameters",
      "results/x/0+results/y/0"),
    match(D1, 2043, 70, "-0.2\t1.85", "x = -0.2, y = 1.85", [-0.2, 1.85], "two-parameters",
      "results/x/1+results/y/1"),
    match(D1, 2044, 70, "0.2\t1.85", "x = 0.2, y = 1.85", [0.2, 1.85], "two-parameters",
      "results/x/2+results/y/2"),
    match(D1, 2045, 70, "0.3\t1.85", "x = 0.3, y = 1.85", [0.3, 1.85], "two-parameters",
      "results/x/3+results/y/3"),
    match(D1, 2049, 71, "b = 2", "b = 2", 2, "two-parameters", "results/b"),
    match(D1, 2062, 72, "-5.5(a - 0.246)x + b - 0.217",
      "line A: y^ = -5.5 (a - 0.246) x + b - 0.217 (-5.5: the width that meets line B's outer "
      "wall, mean of 4 points; 0.246: line B's minima without its 0.03 a term; 0.217: the "
      "offset for line B's depth)", [-5.5, 0.246, 0.217], "two-parameters",
      "results/a/wall/mean+results/b_line/symmetric_minima+results/a/offset_for_equal_depth"),
    formula(D1, 2089, 73, "ax + b - 2a^2", "line B: y^ = a x + b - 2 a^2 (its loss a quartic "
      "in a, two minima)", "y^ = a x + b - 2 a^2", "two-parameters", "results/line_b/formula",
      "results/b_line/largest_difference"),
    slip(D1, 2527, 113, "\\sum_{i=0}^m x_i \\theta_i",
      "y^ = x theta + b = sum_{i=0}^m x_i theta_i + b, x = [x_1, ..., x_m]",
      "sum_{i=0}^m x_i theta_i", "sum_{i=1}^m x_i theta_i", "vectorisation",
      "slips/line=2527/correct"),
    slip(D1, 2581, 117, "\\mathbf{b}^{(1)} - N \\times 1",
      "theta^(1): M x N, b^(1): N x 1 (x a row, 1 x M)", "b^(1): N x 1", "b^(1): 1 x N",
      "vectorisation", "slips/line=2581/correct"),
    *(slip(D1, line, 151, quote, says, says, correct, "autoencoder-classifier",
        f"slips/line={line}/correct")
      for line, quote, says, correct in (
          (2988, "X(W_2(Y-X) + W_3(C-C_{gt}))", "dW1 = X(W2(Y - X) + W3(C - C_gt))",
           "dW1 = X^T dA"),
          (2990, "W_2(Y-X) + W_3(C-C_{gt})", "db1 = W2(Y - X) + W3(C - C_gt)", "db1 = sum(dA)"),
          (2993, "\\delta W_2 = Z(Y-X)", "dW2 = Z(Y - X)", "dW2 = Z^T (Y - X)"),
          (2995, "\\delta b_2 = Y-X", "db2 = Y - X", "db2 = sum(Y - X)"),
          (2997, "\\delta W_3 = Z(C-C_{gt})", "dW3 = Z(C - C_gt)", "dW3 = Z^T (C - C_gt)"),
          (2999, "\\delta b_3 = C-C_{gt}", "db3 = C - C_gt", "db3 = sum(C - C_gt)"),
      )),
    match(D1, 3007, 152, "1\t3\t2\t4\t6\t4", "I, row 1: 1 3 2 4 6 4", [1, 3, 2, 4, 6, 4],
      "conv-forward", "results/patch/0"),
    match(D1, 3008, 152, "4\t8\t3\t1\t0\t2", "I, row 2: 4 8 3 1 0 2", [4, 8, 3, 1, 0, 2],
      "conv-forward", "results/patch/1"),
    match(D1, 3009, 152, "2\t1\t4\t3\t9\t1", "I, row 3: 2 1 4 3 9 1", [2, 1, 4, 3, 9, 1],
      "conv-forward", "results/patch/2"),
    match(D1, 3010, 152, "4\t7\t2\t3\t9\t2", "I, row 4: 4 7 2 3 9 2", [4, 7, 2, 3, 9, 2],
      "conv-forward", "results/patch/3"),
    match(D1, 3014, 152, "1\t2\t1", "W, row 1: 1 2 1", [1, 2, 1], "conv-forward",
          "results/filter/0"),
    match(D1, 3015, 152, "0\t0\t0", "W, row 2: 0 0 0", [0, 0, 0], "conv-forward",
          "results/filter/1"),
    match(D1, 3016, 152, "-1\t-2\t-1", "W, row 3: -1 -2 -1", [-1, -2, -1], "conv-forward",
      "results/filter/2"),
    match(D1, 3044, 152, "1 & -1 & -3 & -2 \\\\ 3 & 1 & -12 & -20",
      "J = [[1, -1, -3, -2], [3, 1, -12, -20]]", [1, -1, -3, -2, 3, 1, -12, -20],
      "conv-forward", "results/convolution"),
    match(D1, 3046, 152, "K = [3 \\quad -2]", "K = [3, -2]", [3, -2], "conv-forward",
      "results/pooled"),
    match(D1, 3048, 152, "O = [3 \\quad 0]", "O = [3, 0]", [3, 0], "conv-forward", "results/relu"),
    # ---- deck 002: Gradient Descent -----------------------------------------------------------
    match(D2, 69, 2, "(30, \\text{False}), (33, \\text{False}), (35, \\text{False}), (37, "
      "\\text{True}), (39, \\text{True})",
      "speeds 30, 33, 35, 37, 39 (the last two a ticket)", [30, 33, 35, 37, 39],
      "logistic-regression", "results/data/speeds"),
    match(D2, 292, 3, "(2, 4), (3, 5), (5, 7), (8, 10)", "D = {(2, 4), (3, 5), (5, 7), (8, 10)}",
      [2, 3, 5, 8, 4, 5, 7, 10], "secret-number", "results/data/x+results/data/y"),
    match(D2, 298, 3, "\\theta = 2", "you can see that theta = 2", 2, "secret-number",
      "results/lr_0.75/theta/-1"),
    match(D2, 500, 14, "\\theta = 5", "we'll start with theta = 5", 5, "secret-number",
      "results/theta0"),
    match(D2, 602, 22, "2 \\cdot 5 - 4 = 6", "2 * 5 - 4 = 6", 6, "secret-number",
      "results/lr_1/slope/0"),
    match(D2, 638, 24, "\\theta_0 - 6 = -1", "theta_1 = theta_0 - 6 = -1", -1, "secret-number",
      "results/lr_1/theta/1"),
    match(D2, 680, 29, "2 \\cdot (-1) - 4 = -6", "2 * (-1) - 4 = -6", -6, "secret-number",
      "results/lr_1/slope/1"),
    match(D2, 710, 31, "\\theta_1 - (-6) = 5", "theta_2 = theta_1 - (-6) = 5", 5, "secret-number",
      "results/lr_1/theta/2"),
    match(D2, 763, 36, "(Say, 0.75)", "a fraction of the slope (say, 0.75)", 0.75, "secret-number",
      "results/learning_rates/lr_0.75"),
    match(D2, 834, 41, "0.75 \\cdot 6 = 0.5", "theta_1 = theta_0 - 0.75 * 6 = 0.5", 0.5,
      "secret-number", "results/lr_0.75/theta/1"),
    match(D2, 878, 46, "2 \\cdot 0.5 - 4 = -3", "2 * 0.5 - 4 = -3", -3, "secret-number",
      "results/lr_0.75/slope/1"),
    slip(D2, 904, 48, "0.75 \\cdot (-3) = 2.25", "theta_2 = theta_1 - 0.75 * (-3) = 2.25", 2.25,
      2.75, "secret-number", "results/lr_0.75/theta/2"),
    slip(D2, 945, 52, "2 \\cdot 2.25 - 4 = 0.5", "2 * 2.25 - 4 = 0.5 (built on the slip)", 0.5, 1.5,
      "secret-number", "results/lr_0.75/slope/2"),
    slip(D2, 947, 52, "0.75 \\cdot 0.5 = 1.875", "theta_3 = theta_2 - 0.75 * 0.5 = 1.875", 1.875,
      1.625, "secret-number", "results/lr_0.75/theta/3"),
    match(D2, 1038, 60, "(2, 3), (3, 6), (5, 5), (8, 12)", "D = {(2, 3), (3, 6), (5, 5), (8, 12)}",
      [2, 3, 5, 8, 3, 6, 5, 12], "secret-number", "results/data/x+results/data/y_noisy"),
    match(D2, 1108, 60, "still 2", "the optimal theta is still 2", 2, "secret-number",
      "results/theta_star"),
    formula(D2, 1246, 67, "10x^3y^2 + 5xy^3 + 4x + y", "f(x, y) = 10x^3y^2 + 5xy^3 + 4x + y",
      "10x^3y^2 + 5xy^3 + 4x + y", "partial-derivatives", "results/polynomial/f",
      "results/polynomial/largest_difference"),
    formula(D2, 1248, 67, "30x^2y^2 + 5y^3 + 4", "df/dx = 30x^2y^2 + 5y^3 + 4",
      "30x^2y^2 + 5y^3 + 4", "partial-derivatives", "results/polynomial/df/dx",
      "results/polynomial/largest_difference"),
    formula(D2, 1250, 67, "20x^3y + 15xy^2 + 1", "df/dy = 20x^3y + 15xy^2 + 1",
      "20x^3y + 15xy^2 + 1", "partial-derivatives", "results/polynomial/df/dy",
      "results/polynomial/largest_difference"),
    formula(D2, 1300, 67, "4x^2 + y^2", "f(x, y) = 4x^2 + y^2", "4x^2 + y^2",
      "partial-derivatives", "results/level_curves/f", "results/level_curves/largest_difference"),
    formula(D2, 1302, 67, "8x, 2y", "grad f = <8x, 2y>", "<8x, 2y>", "partial-derivatives",
      "results/level_curves/grad", "results/level_curves/largest_difference"),
    # ---- deck 003: neural networks --------------------------------------------------------
    waiting(D3, 17, 1, "K - Nearest Neighbors", "ML: K-Nearest Neighbors & Naive Bayes", SCHEDULE),
    formula(D3, 557, 20, "log𝑥1 + log𝑥2", "f(x1, x2) = log x1 + log x2: df/dx1 = 1/x1", "1/x1",
      "partial-derivatives", "results/deck_003/partials/0/by_hand/0",
      "results/deck_003/largest_difference"),
    formula(D3, 567, 20, "𝑥1(𝑥1 + 𝑥2)", "f(x1, x2) = x1 (x1 + x2): df/dx2 = x1", "x1",
      "partial-derivatives", "results/deck_003/partials/1/by_hand/1",
      "results/deck_003/largest_difference"),
    formula(D3, 713, 27, "1 − 𝑦", "dl/dy^ = (1 - y) / (1 - y^) - y / y^",
      "(1 - y)/(1 - y^) - y/y^", "bce-gradient", "results/formulas/dl/dy^",
      "results/chain_difference"),
    formula(D3, 755, 29, "𝜎(𝑧)(1 − 𝜎(𝑧))",
      "dy^/dz = sigma'(z) = sigma(z) (1 - sigma(z)), = y^ (1 - y^) on the next line",
      "y^ (1 - y^)", "bce-gradient", "results/formulas/dy^/dz", "results/chain_difference"),
    formula(D3, 789, 31, "( ො𝑦 − 𝑦)𝑥1", "dl/dw11 = (y^ - y) x1", "(y^ - y) x1", "bce-gradient",
      "results/formulas/dl/dw11, collapsed", "results/largest_difference"),
    # ---- deck 004: linear classification, loss functions, gradient descent -----------------
    match(D4, 195, 16, "cat\t3.2\t1.3\t2.2", "cat scores of the three images: 3.2, 1.3, 2.2",
      [3.2, 1.3, 2.2], "softmax-svm", "results/scores/0/0+results/scores/1/0+results/scores/2/0"),
    match(D4, 196, 16, "car\t5.1\t4.9\t2.5", "car scores: 5.1, 4.9, 2.5", [5.1, 4.9, 2.5],
      "softmax-svm", "results/scores/0/1+results/scores/1/1+results/scores/2/1"),
    match(D4, 197, 16, "frog\t-1.7\t2.0\t-3.1", "frog scores: -1.7, 2.0, -3.1", [-1.7, 2.0, -3.1],
      "softmax-svm", "results/scores/0/2+results/scores/1/2+results/scores/2/2"),
    match(D4, 187, 15, "&= 2.9", "cat image: max(0, 5.1 - 3.2 + 1) + max(0, -1.7 - 3.2 + 1) = 2.9",
      2.9, "softmax-svm", "results/hinge/0"),
    match(D4, 214, 16, "&= 0", "car image: max(0, 1.3 - 4.9 + 1) + max(0, 2.0 - 4.9 + 1) = 0", 0,
      "softmax-svm", "results/hinge/1"),
    match(D4, 354, 23, "<b>12.9</b>", "frog image: 12.9", 12.9, "softmax-svm", "results/hinge/2"),
    match(D4, 343, 22, "= 5.27", "L = (2.9 + 0 + 12.9) / 3 = 5.27", 5.27, "softmax-svm",
      "results/hinge_mean"),
    match(D4, 274, 19, "C-1", "all s ~ 0: the loss is C - 1 (2 for C = 3)", 2, "softmax-svm",
      "results/init/0/hinge", quote_numbers=False),
    match(D4, 253, 18, "[0,inf]", "the SVM loss's min and max: [0, inf]", [0, "inf"],
      "svm-questions", "results/hinge_range"),
    match(D4, 295, 20, "(add constant 1)",
      "the sum over all classes: no difference (add constant 1)", 1, "svm-questions",
      "results/over_all_added"),
    match(D4, 316, 21, "Scaling by constant",
      "the mean instead of the sum: no difference, scaling by constant", "scaling by a constant",
      "svm-questions", "results/mean_verdict"),
    match(D4, 441, 24, "24.5", "exp(3.2) = 24.5", 24.5, "softmax-svm", "results/exp_scores_cat/0"),
    match(D4, 442, 24, "164.0", "exp(5.1) = 164.0", 164.0, "softmax-svm",
          "results/exp_scores_cat/1"),
    match(D4, 443, 24, "0.18", "exp(-1.7) = 0.18", 0.18, "softmax-svm", "results/exp_scores_cat/2"),
    match(D4, 447, 24, "0.13", "p(cat) = 0.13", 0.13, "softmax-svm", "results/probabilities/0/0"),
    match(D4, 448, 24, "0.87", "p(car) = 0.87", 0.87, "softmax-svm", "results/probabilities/0/1"),
    match(D4, 449, 24, "0.00", "p(frog) = 0.00", 0.0, "softmax-svm", "results/probabilities/0/2"),
    match(D4, 459, 24, "-\\log(0.13)", "L_i = -log(0.13)", 0.13, "softmax-svm",
      "results/probabilities/0/0"),
    match(D4, 495, 25, "Infimum is 0", "the cross-entropy's min and max: infimum 0, max unbounded",
      [0, "unbounded"], "svm-questions", "results/cross_entropy_range"),
    match(D4, 526, 26, "\\log(10) \\approx 2", "all s equal: the loss is log C, log(10) ~ 2", 2,
      "softmax-svm", "results/init/1/log_classes", approx=True),
    match(D4, 394, 23, "0.5 \\\\ 0.01 \\\\ 0.01 \\\\ 0.01 \\\\ 0.01 \\\\ 0.01 \\\\ 0.15 \\\\ 0.3",
      "p^ = [0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.3], the true class 4",
      [0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.3], "svm-questions", "results/p_hat"),
    slip(D4, 591, 30, "w_{21} & w_{22} & \\cdots & w_{3m} & b_3",
      "[W b] again, its third row: w21 w22 ... w3m b3", "w21 w22 ... w3m b3",
      "w31 w32 ... w3m b3", "convexity", "slips/line=591/correct"),
    match(D4, 708, 38, "loss 1.25347", "loss 1.25347", 1.25347, "numerical-gradient",
      "results/slide/loss"),
    match(D4, 739, 38, "0.34 + **0.0001**", "W + h (first dim): 0.34 + 0.0001", [0.34, 0.0001],
      "numerical-gradient", "results/slide/w/0+results/slide/h"),
    match(D4, 749, 38, "loss 1.25322", "loss 1.25322", 1.25322, "numerical-gradient",
      "results/slide/nudged/0"),
    match(D4, 798, 38, "= -2.5", "(1.25322 - 1.25347) / 0.0001 = -2.5", -2.5,
      "numerical-gradient", "results/slide/quotients/0"),
    match(D4, 831, 38, "loss 1.25353", "loss 1.25353", 1.25353, "numerical-gradient",
      "results/slide/nudged/1"),
    match(D4, 879, 38, "= 0.6", "(1.25353 - 1.25347) / 0.0001 = 0.6", 0.6,
      "numerical-gradient", "results/slide/quotients/1"),
    match(D4, 962, 38, "= 0$$", "(1.25347 - 1.25347) / 0.0001 = 0", 0,
      "numerical-gradient", "results/slide/quotients/2"),
    slip(D4, 1011, 38, "\\sum_{k=1}^N w_k x_{ik}",
      "dL/dw_j = -2 sum_i delta_i d/dw_j sum_{k=1}^N w_k x_ik", "sum_{k=1}^N w_k x_ik",
      "sum_{k=1}^d w_k x_ik", "convexity", "slips/line=1011/correct"),
    slip(D4, 1034, 39, "\\sum_{k=1}^N \\delta_i",
      "w_j <- w_j + 2 alpha sum_{k=1}^N delta_i sigma_i (1 - sigma_i) x_ij",
      "sum_{k=1}^N delta_i", "sum_{i=1}^N delta_i", "convexity", "slips/line=1034/correct"),
]
# fmt: on


# ---- checking the rows ----------------------------------------------------------------------


def _get(data, path: str):
    """The value at ``path`` of a lesson's ``to_dict()``: keys and list indices joined by '/'
    (a key that holds '/' itself, such as 'df/dx', is matched whole), ``key=value`` picking
    the list element whose ``key`` is ``value``, paths joined by '+' giving their values one
    after the other."""
    if "+" in path:
        return [v for part in path.split("+") for v in _flat(_get(data, part))]
    steps = path.split("/")
    while steps:
        step = steps.pop(0)
        if isinstance(data, list) and "=" in step:
            key, wanted = step.split("=", 1)
            data = next(d for d in data if str(d.get(key)) == wanted)
        elif isinstance(data, list):
            data = data[int(step)]
        else:
            while step not in data and steps:  # 'df' + 'dx': the key 'df/dx'
                step += "/" + steps.pop(0)
            data = data[step]
    return data


def _flat(value) -> list:
    if isinstance(value, list):
        return [v for item in value for v in _flat(item)]
    return [value]


def _decimals(number: float) -> int:
    text = repr(float(number))
    return len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0


def _agrees(slide, lesson, approx: bool) -> bool:
    """The lesson's number is the slide's, to the slide's last digit (within one unit of it
    where the slide writes 'approximately'); lists element by element."""
    slide, lesson = _flat(slide), _flat(lesson)
    if len(slide) != len(lesson):
        return False
    for s, v in zip(slide, lesson):
        if isinstance(s, str) or isinstance(v, str):
            if s != v:
                return False
            continue
        unit = 10.0 ** -_decimals(s)
        if abs(v - s) > (unit if approx else unit / 2) * (1 + 1e-9):
            return False
    return True


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def check_rows(rows=ROWS, decks: Path | None = None, lessons: dict | None = None) -> list[dict]:
    """Each row with ``status``, ``shown`` (the lesson's value) and ``problems`` (empty when
    the row holds); ``decks`` None skips the checks against the deck text."""
    if lessons is None:
        lessons = {name: registry.run(name).to_dict() for name in registry.names()}
    texts = {deck: read_deck(decks, deck) for deck in DECK_FILES} if decks else {}
    checked = []
    for row in rows:
        problems, shown = [], ""
        if texts:
            lines = texts[row["deck"]]
            if row["quote"] not in lines[row["line"] - 1]:
                text = lines[row["line"] - 1]
                problems.append(f"the quote is not on line {row['line']}: {text!r}")
            if slide_of(lines, row["line"]) != row["slide"]:
                problems.append(f"line {row['line']} is on slide {slide_of(lines, row['line'])}")
        quoted = [float(n) for n in NUMBER.findall(row["quote"])]
        if "topic" in row:
            status = (
                SCHEDULE
                if row["topic"] == SCHEDULE
                else "not yet tied to a lesson: " + row["topic"]
            )
            if row["slip"]:
                status = (
                    "slide slip (" + row["slip"] + "); not yet tied to a lesson: " + row["topic"]
                )
        elif row["lesson"] not in lessons:
            status = f"no lesson {row['lesson']!r}"
            problems.append(status)
        else:
            data = lessons[row["lesson"]]
            try:
                value = _get(data, row["path"])
            except (KeyError, IndexError, StopIteration, ValueError):
                value = None
                problems.append(f"{row['lesson']} --json has no {row['path']}")
            shown = _show(value)
            numeric = [v for v in _flat(row["value"]) if not isinstance(v, str)]
            if row.get("quote_numbers", True) and any(v not in quoted for v in numeric):
                problems.append(f"the slide's value {row['value']} is not the quote's numbers")
            if "correct" in row:
                status = "slide slip, flagged"
                flagged = [s for s in data["slips"] if s["deck"] == row["deck"]
                           and row["line"] in (s["line"], s.get("last_line"))]  # fmt: skip
                if not flagged:
                    problems.append(f"{row['lesson']} does not flag {row['deck']}:{row['line']}")
                if value is not None and not _agrees(row["correct"], value, approx=False):
                    problems.append(f"{row['lesson']} has {shown}, not {row['correct']}")
                if value is not None and _agrees(row["value"], value, approx=False):
                    problems.append("the slide's value is no slip: the lesson agrees with it")
            else:
                status = "MATCH"
                if value is not None and not _agrees(row["value"], value, row["approx"]):
                    status = "MISMATCH"
                    problems.append(f"{row['lesson']} has {shown}, the slide {row['value']}")
                if row.get("verified"):
                    try:
                        gap = float(_get(data, row["verified"]))
                    except (KeyError, IndexError, StopIteration, ValueError, TypeError):
                        gap = math.inf
                        problems.append(f"{row['lesson']} --json has no {row['verified']}")
                    if not gap < 1e-9:
                        status = "MISMATCH"
                        problems.append(
                            f"{row['lesson']}: by the formula against autodiff, {gap:g} apart"
                        )
                    shown += " (by hand = autodiff)"
        checked.append({**row, "status": status, "shown": shown, "problems": problems})
    return checked


def table(checked: list[dict]) -> str:
    """The Markdown of ``docs/lectures.md``."""
    matches = sum(r["status"] == "MATCH" for r in checked)
    slips = sum(r["status"] == "slide slip, flagged" for r in checked)
    unflagged = sum(r["status"].startswith("slide slip (") for r in checked)
    waiting = sum(r["status"].startswith(("not yet tied", "slide slip (")) for r in checked)
    schedule = sum(r["status"] == SCHEDULE for r in checked)
    out = [
        "# The lectures' worked numbers, and the lessons that show them",
        "",
        "Every worked number of the five lecture decks (their plain text, with the animation",
        "frames repeated, is kept outside the repository), the slide's value beside the lesson's",
        "(`descent lesson NAME --json`, at the JSON path shown). MATCH: the lesson's value is the",
        "slide's to the slide's last digit (within one unit of it where the slide writes",
        '"approximately", ~); for a formula the slide writes, the lesson writes the same formula',
        "and its values by that formula agree with autodiff (by hand = autodiff). Slide slip,",
        "flagged: the slide is wrong, the lesson holds the correct value and says so in one line",
        "(its `slips`, in its `--json`). A topic only in a deck's schedule has no lesson, as",
        "`descent lesson --list` says. Slides are counted as the text separates its pages, by",
        "three blank lines.",
        "",
        "Written by `python -m tools.lecture_numbers --write`; `make test` runs it with",
        "`--check`, so the table stays true.",
        "",
        f"{len(checked)} rows: {matches} MATCH, {slips} slide slips flagged, "
        + (
            f"{waiting} not yet tied to a lesson (of them {unflagged} slide slips to tie to the "
            "lesson that flags them), "
            if waiting
            else ""
        )
        + f"{schedule} a topic only in a deck's schedule.",
        "",
    ]
    for deck in DECK_FILES:
        rows = sorted((r for r in checked if r["deck"] == deck), key=lambda r: r["line"])
        out += [f"## {deck}", "", "| line (slide) | the slide | value | lesson: JSON path | "
                "lesson's value | status |", "|---|---|---|---|---|---|"]  # fmt: skip
        for r in rows:
            where = f"{r['line']} ({r['slide']})"
            lesson = f"{r['lesson']}: `{r['path']}`" if r.get("lesson") else ""
            slide_value = _show(r["value"]) if "value" in r else ""
            if "correct" in r:
                slide_value += f" (correct: {_show(r['correct'])})"
            cells = [where, r["says"], slide_value, lesson, r["shown"], r["status"]]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decks", help="the folder with the deck files")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help=f"fail unless {DOC} is this table")
    mode.add_argument("--write", action="store_true", help=f"write the table to {DOC}")
    args = parser.parse_args(argv)
    decks = find_decks(args.decks)
    checked = check_rows(decks=decks)
    text = table(checked)
    problems = [f"{r['deck']}:{r['line']}: {p}" for r in checked for p in r["problems"]]
    if decks is None:
        print(
            "lecture_numbers: the decks are not found: the quotes are not checked", file=sys.stderr
        )
    for problem in problems:
        print(f"lecture_numbers: {problem}", file=sys.stderr)
    if args.write:
        DOC.write_text(text + "\n", encoding="utf-8")
    elif args.check:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text + "\n":
            print(
                f"lecture_numbers: {DOC} is not the table this prints: run --write", file=sys.stderr
            )
            return 1
    else:
        print(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
