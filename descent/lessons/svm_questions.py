"""svm-questions: the deck's questions about the multiclass SVM loss, answered by computing.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slides 17-22 (lines 228-343: what if
the car's scores change a bit, the loss's min and max, the sum over all classes, the mean
instead of the sum, on the cat / car / frog scores with losses 2.9, 0 and 12.9, mean 5.27),
slide 25 (lines 493-495: the min and max of the cross-entropy) and slide 23 (lines 391-409:
KL(p* || p^) with 8 classes, p* one-hot on class 4, p^ = (0.5, 0.01, 0.01, 0.01, 0.01,
0.01, 0.15, 0.3)). Slides are counted as the text separates its pages, by three blank lines.

The scores are the softmax-svm lesson's; each variant of the loss is computed on them.
"""

from __future__ import annotations

import math

import numpy as np

from .. import viz
from ..nn import functional as F
from ..tensor import float64, tensor
from .lesson import Lesson, vector_cell
from .softmax_svm import CLASSES, LABELS, SCORES

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {
    "the SVM loss's questions": [17, 22],
    "cross-entropy as KL divergence, 8 classes": [23, 23],
    "the cross-entropy's min and max": [25, 25],
}
NUDGE = 0.5  # "if the car image's scores change a bit": every score by up to this much
SCALES = [1.0, 10.0, 100.0, 1000.0]  # the frog's wrong scores pushed away: the loss grows
P_TRUE = [0, 0, 0, 1, 0, 0, 0, 0]  # the slide's ground truth, class 4 of 8
P_HAT = [0.5, 0.01, 0.01, 0.01, 0.01, 0.01, 0.15, 0.3]  # the slide's prediction


def svm_losses(scores, labels, over_all: bool = False, mean: bool = False) -> np.ndarray:
    """L_i = sum (or mean) over j != y_i (or over all j) of max(0, s_j - s_y + 1)."""
    s = np.asarray(scores, dtype=np.float64)  # (N, C)
    rows = np.arange(s.shape[0])
    margins = np.maximum(0.0, s - s[rows, labels][:, None] + 1.0)
    if not over_all:
        margins[rows, labels] = 0.0
    count = s.shape[1] if over_all else s.shape[1] - 1
    return margins.sum(axis=1) / (count if mean else 1)


def cross_entropy(scores, label: int) -> float:
    """-log softmax(scores)[label] as log(1 + sum_{j != y} e^(s_j - s_y)): no overflow for
    large scores, and no rounding to 0 while the exact value is still a float64."""
    d = np.delete(np.asarray(scores, dtype=np.float64) - scores[label], label)
    top = float(d.max())
    if top <= 0:
        return float(np.log1p(np.exp(d).sum()))
    return top + float(np.log(np.exp(-top) + np.exp(d - top).sum()))


def grows_linearly(losses) -> bool:
    """Does the loss grow at least in proportion to t over ``SCALES`` (so without bound)?
    Its rise per unit of t, between each two scales, is positive and does not shrink."""
    rates = np.diff(losses) / np.diff(SCALES)
    return bool(np.all(rates > 0) and rates[-1] >= rates[0] * (1 - 1e-9))


def _draw_variants(variants: dict):
    def draw(path):
        viz.plot_bars(
            variants,
            [f"{CLASSES[label]} image" for label in LABELS],
            ylabel="L_i",
            title="The SVM loss three ways: +1 for every image, or every loss halved",
            path=path,
            figsize=(7, 4),
        )

    return draw


def _draw_kl(terms: np.ndarray):
    def draw(path):
        viz.plot_bars(
            {"p*(y), the ground truth": P_TRUE, "p^(y), the prediction": P_HAT},
            [str(k + 1) for k in range(len(P_HAT))],
            xlabel="class y",
            ylabel="probability",
            title=f"8 classes: KL(p* || p^) = -log p^(4) = {float(terms.sum()):.4f}",
            path=path,
            figsize=(7, 4),
        )

    return draw


