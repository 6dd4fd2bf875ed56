"""The supervised-unsupervised lesson (deck 000): its numbers recomputed independently."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from descent import lessons
from descent.lessons.supervised_unsupervised import adjusted_rand_index, majority_accuracy

metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def lesson():
    return lessons.run("supervised-unsupervised")


@pytest.mark.parametrize("seed", range(5))
def test_our_adjusted_rand_index_is_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 3, 60), rng.integers(0, 4, 60)
    b[:30] = a[:30]  # partly agreeing partitions
    assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(a, b), abs=1e-12)
    relabelled = np.array([5, 9, 2])[a]  # the clusters' numbering does not matter
    assert adjusted_rand_index(a, relabelled) == 1.0


def test_the_grades_follow_from_the_predictions(lesson):
    r = lesson.to_dict()["results"]
    species = np.array(r["test_species"])
    assert len(species) == r["n_test"] == 45 and r["n_train"] == 105
    predictions = np.array(r["classifier_predictions"])
    assert r["classifier_accuracy"] == pytest.approx(np.mean(predictions == species))
    for method in ("kmeans", "autoencoder"):
        clusters = np.array(r[f"{method}_clusters"])
        assert r[f"{method}_ari"] == pytest.approx(metrics.adjusted_rand_score(species, clusters))
        by_hand = sum(  # each cluster named after its commonest species
            Counter(species[clusters == c]).most_common(1)[0][1] for c in set(clusters)
        ) / len(species)
        assert r[f"{method}_accuracy"] == pytest.approx(by_hand)
        assert majority_accuracy(clusters, species) == pytest.approx(by_hand)
    # the lesson's point: the labels help (on iris, the clusterings mix two species)
    assert r["classifier_ari"] > max(r["kmeans_ari"], r["autoencoder_ari"]) + 0.2
    assert r["classifier_accuracy"] > 0.9
