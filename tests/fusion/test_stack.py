"""Shortlists, the stacked fusion model by hand, and its fit on two synthetic engines: "a"
gives the query's own identity a score 2.5 standard deviations higher, "b" is pure noise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from photoid.calibrate.calibrator import Calibrator
from photoid.calibrate.ranked import RankedCalibrator
from photoid.errors import PhotoidError
from photoid.fusion.scores import ScoreTable, ranks_of
from photoid.fusion.stack import CandidatePairs, FusionModel, fit_fusion, shortlist


def table(scores: list[list[float]] | np.ndarray) -> ScoreTable:
    values = np.asarray(scores, np.float64)
    return ScoreTable(values, ranks_of(values))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


# -- shortlist ---------------------------------------------------------------------------


def test_shortlist_is_the_union_of_each_engines_best() -> None:
    """Ranks a: [[0, 1, 2], [2, 0, 1]]; b: [[1, 0, 2], [2, 1, 0]]; best of both:
    [[0, 0, 2], [2, 0, 0]]."""
    a = table([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0]])
    b = table([[2.0, 3.0, 1.0], [1.0, 2.0, 3.0]])
    one = shortlist([a, b], 1)
    assert isinstance(one, CandidatePairs) and len(one) == 4
    assert list(zip(one.query.tolist(), one.column.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 2),
    ]
    assert one.query.dtype == np.int64 and one.column.dtype == np.int64
    assert len(shortlist([a, b], 2)) == 4  # no identity ranks 1 without also ranking 0
    assert len(shortlist([a, b], 3)) == 6
    assert len(shortlist([a], 1)) == 2


# -- FusionModel by hand -------------------------------------------------------------------

LOCAL = RankedCalibrator(
    (
        Calibrator("isotonic", "identity", np.array([0.0, 10.0]), np.array([0.2, 0.8])),
        Calibrator("isotonic", "identity", np.array([0.0, 10.0]), np.array([0.1, 0.5])),
    )
)
COLOUR = RankedCalibrator((Calibrator("logistic", "identity", np.array([2.0]), np.array([0.0])),))
MODEL = FusionModel(("local", "colour"), (LOCAL, COLOUR), (1.0, 0.5), -1.0)


def hand_tables() -> list[ScoreTable]:
    """One query, two identities. Local: column 0 scores 5 at rank 1, column 1 scores 10 at
    rank 0. Colour: 0 and ln(3)/2, so sigmoid(2 s) = 0.5 and 0.75."""
    return [table([[5.0, 10.0]]), table([[0.0, math.log(3.0) / 2]])]


PAIRS = CandidatePairs(np.array([0, 0], np.int64), np.array([0, 1], np.int64))


def test_engine_probabilities_use_each_rank_buckets_calibrator() -> None:
    """Column 0: rank 1 -> bucket 1, interp(5) of 0.1..0.5 = 0.3; column 1: rank 0 -> 0.8."""
    probabilities = MODEL.engine_probabilities(hand_tables(), PAIRS)
    np.testing.assert_allclose(probabilities, [[0.3, 0.5], [0.8, 0.75]])


def test_predict_is_the_sigmoid_of_the_weighted_logits() -> None:
    expected = [
        sigmoid(-1.0 + logit(0.3) + 0.5 * logit(0.5)),
        sigmoid(-1.0 + logit(0.8) + 0.5 * logit(0.75)),  # -1 + ln 4 + ln(3) / 2
    ]
    np.testing.assert_allclose(MODEL.predict(hand_tables(), PAIRS), expected, rtol=1e-12)
    assert expected == pytest.approx([0.13619, 0.71821], abs=1e-5)


def test_later_ranks_share_the_last_bucket() -> None:
    """Rank 7 uses bucket 1 like rank 1."""
    tables = [
        ScoreTable(np.array([[5.0]]), np.array([[7]], np.int64)),
        table([[0.0]]),
    ]
    one = CandidatePairs(np.array([0], np.int64), np.array([0], np.int64))
    np.testing.assert_allclose(MODEL.engine_probabilities(tables, one), [[0.3, 0.5]])


def test_predict_of_no_pairs_is_empty() -> None:
    none = CandidatePairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert MODEL.predict(hand_tables(), none).shape == (0,)


def test_wrong_number_of_tables_is_refused() -> None:
    with pytest.raises(PhotoidError, match=r"2 engines \(local, colour\); 1 score tables"):
        MODEL.predict(hand_tables()[:1], PAIRS)


def test_to_dict_and_back_through_json() -> None:
    data = json.loads(json.dumps(MODEL.to_dict()))
    assert data["format"] == "photoid-fusion-1"
    assert data["engines"] == ["local", "colour"]
    assert data["weights"] == [1.0, 0.5] and data["bias"] == -1.0
    again = FusionModel.from_dict(data)
    assert again.engines == MODEL.engines and again.weights == MODEL.weights
    np.testing.assert_array_equal(
        again.predict(hand_tables(), PAIRS), MODEL.predict(hand_tables(), PAIRS)
    )


def test_from_dict_refuses_other_formats_naming_the_source() -> None:
    with pytest.raises(PhotoidError, match=r"model\.json: not a photoid fusion model"):
        FusionModel.from_dict({"format": "photoid-calibration-1"}, "model.json")
    broken = MODEL.to_dict()
    del broken["weights"]
    with pytest.raises(PhotoidError, match=r"model\.json: malformed fusion model"):
        FusionModel.from_dict(broken, "model.json")
    bad_calibrator = MODEL.to_dict()
    bad_calibrator["calibrators"][0]["by_rank"][1]["x"] = []
    with pytest.raises(PhotoidError, match=r"model\.json engine 0 rank 1"):
        FusionModel.from_dict(bad_calibrator, "model.json")


# -- fit_fusion on synthetic engines -------------------------------------------------------


def synthetic(
    seed: int, queries: int = 300, identities: int = 6
) -> tuple[np.ndarray, list[ScoreTable]]:
    """Each query's own column and the tables of engines "a" (informative) and "b" (noise)."""
    rng = np.random.default_rng(seed)
    own = rng.integers(0, identities, queries)
    a = rng.normal(0.0, 1.0, (queries, identities))
    a[np.arange(queries), own] += 2.5
    b = rng.normal(0.0, 1.0, (queries, identities))
    return own, [table(a), table(b)]