def svm_questions() -> Lesson:
    """The SVM loss's variants and range on the slide's scores; KL against cross-entropy."""
    lesson = Lesson(
        name="svm-questions",
        title="Questions about the losses, answered on the slide's scores",
        summary=(
            "Deck 004 asks a string of questions about the multiclass SVM loss L_i = "
            "sum_{j != y_i} max(0, s_j - s_y_i + 1) on its three images (slides 17-22) and "
            "about the cross-entropy (slides 23 and 25), and answers each in a word. Here each "
            f"answer is computed. The lecture: deck {DECK}, slides 17-25; the scores are the "
            "softmax-svm lesson's."
        ),
    )
    labels = np.asarray(LABELS)
    c = len(CLASSES)
    base = svm_losses(SCORES, labels)
    ours = F.multiclass_hinge_loss(tensor(SCORES, dtype=float64), tensor(LABELS), reduction="none")
    over_all = svm_losses(SCORES, labels, over_all=True)
    mean = svm_losses(SCORES, labels, mean=True)
    variants = {
        "sum over j != y (the slide)": base,
        "sum over all j": over_all,
        f"mean over the {c - 1} j != y": mean,
    }
    table = lesson.table(
        "The SVM loss and two variants of it",
        ["variant"] + [f"L ({CLASSES[k]} image)" for k in LABELS] + ["mean L"],
    )
    for name, values in variants.items():
        table.add(name, *values.tolist(), float(values.mean()))
    added = over_all - base  # what the j = y_i term adds to each image's loss
    added_constant = float(added[0]) if np.allclose(added, added[0]) else None
    scored = base > 0  # the ratio of the mean to the sum, where the sum is not 0
    scale = mean[scored] / base[scored]
    mean_scale = float(scale[0]) if np.allclose(scale, scale[0]) else None
    mean_verdict = "scaling by a constant" if mean_scale is not None else "not a constant scale"
    lesson.say(
        f"The slide's losses are {base[0]:.4g}, {base[1]:.4g} and {base[2]:.4g}, mean "
        f"{base.mean():.4g} (descent's multiclass_hinge_loss gives "
        f"{vector_cell(ours.numpy())}). If the sum ran over all classes, j = y_i included, "
        "that term would be max(0, s_y - s_y + 1) = 1 for every image: every loss grows by "
        f"exactly {added_constant:g} (mean {over_all.mean():.4g}), which moves no minimum: 'no "
        f"difference, add constant 1'. The mean over the {c - 1} wrong classes instead of "
        f"their sum multiplies every loss by {mean_scale:g} (mean {mean.mean():.4g}): 'no "
        f"difference', {mean_verdict}; the same W is best, and only the learning rate would "
        "need to change."
    )

    # ---- small changes of the car's scores ----------------------------------------------
    car = int(np.flatnonzero(labels == 1)[0])
    rng = np.random.default_rng(0)
    nudged = []
    for _ in range(5):
        s = np.array(SCORES, dtype=np.float64)
        s[car] += rng.uniform(-NUDGE, NUDGE, c)
        nudged.append(float(svm_losses(s, labels)[car]))
    sy = SCORES[car][LABELS[car]]
    gap = min(sy - SCORES[car][j] for j in range(c) if j != LABELS[car])
    lesson.say(
        f"'What happens to the loss if the car image's scores change a bit?' The car scores "
        f"{sy:g}, at least {gap:.4g} above every other class, more than the margin 1; moving "
        f"each of its scores by up to {NUDGE:g} (five random tries) leaves its loss at "
        f"{vector_cell(nudged)}: no change for small values."
    )

    # ---- the range: 0 to infinity --------------------------------------------------------
    frog = int(np.flatnonzero(labels == 2)[0])
    grow = lesson.table(
        "The frog image's wrong-class scores multiplied by t", ["t", "L (frog image)"]
    )
    growth = []
    for t in SCALES:
        s = np.array(SCORES, dtype=np.float64)
        wrong = np.arange(c) != LABELS[frog]
        s[frog, wrong] *= t
        growth.append(float(svm_losses(s, labels)[frog]))
        grow.add(t, growth[-1])
    lesson.say(
        f"'What is the min/max of the loss?' [0, inf]. The minimum 0 is reached, by the car "
        f"image here: every term is max(0, ...) >= 0, and 0 once the true class wins by the "
        f"margin. There is no maximum: push the frog's wrong scores further up and its loss "
        f"grows without bound ({growth[0]:.4g}, {growth[1]:.4g}, {growth[2]:.4g}, "
        f"{growth[3]:.6g})."
    )
    unbounded = grows_linearly(growth)
    hinge_range = [float(min(base.min(), min(nudged))), "inf" if unbounded else max(growth)]

    # ---- cross-entropy: its range, and KL with 8 classes ---------------------------------
    p_cat = float(F.softmax(tensor(SCORES[0], dtype=float64), dim=0).numpy()[0])
    ce_cat = -math.log(p_cat)
    cat = int(np.flatnonzero(labels == 0)[0])
    ce_up, ce_down = [], []  # the cat's true score, then its wrong scores, multiplied by t
    for t in SCALES:
        for which, out in (
            (np.arange(c) == LABELS[cat], ce_up),
            (np.arange(c) != LABELS[cat], ce_down),
        ):
            s = np.array(SCORES[cat], dtype=np.float64)
            s[which] *= t
            out.append(cross_entropy(s, LABELS[cat]))
    grows = grows_linearly(ce_down)
    ce_range = [min(ce_up), "unbounded" if grows else max(ce_down)]
    lesson.say(
        f"The cross-entropy -log p(true class) has the same range but never reaches 0: the "
        f"cat's p = {p_cat:.6f} (0.13 on slide 24) costs -log({p_cat:.6f}) = {ce_cat:.4f} "
        "(the natural log); as p -> 1 the loss -> 0, its infimum, and as p -> 0 it grows "
        "without bound: 'infimum is 0, max is unbounded'. Multiplying the cat's true score "
        "by t = "
        + ", ".join(f"{t:g}" for t in SCALES)
        + " gives "
        + ", ".join(f"{v:.4g}" for v in ce_up)
        + ": towards 0, which the last passes below the smallest float64 (the exact loss is "
        "never 0); multiplying its wrong scores by t instead gives "
        + ", ".join(f"{v:.6g}" for v in ce_down)
        + "."
    )
    p_true, p_hat = np.array(P_TRUE, dtype=np.float64), np.array(P_HAT, dtype=np.float64)
    held = p_true > 0  # 0 log 0 = 0: only the true class contributes
    terms = np.zeros_like(p_true)
    terms[held] = p_true[held] * np.log(p_true[held] / p_hat[held])
    kl_ours = F.kl_div(tensor(np.log(p_hat)), tensor(p_true), reduction="sum").item()
    entropy = float(-np.sum(p_true[held] * np.log(p_true[held]))) + 0.0  # not -0.0
    cross = float(-np.sum(p_true * np.log(p_hat)))
    kl = lesson.table(
        "KL(p* || p^) with 8 classes, class by class",
        ["class y", "p*(y)", "p^(y)", "p*(y) log(p*(y) / p^(y))"],
    )
    for k in range(len(P_HAT)):
        kl.add(k + 1, P_TRUE[k], P_HAT[k], float(terms[k]))
    true_class = int(np.argmax(p_true)) + 1
    lesson.say(
        f"The slide's prediction p^ sums to {p_hat.sum():g} and puts {P_HAT[0]:g} on class 1 "
        f"but only {P_HAT[true_class - 1]:g} on the true class {true_class}. KL(p* || p^) = "
        f"sum_y p*(y) log(p*(y) / p^(y)) = {float(terms.sum()):.4f} (descent's kl_div: "
        f"{kl_ours:.4f}) = -H(p*) + H(p*, p^) = {-entropy:g} + {cross:.4f}. The entropy of a "
        "one-hot p* is 0 and does not depend on W, so minimising KL is minimising the "
        f"cross-entropy, -log p^({true_class}) = -log({P_HAT[true_class - 1]:g}) = "
        f"{-math.log(P_HAT[true_class - 1]):.4f}: the other seven probabilities enter only "
        f"through the normalisation. A uniform guess would cost log 8 = {math.log(8):.4f}."
    )
    lesson.results.update(
        classes=CLASSES,
        scores=SCORES,
        labels=LABELS,
        hinge=base.tolist(),
        hinge_mean=float(base.mean()),
        hinge_descent=ours.numpy().tolist(),
        over_all=over_all.tolist(),
        over_all_mean=float(over_all.mean()),
        over_all_added=added_constant,
        mean_scale=mean_scale,
        mean_verdict=mean_verdict,
        hinge_range=hinge_range,
        cross_entropy_true_scaled=ce_up,
        cross_entropy_wrong_scaled=ce_down,
        cross_entropy_range=ce_range,
        mean_over_classes=mean.tolist(),
        mean_over_classes_mean=float(mean.mean()),
        nudge=NUDGE,
        car_margin=gap,
        car_nudged=nudged,
        scales=SCALES,
        frog_growth=growth,
        p_cat=p_cat,
        cross_entropy_cat=ce_cat,
        p_true=P_TRUE,
        p_hat=P_HAT,
        kl_terms=terms.tolist(),
        kl=float(terms.sum()),
        kl_descent=kl_ours,
        entropy=entropy,
        cross_entropy=cross,
        log_classes=math.log(len(P_HAT)),
    )
    lesson.say(
        "descent lesson svm-questions --plot DIR draws the three variants of the SVM loss per "
        "image, and the 8-class p* beside p^."
    )
    lesson.figure("svm-questions-variants.png", _draw_variants(variants))
    lesson.figure("svm-questions-kl.png", _draw_kl(terms))
    return lesson
