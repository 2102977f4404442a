from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from photoid.calibrate import (
    ScorePairs,
    cross_validate,
    fit_calibrator,
    fit_ranked,
    load_calibration,
    query_folds,
)
from photoid.calibrate.calibrator import EPSILON
from photoid.errors import PhotoidError


def test_isotonic_by_hand() -> None:
    # Pool-adjacent-violators on labels ordered by score 1,2,3,4: [0, 1, 0, 1] -> the middle
    # violators pool to 0.5: fitted values [0, 0.5, 0.5, 1], clipped to [eps, 1 - eps].
    calibrator = fit_calibrator(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 1, 0, 1], bool))
    np.testing.assert_allclose(calibrator.predict([1.0, 2.5, 4.0]), [EPSILON, 0.5, 1 - EPSILON])
    # Between thresholds 3 (0.5) and 4 (1 - eps) it interpolates; outside, it clips.
    assert calibrator.predict([3.5])[0] == pytest.approx((0.5 + 1 - EPSILON) / 2)
    np.testing.assert_allclose(calibrator.predict([-10.0, 99.0]), [EPSILON, 1 - EPSILON])


def test_logistic_recovers_a_known_slope() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(-3, 3, 20000)
    # True model p = sigmoid(2 x - 1): the fit must find slope ~2 and intercept ~-1.
    same = rng.random(scores.size) < 1 / (1 + np.exp(-(2 * scores - 1)))
    calibrator = fit_calibrator(scores, same, "logistic")
    assert calibrator.x[0] == pytest.approx(2.0, abs=0.1)
    assert calibrator.y[0] == pytest.approx(-1.0, abs=0.1)
    assert calibrator.predict([0.5])[0] == pytest.approx(0.5, abs=0.02)


def test_logistic_on_log1p_counts() -> None:
    # p = sigmoid(3 log1p(s) - 6): s = e^2 - 1 is the even-odds score.
    rng = np.random.default_rng(1)
    scores = rng.exponential(10.0, 20000)
    same = rng.random(scores.size) < 1 / (1 + np.exp(-(3 * np.log1p(scores) - 6)))
    calibrator = fit_calibrator(scores, same, "logistic", "log1p")
    assert calibrator.predict([np.e**2 - 1])[0] == pytest.approx(0.5, abs=0.03)


def test_single_class_gives_its_share() -> None:
    calibrator = fit_calibrator(np.array([1.0, 2.0]), np.array([False, False]), "logistic")
    np.testing.assert_allclose(calibrator.predict([0.0, 100.0]), [EPSILON, EPSILON])


def test_ranked_calibration_by_hand() -> None:
    # Rank 0: score 0 is right 2 times in 3 (as an unverified top candidate often is);
    # ranks 1 and 2 share bucket 1, where score 0 is never right.
    pairs = ScorePairs(
        scores=np.array([0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0]),
        same=np.array([1, 1, 0, 1, 0, 0, 0, 1], bool),
        query=np.array([0, 1, 2, 3, 0, 1, 2, 4]),
        rank=np.array([0, 0, 0, 0, 1, 1, 2, 2]),
    )
    ranked = fit_ranked(pairs, "isotonic", buckets=2)
    assert len(ranked.calibrators) == 2
    np.testing.assert_allclose(
        ranked.predict([0.0, 0.0, 0.0], [0, 1, 7]), [2 / 3, EPSILON, EPSILON]
    )
    np.testing.assert_allclose(
        ranked.predict_ranking(np.array([[5.0, 0.0]])), [[1 - EPSILON, EPSILON]]
    )
    # One bucket pools the ranks: score 0 is right 2 times in 6.
    pooled = fit_ranked(pairs, "isotonic", buckets=1)
    np.testing.assert_allclose(pooled.predict([0.0], [0]), [1 / 3])
    # More buckets than ranks present: only as many as ranks occur.
    assert len(fit_ranked(pairs, buckets=5).calibrators) == 3


@pytest.mark.parametrize("method", ["isotonic", "logistic"])
def test_save_and_load_round_trip(tmp_path: Path, method: str) -> None:
    pairs = ScorePairs(
        scores=np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        same=np.array([0, 0, 1, 0, 1, 1], bool),
        query=np.arange(6),
        rank=np.array([0, 1, 0, 1, 0, 1]),
    )
    ranked = fit_ranked(pairs, method, "log1p")  # type: ignore[arg-type]
    path = ranked.save(tmp_path / "cal" / "local.json")
    loaded = load_calibration(path)
    assert [(c.method, c.transform) for c in loaded.calibrators] == [(method, "log1p")] * 2
    grid = np.linspace(-1, 6, 15)
    for rank in (0, 1, 4):
        ranks = np.full(grid.size, rank)
        np.testing.assert_array_equal(loaded.predict(grid, ranks), ranked.predict(grid, ranks))


def test_load_refuses_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(PhotoidError, match=r"other\.json: not a photoid calibration"):
        load_calibration(path)
    path.write_text(json.dumps({"format": "photoid-calibration-1", "by_rank": [{"x": 1}]}))
    with pytest.raises(PhotoidError, match=r"other\.json rank 1: unknown method None"):
        load_calibration(path)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(PhotoidError, match="unknown score transform 'sqrt'"):
        fit_calibrator(np.ones(2), np.ones(2, bool), "isotonic", "sqrt")
    with pytest.raises(PhotoidError, match="unknown calibration method 'beta'"):
        fit_calibrator(np.ones(2), np.ones(2, bool), "beta")  # type: ignore[arg-type]


def test_query_folds_keep_a_query_together() -> None:
    queries = np.array([0, 0, 0, 1, 1, 2, 3, 3])
    fold = query_folds(queries, 2, seed=3)
    for q in range(4):
        assert np.unique(fold[queries == q]).size == 1
    # Four queries dealt into two folds: two queries each.
    per_fold = [np.unique(queries[fold == f]).size for f in range(2)]
    assert per_fold == [2, 2]
    with pytest.raises(ValueError, match=r"folds must be in \[2, 4\]"):
        query_folds(queries, 5)


def test_cross_validation_is_calibrated_on_well_specified_data() -> None:
    rng = np.random.default_rng(2)
    queries = np.repeat(np.arange(2000), 5)
    scores = rng.normal(0.0, 1.5, queries.size)
    same = rng.random(queries.size) < 1 / (1 + np.exp(-(1.5 * scores - 2)))
    pairs = ScorePairs(scores, same, queries, np.tile(np.arange(5), 2000))
    for method in ("isotonic", "logistic"):
        fit = cross_validate(pairs, method, folds=5, seed=0)  # type: ignore[arg-type]
        assert fit.out_of_fold.shape == (10000,)
        # 10,000 pairs from a logistic truth: both methods within a few points of calibrated.
        assert fit.ece < 0.03
        assert fit.brier < 0.2
        assert fit.curve.counts.sum() == 10000
    # The uninformed constant predictor has a worse Brier score than the fitted one.
    assert fit.brier < float(np.mean((same.mean() - same) ** 2))


def test_a_missing_rank_gets_the_pooled_calibration() -> None:
    # Ranks 1 and 2 only (rank 0 absent): bucket 0 pools both, bucket 1 holds rank 1 and up.
    pairs = ScorePairs(
        scores=np.zeros(4),
        same=np.array([1, 0, 0, 0], bool),
        query=np.arange(4),
        rank=np.array([1, 1, 2, 2]),
    )
    ranked = fit_ranked(pairs, "isotonic", buckets=2)
    np.testing.assert_allclose(ranked.predict(np.zeros(2), np.array([0, 1])), [0.25, 0.25])
