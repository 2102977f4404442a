"""The fused engine end to end on 6 synthetic individuals x 5 photos (96 px), and decide().

Split ``split``: individuals 0-4 photos 0-2 train, 3-4 test; individual 5 every photo test (new).
Split ``val_split``: individuals 0-4 photos 0-1 train, 2 val, 3-4 test; individual 5 photo 0
val (a calibration photo of an identity outside the gallery), 1-4 test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import photoid.fusion.engine as fused_engine
from photoid.appearance import ColourEngine
from photoid.calibrate.calibrator import Calibrator
from photoid.calibrate.ranked import RankedCalibrator
from photoid.data.synth import generate
from photoid.data.table import Dataset, load_dataset
from photoid.errors import PhotoidError
from photoid.evaluation.result import EvaluationResult
from photoid.evaluation.run import split_rows
from photoid.fusion import FusedAnswers, FusedConfig, FusedEngine, Queries
from photoid.fusion.run import evaluate_fused, load_deep
from photoid.fusion.scores import ScoreTable, global_table, ranks_of
from photoid.fusion.stack import FusionModel
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.metrics import NEW_INDIVIDUAL

CONFIG = LocalConfig(max_side=128)
FUSED = FusedConfig(scales=())  # one local engine: local, colour, hue-saturation[, deep]
_EMPTY = np.zeros((0, 2), np.float32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = tmp_path_factory.mktemp("synth") / "animals"
    csv = generate(root, individuals=6, images_per=5, seed=0, size=96)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    individual = np.repeat(np.arange(6), 5)
    photo = np.tile(np.arange(5), 6)
    known = individual < 5
    cells["split"] = np.where(known & (photo < 3), "train", "test")
    cells["val_split"] = np.select(
        [known & (photo < 2), (photo == 2) & known, ~known & (photo == 0)],
        ["train", "val", "val"],
        "test",
    )
    cells.to_csv(csv, index=False)
    return load_dataset(root)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def closed(dataset: Dataset, cache: Path) -> EvaluationResult:
    return evaluate_fused(
        dataset, "split", config=CONFIG, fused=FUSED, cache_dir=cache, new_threshold=None
    )


@pytest.fixture(scope="module")
def auto(dataset: Dataset, cache: Path) -> EvaluationResult:
    return evaluate_fused(
        dataset, "split", config=CONFIG, fused=FUSED, cache_dir=cache, new_threshold="auto"
    )


@pytest.fixture(scope="module")
def with_val(dataset: Dataset, cache: Path) -> EvaluationResult:
    return evaluate_fused(
        dataset, "val_split", config=CONFIG, fused=FUSED, cache_dir=cache, new_threshold="auto"
    )


def assert_probabilities(result: EvaluationResult) -> None:
    """One probability per prediction, each in [0, 1], at most 1 in all per query."""
    assert len(result.probabilities) == result.queries
    assert len(result.new_probability) == result.queries
    for names, values in zip(result.predictions, result.probabilities, strict=True):
        assert len(values) == len(names)
        assert all(0.0 <= v <= 1.0 for v in values)
        assert sum(values) <= 1.0 + 1e-9
    assert all(0.0 <= v <= 1.0 for v in result.new_probability)


def test_closed_set_run(closed: EvaluationResult, dataset: Dataset) -> None:
    assert closed.method == "fused" and closed.split_column == "split"
    assert closed.queries == 15 and closed.gallery == 15
    assert closed.truth[10:] == [NEW_INDIVIDUAL] * 5
    assert NEW_INDIVIDUAL not in closed.truth[:10]
    assert all(NEW_INDIVIDUAL not in p for p in closed.predictions)
    assert all(len(p) == 5 for p in closed.predictions)  # 5 gallery identities
    assert_probabilities(closed)
    # Measured 0.8 without the hue-saturation engine, 0.5 with it: 15 calibration photos are
    # too few for the stacking to learn that the synthetic scenes' colours say little.
    assert closed.acc_known >= 0.5


def test_closed_set_calibration_is_gallery_leave_one_out(closed: EvaluationResult) -> None:
    """15 gallery photos, 3 per identity, in 10 encounters; each query leaves out its encounter.
    Individual 3's 3 photos are one encounter: with it left out, they play new individuals. The
    other 12 are known, and each also plays a new individual with its identity dropped."""
    calibration = closed.calibration
    assert calibration is not None
    assert calibration["source"] == "gallery leave-one-out"
    assert calibration["groups"] == "encounter" and calibration["group_count"] == 10
    assert calibration["queries"] == 15 and calibration["known"] == 12
    assert calibration["new"] == 15
    assert calibration["new_fraction"] == 0.2  # no single-photo identity: the default share
    assert calibration["engines"] == ["local", "colour", "hue-saturation"]
    assert len(calibration["weights"]) == 3


def test_summary_has_the_calibration_numbers(closed: EvaluationResult) -> None:
    summary = json.loads(json.dumps(closed.summary(), allow_nan=False))
    assert 0.0 <= summary["ece"] <= 1.0 and 0.0 <= summary["ece_top1"] <= 1.0
    assert summary["calibration"]["source"] == "gallery leave-one-out"
    p, right, rank = closed.held_out_pairs()
    assert p.size == 75 and rank.max() == 4
    assert right.sum() <= 10


def test_auto_places_new_individual(auto: EvaluationResult, closed: EvaluationResult) -> None:
    assert_probabilities(auto)
    assert any(NEW_INDIVIDUAL in p for p in auto.predictions)
    assert all(len(p) == 5 for p in auto.predictions)
    for names, values, p_new in zip(
        auto.predictions, auto.probabilities, auto.new_probability, strict=True
    ):
        if NEW_INDIVIDUAL in names:
            assert values[names.index(NEW_INDIVIDUAL)] == p_new
    assert auto.acc_new > 0.0  # measured 0.6
    # The same engine and queries: the new-individual probabilities do not depend on the mode.
    assert auto.new_probability == pytest.approx(closed.new_probability)


def test_val_rows_calibrate(with_val: EvaluationResult) -> None:
    """6 val rows: 5 of gallery identities (known; each also played new) and one of the
    identity outside the gallery (new): 6 new in all."""
    assert with_val.gallery == 10 and with_val.queries == 14
    calibration = with_val.calibration
    assert calibration is not None
    assert calibration["source"] == "calibration rows"
    assert calibration["queries"] == 6
    assert calibration["known"] == 5 and calibration["new"] == 6
    assert_probabilities(with_val)
    assert "ece" in with_val.summary()


# -- FusedEngine itself ------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(dataset: Dataset, cache: Path) -> FusedEngine:
    gallery, _ = split_rows(dataset, "split")
    return FusedEngine.build(gallery, local_config=CONFIG, cache_dir=cache, config=FUSED)


def test_identify_answers_with_probabilities(engine: FusedEngine, dataset: Dataset) -> None:
    _, queries = split_rows(dataset, "split")
    answers = engine.identify(Queries.of(queries))
    assert isinstance(answers, FusedAnswers)
    assert [a.query for a in answers.answers] == list(queries.table["image"])
    for answer in answers.answers:
        scores = [c.score for c in answer.candidates]
        assert 1 <= len(scores) <= engine.top
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert all(c.identity in engine.universe for c in answer.candidates)
        assert all(c.best.image for c in answer.candidates)  # evidence: some gallery photo
    assert answers.new_probability is not None and answers.new_probability.shape == (15,)
    assert engine.engines == ("local", "colour", "hue-saturation")
    assert engine.universe == sorted(set(engine.local.identities))


def test_unreadable_query_gets_a_warning(engine: FusedEngine, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jpg"
    first = engine.gallery.take([0])
    queries = Queries([missing, first.paths[0]], ["missing", first.names[0]])
    answers = engine.identify(queries)  # no exception
    assert answers.answers[0].candidates == []
    assert answers.answers[0].warning is not None
    assert "missing.jpg" in answers.answers[0].warning
    assert answers.answers[1].candidates  # the readable photo is answered


def test_leave_one_out_tables_leave_the_photo_out(engine: FusedEngine) -> None:
    """A gallery photo asked as is finds itself: colour similarity 1, and the local engine's
    evidence for its identity is the photo itself. With its name excluded, neither engine
    sees it: its identity's colour score is the best of its two other photos, below 1."""
    queries = engine.gallery.take([0])
    name = queries.names[0]
    own = engine.universe.index(engine.local.identities[0])
    tables, answers, errors = engine.tables(queries)
    assert errors == [None]
    assert tables[1].scores[0, own] == pytest.approx(1.0, abs=1e-5)
    assert answers[0].candidates[0].best.image == name
    left_out, answers_out, _ = engine.tables(queries, [[0]])
    assert left_out[1].scores[0, own] < 0.999
    assert name not in {c.best.image for c in answers_out[0].candidates}
    assert left_out[0].scores[0, own] < tables[0].scores[0, own]


