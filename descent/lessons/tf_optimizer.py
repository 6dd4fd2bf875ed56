"""tf-optimizer: TensorFlow's Optimizer class on the lecture's graph, one verb at a time.

The lecture: deck 000 (``000_3ab0e19925976932.txt``), slide 6 (lines 426-640 of the text:
the graph Y = W x + b, "cost = tf.reduce_mean(tf.squared_difference(add, Y))",
"Derivatives and updates use a tf.Optimizer", "The Optimizer super-class: 1.
compute_gradients() ... grads = opt.compute_gradients(loss, [W, b]) ... 2.
apply_gradients() ... train = opt.apply_gradients(grads)", "Helper function:
Optimizer.minimize()"), with the cost of
slide 3 (lines 120-180: J = 1/(2n) sum (y^_i - y_i)^2 and dJ/dW = 1/n sum x_i (y^_i - y_i))
and the deck's first slide's "TensorFlow: Optimizer class, global step". Slides are counted
as the text separates its pages, by three blank lines (this deck's text has few of them, so
its slides are long).

The slides give no data; here four points on y = 2x + 1. descent's optimizers have
TensorFlow's verbs (``descent/optim/optimizer.py``): ``compute_gradients`` returns the
(gradient, variable) pairs and moves nothing, ``apply_gradients`` moves the variables and
counts the step, ``minimize`` is the two in one call, and ``global_step=`` takes the
caller's 0-d integer tensor, as TensorFlow 1's counter variable. Where TensorFlow 1 builds
an Operation that ``sess.run(train)`` runs later, descent runs each verb when it is called.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..optim import GradientDescentOptimizer
from ..optim.lr_scheduler import ExponentialDecay
from ..tensor import float64, tensor
from ..viz.figure import finish
from .lesson import Lesson

DECK = "000_3ab0e19925976932.txt"
SLIDES = {"the cost": [3, 3], "the graph and the Optimizer class": [6, 6]}
LINES = {"the cost": [120, 180], "the graph and the Optimizer class": [426, 640]}
X = [1.0, 2.0, 3.0, 4.0]
Y = [3.0, 5.0, 7.0, 9.0]  # y = 2x + 1
W0, B0 = 0.0, 0.0
LR = 0.05
SHOWN = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000]  # the global steps the table prints
DECAY = (LR, 100, 0.5)  # ExponentialDecay(initial, decay_steps, decay_rate)
DECAY_AT = [0, 100, 200]


def _data():
    return tensor(X, dtype=float64), tensor(Y, dtype=float64)


def _variables(w: float = W0, b: float = B0):
    return (
        tensor(w, dtype=float64, requires_grad=True),
        tensor(b, dtype=float64, requires_grad=True),
    )


def cost_of(W, b):
    """The slide's cost: tf.reduce_mean(tf.squared_difference(W x + b, Y)), as a callable."""
    x, y = _data()

    def cost():
        return ((W * x + b - y) ** 2).mean()

    return cost


def by_hand(w: float, b: float) -> tuple[float, float, float]:
    """(J, dJ/dW, dJ/db) of J = mean((W x + b - y)^2) in NumPy: 2/n sum x e, 2/n sum e."""
    x, y = np.array(X), np.array(Y)
    e = w * x + b - y
    return float(np.mean(e**2)), float(2 * np.mean(x * e)), float(2 * np.mean(e))


def _graph():
    def draw(path):
        x, y = _data()
        W, b = _variables()
        cost = ((W * x + b - y) ** 2).mean()
        drawn = viz.graph(cost, names={"X": x, "W": W, "b": b, "Y": y, "cost": cost})
        cost.backward()  # the variables then show dJ/dW and dJ/db at the start
        drawn.render(path)

    return draw


