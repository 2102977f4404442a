"""Every registered engine under the one contract: fit on a gallery, identify, save to a folder,
load from it and answer identically; the store refuses what it cannot trust."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from safetensors.torch import save_file

from checkpoint_support import random_checkpoint
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.decide.policy import NewIndividualSetting
from photoid.engines import METHODS, create_engine
from photoid.engines.base import Engine, EngineOptions
from photoid.engines.fitting import fit_dataset, gallery_rows
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.engines.store import FORMAT, MANIFEST, STATE, load_engine, read_manifest, save_engine
from photoid.errors import PhotoidError
from photoid.fusion.config import FusedConfig, Queries
from photoid.keypoints.config import KeypointConfig
from photoid.local.config import LocalConfig


def _checkpoint(path: Path) -> Path:
    """A tiny deep checkpoint, and beside it a tiny timm model's weights (``pretrained``)."""
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=0)
    save_file(dict(model.state_dict()), str(path.parent / "pretrained.safetensors"))
    return random_checkpoint(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """5 individuals x 4 photos; photos 0-2 of individuals 0-3 are the gallery, photo 3 of
    each a query (individual 4 is new). And a tiny deep checkpoint."""
    root = tmp_path_factory.mktemp("engines")
    csv_path = generate(root / "data", individuals=5, images_per=4, seed=5, size=128)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    individual, photo = np.repeat(np.arange(5), 4), np.tile(np.arange(4), 5)
    cells["split"] = np.where((individual < 4) & (photo < 3), "train", "test")
    cells.loc[(individual == 4) & (photo < 3), "split"] = ""
    cells.to_csv(csv_path, index=False)
    return root / "data", _checkpoint(root / "model.ckpt")


def _options(method: str, checkpoint: Path, cache: Path | None) -> EngineOptions:
    return EngineOptions(
        local=LocalConfig(max_side=192),
        keypoints=KeypointConfig(side=192, max_keypoints=256, scenery=1.0),
        cache_dir=cache,
        models=(checkpoint,) if method == "deep" else (),
        fused=FusedConfig(scales=()),
        pretrained=PretrainedConfig(
            model="test_resnet",
            weights=str(checkpoint.parent / "pretrained.safetensors"),
            image_size=32,
            device="cpu",
        )
        if method == "pretrained"
        else PretrainedConfig(),
    )


def _table(answers: list) -> list[list[tuple[str, float]]]:
    return [[(c.identity, round(c.score, 9)) for c in a.candidates] for a in answers]


@pytest.mark.parametrize("method", METHODS)
def test_fit_save_load_answer_identically(
    method: str, data: tuple[Path, Path], tmp_path: Path
) -> None:
    root, checkpoint = data
    dataset = load_dataset(root)
    gallery, _ = gallery_rows(dataset, "split")
    queries = Queries.of(dataset.subset((dataset.table["split"] == "test").to_numpy()))
    engine = create_engine(method, _options(method, checkpoint, tmp_path / "cache"))
    engine.fit(gallery)
    assert isinstance(engine, Engine) and engine.method == method
    assert sorted(set(engine.identities)) == sorted(set(gallery.table["identity"]))
    rankings, decided = engine.answer(queries)
    assert len(rankings) == len(decided) == 5
    assert all(len(d.candidates) <= 5 for d in decided)
    # Auto policy: fitted on the gallery (no val rows), so it can answer new_individual.
    assert engine.policy.decides and engine.policy.fit["source"].startswith("gallery")
    if engine.calibrated:
        for answer in decided:
            total = sum(c.probability or 0.0 for c in answer.candidates)
            assert total <= 1.0 + 1e-9
    save_engine(engine, tmp_path / "engine", gallery, command="photoid fit ...")
    loaded = load_engine(tmp_path / "engine")
    again, decided_again = loaded.answer(queries)
    assert _table(again) == _table(rankings)
    assert _table(decided_again) == _table(decided)
    manifest = read_manifest(tmp_path / "engine")
    assert manifest.method == method and manifest.format == FORMAT
    assert manifest.photos == len(gallery) and manifest.identities == 4


def test_growing_engines_add_photos_and_the_fused_one_refuses(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    root, checkpoint = data
    dataset = load_dataset(root)
    gallery, _ = gallery_rows(dataset, "split")
    extra = dataset.subset(
        (dataset.table["identity"] == dataset.table["identity"].iloc[-1]).to_numpy()
    )
    never = NewIndividualSetting("never")
    for method in ("local", "deep", "keypoints", "pretrained"):
        options = _options(method, checkpoint, None)
        engine = create_engine(
            method, EngineOptions(**{**options.__dict__, "new_individual": never})
        )
        engine.fit(gallery)
        before = len(engine.identities)
        added = engine.add(Queries.of(extra), [str(t) for t in extra.table["identity"]])
        assert added == len(extra) and len(engine.identities) == before + len(extra)
    fused = create_engine("fused", _options("fused", checkpoint, None)).fit(gallery)
    with pytest.raises(PhotoidError, match="cannot add photos"):
        fused.add(Queries.of(extra), ["x"] * len(extra))


def test_left_out_ranks_a_gallery_photo_without_itself(data: tuple[Path, Path]) -> None:
    root, _ = data
    dataset = load_dataset(root)
    gallery, _ = gallery_rows(dataset, "split")
    engine = create_engine("local", EngineOptions(local=LocalConfig(max_side=192)))
    engine.fit(gallery)
    asked = Queries.of(gallery).take([0])
    alone = engine.left_out(asked, [0])
    everything = engine.left_out(asked, [0], [range(len(gallery))])
    assert alone[0].candidates and alone[0].candidates[0].best.image != engine.images[0]
    assert everything[0].candidates == [] or all(c.score == 0 for c in everything[0].candidates)


def test_a_folder_of_another_format_is_refused_with_the_refit_command(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    root, checkpoint = data
    folder = tmp_path / "engine"
    fit_dataset(
        root,
        "local",
        folder,
        _options("local", checkpoint, None),
        split_column="split",
        command="photoid fit data --out engine",
    )
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["format"] = FORMAT + 1
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(
        PhotoidError, match=rf"format {FORMAT + 1} .* reads format {FORMAT}\. Refit it: photoid fit"
    ):
        load_engine(folder)
    with pytest.raises(PhotoidError, match="no fitted engine here"):
        load_engine(tmp_path / "nowhere")
    manifest["format"] = FORMAT
    (folder / MANIFEST).write_text(json.dumps(manifest))
    (folder / STATE).write_bytes(pickle.dumps({"not": "an engine"}))
    with pytest.raises(PhotoidError, match="does not hold a local engine"):
        load_engine(folder)


def test_refitting_the_same_gallery_is_skipped_and_a_changed_one_refits(
    data: tuple[Path, Path], tmp_path: Path
) -> None:
    root, checkpoint = data
    options = _options("local", checkpoint, tmp_path / "cache")
    first = fit_dataset(root, "local", tmp_path / "e", options, split_column="split")
    again = fit_dataset(root, "local", tmp_path / "e", options, split_column="split")
    assert first.refitted and not again.refitted and again.photos == first.photos
    changed = EngineOptions(**{**options.__dict__, "local": LocalConfig(max_side=160)})
    assert fit_dataset(root, "local", tmp_path / "e", changed, split_column="split").refitted
    # One more gallery photo: the digest changes, only that photo's features are extracted.
    table = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    grown = tmp_path / "grown"
    grown.mkdir()
    # A copy, not a link: a dataset's images must lie inside its folder (photoid.data.paths).
    shutil.copytree(root / "images", grown / "images")
    table.loc[table.index[-1], "split"] = "train"
    table.to_csv(grown / "metadata.csv", index=False)
    features = sorted((tmp_path / "cache").rglob("*.npz"))
    report = fit_dataset(grown, "local", tmp_path / "e", options, split_column="split")
    assert report.refitted and report.photos == first.photos + 1
    assert len(sorted((tmp_path / "cache").rglob("*.npz"))) == len(features) + 1


def test_unknown_methods_are_refused() -> None:
    with pytest.raises(PhotoidError, match="unknown method 'sift'; choose one of local, deep"):
        create_engine("sift")
