"""Per-class thresholds of best F1: worked examples, ties, and a brute-force check."""

import numpy as np
import pytest

from pvlr_kedro.pvlr.evaluation.thresholds import best_f1_threshold, best_f1_thresholds, f1_at


def test_the_threshold_of_best_f1_on_a_worked_example():
    # t=0.9: F1 2/4; 0.8: 2/5; 0.7: 4/6; 0.6: 6/7 (best); 0.3: 6/8
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3])
    assert best_f1_threshold(scores, np.array([1, 0, 1, 1, 0])) == (0.6, pytest.approx(6 / 7))


def test_equal_f1_goes_to_the_higher_threshold():
    # t=0.9 and t=0.6 both give F1 2/3
    scores = np.array([0.6, 0.8, 0.9, 0.7])
    assert best_f1_threshold(scores, np.array([1, 0, 1, 0])) == (0.9, pytest.approx(2 / 3))


def test_a_threshold_labels_every_image_of_equal_score():
    # at 0.7 both 0.7s are labels (F1 2/3), not only the positive one (F1 1)
    scores = np.array([0.7, 0.7, 0.2])
    assert best_f1_threshold(scores, np.array([0, 1, 0])) == (0.7, pytest.approx(2 / 3))


def test_a_class_with_no_positive_image_gets_no_threshold():
    thresholds, f1 = best_f1_thresholds(
        np.array([[0.3, 0.9], [0.4, 0.1]]), np.array([[0, 1], [0, 0]])
    )
    assert np.isnan(thresholds[0]) and np.isnan(f1[0])
    assert thresholds[1] == 0.9 and f1[1] == 1.0


def test_against_every_candidate_threshold_tried_one_by_one():
    generator = np.random.default_rng(0)
    scores = np.round(generator.random((60, 7)), 2)  # rounded: many equal scores
    targets = generator.random((60, 7)) < 0.3
    thresholds, f1 = best_f1_thresholds(scores, targets)
    for c in range(7):
        candidates = np.unique(scores[:, c])
        values = [f1_at(scores[:, [c]], targets[:, [c]], np.array([t]))[0] for t in candidates]
        best = max(values)
        assert f1[c] == pytest.approx(best)
        assert thresholds[c] == max(t for t, v in zip(candidates, values) if v == best)
    assert np.allclose(f1_at(scores, targets, thresholds), f1)