def test_no_queries_give_no_answers(engine: FusedEngine) -> None:
    answers = engine.identify(Queries([], []))
    assert answers.answers == []
    assert answers.new_probability is not None and answers.new_probability.shape == (0,)


def test_a_third_global_engine_is_stacked_too(dataset: Dataset, cache: Path) -> None:
    """A second colour engine (4x4x4 bins) stands in for a deep engine: same interface."""
    gallery, queries = split_rows(dataset, "split")
    stand_in = ColourEngine(bins=(4, 4, 4))
    stand_in.add(
        gallery.paths(), list(gallery.table["identity"]), names=list(gallery.table["image"])
    )
    engine = FusedEngine.build(
        gallery,
        local_config=CONFIG,
        cache_dir=cache,
        deep=stand_in,  # type: ignore[arg-type]
        config=FusedConfig(scales=(), shortlist=2),
    )
    # With a deep engine comes the pair verifier trained on its gallery vectors.
    assert engine.engines == ("local", "colour", "hue-saturation", "deep", "verifier")
    assert engine.verifier is not None
    assert engine.fusion is not None and len(engine.fusion.weights) == 5
    tables, _, _ = engine.tables(engine.gallery.take([0, 1]))
    assert len(tables) == 5
    verified = tables[4].scores
    assert ((verified >= 0.0) & (verified <= 1.0)).all()
    # Only identities the deep engine shortlists get a verifier score.
    assert (verified[tables[3].ranks >= 2] == 0.0).all()
    assert (verified[tables[3].ranks < 2] > 0.0).all()
    assert engine.calibration["engines"] == [
        "local",
        "colour",
        "hue-saturation",
        "deep",
        "verifier",
    ]
    answers = engine.identify(Queries.of(queries))
    assert all(0.0 <= c.score <= 1.0 for a in answers.answers for c in a.candidates)


