"""Rows of the op table for ``descent.nn.functional``: one per function it defines.

Each row exercises several settings of its function at once (strides, paddings, kernel
shapes, the three reductions), joined into one output so that a random output gradient
checks them all. relu, sigmoid, tanh, softmax, log_softmax and pad are the ops of
``descent`` itself, re-exported, so their rows are in tests/optable.py.
"""

from __future__ import annotations

from tests.optable import (
    Op,
    away_from_zero,
    binary_targets,
    distinct,
    labels,
    normal,
    positive,
    probabilities,
)


def _cat(m, *outs):
    """Several outputs of any shapes as one flat tensor."""
    return m.cat([o.reshape(-1) for o in outs])


def _hinge_torch(m, F, s, y, margin, reduction):
    """The lectures' multiclass SVM loss written with torch ops: sum_{j != y} max(0, s_j - s_y + margin)."""
    s2 = s.reshape(-1, s.shape[-1])
    y2 = y.reshape(-1)
    z = (s2 - s2.gather(1, y2[:, None]) + margin).clamp(min=0)
    per_example = (z * (1 - F.one_hot(y2, s2.shape[1]))).sum(1).reshape(y.shape)
    if reduction == "none":
        return per_example
    return per_example.mean() if reduction == "mean" else per_example.sum()


def _hinge_row(m, F, s, y):
    return (
        F.multiclass_hinge_loss(s, y)
        + F.multiclass_hinge_loss(s, y, margin=2.0, reduction="none")
        + F.multiclass_hinge_loss(s, y, 0.5, reduction="sum")
    )


def _hinge_row_torch(m, F, s, y):
    return (
        _hinge_torch(m, F, s, y, 1.0, "mean")
        + _hinge_torch(m, F, s, y, 2.0, "none")
        + _hinge_torch(m, F, s, y, 0.5, "sum")
    )


IMAGES = [  # (input, weight, bias): batch 1, non-square kernels and images, 1x1 and full-size kernels
    ((2, 3, 7, 6), (4, 3, 3, 2), (4,)),
    ((1, 2, 5, 5), (3, 2, 3, 3), (3,)),
    ((2, 1, 4, 5), (2, 1, 1, 1), (2,)),
    ((1, 2, 3, 4), (2, 2, 3, 4), (2,)),
]
POOL = [((2, 3, 6, 5),), ((1, 1, 4, 4),), ((1, 2, 5, 7),)]
PAIR = [((3, 4), (3, 4)), ((1,), (1,)), ((2, 3, 4), (2, 3, 4)), ((), ())]
CLASSES = [  # (input, labels, probabilities, class weight): (N, C), batch 1, (C,), (N, C, d1, d2)
    ((4, 5), (4,), (4, 5), (5,)),
    ((1, 3), (1,), (1, 3), (3,)),
    ((5,), (), (5,), (5,)),
    ((2, 3, 4, 2), (2, 4, 2), (2, 3, 4, 2), (3,)),
]
MARGIN = [((4, 5), (4,), (5,)), ((1, 3), (1,), (3,)), ((6,), (), (6,)), ((3, 3), (3,), (3,))]

