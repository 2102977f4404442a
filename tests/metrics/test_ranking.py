"""MAP@k, top-k accuracy and score-matrix ranking against hand-computed expectations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from photoid.metrics import (
    NEW_INDIVIDUAL,
    average_precision_at_k,
    map_at_k,
    rank_identities,
    rank_order,
    ranking_from_scores,
    top_k_accuracy,
)


def _kaggle_apk(actual: object, predicted: Sequence[object], k: int) -> float:
    """ml_metrics ``apk`` with ``actual = [label]``, restated as the oracle for duplicates."""
    predicted = list(predicted)[:k]
    score, hits = 0.0, 0
    for i, p in enumerate(predicted):
        if p == actual and p not in predicted[:i]:
            hits += 1
            score += hits / (i + 1)
    return score


def test_duplicate_label_occupies_its_rank() -> None:
    # 'b' first appears at rank 3 (the second 'a' still takes rank 2) -> 1/3
    assert map_at_k(["b"], [["a", "a", "b"]]) == pytest.approx(1 / 3)


def test_repeated_true_label_counts_once() -> None:
    # first 'b' at rank 1 -> 1; the repeat at rank 2 adds nothing
    assert map_at_k(["b"], [["b", "b", "a"]]) == pytest.approx(1.0)


def test_map_mixes_ranks_and_truncates_to_k() -> None:
    truth = ["w1", "w2", "w3", "w4"]
    predictions = [
        ["w1", "x", "y"],  # rank 1 -> 1
        ["x", "w2"],  # rank 2 -> 1/2
        ["x", "y", "z", "q", "r", "w3"],  # rank 6 is cut at k=5 -> 0
        ["x", "y", "z", "w4"],  # rank 4 -> 1/4
    ]
    per_query = average_precision_at_k(truth, predictions, k=5)
    np.testing.assert_allclose(per_query, [1.0, 0.5, 0.0, 0.25])
    # (1 + 0.5 + 0 + 0.25) / 4 = 0.4375
    assert map_at_k(truth, predictions, k=5) == pytest.approx(0.4375)
    # with k=6 the third query scores 1/6: (1.75 + 1/6) / 4
    assert map_at_k(truth, predictions, k=6) == pytest.approx((1.75 + 1 / 6) / 4)


def test_short_and_empty_prediction_lists() -> None:
    # ['x', 'a'] -> 1/2; ['a'] lacks 'b' -> 0; [] -> 0
    per_query = average_precision_at_k(["a", "b", "c"], [["x", "a"], ["a"], []])
    np.testing.assert_allclose(per_query, [0.5, 0.0, 0.0])


def test_int_labels_in_arrays() -> None:
    truth = np.array([1, 2])
    predictions = np.array([[2, 1], [2, 1]])
    # 1 at rank 2 -> 1/2; 2 at rank 1 -> 1; mean 0.75
    assert map_at_k(truth, predictions) == pytest.approx(0.75)


def test_string_arrays_and_type_strict_comparison() -> None:
    # numpy string arrays compare like str; the int 1 never equals the string '1'
    truth = np.array(["a", "b"])
    assert map_at_k(truth, np.array([["b", "a"], ["b", "a"]])) == pytest.approx(0.75)
    assert map_at_k([1], [["1"]]) == 0.0


def test_new_individual_is_an_ordinary_label() -> None:
    # new_individual at rank 2 -> 1/2; known 'a' behind it at rank 2 -> 1/2
    per_query = average_precision_at_k(
        [NEW_INDIVIDUAL, "a"], [["b", NEW_INDIVIDUAL], [NEW_INDIVIDUAL, "a"]]
    )
    np.testing.assert_allclose(per_query, [0.5, 0.5])


def test_one_dimensional_predictions_are_top1() -> None:
    # each query has one prediction: 'a' right -> 1, 'c' wrong -> 0
    np.testing.assert_allclose(average_precision_at_k(["a", "b"], ["a", "c"]), [1.0, 0.0])


def test_matches_kaggle_apk_on_random_lists_with_duplicates() -> None:
    rng = np.random.default_rng(0)
    truth = list(rng.integers(0, 4, size=200))
    predictions = [list(rng.integers(0, 4, size=rng.integers(0, 8))) for _ in truth]
    expected = [_kaggle_apk(t, p, 5) for t, p in zip(truth, predictions, strict=True)]
    np.testing.assert_allclose(average_precision_at_k(truth, predictions, k=5), expected)


def test_top_k_accuracy() -> None:
    truth = ["a", "b", "c"]
    predictions = [["a", "x"], ["x", "b"], ["x", "y", "z"]]
    # k=2: hits a, b -> 2/3; k=1: only a -> 1/3
    assert top_k_accuracy(truth, predictions, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(truth, predictions, k=1) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("truth", "predictions", "k", "message"),
    [
        ([], [], 5, "truth is empty"),
        (["a", "b"], [["a"]], 5, "1 rows but truth has 2"),
        (["a"], [["a"], ["b"]], 5, "2 rows but truth has 1"),
        (["a"], [["a"]], 0, "k must be a positive integer"),
        ("ab", [["a"], ["b"]], 5, "single string"),
        (np.array([["a"]]), [["a"]], 5, "must be 1-D"),
        (["a"], "a", 5, "single string"),
    ],
)
def test_bad_input_raises(truth: object, predictions: object, k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        map_at_k(truth, predictions, k=k)  # type: ignore[arg-type]


def test_rank_ties_keep_column_order() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.9]])
    # 0.9 ties: b (col 1) before d (col 3); 0.5 ties: a (col 0) before c (col 2)
    ranked = rank_identities(scores, ["a", "b", "c", "d"], k=4)
    assert ranked.tolist() == [["b", "d", "a", "c"]]


def test_rank_puts_nan_after_minus_inf() -> None:
    scores = np.array([[np.nan, 0.1, -np.inf, np.nan, 0.2]])
    # 0.2 (col 4), 0.1 (col 1), -inf (col 2), then NaNs in column order (0, 3)
    assert rank_order(scores, k=5).tolist() == [[4, 1, 2, 0, 3]]


def test_rank_width_and_label_types() -> None:
    scores = np.array([[0.1, 0.7], [0.8, 0.2]])
    ranked = rank_identities(scores, ["a", 7], k=5)
    # k > C gives C columns; the int 7 stays an int instead of becoming '7'
    assert ranked.tolist() == [[7, "a"], ["a", 7]]
    assert rank_identities(scores, np.array([10, 20]), k=1).tolist() == [[20], [10]]
    assert rank_identities(scores, np.array([10, 20]), k=1).dtype == np.array([10]).dtype


def test_rank_chunks_agree_with_sorted_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking_from_scores, "_CHUNK_CELLS", 7)
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 3, size=(9, 6)).astype(float)
    scores[rng.random(scores.shape) < 0.2] = np.nan

    def reference(row: np.ndarray) -> list[int]:
        return sorted(range(len(row)), key=lambda c: (np.isnan(row[c]), -row[c], c))[:4]

    assert rank_order(scores, k=4).tolist() == [reference(row) for row in scores]


@pytest.mark.parametrize(
    ("scores", "identities", "message"),
    [
        (np.zeros(3), ["a", "b", "c"], "non-empty"),
        (np.zeros((2, 0)), [], "non-empty"),
        (np.zeros((2, 3)), ["a", "b"], "one identity label per score column"),
    ],
)
def test_rank_bad_shapes(scores: np.ndarray, identities: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rank_identities(scores, identities)