def test_a_gallery_of_single_photos_cannot_calibrate(dataset: Dataset, cache: Path) -> None:
    """Leave-one-out of a photo whose identity has no other photo only ever shows new
    individuals: no right candidate to calibrate on, and no val rows to use instead."""
    first = np.tile(np.arange(5) == 0, 6)
    with pytest.raises(PhotoidError, match=r"cannot calibrate the fusion: .* 0 right"):
        FusedEngine.build(dataset.subset(first), local_config=CONFIG, cache_dir=cache, config=FUSED)


def test_queries_take_picks_rows(dataset: Dataset) -> None:
    queries = Queries.of(dataset)
    taken = queries.take([4, 0])
    assert taken.names == [queries.names[4], queries.names[0]]
    assert taken.paths == [queries.paths[4], queries.paths[0]]
    assert queries.bboxes is not None and taken.bboxes == [queries.bboxes[4], queries.bboxes[0]]
    assert Queries([Path("a.jpg")], ["a"]).take([0]).bboxes is None


def test_more_scales_add_local_engines(dataset: Dataset, cache: Path) -> None:
    """A second scale is one more local engine, stacked before the global ones; a scale equal
    to the main engine's adds nothing."""
    gallery = dataset.subset((dataset.table["split"] == "train").to_numpy())
    engine = FusedEngine.build(
        gallery, local_config=CONFIG, cache_dir=cache, config=FusedConfig(scales=(128, 160))
    )
    assert engine.engines == ("local", "local@160", "colour", "hue-saturation")
    assert engine.scaled["local@160"].config.max_side == 160
    assert engine.fusion is not None and len(engine.fusion.weights) == 4
    tables, _, errors = engine.tables(engine.gallery.take([0]))
    assert len(tables) == 4 and errors == [None]