def _draw_path(path_w: list, path_b: list):
    def draw(path):
        xs, ys = np.array(X), np.array(Y)

        def loss(w, b):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            return np.mean((w[..., None] * xs + b[..., None] - ys) ** 2, axis=-1)

        fig = viz.plot_loss_landscape(
            loss,
            trajectory=np.stack([path_w, path_b], axis=1),
            xlim=(-0.3, 3.0),
            ylim=(-0.5, 2.0),
            log_scale=True,
            xlabel="W",
            ylabel="b",
            title=f"opt.minimize(cost, [W, b], global_step=gs), lr {LR:g}:\n"
            "W and b after each step",
            figsize=(7, 5.5),
        )
        ax = fig.axes[0]
        for k, offset in ((1, (-10, 8)), (2, (8, -10)), (100, (8, -4)), (len(path_w) - 1, (8, 6))):
            ax.annotate(
                f"gs = {k}",
                (path_w[k], path_b[k]),
                textcoords="offset points",
                xytext=offset,
                fontsize=8,
                color="white",
                ha="left",
            )
        finish(fig, path)

    return draw


def tf_optimizer() -> Lesson:
    """compute_gradients, apply_gradients, minimize, global_step on y^ = W x + b, one by one."""
    lesson = Lesson(
        name="tf-optimizer",
        title="TensorFlow's Optimizer class, one verb at a time",
        summary=(
            "Deck 000 builds the graph y^ = W x + b, its cost, and hands both to a "
            "tf.Optimizer: 'Optimizer computes derivatives and applies them to Variables'. "
            "The class has two building blocks, compute_gradients() and apply_gradients(), a "
            "helper, minimize(), that does both, and a counter, global_step. Here is each in "
            "turn, with descent's optimizers, which have the same verbs. The lecture: deck "
            f"{DECK}, slide {SLIDES['the graph and the Optimizer class'][0]} (lines "
            f"{LINES['the graph and the Optimizer class'][0]}-"
            f"{LINES['the graph and the Optimizer class'][1]}) and slide "
            f"{SLIDES['the cost'][0]} (the cost, lines {LINES['the cost'][0]}-"
            f"{LINES['the cost'][1]})."
        ),
    )
    n = len(X)
    lesson.say(
        f"The graph and its cost, on four points on y = 2x + 1 (x = {X}, y = {Y}; the slides "
        "give no data), written as the slide's TensorFlow:\n\n"
        "    x, y = ds.tensor(X), ds.tensor(Y)\n"
        "    W = ds.tensor(0.0, requires_grad=True); b = ds.tensor(0.0, requires_grad=True)\n"
        "    cost = lambda: ((W * x + b - y) ** 2).mean()\n"
        "    # the slide's tf.reduce_mean(tf.squared_difference(add, Y))\n"
        f"    opt = ds.optim.GradientDescentOptimizer(learning_rate={LR:g})\n"
        "    gs = ds.tensor(0)                               # the caller's global step counter\n\n"
        "In TensorFlow 1 the cost is a node of the graph that each sess.run computes again; in "
        "descent a value is computed once, so the cost is passed as a function that builds it "
        "again. The slides use two costs (neither is wrong): the cost slide's (lines 120-180) "
        "J = 1/(2n) sum (y^ - y)^2 has dJ/dW = 1/n sum x (y^ - y), but the TensorFlow line's "
        "cost, reduce_mean, has no 1/2, so its gradient is twice that, 2/n sum x (y^ - y). "
        "This lesson uses the TensorFlow line."
    )
    W, b = _variables()
    cost = cost_of(W, b)
    opt = GradientDescentOptimizer(learning_rate=LR)
    gs = tensor(0)

    # ---- 1. compute_gradients -------------------------------------------------------------
    pairs = opt.compute_gradients(cost, [W, b])
    J0, gW, gB = by_hand(W0, B0)
    grads = [g.item() for g, _ in pairs]
    unchanged = (W.item(), b.item())
    touched = any(v.grad is not None for v in (W, b))
    verb1 = lesson.table(
        "1. grads = opt.compute_gradients(cost, [W, b]): a list of (gradient, variable) pairs",
        ["pair", "gradient", "by hand", "variable's value after the call"],
    )
    verb1.add("(dJ/dW, W)", grads[0], gW, unchanged[0])
    verb1.add("(dJ/db, b)", grads[1], gB, unchanged[1])
    lesson.say(
        f"At W = {W0:g}, b = {B0:g} every prediction is 0, the errors y^ - y are -y, and by hand "
        f"dJ/dW = 2/{n} sum x (y^ - y) = {gW:g} and dJ/db = 2/{n} sum (y^ - y) = {gB:g}; "
        f"compute_gradients returns the same pairs, {grads[0]:g} and {grads[1]:g}. It changes "
        f"nothing: W and b are still {unchanged[0]:g} and {unchanged[1]:g}, neither has a .grad "
        f"(touched: {touched}), gs is still {gs.item()}. Between this verb and the next is where "
        "the slide's 'additional tweaks' would go (clipping, say): the pairs are plain tensors."
    )

    # ---- 2. apply_gradients ---------------------------------------------------------------
    returned = opt.apply_gradients(pairs, global_step=gs)
    after_apply = (W.item(), b.item())
    verb2 = lesson.table(
        "2. train = opt.apply_gradients(grads, global_step=gs): W := W - lr dJ/dW, "
        "b := b - lr dJ/db",
        ["variable", "before", "- lr * gradient", "after", "by hand"],
    )
    verb2.add("W", W0, -LR * grads[0], after_apply[0], W0 - LR * gW)
    verb2.add("b", B0, -LR * grads[1], after_apply[1], B0 - LR * gB)
    lesson.say(
        f"apply_gradients moved W to {after_apply[0]:g} and b to {after_apply[1]:g} (each by "
        f"-{LR:g} times its gradient), added 1 to the caller's gs in place (now {gs.item()}) "
        f"and to the optimizer's own count (opt.global_step = {opt.global_step}), and returned "
        f"{returned}. In TensorFlow 1 it returns an Operation, and each sess.run(train, "
        "feed_dict) performs one such update; here each call is one."
    )

    # ---- 3. minimize = compute_gradients + apply_gradients ----------------------------------
    W_twin, b_twin = _variables(*after_apply)
    twin = GradientDescentOptimizer(learning_rate=LR)
    gs_twin = tensor(1)
    twin.apply_gradients(
        twin.compute_gradients(cost_of(W_twin, b_twin), [W_twin, b_twin]), global_step=gs_twin
    )
    opt.minimize(cost, var_list=[W, b], global_step=gs)
    J1, gW1, gB1 = by_hand(*after_apply)
    verb3 = lesson.table(
        "3. opt.minimize(cost, var_list=[W, b], global_step=gs) against compute + apply on a twin",
        ["", "W", "b", "gs"],
    )
    verb3.add("before (both)", after_apply[0], after_apply[1], 1)
    verb3.add("minimize", W.item(), b.item(), gs.item())
    verb3.add(
        "compute_gradients, then apply_gradients", W_twin.item(), b_twin.item(), gs_twin.item()
    )
    verb3.add(
        "by hand: W - lr dJ/dW, b - lr dJ/db",
        after_apply[0] - LR * gW1,
        after_apply[1] - LR * gB1,
        2,
    )
    same = W.item() == W_twin.item() and b.item() == b_twin.item()
    W_only, b_only = _variables(*after_apply)
    GradientDescentOptimizer(learning_rate=LR).minimize(cost_of(W_only, b_only), var_list=[b_only])
    lesson.say(
        f"minimize is the two verbs in one call, 'without adjusting the gradient values': the "
        f"same W and b to the last bit ({same}). Its var_list says which variables to move; "
        f"TensorFlow's default is every trainable Variable the loss depends on, and descent, "
        "which keeps no global collection of variables, takes the optimizer's own (or those "
        f"it has seen). With var_list=[b] only b moves: from ({after_apply[0]:g}, "
        f"{after_apply[1]:g}) to ({W_only.item():g}, {b_only.item():g})."
    )

    # ---- 4. the training loop and global_step ---------------------------------------------
    path = {
        "gs": [0, 1, 2],
        "W": [W0, after_apply[0], W.item()],
        "b": [B0, after_apply[1], b.item()],
    }
    path["cost"] = [by_hand(w, c)[0] for w, c in zip(path["W"], path["b"])]
    while gs.item() < SHOWN[-1]:
        opt.minimize(cost, var_list=[W, b], global_step=gs)
        path["gs"].append(gs.item())
        path["W"].append(W.item())
        path["b"].append(b.item())
        path["cost"].append(cost().item())
    loop = lesson.table(
        f"4. for each step: opt.minimize(cost, [W, b], global_step=gs), lr {LR:g}",
        ["gs", "opt.global_step", "W", "b", "cost J"],
    )
    for k in SHOWN:
        loop.add(k, k, path["W"][k], path["b"][k], path["cost"][k])
    decay = ExponentialDecay(*DECAY)
    W_decay, b_decay = _variables()
    scheduled = GradientDescentOptimizer(learning_rate=decay)
    gs_decay = tensor(0)
    used = {}
    for step in range(max(DECAY_AT) + 1):
        if step in DECAY_AT:
            pairs = scheduled.compute_gradients(cost_of(W_decay, b_decay), [W_decay, b_decay])
            before = W_decay.item()
            scheduled.apply_gradients(pairs, global_step=gs_decay)
            used[step] = (before - W_decay.item()) / pairs[0][0].item()  # the lr of this step
        else:
            scheduled.minimize(cost_of(W_decay, b_decay), [W_decay, b_decay], global_step=gs_decay)
    lesson.say(
        f"After {gs.item()} calls gs = {gs.item()} = opt.global_step, and W = "
        f"{path['W'][-1]:.6f}, b = {path['b'][-1]:.6f}: the line y = 2x + 1 the points lie on. "
        "global_step counts updates, nothing else: that is what a checkpoint saves so that "
        "training resumes where it stopped, and what a learning-rate schedule reads. With "
        f"learning_rate=ExponentialDecay({DECAY[0]:g}, decay_steps={DECAY[1]}, "
        f"decay_rate={DECAY[2]:g}) the update at global step "
        + ", ".join(f"{k} used lr {used[k]:.6g}" for k in DECAY_AT)
        + f" ({DECAY[0]:g} * {DECAY[2]:g}^(step / {DECAY[1]}))."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "lines": LINES},
        "slide_checks": [
            {
                "line": 147,
                "slide": "J = 1/(2n) sum (y^ - y)^2, dJ/dW = 1/n sum x (y^ - y)",
                "ours": "the slide's TensorFlow cost (line 533) is reduce_mean, no 1/2: "
                "dJ/dW = 2/n sum x (y^ - y)",
                "verdict": "two costs: the slides' formulas hold for 1/(2n), the code's for 1/n",
            },
        ],
        "x": X,
        "y": Y,
        "n": n,
        "lr": LR,
        "start": [W0, B0],
        "cost_at_start": J0,
        "compute_gradients": {
            "autodiff": grads,
            "by_hand": [gW, gB],
            "values_after": list(unchanged),
            "grad_touched": touched,
            "gs_after": 0,
        },
        "apply_gradients": {
            "values_after": list(after_apply),
            "steps": [-LR * g for g in grads],
            "by_hand": [W0 - LR * gW, B0 - LR * gB],
            "gs_after": 1,
            "returned": returned,
        },
        "minimize": {
            "values_after": [path["W"][2], path["b"][2]],
            "twin": [W_twin.item(), b_twin.item()],
            "by_hand": [after_apply[0] - LR * gW1, after_apply[1] - LR * gB1],
            "bitwise_equal": same,
            "gs_after": 2,
            "var_list_b_only": [W_only.item(), b_only.item()],
        },
        "loop": {
            "shown": SHOWN,
            "path": path,
            "final": [path["W"][-1], path["b"][-1]],
            "global_step": gs.item(),
            "optimizer_global_step": opt.global_step,
        },
        "schedule": {
            "initial": DECAY[0],
            "decay_steps": DECAY[1],
            "decay_rate": DECAY[2],
            "lr_used": {str(k): v for k, v in used.items()},
            "lr_formula": {str(k): decay(k) for k in DECAY_AT},
        },
    }
    lesson.say(
        "descent lesson tf-optimizer --plot DIR draws the lecture's graph with dJ/dW and "
        "dJ/db at the start, and W, b at each global step on the cost's contours."
    )
    lesson.figure("tf-optimizer-graph.png", _graph())
    lesson.figure("tf-optimizer-path.png", _draw_path(path["W"], path["b"]))
    return lesson