# fmt: off
NN = [
    # ---- activations and layers
    Op("F.leaky_relu", lambda m, F, a: F.leaky_relu(a, 0.2) + F.leaky_relu(a),
       [((3, 4),), ((),), ((1, 5),), ((2, 3, 4),)], away_from_zero, draw="any"),
    Op("F.linear", lambda m, F, x, w, b: F.linear(x, w, b) + F.linear(x, w),
       [((4, 3), (5, 3), (5,)), ((1, 3), (2, 3), (2,)), ((2, 3, 4), (5, 4), (5,)),
        ((4,), (3, 4), (3,))]),
    Op("F.conv2d", lambda m, F, x, w, b: _cat(
        m, F.conv2d(x, w, b), F.conv2d(x, w, None, stride=2, padding=1),
        F.conv2d(x, w, b, stride=(2, 1), padding=(0, 1))), IMAGES),
    Op("F.max_pool2d", lambda m, F, x: _cat(
        m, F.max_pool2d(x, 2), F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1),
        F.max_pool2d(x, 3, stride=2, padding=1), F.max_pool2d(x, 1)), POOL, distinct),
    Op("F.avg_pool2d", lambda m, F, x: _cat(
        m, F.avg_pool2d(x, 2), F.avg_pool2d(x, (3, 2), stride=(2, 1), padding=1),
        F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)), POOL),
    Op("F.dropout", lambda m, F, a: F.dropout(a, 0.3, training=False) + 2 * F.dropout(a, p=0.0),
       [((3, 4),), ((),), ((2, 3, 4),)], draw="any"),
    Op("F.one_hot", lambda m, F, a, y: a * F.one_hot(y, 4),
       [((3, 4), (3,)), ((2, 5, 4), (2, 5)), ((4,), ())], (normal, labels(4))),
    # ---- regression and binary losses: all three reductions in one expression
    Op("F.mse_loss", lambda m, F, a, b: F.mse_loss(a, b) + 0.5 * F.mse_loss(a, b, reduction="sum")
       + F.mse_loss(a, b, reduction="none"), PAIR),
    Op("F.l1_loss", lambda m, F, a, b: F.l1_loss(a, b) + 0.5 * F.l1_loss(a, b, reduction="sum")
       + F.l1_loss(a, b, reduction="none"), PAIR),
    Op("F.binary_cross_entropy", lambda m, F, p, y, w: F.binary_cross_entropy(p, y)
       + F.binary_cross_entropy(p, y, w, reduction="none")
       + F.binary_cross_entropy(p, y, reduction="sum"),
       [((3, 4), (3, 4), (4,)), ((1,), (1,), (1,)), ((2, 3), (2, 3), (2, 3)), ((), (), ())],
       (probabilities, binary_targets, positive), no_grad_inputs=(2,)),
    Op("F.binary_cross_entropy_with_logits", lambda m, F, x, y, w, q:
       F.binary_cross_entropy_with_logits(x, y, w)
       + F.binary_cross_entropy_with_logits(x, y, pos_weight=q, reduction="none")
       + F.binary_cross_entropy_with_logits(x, y, w, reduction="sum", pos_weight=q),
       [((3, 4), (3, 4), (4,), (4,)), ((5,), (5,), (5,), (1,)), ((1, 2, 3), (1, 2, 3), (2, 3), (3,))],
       (normal, binary_targets, positive, positive), no_grad_inputs=(2, 3)),
    # ---- classification losses
    Op("F.cross_entropy", lambda m, F, x, y, t, w: F.cross_entropy(x, y)
       + F.cross_entropy(x, y, w, label_smoothing=0.1, reduction="sum")
       + F.cross_entropy(x, y, w, ignore_index=1, label_smoothing=0.2, reduction="none")
       + F.cross_entropy(x, y, reduction="none", ignore_index=2)
       + F.cross_entropy(x, t, label_smoothing=0.3) + F.cross_entropy(x, t, w, reduction="sum"),
       CLASSES, (normal, labels(3), probabilities, positive), no_grad_inputs=(3,)),
    Op("F.nll_loss", lambda m, F, x, y, w: F.nll_loss(x, y) + F.nll_loss(x, y, w, reduction="sum")
       + F.nll_loss(x, y, w, ignore_index=1, reduction="none"),
       [(x, y, w) for x, y, _, w in CLASSES], (normal, labels(3), positive), no_grad_inputs=(2,)),
    Op("F.multi_margin_loss", lambda m, F, x, y, w: F.multi_margin_loss(x, y)
       + F.multi_margin_loss(x, y, p=2, margin=0.5, weight=w, reduction="none")
       + F.multi_margin_loss(x, y, margin=2.0, reduction="sum"),
       MARGIN, (normal, labels(3), positive), no_grad_inputs=(2,)),
    Op("F.multiclass_hinge_loss", _hinge_row, [(x, y) for x, y, _ in MARGIN],
       (normal, labels(3)), torch_fn=_hinge_row_torch),
    # ---- regularisation
    Op("F.l1_penalty", lambda m, F, a, b: F.l1_penalty([a, b]) + F.l1_penalty(a),
       [((3, 4), (5,)), ((), (2, 2))], away_from_zero,
       torch_fn=lambda m, F, a, b: 2 * a.abs().sum() + b.abs().sum()),
    Op("F.l2_penalty", lambda m, F, a, b: F.l2_penalty(x for x in (a, b)) + F.l2_penalty(b),
       [((3, 4), (5,)), ((), (2, 2))],
       torch_fn=lambda m, F, a, b: (a * a).sum() + 2 * (b * b).sum()),
]
# fmt: on