def test_colour_engines_can_be_left_out(dataset: Dataset, cache: Path) -> None:
    """The hue-saturation engine holds (hue, saturation) histograms; either colour engine can
    be switched off."""
    gallery = dataset.subset((dataset.table["split"] == "train").to_numpy())
    both = FusedEngine.build(gallery, local_config=CONFIG, cache_dir=cache, config=FUSED)
    assert both.globals["hue-saturation"].gallery.embeddings.shape[1] == 64
    assert both.globals["colour"].gallery.embeddings.shape[1] == 512
    only_hsv = FusedEngine.build(
        gallery,
        local_config=CONFIG,
        cache_dir=cache,
        config=FusedConfig(scales=(), hue_saturation=False),
    )
    assert only_hsv.engines == ("local", "colour")
    no_hsv = FusedEngine.build(
        gallery, local_config=CONFIG, cache_dir=cache, config=FusedConfig(scales=(), colour=False)
    )
    assert no_hsv.engines == ("local", "hue-saturation")


@pytest.mark.parametrize("fields", [{"shortlist": 0}, {"calibration_queries": 1}, {"columns": 1}])
def test_config_is_checked(fields: dict[str, Any]) -> None:
    with pytest.raises(PhotoidError, match="fusion: shortlist must be"):
        FusedConfig(**fields)


def test_near_duplicate_is_a_similarity() -> None:
    with pytest.raises(PhotoidError, match="near_duplicate is a cosine similarity"):
        FusedConfig(near_duplicate=1.5)


def test_no_model_means_no_deep_engine(dataset: Dataset) -> None:
    assert load_deep(None, dataset) is None


def test_leave_one_out_with_two_boxes_in_one_photo(
    dataset: Dataset, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gallery of ``split`` plus a second row for its first photo: the whole image, labelled
    as another individual (one photo may hold several animals). With calibration_queries above
    the gallery size every gallery row is a leave-one-out query, so each colour gallery row must
    be left out by the query that is that row's own crop, with its encounter: the whole image
    shares row 0's encounter, so each of the two leaves both out."""
    gallery, _ = split_rows(dataset, "split")
    extra = gallery.table.iloc[[0]].copy()
    extra["identity"] = gallery.table["identity"].iloc[3]
    extra["label"] = gallery.table["label"].iloc[3]
    extra["bbox"] = pd.Series([None], index=extra.index, dtype="object")
    extra.index = pd.Index([10_000])
    doubled = Dataset(gallery.root, pd.concat([gallery.table, extra]), gallery.identities)
    calls = _spy_colour_tables(monkeypatch)
    engine = FusedEngine.build(doubled, local_config=CONFIG, cache_dir=cache, config=FUSED)
    vectors, exclude, embeddings = calls[0]  # the calibration queries' colour table
    assert embeddings.shape[0] == 16
    np.testing.assert_allclose(vectors, embeddings, atol=1e-6)  # query i is row i
    groups = [[0, 15], [1, 2], [1, 2], [3, 4], [3, 4], [5], [6], [7], [8]]
    groups += [[9, 10, 11]] * 3 + [[12, 13]] * 2 + [[14], [0, 15]]
    assert [e.tolist() for e in exclude] == groups
    assert engine.calibration["group_count"] == 10


def _spy_colour_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[np.ndarray, list[np.ndarray], np.ndarray]]:
    """Record each global table's query vectors, left-out rows and gallery vectors."""
    calls: list[tuple[np.ndarray, list[np.ndarray], np.ndarray]] = []

    def spy(gallery: Any, vectors: np.ndarray, universe: Any, **kwargs: Any) -> ScoreTable:
        calls.append((vectors.copy(), list(kwargs["exclude"]), gallery.embeddings.copy()))
        return global_table(gallery, vectors, universe, **kwargs)

    monkeypatch.setattr(fused_engine, "global_table", spy)
    return calls


