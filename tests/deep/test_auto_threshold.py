"""The deep new-individual threshold fitted on the gallery alone, by leave-one-out."""

from __future__ import annotations

import numpy as np
import pytest

from photoid.deep import DeepEngine
from photoid.deep.auto_threshold import fit_gallery_threshold, fit_query_threshold
from photoid.errors import PhotoidError
from photoid.models import Embedder
from photoid.models.embedder import EmbedderConfig


def _unit(*degrees: float) -> np.ndarray:
    radians = np.deg2rad(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def engine() -> DeepEngine:
    """A at 0 and 10 degrees, B at 80 and 90, C (one photo) at 45."""
    embedder = Embedder(EmbedderConfig(backbone="test_resnet", embedding_size=2, pretrained=False))
    engine = DeepEngine(embedder, 32)
    engine.gallery.add(
        _unit(0, 10, 80, 90, 45), ["A", "A", "B", "B", "C"], ["a0", "a1", "b0", "b1", "c0"]
    )
    return engine


def test_leave_one_out_ranks_without_the_photo_itself(engine: DeepEngine) -> None:
    ranked, scores = engine.leave_one_out(5)
    cos = np.cos(np.deg2rad([10, 35, 45, 70, 80]))
    assert ranked[1] == ["A", "C", "B"]  # a1 (10 deg): a0 at 10, c0 at 35, b0 at 70
    np.testing.assert_allclose(scores[1, :3], cos[[0, 1, 3]], rtol=1e-5)
    assert ranked[4][0] in ("A", "B") and "C" not in ranked[4]  # c0 alone: C is gone
    np.testing.assert_allclose(scores[4, :2], [cos[1], cos[1]], rtol=1e-5)
    assert scores.shape == (5, 5) and np.isneginf(scores[:, 3:]).all()


def test_the_threshold_separates_known_from_new_photos(engine: DeepEngine) -> None:
    fit = fit_gallery_threshold(engine)
    assert fit is not None and (fit.queries, fit.new) == (5, 1)
    # Known photos score cos 10 (0.985) at the top, the new one cos 35 (0.819): the smallest
    # threshold giving MAP@5 = 1 is the score cos 10 itself (insertion needs score < t).
    assert fit.thresholds.global_threshold == pytest.approx(np.cos(np.deg2rad(10)), rel=1e-6)
    assert fit.thresholds.map5[""] == 1.0
    by_species = fit_gallery_threshold(engine, ["x"] * 4 + [None], min_queries=4)
    assert by_species is not None and by_species.thresholds.per_species == {}  # no new "x" photo
    mixed = fit_gallery_threshold(engine, ["x", "x", "y", "y", "x"], min_queries=3)
    assert mixed is not None
    assert mixed.thresholds.per_species["x"] == pytest.approx(np.cos(np.deg2rad(10)), rel=1e-6)
    assert "y" not in mixed.thresholds.per_species  # only 2 photos


def test_without_singletons_new_queries_leave_a_whole_identity_out(engine: DeepEngine) -> None:
    embedder = engine.embedder
    closed = DeepEngine(embedder, 32)
    closed.gallery.add(_unit(0, 10, 80, 90), ["A", "A", "B", "B"], ["a0", "a1", "b0", "b1"])
    fit = fit_gallery_threshold(closed)
    # 4 known queries (each scoring cos 10 for its own identity) and 0.2 / 0.8 x 4 = 1 new one:
    # a photo with its identity removed, whose best other identity scores cos 70 or cos 80.
    assert fit is not None and (fit.queries, fit.new) == (5, 1)
    threshold = fit.thresholds.global_threshold
    assert np.cos(np.deg2rad(70)) < threshold <= np.cos(np.deg2rad(10)) + 1e-6
    assert fit.thresholds.map5[""] == 1.0
    never = fit_gallery_threshold(closed, new_fraction=0.0)
    assert never is not None and never.new == 0 and never.thresholds.global_threshold == -np.inf
    with pytest.raises(PhotoidError, match="new_fraction"):
        fit_gallery_threshold(closed, new_fraction=1.0)
    assert fit_gallery_threshold(DeepEngine(embedder, 32)) is None


def test_validation_queries_of_unseen_identities_are_the_new_individuals() -> None:
    # Gallery A and B. Validation: an A photo (0.9 for A), a B photo (0.8 for B) and a photo of
    # Z, not in the gallery (best 0.6). MAP@5 = 1 needs 0.6 < t <= 0.8; the smallest such
    # threshold among the scores is 0.8 (insertion needs score < t).
    fit = fit_query_threshold(
        ["A", "B", "Z"],
        [["A", "B"], ["B", "A"], ["A", "B"]],
        np.array([[0.9, 0.3], [0.8, 0.2], [0.6, 0.1]]),
        {"A", "B"},
    )
    assert fit is not None and (fit.queries, fit.new) == (3, 1)
    assert fit.thresholds.global_threshold == pytest.approx(0.8)
    assert fit.thresholds.map5[""] == 1.0


def test_without_unseen_identities_validation_queries_also_play_new_ones() -> None:
    # Three known queries; 0.25 / 0.75 x 3 = 1 of them also plays a new individual, its own
    # identity dropped: its best other identity scores 0.3 whichever it is, so t must exceed
    # 0.3 and not exceed 0.8 (the B query's own score): 0.8.
    ranked = [["A", "B"], ["B", "A"], ["A", "B"]]
    scores = np.array([[0.9, 0.3], [0.8, 0.3], [0.85, 0.3]])
    fit = fit_query_threshold(["A", "B", "A"], ranked, scores, ["A", "B"], new_fraction=0.25)
    assert fit is not None and (fit.queries, fit.new) == (4, 1)
    assert fit.thresholds.global_threshold == pytest.approx(0.8)
    never = fit_query_threshold(["A", "B", "A"], ranked, scores, ["A", "B"], new_fraction=0.0)
    assert never is not None and never.new == 0 and never.thresholds.global_threshold == -np.inf
    assert fit_query_threshold([], [], np.zeros((0, 5)), ["A"]) is None
    with pytest.raises(PhotoidError, match="one of each per validation query"):
        fit_query_threshold(["A"], [], np.zeros((0, 5)), ["A"])
    with pytest.raises(PhotoidError, match="new_fraction"):
        fit_query_threshold(["A"], ranked[:1], scores[:1], ["A"], new_fraction=1.0)


def test_per_species_thresholds_from_validation_queries() -> None:
    # Species x: two known queries (0.9, 0.7) and a new one (0.5) -> 0.7; species y: a known
    # query at 0.4 and a new one at 0.2 -> 0.4. The global fit must take all five: 0.4 would
    # keep x's new query (0.5) known, 0.7 would call y's known query (0.4) new.
    fit = fit_query_threshold(
        ["A", "A", "Z", "B", "Y"],
        [["A"], ["A"], ["A"], ["B"], ["B"]],
        np.array([[0.9], [0.7], [0.5], [0.4], [0.2]]),
        {"A", "B"},
        ["x", "x", "x", "y", "y"],
        min_queries=2,
    )
    assert fit is not None
    assert fit.thresholds.per_species == {"x": pytest.approx(0.7), "y": pytest.approx(0.4)}
    assert fit.thresholds.map5["x"] == 1.0 and fit.thresholds.map5["y"] == 1.0
    assert fit.thresholds.map5[""] < 1.0
