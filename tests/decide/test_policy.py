"""The new-individual policy: parsing the option, fitting the threshold rule for MAP@5, and
deciding by threshold or by probability with top-5 probabilities that sum to at most 1."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from photoid.core import NEW_INDIVIDUAL, Candidate, Identification, Match
from photoid.decide.policy import (
    NewIndividualPolicy,
    NewIndividualSetting,
    fit_threshold_policy,
    parse_new_individual,
    parse_prior,
    predictions_of,
)
from photoid.decide.threshold import SpeciesThresholds
from photoid.errors import PhotoidError


def _ranking(query: str, scored: list[tuple[str, float]], **extra: float | None) -> Identification:
    candidates = [Candidate(n, s, Match.photo(f"{n}.jpg")) for n, s in scored]
    return Identification(query, candidates, new_probability=extra.get("p_new"))


def _calibrated(query: str, scored: list[tuple[str, float]], p_new: float) -> Identification:
    candidates = [Candidate(n, p, Match.photo(f"{n}.jpg"), probability=p) for n, p in scored]
    return Identification(query, candidates, new_probability=p_new)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, NewIndividualSetting("auto")),
        ("auto", NewIndividualSetting("auto")),
        ("never", NewIndividualSetting("never")),
        ("none", NewIndividualSetting("never")),
        ("0.25", NewIndividualSetting("threshold", 0.25)),
        (3, NewIndividualSetting("threshold", 3.0)),
    ],
)
def test_the_option_has_one_meaning(text: str | None, expected: NewIndividualSetting) -> None:
    assert parse_new_individual(text) == expected


def test_bad_options_are_refused() -> None:
    with pytest.raises(PhotoidError, match="give 'auto', 'never' or a score threshold"):
        parse_new_individual("sometimes")
    with pytest.raises(PhotoidError, match="finite"):
        parse_new_individual("inf")
    with pytest.raises(PhotoidError, match="strictly between 0 and 1"):
        parse_prior("1.5")
    assert parse_prior("estimate") == "estimate" and parse_prior("0.4") == 0.4
    assert parse_prior(None) is None


def test_a_fixed_threshold_puts_new_individual_before_the_first_lower_score() -> None:
    policy = NewIndividualPolicy.fixed(0.5)
    decided = policy.decide([_ranking("q", [("a", 0.9), ("b", 0.4), ("c", 0.1)])])
    assert predictions_of(decided) == [["a", NEW_INDIVIDUAL, "b", "c"]]
    assert decided[0].candidates[1].score == 0.5  # new_individual carries the threshold


def test_never_keeps_the_ranking_and_scales_probabilities_to_at_most_one() -> None:
    decided = NewIndividualPolicy.never().decide(
        [_calibrated("q", [("a", 0.9), ("b", 0.6), ("c", 0.5)], p_new=0.3)]
    )
    assert predictions_of(decided) == [["a", "b", "c"]]
    probabilities = [c.probability for c in decided[0].candidates]
    assert probabilities == pytest.approx([0.45, 0.3, 0.25])  # 0.9, 0.6, 0.5 over 2.0


def test_the_probability_rule_places_new_individual_by_expected_map() -> None:
    # P(new) 0.6 against known candidates sharing 0.4: new_individual first.
    policy = NewIndividualPolicy("probability", None, {"prior": 0.2})
    decided = policy.decide([_calibrated("q", [("a", 0.5), ("b", 0.3)], p_new=0.6)])
    assert predictions_of(decided) == [[NEW_INDIVIDUAL, "a", "b"]]
    values = [c.probability for c in decided[0].candidates]
    assert values == pytest.approx([0.6, 0.2, 0.12])  # 0.4 * 0.5, 0.4 * 0.3
    assert sum(v for v in values if v is not None) <= 1.0


def test_a_new_prior_moves_p_new_by_bayes_rule() -> None:
    # Fitted for 20% new, asked for 50%: odds of 0.5 times 4 -> 0.8.
    policy = NewIndividualPolicy("probability", None, {"prior": 0.2})
    rankings = [_calibrated("q", [("a", 0.9)], p_new=0.5)]
    moved = policy.reprior(rankings, 0.5)
    assert moved[0].new_probability == pytest.approx(0.8)
    assert policy.reprior(rankings, None)[0].new_probability == 0.5
    # The policy's own prior applies when the call gives none.
    kept = NewIndividualPolicy("probability", None, {"prior": 0.2}, prior=0.5)
    assert kept.decide(rankings)[0].candidates[0].identity == NEW_INDIVIDUAL


def test_threshold_fit_on_held_out_rows_maximises_map5() -> None:
    # Known queries score 0.9 for their own identity; new ones (identity "z", absent from the
    # gallery) score at most 0.3: any threshold in (0.3, 0.9] separates them perfectly.
    gallery = Counter({"a": 3, "b": 3})
    rankings = [
        _ranking("k1", [("a", 0.9), ("b", 0.2)]),
        _ranking("k2", [("b", 0.9), ("a", 0.1)]),
        _ranking("n1", [("a", 0.3), ("b", 0.2)]),
    ]
    policy = fit_threshold_policy(["a", "b", "z"], rankings, gallery, left_out=False, source="val")
    assert policy.rule == "threshold" and policy.thresholds is not None
    assert 0.3 < policy.thresholds.global_threshold <= 0.9
    assert policy.fit["source"] == "val" and policy.fit["new"] == 1
    assert policy.fit["map5"]["global"] == 1.0


def test_left_out_singletons_are_new_and_known_ones_play_new_without_them() -> None:
    # Left out of the gallery, a photo whose identity has one photo is new.
    gallery = Counter({"a": 2, "b": 2, "c": 1})
    rankings = [
        _ranking("a1", [("a", 0.8), ("b", 0.1)]),
        _ranking("c1", [("a", 0.2), ("b", 0.1)]),
    ]
    policy = fit_threshold_policy(["a", "c"], rankings, gallery, left_out=True, source="gallery")
    assert policy.fit["new"] == 1 and policy.fit["queries"] == 2
    # Without any natural new query, 20% play one with their own identity dropped.
    rankings = [_ranking(f"q{i}", [("a", 0.8), ("b", 0.1)]) for i in range(8)]
    policy = fit_threshold_policy(["a"] * 8, rankings, gallery, left_out=True, source="gallery")
    assert policy.fit["new"] == 2 and policy.fit["queries"] == 10  # 0.2 / 0.8 * 8


def test_too_little_to_fit_never_decides() -> None:
    policy = fit_threshold_policy(
        ["a"], [_ranking("q", [("a", 1.0)])], Counter({"a": 2}), left_out=True, source="gallery"
    )
    assert policy.rule == "never" and "why" in policy.fit


def test_per_species_thresholds_are_used_for_their_species() -> None:
    thresholds = SpeciesThresholds(0.5, {"lion": 0.95})
    policy = NewIndividualPolicy("threshold", thresholds)
    rankings = [_ranking("q1", [("a", 0.9)]), _ranking("q2", [("a", 0.9)])]
    decided = policy.decide(rankings, ["lion", "zebra"])
    assert predictions_of(decided) == [[NEW_INDIVIDUAL, "a"], ["a", NEW_INDIVIDUAL]]


def test_summary_is_json_ready_even_for_an_infinite_threshold() -> None:
    policy = NewIndividualPolicy("threshold", SpeciesThresholds(-np.inf), {"source": "val"})
    assert policy.summary() == {"rule": "threshold", "source": "val", "threshold": None}


def test_probability_rule_cuts_to_k_and_leaves_rankings_without_p_new() -> None:
    policy = NewIndividualPolicy("probability", None, {"prior": 0.2})
    values = [0.5, 0.2, 0.1, 0.05, 0.03, 0.02]
    ranking = Identification(
        "q", [Candidate(f"id{j}", v, Match.photo(""), probability=v) for j, v in enumerate(values)]
    )
    decided = policy.decide([ranking])  # no P(new): nothing inserted
    assert predictions_of(decided) == [["id0", "id1", "id2", "id3", "id4"]]
    alone = policy.decide([Identification("q", [], new_probability=0.7)])
    assert predictions_of(alone) == [[NEW_INDIVIDUAL]]
    assert alone[0].candidates[0].probability == 0.7
