"""Open-set metrics against hand-computed expectations; NEW stands for new_individual."""

from __future__ import annotations

import math

import numpy as np
import pytest

from photoid.metrics import (
    NEW_INDIVIDUAL,
    balanced_accuracy_known,
    balanced_accuracy_new,
    insert_new_individual,
    known_new_accuracy,
    map_at_k,
    new_individual_auc,
    threshold_sweep,
)

NEW = NEW_INDIVIDUAL
FIVE = [["a", "b", "c", "d", "e"]]
FIVE_SCORES = [[0.9, 0.8, 0.5, 0.4, 0.3]]


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (0.6, ["a", "b", NEW, "c", "d"]),  # 0.5 is the first score < 0.6: position 3, 'e' cut
        (0.8, ["a", "b", NEW, "c", "d"]),  # 0.8 < 0.8 is false, so still before 0.5
        (0.95, [NEW, "a", "b", "c", "d"]),  # top-1 0.9 < 0.95: goes first
        (0.3, ["a", "b", "c", "d", "e"]),  # no score < 0.3 and the list is full: left out
    ],
)
def test_insert_at_first_score_below_threshold(threshold: float, expected: list[str]) -> None:
    assert insert_new_individual(FIVE, FIVE_SCORES, threshold) == [expected]


def test_insert_appends_to_short_lists() -> None:
    # 0.9 and 0.8 >= 0.5, only 2 of k=5 slots used: appended at position 3
    assert insert_new_individual([["a", "b"]], [[0.9, 0.8]], 0.5) == [["a", "b", NEW]]


def test_insert_with_top1_scores_only() -> None:
    predictions = [["a", "b"], ["c", "d"]]
    # 0.3 < 0.5 -> first; 0.9 >= 0.5 and only position 0 is tested -> appended (2 < k=5)
    assert insert_new_individual(predictions, [0.3, 0.9], 0.5) == [[NEW, "a", "b"], ["c", "d", NEW]]
    # k=2: the lists are full, so the second is left as it is and the first loses 'b'
    assert insert_new_individual(predictions, [0.3, 0.9], 0.5, k=2) == [[NEW, "a"], ["c", "d"]]


def test_insert_treats_nan_as_minus_inf() -> None:
    # NaN < 0.5 -> position 2 (k=3)
    assert insert_new_individual([["a", "b"]], [[0.9, np.nan]], 0.5, k=3) == [["a", NEW, "b"]]
    # NaN is not below -inf -> appended when there is room, else left out
    assert insert_new_individual([["a", "b"]], [[0.9, np.nan]], -np.inf, k=3) == [["a", "b", NEW]]
    assert insert_new_individual([["a", "b"]], [[0.9, np.nan]], -np.inf, k=2) == [["a", "b"]]


def test_insert_uses_first_low_score_even_if_unsorted() -> None:
    # 0.4 at position 0 is already below 0.5, whatever follows
    assert insert_new_individual([["a", "b"]], [[0.4, 0.9]], 0.5, k=2) == [[NEW, "a"]]


def test_insert_int_labels_and_leaves_input_alone() -> None:
    predictions = np.array([[3, 4, 5]])
    out = insert_new_individual(predictions, np.array([[0.9, 0.2, 0.1]]), 0.5, k=3, new_label=-1)
    assert out == [[3, -1, 4]]
    assert predictions.tolist() == [[3, 4, 5]]


