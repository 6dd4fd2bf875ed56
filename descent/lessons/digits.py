"""digits: a softmax classifier and an MLP on real handwritten digits, train / val / test.

scikit-learn's 8x8 digits (1797 images, 10 classes), a stratified 60/20/20 split,
features standardised with the training part's statistics, both models trained by
``ds.train.fit`` with mini-batch SGD and momentum.

The lectures: deck 003 (``003_51de2ede2fa02b51.txt``), slides 5-13 (the multilayer
perceptron, K-way classification, softmax, training by the cross-entropy), deck 000's
training, validation and test sets (slides 12-13) and deck 004's components of a parametric
classifier, image in and label out, linear classifier and softmax, cross-entropy, gradient
descent (slide 40).
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim, viz
from ..autograd import no_grad
from ..data import Standardizer, train_val_test_split
from ..datasets import load_digits
from ..random import manual_seed
from ..tensor import float32, tensor
from ..train import confusion_matrix, fit
from .lesson import Lesson

DECK = "003_51de2ede2fa02b51.txt"
SLIDES = {"the multilayer perceptron for K-way classification, softmax, cross-entropy": [5, 13]}
ALSO = {
    "000_3ab0e19925976932.txt": {"training, validation and test sets, 60%, 20%, 20%": [12, 13]},
    "004_feeceb0db53be35a.txt": {
        "components: image and label, linear + softmax, cross-entropy": [40, 40]
    },
}
SPLIT = (0.6, 0.2, 0.2)
SEED = 0
EPOCHS = 15
BATCH_SIZE = 32
HIDDEN = 64
LR = 0.05
MOMENTUM = 0.9


def _models(n_features: int, n_classes: int) -> dict:
    """The two classifiers, initialised from a fixed seed."""
    manual_seed(SEED)
    return {
        "softmax": nn.Linear(n_features, n_classes),
        "mlp": nn.Sequential(
            nn.Linear(n_features, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_classes)
        ),
    }


def _predict(model, x: np.ndarray) -> np.ndarray:
    model.eval()
    with no_grad():
        return model(tensor(x, dtype=float32))._data.argmax(axis=1)


def _draw_history(history, title: str):
    def draw(path):
        viz.plot_history(history, metrics=["accuracy"], title=title, path=path)

    return draw


def _draw_confusion(cm: np.ndarray):
    def draw(path):
        viz.plot_confusion_matrix(
            cm,
            title=f"The MLP on the {int(cm.sum())} test images "
            f"(accuracy {np.trace(cm) / cm.sum():.3f})",
            path=path,
        )

    return draw


def _draw_templates(weight: np.ndarray):
    def draw(path):
        viz.plot_weight_templates(
            weight,
            (8, 8),
            class_names=[f"digit {k}" for k in range(weight.shape[0])],
            title="The softmax classifier's weights, one 8x8 template per digit",
            path=path,
        )

    return draw


def digits() -> Lesson:
    """Train a softmax classifier and a one-hidden-layer MLP on the digits; report accuracies."""
    lesson = Lesson(
        name="digits",
        title="Handwritten digits: a softmax classifier and an MLP",
        summary=(
            "Real data: 1797 images of handwritten digits, 8x8 pixels each (64 features, "
            "values 0..16), ten classes. Two models learn them by mini-batch gradient descent "
            "with cross-entropy: a softmax classifier (one linear layer) and an MLP with one "
            "hidden layer of ReLU units. The lecture: deck "
            f"{DECK}, slides 5-13 (the MLP for K-way classification, softmax and "
            "cross-entropy); deck 000_3ab0e19925976932.txt, slides 12-13 (training, "
            "validation and test sets)."
        ),
    )
    data = load_digits()
    x, y = data.data, data.target
    x_tr, x_val, x_te, y_tr, y_val, y_te = train_val_test_split(
        x, y, fractions=SPLIT, stratify=y, seed=SEED
    )
    scaler = Standardizer().fit(x_tr)
    x_tr, x_val, x_te = (scaler.transform(a) for a in (x_tr, x_val, x_te))
    counts = [np.bincount(part, minlength=10).tolist() for part in (y_tr, y_val, y_te)]
    lesson.say(
        f"The split, 60/20/20 and stratified (each part keeps the share of every digit), seed "
        f"{SEED}: {len(y_tr)} training, {len(y_val)} validation and {len(y_te)} test images. "
        f"Each pixel is standardised, (x - mean) / std, with the mean and std of the training "
        f"part only: nothing may be learned from the validation and test images."
    )
    split = lesson.table("Images of each digit in each part", ["digit", "train", "val", "test"])
    for digit in range(len(counts[0])):
        split.add(digit, counts[0][digit], counts[1][digit], counts[2][digit])
    lesson.say(
        f"Training: {EPOCHS} epochs, batches of {BATCH_SIZE}, SGD with learning rate {LR} and "
        f"momentum {MOMENTUM}. Momentum, which the decks do not teach, keeps a running "
        f"velocity v = {MOMENTUM} v + gradient and steps w = w - lr v: steps along a steady "
        f"slope grow, and a bounce across a valley partly cancels out. "
        f"The MLP is 64 -> {HIDDEN} (ReLU) -> 10. After each epoch: the "
        f"mean training loss, and the accuracy on the validation images, which the models "
        f"never train on."
    )

    models = _models(x.shape[1], len(data.target_names))
    histories = {}
    for name, model in models.items():
        opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        histories[name] = fit(
            model, "cross_entropy", opt, (x_tr, y_tr), (x_val, y_val), epochs=EPOCHS,
            batch_size=BATCH_SIZE, metrics=["accuracy"], seed=SEED, verbose=0,
        )  # fmt: skip

    table = lesson.table(
        "Per epoch: training loss and validation accuracy",
        ["epoch", "softmax train loss", "softmax val acc", "MLP train loss", "MLP val acc"],
    )
    soft, mlp = histories["softmax"], histories["mlp"]
    for e in range(EPOCHS):
        table.add(
            e + 1, soft["loss"][e], soft["val_accuracy"][e], mlp["loss"][e], mlp["val_accuracy"][e]
        )

    predictions = {name: _predict(model, x_te) for name, model in models.items()}
    accuracy = {name: float(np.mean(p == y_te)) for name, p in predictions.items()}
    test = lesson.table("Test accuracy (images unseen until now)", ["model", "correct", "accuracy"])
    for name, label in (("softmax", "softmax classifier"), ("mlp", "MLP")):
        test.add(label, f"{int(np.sum(predictions[name] == y_te))} / {len(y_te)}", accuracy[name])
    lesson.say(
        "The test set is used once, at the end: choosing epochs or learning rates by test "
        "accuracy would make it one more validation set. A linear model already separates "
        "most digits; the hidden layer lets the MLP draw curved boundaries between classes."
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES, "also": ALSO},
        images=len(y),
        features=x.shape[1],
        classes=len(data.target_names),
        split_percent=[round(100 * f) for f in SPLIT],
        training={
            "epochs": EPOCHS,
            "batch_size": BATCH_SIZE,
            "lr": LR,
            "momentum": MOMENTUM,
            "hidden": HIDDEN,
        },  # fmt: skip
        test_correct={name: int(np.sum(p == y_te)) for name, p in predictions.items()},
        seed=SEED,
        sizes=[len(y_tr), len(y_val), len(y_te)],
        class_counts=counts,
        history={
            name: {k: list(v) for k, v in h.history.items() if k != "lr"}
            for name, h in histories.items()
        },
        test_labels=y_te.tolist(),
        test_predictions={name: p.tolist() for name, p in predictions.items()},
        test_accuracy=accuracy,
    )
    lesson.say(
        "descent lesson digits --plot DIR draws both models' training curves, the MLP's "
        "confusion matrix on the test images, and the softmax classifier's weights as one "
        "8x8 template per digit: red pixels raise that digit's score, blue ones lower it."
    )
    for name, label in (("softmax", "softmax classifier"), ("mlp", "MLP")):
        title = f"The {label}: training loss, validation loss and accuracy"
        lesson.figure(f"digits-{name}-history.png", _draw_history(histories[name], title))
    classes = len(data.target_names)
    cm = confusion_matrix(y_te, predictions["mlp"], classes)
    lesson.figure("digits-mlp-confusion.png", _draw_confusion(cm))
    lesson.figure("digits-softmax-templates.png", _draw_templates(models["softmax"].weight._data))
    return lesson
