from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from photoid.data import load_dataset
from photoid.data.splits_apply import SplitRequest, add_split_column
from photoid.data.synth import generate
from photoid.deep import DeepEngine, embed_images, load_embedder
from photoid.errors import PhotoidError
from photoid.evaluation import evaluate_deep
from photoid.train.config import resolve_config
from photoid.train.fit import fit

SETTINGS = [
    "backbone=test_resnet", "image_size=32", "embedding_size=16", "epochs=1",
    "identities_per_batch=3", "images_per_identity=2", "workers=0", "policy=none",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("deep")
    data = root / "data"
    generate(data, individuals=5, images_per=4, seed=4, size=96)
    add_split_column(data, SplitRequest(kind="open", seed=0, unseen_fraction=0.2), column="split")
    dataset = load_dataset(data)
    train = dataset.subset((dataset.table["split"] == "train").to_numpy())
    result = fit(train, resolve_config(None, SETTINGS), root / "run", progress=False)
    return data, result.last_checkpoint


def test_load_embedder_restores_trained_weights(trained: tuple[Path, Path]) -> None:
    _, checkpoint = trained
    embedder, config = load_embedder(checkpoint)
    assert config.backbone == "test_resnet" and config.embedding_size == 16
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    saved = state["embedder.projection.weight"]
    assert torch.equal(embedder.projection.weight, saved)
    assert not embedder.training


def test_embeddings_are_unit_vectors_and_tta_changes_them(trained: tuple[Path, Path]) -> None:
    data, checkpoint = trained
    embedder, _ = load_embedder(checkpoint)
    paths = sorted((data / "images").rglob("*.jpg"))[:3]
    plain, errors = embed_images(embedder, paths, image_size=32)
    assert errors == [None, None, None]
    np.testing.assert_allclose(np.linalg.norm(plain, axis=1), 1.0, rtol=1e-5)
    flipped, _ = embed_images(embedder, paths, image_size=32, tta=["flip", "rot180"])
    np.testing.assert_allclose(np.linalg.norm(flipped, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(plain, flipped)
    with pytest.raises(PhotoidError, match="unknown TTA view 'spin'"):
        embed_images(embedder, paths, image_size=32, tta=["spin"])


def test_identical_query_ranks_its_identity_first(trained: tuple[Path, Path]) -> None:
    data, checkpoint = trained
    dataset = load_dataset(data)
    engine = DeepEngine.from_checkpoint(checkpoint, dataset)
    row = 0
    bbox = [dataset.table["bbox"].iloc[row]]  # the gallery photo was embedded from its crop
    answer = engine.identify([data / dataset.table["image"].iloc[row]], bboxes=bbox)[0]
    assert answer.candidates[0].identity == dataset.table["identity"].iloc[row]
    assert answer.candidates[0].score == pytest.approx(1.0, abs=1e-4)
    assert len(answer.candidates) == 5
    scores = [c.score for c in answer.candidates]
    assert scores == sorted(scores, reverse=True)
    centroid = DeepEngine.from_checkpoint(checkpoint, dataset, aggregate="centroid")
    assert len(centroid.identify([data / dataset.table["image"].iloc[row]])[0].candidates) == 5


def test_unreadable_query_gets_a_warning(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, checkpoint = trained
    engine = DeepEngine.from_checkpoint(checkpoint, load_dataset(data))
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    with pytest.warns(UserWarning, match=r"skipped query: .*broken\.jpg"):
        answer = engine.identify([broken])[0]
    assert answer.candidates == [] and answer.warning is not None


def test_evaluate_deep_on_an_open_split(trained: tuple[Path, Path]) -> None:
    data, checkpoint = trained
    result = evaluate_deep(load_dataset(data), "split", checkpoint, new_threshold=2.0)
    summary = result.summary()
    assert summary["method"] == "deep"
    assert summary["queries"] == len(result.truth)
    assert "new_individual" in result.truth  # the open split holds one identity out
    # Cosine similarity never reaches 2.0: new_individual is always first.
    assert all(p[0] == "new_individual" for p in result.predictions)
    assert summary["acc_new"] == 1.0 and summary["acc_known"] == 0.0


def test_not_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    torch.save({"weights": 1}, bad)
    with pytest.raises(PhotoidError, match="not a photoid training checkpoint"):
        load_embedder(bad)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(PhotoidError, match="cannot read the checkpoint"):
        load_embedder(junk)


def test_identify_files_with_the_deep_method(trained: tuple[Path, Path]) -> None:
    from photoid.decide.policy import NewIndividualSetting
    from photoid.engines.base import EngineOptions
    from photoid.identify import identify_files

    data, checkpoint = trained
    query = sorted((data / "images").rglob("*.jpg"))[0]
    never = NewIndividualSetting("never")
    options = EngineOptions(models=(checkpoint,), tta=("flip",), new_individual=never)
    answers = identify_files(data, [query], method="deep", options=options)
    assert len(answers) == 1 and len(answers[0].candidates) == 5


def test_embed_and_index_commands_round_trip(trained: tuple[Path, Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from photoid.cli.app import app
    from photoid.deep.store import load_embeddings, model_fingerprint
    from photoid.search import VectorIndex

    data, checkpoint = trained
    runner = CliRunner()
    out = tmp_path / "emb.npz"
    done = runner.invoke(app, ["embed", str(data), "--model", str(checkpoint), "--out", str(out)])
    assert done.exit_code == 0, done.output
    stored = load_embeddings(out)
    assert len(stored) == 20 and stored.vectors.shape == (20, 16)
    assert stored.model == model_fingerprint(checkpoint)
    assert list(stored.images) == list(load_dataset(data).table["image"])
    np.testing.assert_allclose(np.linalg.norm(stored.vectors, axis=1), 1.0, rtol=1e-5)
    built = runner.invoke(app, ["index", str(out), "--out", str(tmp_path / "idx")])
    assert built.exit_code == 0, built.output
    index = VectorIndex.load(tmp_path / "idx")
    _, ids = index.search(stored.vectors[:4], 1)
    assert ids[:, 0].tolist() == [0, 1, 2, 3]  # each photo's nearest stored vector is itself


def test_load_embeddings_refuses_other_files(tmp_path: Path) -> None:
    from photoid.deep.store import load_embeddings

    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(PhotoidError, match="not a photoid embeddings file"):
        load_embeddings(other)