@pytest.mark.parametrize(
    ("predictions", "scores", "threshold", "message"),
    [
        ([["a"]], [[0.1]], math.nan, "threshold is NaN"),
        ([["a"]], [[0.1], [0.2]], 0.5, "expected \\(N,\\) top-1 scores"),
        ([["a", "b"]], [[0.1]], 0.5, "one score per predicted label"),
        ([], [], 0.5, "predictions is empty"),
    ],
)
def test_insert_bad_input(
    predictions: list[list[str]], scores: list[list[float]], threshold: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        insert_new_individual(predictions, scores, threshold)


def test_known_new_accuracy() -> None:
    truth = ["a", "b", NEW, NEW]
    predictions = [["a"], ["c"], [NEW], ["a"]]
    # known: a right, b wrong -> 1/2; new: right, wrong -> 1/2
    assert known_new_accuracy(truth, predictions) == (0.5, 0.5)


def test_known_new_accuracy_all_new_and_no_new() -> None:
    # all new: no known query -> NaN; new: 1 of 2 right
    acc_known, acc_new = known_new_accuracy([NEW, NEW], [NEW, "x"])
    assert math.isnan(acc_known) and acc_new == 0.5
    # no new, int labels: 1 of 2 right; new -> NaN; an empty list is a wrong answer
    acc_known, acc_new = known_new_accuracy([1, 2, 3], [[1], [1], []], new_label=-1)
    assert acc_known == pytest.approx(1 / 3) and math.isnan(acc_new)


def test_balanced_accuracy_known_averages_identities() -> None:
    truth = ["a", "a", "a", "b", NEW]
    top1 = ["a", "a", "x", "x", NEW]
    # identity a: 2/3, identity b: 0/1 -> (2/3 + 0) / 2 = 1/3 (plain known accuracy is 2/4)
    assert balanced_accuracy_known(truth, top1) == pytest.approx(1 / 3)
    assert math.isnan(balanced_accuracy_known([NEW], [NEW]))


def test_balanced_accuracy_new_averages_new_identities() -> None:
    identities = ["a", "b", "c", "c", "c"]
    is_new = np.array([False, True, True, True, True])
    top1 = ["a", NEW, NEW, "x", "x"]
    # b: 1/1 said new, c: 1/3 said new -> (1 + 1/3) / 2 = 2/3 (plain rate is 2/4)
    assert balanced_accuracy_new(identities, top1, is_new) == pytest.approx(2 / 3)
    assert math.isnan(balanced_accuracy_new(["a"], ["a"], np.array([False])))
    with pytest.raises(ValueError, match="bool array"):
        balanced_accuracy_new(identities, top1, [0, 1, 1, 1, 1])


# q0: truth a, a at rank 1; q1: truth NEW, absent; q2: truth c at rank 2 of a 2-label list
# (its third score 0.0 is padding and must be ignored).
SWEEP_TRUTH = ["a", NEW, "c"]
SWEEP_PREDICTIONS = [["a", "b", "c"], ["b", "a", "c"], ["b", "c"]]
SWEEP_SCORES = np.array([[0.9, 0.5, 0.2], [0.4, 0.3, 0.1], [0.7, 0.6, 0.0]])


def test_threshold_sweep_hand_computed() -> None:
    sweep = threshold_sweep(SWEEP_TRUTH, SWEEP_PREDICTIONS, SWEEP_SCORES, k=3)
    expected_thresholds = [-np.inf, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9, np.inf]
    np.testing.assert_array_equal(sweep.thresholds, expected_thresholds)
    # AP per threshold as (q0, q1, q2); p = leading scores >= t, NEW goes at p (p=3: left out)
    expected_map = [
        (1 + 0 + 1 / 2) / 3,  # -inf: p=(3,3,2); q2's NEW appended behind c
        (1 + 0 + 1 / 2) / 3,  # 0.1: p=(3,3,2)
        (1 + 1 / 3 + 1 / 2) / 3,  # 0.2: p=(3,2,2)
        (1 + 1 / 3 + 1 / 2) / 3,  # 0.3: p=(2,2,2)
        (1 + 1 / 2 + 1 / 2) / 3,  # 0.4: p=(2,1,2)
        (1 + 1 + 1 / 2) / 3,  # 0.5: p=(2,0,2) -> 5/6
        (1 + 1 + 1 / 2) / 3,  # 0.6: p=(1,0,2) -> 5/6
        (1 + 1 + 1 / 3) / 3,  # 0.7: p=(1,0,1); c pushed to rank 3
        (1 + 1 + 1 / 3) / 3,  # 0.9: p=(1,0,0)
        (1 / 2 + 1 + 1 / 3) / 3,  # inf: p=(0,0,0)
    ]
    np.testing.assert_allclose(sweep.map_at_k, expected_map)
    # known queries q0, q2: q0 right unless NEW goes first (only at inf); q2 always wrong ('b')
    np.testing.assert_allclose(sweep.acc_known, [0.5] * 9 + [0.0])
    # q1 right once NEW is first: from t=0.5 on
    np.testing.assert_allclose(sweep.acc_new, [0.0] * 5 + [1.0] * 5)
    # 5/6 at 0.5 and 0.6: the smaller threshold wins the tie
    assert sweep.best == (0.5, pytest.approx(5 / 6))


def test_threshold_sweep_given_thresholds_are_sorted_and_deduplicated() -> None:
    sweep = threshold_sweep(SWEEP_TRUTH, SWEEP_PREDICTIONS, SWEEP_SCORES, [0.6, 0.5, 0.6], k=3)
    np.testing.assert_array_equal(sweep.thresholds, [0.5, 0.6])
    np.testing.assert_allclose(sweep.map_at_k, [5 / 6, 5 / 6])
    with pytest.raises(ValueError, match="without NaN"):
        threshold_sweep(SWEEP_TRUTH, SWEEP_PREDICTIONS, SWEEP_SCORES, [np.nan], k=3)


def test_threshold_sweep_all_new_and_no_new() -> None:
    all_new = threshold_sweep([NEW, NEW], [["a"], ["b"]], [0.2, 0.8], k=2)
    # thresholds -inf, 0.2, 0.8, inf; NEW goes first once t > score, else second
    assert np.isnan(all_new.acc_known).all()
    np.testing.assert_allclose(all_new.acc_new, [0.0, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(all_new.map_at_k, [0.5, 0.5, 0.75, 1.0])
    no_new = threshold_sweep(["a", "b"], [["a"], ["b"]], [0.2, 0.8], k=2)
    assert np.isnan(no_new.acc_new).all()
    np.testing.assert_allclose(no_new.acc_known, [1.0, 1.0, 0.5, 0.0])


@pytest.mark.parametrize("top1_only", [False, True])
def test_threshold_sweep_equals_inserting_at_each_threshold(top1_only: bool) -> None:
    rng = np.random.default_rng(2)
    n, k = 60, 4
    labels = ["a", "b", "c", NEW]
    truth = [labels[i] for i in rng.integers(0, 4, size=n)]
    predictions = [[labels[i] for i in rng.integers(0, 4, size=rng.integers(0, 6))] for _ in truth]
    scores = np.round(rng.random((n, 6)), 1)  # rounding makes ties
    scores[rng.random(scores.shape) < 0.1] = np.nan
    given = scores[:, 0] if top1_only else scores
    sweep = threshold_sweep(truth, predictions, given, k=k)
    for threshold, map_value, known, new in zip(
        sweep.thresholds, sweep.map_at_k, sweep.acc_known, sweep.acc_new, strict=True
    ):
        inserted = insert_new_individual(predictions, given, threshold, k=k)
        assert map_value == pytest.approx(map_at_k(truth, inserted, k=k))
        assert (known, new) == pytest.approx(known_new_accuracy(truth, inserted), nan_ok=True)


def test_new_individual_auc_counts_ties_half() -> None:
    is_new = np.array([True, False, True, False, False])
    score = np.array([0.8, 0.3, 0.5, 0.5, 0.1])
    # new 0.8 beats all 3 known; new 0.5 beats 0.3 and 0.1, ties 0.5 (half): (3 + 2.5) / 6
    assert new_individual_auc(is_new, score) == pytest.approx(11 / 12)
    # reversing the scores flips the AUC: 1 - 11/12
    assert new_individual_auc(is_new, -score) == pytest.approx(1 / 12)
    assert new_individual_auc(is_new, np.zeros(5)) == pytest.approx(0.5)


def test_new_individual_auc_undefined_and_bad_input() -> None:
    assert math.isnan(new_individual_auc(np.array([True, True]), np.array([0.1, 0.2])))
    with pytest.raises(ValueError, match="NaN"):
        new_individual_auc(np.array([True, False]), np.array([np.nan, 0.2]))
    with pytest.raises(ValueError, match="bool array"):
        new_individual_auc(np.array([1, 0]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="expected \\(2,\\)"):
        new_individual_auc(np.array([True, False]), np.array([0.1]))