def test_a_near_duplicate_twin_is_left_out_with_its_photo(
    dataset: Dataset, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gallery of ``split`` without encounters or dates, plus a copy of its first photo
    (same identity: a near-duplicate frame). Calibrating on every gallery photo, the photo and
    its twin are one group: each leaves the other out, so neither finds its own picture (colour
    similarity 1)."""
    gallery, _ = split_rows(dataset, "split")
    table = gallery.table.drop(columns=["encounter", "date"])
    twin = table.iloc[[0]].copy()
    twin.index = pd.Index([10_000])
    doubled = Dataset(gallery.root, pd.concat([table, twin]), gallery.identities)
    calls = _spy_colour_tables(monkeypatch)
    engine = FusedEngine.build(doubled, local_config=CONFIG, cache_dir=cache, config=FUSED)
    assert engine.calibration["groups"] == "near-duplicate clusters"
    assert engine.calibration["group_count"] == 15
    vectors, exclude, _ = calls[0]
    rows = [e.tolist() for e in exclude]
    assert rows[0] == rows[15] == [0, 15]
    assert all(e == [r] for r, e in enumerate(rows) if r not in (0, 15))
    table = global_table(engine.globals["colour"].gallery, vectors, engine.universe, floor=0.0)
    left_out = global_table(
        engine.globals["colour"].gallery, vectors, engine.universe, exclude=exclude, floor=0.0
    )
    own = engine.universe.index(engine.local.identities[0])
    assert table.scores[0, own] == pytest.approx(1.0, abs=1e-5)
    assert left_out.scores[0, own] < 0.999 and left_out.scores[15, own] < 0.999
    # Its identity keeps two other photos: the twins are still known calibration queries.
    assert engine.calibration["known"] == 16


@pytest.mark.parametrize("size", [10, 1])
def test_dropping_the_own_identity_looks_like_a_gallery_without_it(size: int) -> None:
    """One engine, calibrated per rank: rank 0 maps score s to 0.1 + 0.8 s, later ranks to
    0.05 + 0.4 s; weight 1 and bias 0 keep the calibrated probability as the fused one.
    Scores a 0.9, b 0.5, c 0.1. Without "a" in the gallery, b is rank 0 (0.1 + 0.8 * 0.5 = 0.5)
    and c rank 1 (0.05 + 0.4 * 0.1 = 0.09); today b stays at rank 1 (0.25), and with a
    shortlist of 1 nothing is left at all."""
    calibrator = RankedCalibrator(
        (
            Calibrator("isotonic", "identity", np.array([0.0, 1.0]), np.array([0.1, 0.9])),
            Calibrator("isotonic", "identity", np.array([0.0, 1.0]), np.array([0.05, 0.45])),
        )
    )
    engine = FusedEngine(
        LocalEngine(),
        Queries([], []),
        {},
        ["a", "b", "c"],
        FusedConfig(shortlist=size),
        fusion=FusionModel(("only",), (calibrator,), (1.0,), 0.0),
    )
    scores = np.array([[0.9, 0.5, 0.1]])
    tables = [ScoreTable(scores, ranks_of(scores))]
    without_a = np.array([[0.5, 0.1]])
    [(_, expected)] = engine._ranked([ScoreTable(without_a, ranks_of(without_a))], None)
    assert expected.tolist() == pytest.approx([0.5, 0.09][:size])
    [(columns, dropped)] = engine._ranked(tables, own_removed=np.array([0]))
    assert columns.tolist() == [1, 2][:size]
    assert dropped.tolist() == pytest.approx(expected.tolist())
