from __future__ import annotations

import numpy as np

from photoid.decide import SpeciesThresholds, apply_thresholds, fit_thresholds
from photoid.metrics import NEW_INDIVIDUAL


def test_global_threshold_maximises_map5() -> None:
    truth = ["a", NEW_INDIVIDUAL, "b", NEW_INDIVIDUAL]
    predictions = [["a", "b"], ["a", "b"], ["b", "a"], ["b", "a"]]
    scores = np.array([[0.9, 0.1], [0.3, 0.2], [0.8, 0.1], [0.4, 0.3]])
    fitted = fit_thresholds(truth, predictions, scores)
    # Known queries score 0.9 and 0.8 at rank 1, new ones at most 0.4: any threshold in
    # (0.4, 0.8] puts new_individual first exactly for the two new queries -> MAP@5 = 1.
    assert 0.4 < fitted.global_threshold <= 0.8
    assert fitted.map5[""] == 1.0
    assert fitted.per_species == {}


def test_per_species_thresholds_need_enough_queries() -> None:
    # Species "fin": knowns score 0.5, new 0.3 -> threshold in (0.3, 0.5].
    # Species "fluke": knowns score 0.9, new 0.7 -> threshold in (0.7, 0.9].
    # One global threshold cannot separate both (fin knowns at 0.5 < fluke new at 0.7).
    truth, predictions, rows, species = [], [], [], []
    for name, known, new in (("fin", 0.5, 0.3), ("fluke", 0.9, 0.7)):
        for i in range(10):
            truth += [f"{name}{i}", NEW_INDIVIDUAL]
            predictions += [[f"{name}{i}"], [f"{name}{i}"]]
            rows += [[known], [new]]
            species += [name, name]
    scores = np.array(rows)
    fitted = fit_thresholds(truth, predictions, scores, species, min_queries=20)
    assert 0.3 < fitted.per_species["fin"] <= 0.5
    assert 0.7 < fitted.per_species["fluke"] <= 0.9
    assert fitted.map5["fin"] == fitted.map5["fluke"] == 1.0
    assert fitted.map5[""] < 1.0
    answered = apply_thresholds(predictions, scores, fitted, species)
    assert [a[0] for a in answered] == truth  # every query right at rank 1
    too_few = fit_thresholds(truth, predictions, scores, species, min_queries=21)
    assert too_few.per_species == {}


def test_unknown_species_falls_back_to_global() -> None:
    thresholds = SpeciesThresholds(0.5, {"fin": 0.2})
    assert thresholds.for_species("fin") == 0.2
    assert thresholds.for_species("fluke") == 0.5
    assert thresholds.for_species(None) == 0.5
    out = apply_thresholds([["a", "b"]], np.array([[0.4, 0.1]]), thresholds, ["fluke"])
    assert out == [[NEW_INDIVIDUAL, "a", "b"]]
