"""Ensembles: meta-embeddings, averaged identity scores, leave-one-out ranking, --model folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from checkpoint_support import random_checkpoint
from photoid.data import load_dataset
from photoid.data.synth import generate
from photoid.deep import DeepEngine
from photoid.deep.checkpoints import load_deep_engine, resolve_checkpoints, run_checkpoint
from photoid.deep.ensemble import DeepEnsemble, concatenate_embeddings, mean_identity_scores
from photoid.errors import PhotoidError
from photoid.models import Embedder
from photoid.search import IdentityRanking
from photoid.search.gallery import Gallery


def _unit(*degrees: float) -> np.ndarray:
    radians = np.deg2rad(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def _checkpoint(path: Path, seed: int, size: int = 8) -> Path:
    return random_checkpoint(path, seed, embedding_size=size)


@pytest.fixture(scope="module")
def embedders(tmp_path_factory: pytest.TempPathFactory) -> list[Embedder]:
    from photoid.deep import load_embedder

    root = tmp_path_factory.mktemp("ckpt")
    return [load_embedder(_checkpoint(root / f"{i}.ckpt", seed=i, size=2))[0] for i in range(2)]


def test_concatenation_normalises_each_model_then_the_whole() -> None:
    joined = concatenate_embeddings([np.array([[3.0, 0.0]]), np.array([[0.0, 0.5, 0.0]])])
    half = 1 / np.sqrt(2)
    np.testing.assert_allclose(joined, [[half, 0, 0, half, 0]], rtol=1e-6)
    assert joined.dtype == np.float32
    # The dot product of two meta-embeddings is the mean of the models' cosine similarities.
    a = concatenate_embeddings([_unit(0), _unit(90)])
    b = concatenate_embeddings([_unit(60), _unit(90)])
    assert float(a[0] @ b[0]) == pytest.approx((0.5 + 1.0) / 2, abs=1e-6)


def test_mean_scores_fill_a_missing_identity_with_the_models_lowest_score() -> None:
    a = IdentityRanking(np.array([[0, 1, 2]]), np.array([[0.9, 0.5, 0.1]], np.float32))
    b = IdentityRanking(np.array([[1, 0, -1]]), np.array([[0.8, 0.6, -np.inf]], np.float32))
    mean = mean_identity_scores([a, b], 4)
    # identity 2 is not in b's list: it counts with b's lowest score, 0.6.
    assert mean.labels.tolist() == [[0, 1, 2, -1]]
    np.testing.assert_allclose(mean.scores, [[0.75, 0.65, 0.35, -np.inf]], rtol=1e-6)
    tie = IdentityRanking(np.array([[3, 1]]), np.array([[0.5, 0.5]], np.float32))
    assert mean_identity_scores([tie], 2).labels.tolist() == [[1, 3]]  # ties: smaller label


def test_gallery_ranks_with_a_photo_left_out() -> None:
    for aggregate in ("max", "centroid"):
        gallery = Gallery(2, aggregate=aggregate)  # type: ignore[arg-type]
        gallery.add(_unit(0, 30, 90), ["A", "A", "B"], ["a0", "a1", "b0"])
        full = gallery.rank(_unit(0), 2)
        assert full.labels.tolist() == [[0, 1]]
        left_out = gallery.rank(_unit(0, 90), 3, exclude=np.array([0, 2]))
        # Without a0, identity A is a1 alone (30 degrees away); without b0, B is gone.
        np.testing.assert_allclose(left_out.scores[0, 0], np.cos(np.deg2rad(30)), rtol=1e-6)
        assert left_out.labels.tolist()[1][:1] == [0]
        assert left_out.labels[1, 1:].tolist() == [-1, -1]
    centroid = Gallery(2, aggregate="centroid")
    centroid.add(_unit(0, 60), ["A", "A"], ["a0", "a1"])
    np.testing.assert_allclose(centroid.rank(_unit(0), 1).scores, [[np.cos(np.deg2rad(30))]])


def _ensemble(embedders: list[Embedder], combine: str) -> DeepEnsemble:
    members = [DeepEngine(e, 32, use_bbox=False) for e in embedders]
    ensemble = DeepEnsemble(members, combine=combine)  # type: ignore[arg-type]
    first, second = _unit(0, 20, 90), _unit(90, 40, 0)
    vectors = ensemble._per_gallery([first, second])
    for gallery, own in zip(ensemble.galleries, vectors, strict=True):
        gallery.add(own, ["A", "A", "B"], ["a0", "a1", "b0"])
    return ensemble


def test_mean_ensemble_averages_each_models_identity_score(embedders: list[Embedder]) -> None:
    ensemble = _ensemble(embedders, "mean")
    answer = ensemble.identify_embeddings(["q"], [_unit(10), _unit(80)])[0]
    # Model 1: A = max(cos 10, cos 10), B = cos 80; model 2: A = max(cos 10, cos 40), B = cos 80.
    cos = np.cos(np.deg2rad([10, 80]))
    assert [c.identity for c in answer.candidates] == ["A", "B"]
    np.testing.assert_allclose([c.score for c in answer.candidates], cos, rtol=1e-5)
    # Evidence: a0 sums cos 10 + cos 10, a1 sums cos 10 + cos 40.
    assert answer.candidates[0].best.image == "a0"
    ranked, scores = ensemble.leave_one_out(5)
    assert ranked[0] == ["A", "B"]  # a0 without itself: A is a1 in both models
    expected = (np.cos(np.deg2rad(20)) + np.cos(np.deg2rad(50))) / 2
    np.testing.assert_allclose(scores[0, 0], expected, rtol=1e-5)
    assert ranked[2] == ["A"] and len(ensemble) == 3


def test_concat_ensemble_scores_the_mean_cosine_of_the_best_photo(
    embedders: list[Embedder],
) -> None:
    ensemble = _ensemble(embedders, "concat")
    assert ensemble.galleries[0].embeddings.shape == (3, 4)
    answer = ensemble.identify_embeddings(["q"], [_unit(20), _unit(40)])[0]
    # a1 matches both models exactly: mean cosine 1.
    assert answer.candidates[0].identity == "A"
    assert answer.candidates[0].best.image == "a1"
    assert answer.candidates[0].score == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(PhotoidError, match="unknown ensemble 'vote'"):
        DeepEnsemble(ensemble.members, combine="vote")  # type: ignore[arg-type]


def test_model_paths_resolve_to_one_checkpoint_per_run(tmp_path: Path) -> None:
    single = tmp_path / "model.ckpt"
    single.write_bytes(b"x")
    run = tmp_path / "run" / "checkpoints"
    run.mkdir(parents=True)
    (run / "last.ckpt").write_bytes(b"x")
    assert run_checkpoint(tmp_path / "run") == run / "last.ckpt"
    (run / "best-epoch=1.ckpt").write_bytes(b"x")
    assert run_checkpoint(tmp_path / "run") == run / "best-epoch=1.ckpt"
    os.utime(run / "best-epoch=1.ckpt", (1, 1))
    (run / "best-epoch=3.ckpt").write_bytes(b"x")
    assert run_checkpoint(tmp_path / "run") == run / "best-epoch=3.ckpt"  # the newest best
    folds = tmp_path / "folds"
    for fold in (1, 0):
        (folds / f"fold{fold}" / "checkpoints").mkdir(parents=True)
        (folds / f"fold{fold}" / "checkpoints" / "last.ckpt").write_bytes(b"x")
    (folds / "notes").mkdir()
    found = resolve_checkpoints([single, folds, tmp_path / "run"])
    assert found == [
        single,
        folds / "fold0" / "checkpoints" / "last.ckpt",
        folds / "fold1" / "checkpoints" / "last.ckpt",
        run / "best-epoch=3.ckpt",
    ]
    with pytest.raises(PhotoidError, match="no checkpoint here"):
        resolve_checkpoints([folds / "notes"])
    with pytest.raises(PhotoidError, match="no such checkpoint file or folder"):
        resolve_checkpoints([tmp_path / "missing.ckpt"])
    with pytest.raises(PhotoidError, match="holds no checkpoints"):
        run_checkpoint(folds / "notes")


def test_an_ensemble_of_checkpoints_identifies_a_gallery_photo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, individuals=3, images_per=2, seed=3, size=64)
    dataset = load_dataset(data)
    folds = tmp_path / "folds"
    for fold in range(2):
        _checkpoint(folds / f"fold{fold}" / "checkpoints" / "last.ckpt", seed=fold)
    query = [dataset.paths()[2]]
    calls: list[int] = []
    for combine in ("mean", "concat"):
        engine = load_deep_engine(
            [folds], dataset, tta=["flip"], ensemble=combine, progress=calls.append
        )  # type: ignore[arg-type]
        assert isinstance(engine, DeepEnsemble) and len(engine.members) == 2
        assert all(m.tta == ("flip",) for m in engine.members)
        answer = engine.identify(query)[0]
        assert answer.candidates[0].identity == dataset.table["identity"].iloc[2]
        assert answer.candidates[0].best.image == dataset.table["image"].iloc[2]
        assert answer.candidates[0].score == pytest.approx(1.0, abs=1e-4)
        assert len(answer.candidates) == 3
    assert sum(calls) == 2 * len(dataset)  # progress counts photos, not photo-model passes
    one = load_deep_engine([folds / "fold0"], dataset)
    assert isinstance(one, DeepEngine)
