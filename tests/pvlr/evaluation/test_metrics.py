"""The metric protocol against scikit-learn and hand-worked cases."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from pvlr_kedro.pvlr.evaluation.metrics import chance_map, multilabel_metrics


def sklearn_ap(scores, targets, ignore=None):
    result = []
    for c in range(scores.shape[1]):
        keep = np.ones(len(scores), bool) if ignore is None else ~ignore[:, c]
        y = targets[keep, c]
        result.append(average_precision_score(y, scores[keep, c]) if y.any() else np.nan)
    return np.array(result)


@pytest.mark.parametrize("seed", range(5))
def test_ap_equals_scikit_learn_with_ties_and_ignored_entries(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, (300, 9)) / 5.0  # coarse scores: many ties
    targets = (rng.random((300, 9)) < 0.3).astype(int)
    targets[:, 4] = 0  # a class without positives
    ignore = rng.random((300, 9)) < 0.1
    result = multilabel_metrics(scores, targets, ignore)
    np.testing.assert_allclose(
        result["ap"], sklearn_ap(scores, targets, ignore), rtol=1e-12, equal_nan=True
    )
    assert np.isnan(result["ap"][4])
    assert result["mAP"] == pytest.approx(np.nanmean(sklearn_ap(scores, targets, ignore)))


def test_hand_worked_ap_with_a_tie():
    # one class; ranked scores 0.9(+), 0.8(−), 0.8(+), 0.1(+): the tie at 0.8 is one step
    scores = np.array([[0.9], [0.8], [0.8], [0.1]])
    targets = np.array([[1], [0], [1], [1]])
    # steps: (R=1/3, P=1), (R=2/3, P=2/3), (R=1, P=3/4) → AP = 1/3·1 + 1/3·2/3 + 1/3·3/4
    assert multilabel_metrics(scores, targets)["ap"][0] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)


def test_without_ties_ap_is_the_mean_precision_at_each_positive():
    scores = np.array([[0.9], [0.7], [0.6], [0.2], [0.1]])
    targets = np.array([[1], [0], [1], [0], [1]])
    assert multilabel_metrics(scores, targets)["ap"][0] == pytest.approx(
        (1 / 1 + 2 / 3 + 3 / 5) / 3
    )


def test_an_ignored_entry_is_neither_positive_nor_negative():
    scores = np.array([[0.9, 0.1], [0.8, 0.9], [0.3, 0.2]])
    targets = np.array([[0, 0], [1, 1], [1, 0]])
    ignore = np.array([[True, False], [False, False], [False, False]])
    result = multilabel_metrics(scores, targets, ignore)
    assert result["ap"][0] == pytest.approx(1.0)  # the negative ranked first is ignored
    # thresholded: class 0 predicts rows 0, 1 at 0.5; row 0 ignored → tp 1, fp 0, fn 1
    assert result["CP"] == pytest.approx((1.0 + 1.0) / 2)
    assert result["CR"] == pytest.approx((0.5 + 1.0) / 2)
    assert result["OP"] == pytest.approx(2 / 2) and result["OR"] == pytest.approx(2 / 3)


def test_class_without_positives_is_left_out_of_means_not_counted_as_zero():
    scores = np.array([[0.9, 0.8], [0.1, 0.7]])
    targets = np.array([[1, 0], [0, 0]])
    result = multilabel_metrics(scores, targets)
    assert np.isnan(result["ap"][1]) and result["mAP"] == pytest.approx(1.0)
    assert result["CP"] == pytest.approx(1.0) and result["CR"] == pytest.approx(1.0)
    # the false positives of class 1 still count overall
    assert result["OP"] == pytest.approx(1 / 3)


def test_no_predicted_positive_gives_precision_zero():
    scores = np.array([[0.4, 0.9], [0.3, 0.2]])
    targets = np.array([[1, 1], [0, 0]])
    result = multilabel_metrics(scores, targets)
    assert result["CP"] == pytest.approx(0.5) and result["CR"] == pytest.approx(0.5)
    assert result["CF1"] == pytest.approx(0.5)
    assert result["OF1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def test_top_k_keeps_only_each_images_highest_scores():
    scores = np.array([[0.9, 0.8, 0.7, 0.6], [0.95, 0.1, 0.2, 0.3]])
    targets = np.array([[1, 1, 1, 1], [1, 0, 0, 0]])
    full = multilabel_metrics(scores, targets)
    top2 = multilabel_metrics(scores, targets, top_k=2)
    assert full["OR"] == pytest.approx(1.0) and top2["OR"] == pytest.approx(3 / 5)
    # row 1's second score (0.3) is below the threshold anyway
    assert top2["OP"] == pytest.approx(1.0)
    assert top2["mAP"] == full["mAP"]


def test_fractions_in_unit_interval_and_f1_formula():
    rng = np.random.default_rng(7)
    scores, targets = rng.random((50, 6)), (rng.random((50, 6)) < 0.4).astype(int)
    result = multilabel_metrics(scores, targets)
    for key in ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1"):
        assert 0.0 <= result[key] <= 1.0
    assert result["CF1"] == pytest.approx(
        2 * result["CP"] * result["CR"] / (result["CP"] + result["CR"])
    )


def test_chance_map_is_the_expected_ap_of_random_scores():
    rng = np.random.default_rng(3)
    targets = (rng.random((2000, 5)) < [0.05, 0.1, 0.2, 0.4, 0.6]).astype(int)
    random_maps = [multilabel_metrics(rng.random(targets.shape), targets)["mAP"] for _ in range(20)]
    assert np.mean(random_maps) == pytest.approx(chance_map(targets), abs=0.01)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="N×C"):
        multilabel_metrics(np.zeros((3, 2)), np.zeros((3, 3)))
