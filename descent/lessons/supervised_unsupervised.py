"""supervised-unsupervised: one dataset learnt with its labels and without them.

The lecture: deck 000 (``000_3ab0e19925976932.txt``), lines 20 and 64-92: "Kinds of Machine
Learning Methods". Supervised: train a model on labelled data, so that it hits a target (a
price, a steering angle, a category). Unsupervised: train a model without labels, so that it
finds patterns in the inputs; the slide's examples are clustering and autoencoders. Slides
are counted as the text separates its pages, by three blank lines.

Here the three kinds meet on scikit-learn's iris flowers (150 flowers, 4 measurements, 3
species): a logistic regression is shown the species; k-means and an autoencoder followed
by k-means never see them. Afterwards the species are used only to grade: the adjusted Rand
index says how well a clustering agrees with the species (1 the same partition, about 0 by
chance), whatever the clusters' numbering.
"""

from __future__ import annotations

from math import comb

import numpy as np

from .. import data, datasets, models, viz
from .lesson import Lesson

DECK = "000_3ab0e19925976932.txt"
SLIDES = {"supervised vs unsupervised": [3, 3]}
SEED = 0
CODE_SIZE = 2  # the autoencoder squeezes 4 measurements into 2 numbers


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Hubert and Arabie's adjusted Rand index of two partitions of the same items: the
    share of pairs both put together or both keep apart, corrected for chance."""
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)
    pairs = sum(comb(int(n), 2) for n in table.ravel())
    rows = sum(comb(int(n), 2) for n in table.sum(axis=1))
    cols = sum(comb(int(n), 2) for n in table.sum(axis=0))
    expected = rows * cols / comb(len(a), 2)
    best = (rows + cols) / 2
    return 1.0 if best == expected else float((pairs - expected) / (best - expected))


def majority_accuracy(clusters, labels) -> float:
    """The accuracy of naming each cluster after the species most of its members are."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    right = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(right / len(labels))


def _draw(scores: dict):
    def draw(path):
        viz.plot_bars(
            scores,
            [
                "logistic regression\n(labels)",
                "k-means\n(no labels)",
                "autoencoder + k-means\n(no labels)",
            ],  # fmt: skip
            ylabel="agreement with the species",
            title="Iris: learnt with the species, and without them",
            path=path,
            figsize=(7, 4),
        )

    return draw


def supervised_unsupervised() -> Lesson:
    """A classifier trained on iris's species beside k-means and an autoencoder that never
    see them, each graded against the species afterwards."""
    lesson = Lesson(
        name="supervised-unsupervised",
        title="Supervised and unsupervised learning on one dataset",
        summary=(
            "Deck 000 sorts learning methods by their data: supervised methods learn from "
            "labelled examples and try to hit the target; unsupervised methods learn "
            "without labels and look for patterns, for example clusters or an autoencoder's "
            f"code. The lecture: deck {DECK}, slide 3. Here all three learn scikit-learn's "
            "iris flowers, and only the classifier is shown the species."
        ),
    )
    X, y = datasets.load_iris(return_X_y=True)
    X = data.Standardizer().fit(X).transform(X).astype(np.float64)
    X_tr, _, X_te, y_tr, _, y_te = data.train_val_test_split(
        X, y, fractions=(0.7, 0.0, 0.3), seed=SEED, stratify=y
    )
    n_species = int(len(np.unique(y)))

    clf = models.LogisticRegression(random_state=SEED).fit(X_tr, y_tr)
    clf_acc = float(np.mean(clf.predict(X_te) == y_te))
    clf_ari = adjusted_rand_index(clf.predict(X_te), y_te)

    km = models.KMeans(n_clusters=n_species, n_init=10, random_state=SEED).fit(X_tr)
    km_test = km.predict(X_te)
    ae = models.Autoencoder(code_size=CODE_SIZE, max_iter=300, learning_rate_init=0.01, tol=1e-3,
                            dtype="float64", random_state=SEED).fit(X_tr)  # fmt: skip
    codes_tr, codes_te = ae.transform(X_tr), ae.transform(X_te)
    ae_km = models.KMeans(n_clusters=n_species, n_init=10, random_state=SEED).fit(codes_tr)
    ae_test = ae_km.predict(codes_te)
    recon = float(np.mean((ae.inverse_transform(codes_te) - X_te) ** 2))

    rows = [
        ("logistic regression", "yes", "cross-entropy against the species", clf_ari, clf_acc),
        ("k-means", "no", "squared distance to the nearest of 3 centres",
         adjusted_rand_index(km_test, y_te), majority_accuracy(km_test, y_te)),
        (f"autoencoder ({X.shape[1]} -> {CODE_SIZE} -> {X.shape[1]}) + k-means", "no",
         "reconstruction error, then distance in the code",
         adjusted_rand_index(ae_test, y_te), majority_accuracy(ae_test, y_te)),
    ]  # fmt: skip
    table = lesson.table(
        f"Graded on the {len(y_te)} test flowers against their species",
        [
            "method",
            "sees the species",
            "what it minimises",
            "adjusted Rand index",
            "accuracy (clusters named by majority)",
        ],  # fmt: skip
    )
    for row in rows:
        table.add(*row)
    (_, _, _, clf_r, _), (_, _, _, km_r, km_a), (_, _, _, ae_r, ae_a) = rows
    lesson.say(
        f"The classifier was shown {len(y_tr)} labelled flowers and predicts the species of "
        f"new ones: test accuracy {clf_acc:.4f} (adjusted Rand index {clf_r:.4f}). k-means "
        f"was told only that there are {n_species} groups and put each flower with its "
        f"nearest centre: its clusters agree with the species at adjusted Rand index "
        f"{km_r:.4f}, and naming each cluster after its most common species is right for "
        f"{km_a:.4f} of the flowers. The autoencoder learnt, without labels, to squeeze the "
        f"{X.shape[1]} measurements into {CODE_SIZE} numbers and back (test reconstruction "
        f"error {recon:.4f} per measurement, on standardised data); k-means on those codes "
        f"reaches adjusted Rand index {ae_r:.4f} and majority accuracy {ae_a:.4f}."
    )
    lesson.say(
        "The unsupervised methods find the structure the data have: setosa stands apart "
        "from the other two species, which overlap, so a clustering that never saw a label "
        "mixes versicolor and virginica where the classifier, which was shown the target, "
        "separates them. With labels the model is trying to hit a target; without them it "
        "can only find patterns, and the patterns need not be the ones we name."
    )
    scores = {
        "adjusted Rand index": [clf_r, km_r, ae_r],
        "accuracy": [clf_acc, km_a, ae_a],
    }
    lesson.figure("supervised-unsupervised-scores.png", _draw(scores))
    lesson.results.update(
        n_train=len(y_tr),
        n_test=len(y_te),
        n_features=int(X.shape[1]),
        n_species=n_species,
        code_size=CODE_SIZE,
        classifier_accuracy=clf_acc,
        classifier_ari=clf_r,
        kmeans_ari=km_r,
        kmeans_accuracy=km_a,
        autoencoder_ari=ae_r,
        autoencoder_accuracy=ae_a,
        reconstruction_error=recon,
        test_species=y_te.tolist(),
        kmeans_clusters=km_test.tolist(),
        autoencoder_clusters=ae_test.tolist(),
        classifier_predictions=clf.predict(X_te).tolist(),
    )
    return lesson
