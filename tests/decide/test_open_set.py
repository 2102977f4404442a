"""The open-set decision from calibrated probabilities: P(new) and new_individual's place."""

from __future__ import annotations

import json

import numpy as np
import pytest

from photoid.decide import (
    NewIndividualModel,
    expected_map_insert,
    fit_new_individual,
    new_features,
    place_new_individual,
)
from photoid.errors import PhotoidError
from photoid.metrics import NEW_INDIVIDUAL
from photoid.metrics.calibration import expected_calibration_error


def _rankings(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    """``(n, 3)`` probabilities: p1 ~ Beta(a, b), p2 = p1 * U(0, 0.5), p3 = 0 (padding).

    Known queries use Beta(5, 2) and new ones Beta(2, 5); the density ratio is
    ((1 - p1) / p1) ** 3, so the true P(new) of a stream with new share s has log-odds
    logit(s) - 3 * logit(p1): a logistic model on the features is exactly right.
    """
    p1 = rng.beta(a, b, n)
    return np.stack([p1, p1 * rng.uniform(0.0, 0.5, n), np.zeros(n)], axis=1)


def test_features_by_hand() -> None:
    x = new_features(np.array([[0.5, 0.2, 0.1], [0.9, 0.6, 0.0]]))
    assert x.shape == (2, 3) and x.dtype == np.float64
    # logit 0.5 = 0; logit 0.2 = ln 0.25; the sum 0.8 -> ln 4.
    np.testing.assert_allclose(x[0], [0.0, np.log(0.25), np.log(4.0)], atol=1e-12)
    # The sum 1.5 is clipped to 1 - 1e-4.
    np.testing.assert_allclose(x[1, 2], np.log(0.9999 / 1e-4))
    one = new_features(np.array([[0.5]]))  # no second column: p2 counts as 1e-4
    np.testing.assert_allclose(one[0], [0.0, np.log(1e-4 / 0.9999), 0.0], atol=1e-12)


@pytest.mark.parametrize(
    ("p", "p_new", "k", "expected"),
    [
        # q = 0.95 * [0.9, 0.05] = [0.855, 0.0475]. Expected AP with new at 0: 0.05 + 0.855/2 +
        # 0.0475/3 = 0.4933; at 1: 0.855 + 0.05/2 + 0.0475/3 = 0.8958; at 2: 0.855 + 0.0475/2
        # + 0.05/3 = 0.8954: after the first candidate, before the second.
        ([0.9, 0.05], 0.05, 5, 1),
        # q = 0.6 * [0.3, 0.3] = [0.18, 0.18]; at 0: 0.4 + 0.09 + 0.06 = 0.55; at 1: 0.18 + 0.2
        # + 0.06 = 0.44; at 2: 0.18 + 0.09 + 0.1333 = 0.4033.
        ([0.3, 0.3], 0.4, 5, 0),
        # k = 2, q = 0.75 * [0.5, 0.3, 0.2] = [0.375, 0.225, 0.15]; at 0: 0.25 + 0.1875 =
        # 0.4375; at 1: 0.375 + 0.125 = 0.5; at 2 (not shown): 0.375 + 0.1125 = 0.4875.
        ([0.5, 0.3, 0.2], 0.25, 2, 1),
        # q = 0.8 * [0.5, 0.3, 0.2] = [0.4, 0.24, 0.16]; at 1: 0.4 + 0.1 = 0.5; at 2: 0.4 +
        # 0.12 = 0.52: left out of the top 2.
        ([0.5, 0.3, 0.2], 0.2, 2, 2),
        # The sum 1.5 renormalises: q = 0.65 * [0.8, 0.7] / 1.5 = [0.3467, 0.3033]; at 0: 0.35
        # + 0.1733 + 0.1011 = 0.6244; at 1: 0.3467 + 0.175 + 0.1011 = 0.6228. Without the
        # renormalisation q = [0.52, 0.455] would put it last.
        ([0.8, 0.7], 0.35, 5, 0),
        # Ties (q = [1/3, 1/3] = p_new) go to the later position: appended when m < k ...
        ([0.5, 0.5], 1 / 3, 5, 2),
        # ... and not shown when k = 1 (1/3 at 0 or 1/3 from the first candidate).
        ([0.5, 0.5], 1 / 3, 1, 1),
    ],
)
def test_expected_map_insert_by_hand(p: list[float], p_new: float, k: int, expected: int) -> None:
    assert expected_map_insert(np.array(p), p_new, k) == expected


def test_place_new_individual() -> None:
    ranked = [["A", "B"], ["C", "D", "E"]]
    probabilities = np.array([[0.9, 0.05, 0.0], [0.2, 0.1, 0.05]])
    labels, values = place_new_individual(ranked, probabilities, np.array([0.05, 0.6]), k=2)
    # Query 0: position 1 (first case above); query 1: q = 0.4 * [0.2, 0.1, 0.05] all < 0.6.
    assert labels == [["A", NEW_INDIVIDUAL], [NEW_INDIVIDUAL, "C"]]
    np.testing.assert_allclose(values[0], [0.855, 0.05])
    np.testing.assert_allclose(values[1], [0.6, 0.08])
    with pytest.raises(PhotoidError, match="one of each per query"):
        place_new_individual(ranked, probabilities, np.array([0.1]))
    with pytest.raises(PhotoidError, match=r"P\(new\) must lie in \[0, 1\]"):
        place_new_individual(ranked, probabilities, np.array([0.1, 1.5]))


def test_top_k_probabilities_add_up_to_at_most_one_by_hand() -> None:
    # The candidates add up to 2.0: q = 0.6 * [0.8, 0.7, 0.5] / 2 = [0.24, 0.21, 0.15], and with
    # P(new) = 0.4 the list holds all the mass, no more. Unnormalised it would hold 2.4.
    labels, values = place_new_individual(
        [["A", "B", "C"]], np.array([[0.8, 0.7, 0.5]]), np.array([0.4]), k=5
    )
    assert labels == [[NEW_INDIVIDUAL, "A", "B", "C"]]
    np.testing.assert_allclose(values[0], [0.4, 0.24, 0.21, 0.15])
    assert sum(values[0]) == pytest.approx(1.0, abs=1e-12)


def test_top_k_probabilities_add_up_to_at_most_one_on_random_rankings() -> None:
    rng = np.random.default_rng(7)
    for _ in range(1000):
        m, k = int(rng.integers(1, 9)), int(rng.integers(1, 7))
        # Sums from near 0 to near m: independently calibrated candidates may overshoot 1.
        row = np.sort(rng.random(m) ** rng.choice([0.2, 1.0, 5.0]))[::-1]
        p_new = float(rng.choice([0.0, 1.0, rng.random()], p=[0.1, 0.1, 0.8]))
        names = [f"id{j}" for j in range(int(rng.integers(0, m + 1)))]
        labels, values = place_new_individual([names], row[None, :], np.array([p_new]), k)
        assert len(labels[0]) == len(values[0]) <= k
        assert sum(values[0]) <= 1.0 + 1e-9
        entries = list(zip(labels[0], values[0], strict=True))
        assert sum(v for name, v in entries if name != NEW_INDIVIDUAL) <= 1.0 - p_new + 1e-9
        assert all(v == p_new for name, v in entries if name == NEW_INDIVIDUAL)


def test_fit_on_separable_features_points_the_right_way() -> None:
    rng = np.random.default_rng(0)
    known = _rankings(rng, 1, 1, 60) * 0.3 + 0.65  # p1 in [0.65, 0.95]
    new = _rankings(rng, 1, 1, 60) * 0.3 + 0.05  # p1 in [0.05, 0.35]
    model = fit_new_individual(known, new, new_fraction=0.5)
    assert model.overall.coef[0] < 0  # a low best probability means a new individual
    assert (model.overall.known, model.overall.new) == (60, 60)
    p = model.predict(np.array([[0.9, 0.1, 0.0], [0.1, 0.05, 0.0]]))
    assert p[0] < 0.1 < 0.9 < p[1]


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_fit_is_calibrated_for_the_stated_share(share: float) -> None:
    rng = np.random.default_rng(1)
    # The validation set's own share (1 new in 4) differs from the stream's on purpose.
    model = fit_new_individual(
        _rankings(rng, 5, 2, 1500), _rankings(rng, 2, 5, 500), new_fraction=share
    )
    n_new = int(4000 * share)
    stream = np.concatenate([_rankings(rng, 5, 2, 4000 - n_new), _rankings(rng, 2, 5, n_new)])
    is_new = np.r_[np.zeros(4000 - n_new), np.ones(n_new)]
    p = model.predict(stream)
    assert p.mean() == pytest.approx(share, abs=0.02)
    assert expected_calibration_error(p, is_new) < 0.04
    # The true log-odds are logit(share) - 3 logit(p1); at p1 = 0.5 P(new) is the share.
    assert model.predict(np.array([[0.5, 0.1, 0.0]]))[0] == pytest.approx(share, abs=0.06)
    assert model.overall.coef[0] == pytest.approx(-3.0, abs=0.6)


def test_per_species_model_and_fallback() -> None:
    rng = np.random.default_rng(2)
    # Species "rev" is reversed (its new queries look confident); "few" has too few queries.
    known = np.concatenate(
        [_rankings(rng, 5, 2, 40), _rankings(rng, 2, 5, 30), _rankings(rng, 5, 2, 10)]
    )
    new = np.concatenate(
        [_rankings(rng, 2, 5, 40), _rankings(rng, 5, 2, 30), _rankings(rng, 2, 5, 10)]
    )
    species = ["main"] * 40 + ["rev"] * 30 + ["few"] * 10
    model = fit_new_individual(
        known, new, new_fraction=0.5, species_known=species, species_new=species, min_queries=25
    )
    assert sorted(model.per_species) == ["main", "rev"]
    assert model.per_species["rev"].coef[0] > 0 > model.per_species["main"].coef[0]
    query = np.array([[0.9, 0.1, 0.0]])
    overall = model.predict(query)[0]
    assert model.predict(query, ["few"])[0] == overall
    assert model.predict(query, [None])[0] == overall
    assert model.predict(query, ["rev"])[0] > 0.5 > overall
    with pytest.raises(PhotoidError, match="1 species names for 2 queries"):
        model.predict(np.vstack([query, query]), ["rev"])


def test_json_round_trip() -> None:
    rng = np.random.default_rng(3)
    species = ["a"] * 30
    model = fit_new_individual(
        _rankings(rng, 5, 2, 30),
        _rankings(rng, 2, 5, 30),
        new_fraction=0.3,
        species_known=species,
        species_new=species,
    )
    back = NewIndividualModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back == model
    assert back.prior == 0.3
    assert list(back.per_species) == ["a"]
    assert back.predict(_rankings(rng, 2, 2, 5), ["a"] * 5).shape == (5,)


def test_errors() -> None:
    some = np.array([[0.5, 0.1]])
    with pytest.raises(PhotoidError, match="got 0 known and 1 new"):
        fit_new_individual(np.zeros((0, 2)), some, new_fraction=0.5)
    with pytest.raises(PhotoidError, match="got 1 known and 0 new"):
        fit_new_individual(some, np.zeros((0, 2)), new_fraction=0.5)
    with pytest.raises(PhotoidError, match=r"strictly between 0 and 1, not 1\.0"):
        fit_new_individual(some, some, new_fraction=1.0)
    with pytest.raises(PhotoidError, match="k must be at least 1, not 0"):
        expected_map_insert(np.array([0.5]), 0.1, k=0)
    with pytest.raises(PhotoidError, match=r"must be an \(n, m\) array"):
        new_features(np.array([0.5, 0.1]))
    with pytest.raises(PhotoidError, match=r"probabilities in \[0, 1\]"):
        new_features(np.array([[np.nan]]))
    with pytest.raises(PhotoidError, match=r"saved\.json: not a new-individual model"):
        NewIndividualModel.from_dict({"coef": [1.0]}, "saved.json")
    bad = {
        "features": ["logit_p1", "logit_p2", "logit_sum"],
        "new_fraction": 0.5,
        "overall": {"coef": [1.0], "intercept": 0.0, "known": 1, "new": 1},
    }
    with pytest.raises(PhotoidError, match="overall: coef has 1 numbers, expected 3"):
        NewIndividualModel.from_dict(bad)