def candidates(own: np.ndarray, tables: list[ScoreTable]) -> tuple[CandidatePairs, np.ndarray]:
    pairs = shortlist(tables, 3)
    return pairs, pairs.column == own[pairs.query]


@pytest.fixture(scope="module")
def fitted() -> FusionModel:
    own, tables = synthetic(0)
    pairs, same = candidates(own, tables)
    return fit_fusion(("a", "b"), tables, pairs, same)


def test_informative_engine_outweighs_noise(fitted: FusionModel) -> None:
    """Measured (seed 0): weights 1.01 and 0.39. A noise engine's calibrated probabilities
    hardly vary, so its term moves the log-odds far less than the weight suggests: compare the
    spread of each engine's term too (measured ratio 21)."""
    assert fitted.engines == ("a", "b")
    assert fitted.weights[0] > 0.8
    assert fitted.weights[0] > 2.0 * abs(fitted.weights[1])
    own, tables = synthetic(0)
    pairs, _ = candidates(own, tables)
    probabilities = fitted.engine_probabilities(tables, pairs)
    terms = np.log(probabilities / (1.0 - probabilities)) * np.asarray(fitted.weights)
    spread = terms.std(axis=0)
    assert spread[0] > 10.0 * spread[1]


def test_fused_probabilities_are_probabilities_and_separate_held_out_pairs(
    fitted: FusionModel,
) -> None:
    own, tables = synthetic(1)  # new queries, not the fitted ones
    pairs, same = candidates(own, tables)
    p = fitted.predict(tables, pairs)
    assert p.shape == (len(pairs),) and p.dtype == np.float64
    assert ((p >= 0.0) & (p <= 1.0)).all()
    # Measured: mean 0.82 on the right candidates, 0.05 on the wrong ones.
    assert p[same].mean() > 0.6 and p[~same].mean() < 0.15
    # Calibrated on data like this: the mean probability is close to the share of right ones.
    assert p.mean() == pytest.approx(same.mean(), abs=0.05)


def test_fitted_model_round_trips_through_json(fitted: FusionModel) -> None:
    own, tables = synthetic(2)
    pairs, _ = candidates(own, tables)
    again = FusionModel.from_dict(json.loads(json.dumps(fitted.to_dict())))
    np.testing.assert_array_equal(again.predict(tables, pairs), fitted.predict(tables, pairs))
    assert again == FusionModel(
        again.engines, again.calibrators, fitted.weights, fitted.bias
    )  # weights and bias survive JSON exactly


def test_logistic_calibrators_fit_too() -> None:
    own, tables = synthetic(0)
    pairs, same = candidates(own, tables)
    model = fit_fusion(("a", "b"), tables, pairs, same, method="logistic")
    assert all(c.calibrators[0].method == "logistic" for c in model.calibrators)
    assert model.weights[0] > 0.8


def test_two_rank_buckets_by_default(fitted: FusionModel) -> None:
    assert [len(c.calibrators) for c in fitted.calibrators] == [2, 2]


@pytest.mark.parametrize("case", ["no right", "all right", "no pairs"])
def test_fit_needs_right_and_wrong_candidates(case: str) -> None:
    own, tables = synthetic(0, queries=20)
    pairs, same = candidates(own, tables)
    if case == "no right":
        same = np.zeros_like(same)
    elif case == "all right":
        same = np.ones_like(same)
    else:
        pairs = CandidatePairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
        same = np.zeros(0, bool)
    with pytest.raises(PhotoidError, match="cannot calibrate the fusion"):
        fit_fusion(("a", "b"), tables, pairs, same)
