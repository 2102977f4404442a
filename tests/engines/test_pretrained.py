"""The pretrained-embedder engine: a timm model from a local weights file, with no training,
under the engine contract (evaluate, fit, identify, save, load), as the fused engine's deep
input, and configured from the command line's ``--set pretrained.NAME=VALUE``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from safetensors.torch import save_file

from photoid.cli.engine_options import engine_options
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.engines import create_engine
from photoid.engines.base import EngineOptions
from photoid.engines.fitting import gallery_rows
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.engines.store import load_engine, save_engine
from photoid.errors import PhotoidError
from photoid.evaluation.engine_run import evaluate
from photoid.fusion.config import FusedConfig, Queries
from photoid.local.config import LocalConfig


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PretrainedConfig]:
    """4 individuals x 4 photos (photo 3 of each a query) and a tiny timm model's weights."""
    root = tmp_path_factory.mktemp("pretrained")
    csv_path = generate(root / "data", individuals=4, images_per=4, seed=7, size=96)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    photo = np.tile(np.arange(4), 4)
    cells["split"] = np.where(photo < 3, "train", "test")
    cells.to_csv(csv_path, index=False)
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=0)
    save_file(dict(model.state_dict()), str(root / "model.safetensors"))
    config = PretrainedConfig(
        model="test_resnet", weights=str(root / "model.safetensors"), image_size=32, device="cpu"
    )
    return root / "data", config


def _table(answers: list) -> list[list[tuple[str, float]]]:
    return [[(c.identity, round(c.score, 9)) for c in a.candidates] for a in answers]


def test_evaluate_fit_save_load_answer_identically(
    data: tuple[Path, PretrainedConfig], tmp_path: Path
) -> None:
    root, config = data
    dataset = load_dataset(root)
    options = EngineOptions(pretrained=config)
    result = evaluate(dataset, "split", "pretrained", options)
    assert result.method == "pretrained" and result.queries == 4 and 0.0 <= result.map5 <= 1.0
    gallery, _ = gallery_rows(dataset, "split")
    queries = Queries.of(dataset.subset((dataset.table["split"] == "test").to_numpy()))
    engine = create_engine("pretrained", options).fit(gallery)
    rankings, decided = engine.answer(queries)
    assert engine.policy.decides and engine.policy.fit["source"].startswith("gallery")
    assert all(-1.0 - 1e-6 <= c.score <= 1.0 + 1e-6 for a in rankings for c in a.candidates)
    save_engine(engine, tmp_path / "engine", gallery)
    Path(str(config.weights)).rename(tmp_path / "moved.safetensors")  # the engine keeps them
    try:
        again, decided_again = load_engine(tmp_path / "engine").answer(queries)
    finally:
        (tmp_path / "moved.safetensors").rename(str(config.weights))
    assert _table(again) == _table(rankings) and _table(decided_again) == _table(decided)


def test_the_fused_engine_takes_it_as_its_deep_input(data: tuple[Path, PretrainedConfig]) -> None:
    root, config = data
    dataset = load_dataset(root)
    gallery, _ = gallery_rows(dataset, "split")
    options = EngineOptions(
        local=LocalConfig(max_side=192), fused=FusedConfig(scales=()), pretrained=config
    )
    fused = create_engine("fused", options).fit(gallery)
    assert "deep" in fused.engine.globals
    with pytest.raises(PhotoidError, match="takes one deep model"):
        create_engine("fused", replace(options, models=(root,))).fit(gallery)


def test_a_missing_model_name_says_how_to_give_one(data: tuple[Path, PretrainedConfig]) -> None:
    root, _ = data
    gallery, _ = gallery_rows(load_dataset(root), "split")
    with pytest.raises(PhotoidError, match=r"--set pretrained\.model=NAME"):
        create_engine("pretrained", EngineOptions()).fit(gallery)


def test_the_command_line_sets_it() -> None:
    options = engine_options(
        settings=[
            "pretrained.model=hf-hub:BVRA/MegaDescriptor-L-384",
            "pretrained.weights=mega.safetensors",
            "pretrained.image_size=224",
            "pretrained.device=cpu",
            "pretrained.mean=0.5,0.5,0.5",
            "shortlist=50",
        ],
        cache=None,
        no_cache=True,
    )
    assert options.pretrained == PretrainedConfig(
        model="hf-hub:BVRA/MegaDescriptor-L-384",
        weights="mega.safetensors",
        image_size=224,
        mean="0.5,0.5,0.5",
        device="cpu",
    )
    assert options.describe()["pretrained"]["model"] == "hf-hub:BVRA/MegaDescriptor-L-384"
    assert "pretrained" not in EngineOptions().describe()
    with pytest.raises(PhotoidError, match=r"pretrained\.device 'gpu'"):
        engine_options(settings=["pretrained.device=gpu"], cache=None, no_cache=True)
    with pytest.raises(PhotoidError, match="three comma-separated numbers"):
        engine_options(settings=["pretrained.std=0.5,0"], cache=None, no_cache=True)
    with pytest.raises(PhotoidError, match="bad setting"):
        engine_options(settings=["pretrained.size=3"], cache=None, no_cache=True)


def test_photoid_embed_takes_a_pretrained_model(
    data: tuple[Path, PretrainedConfig], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from photoid.cli.app import app
    from photoid.deep.store import load_embeddings

    root, config = data
    out = tmp_path / "emb.npz"
    settings = [f"pretrained.model={config.model}", f"pretrained.weights={config.weights}"]
    words = ["embed", str(root), "--out", str(out), *(w for s in settings for w in ("--set", s))]
    done = CliRunner().invoke(app, words)
    assert done.exit_code == 0, done.output
    stored = load_embeddings(out)
    assert stored.vectors.shape == (16, 96) and len(stored.model) == 16  # test_resnet: 96-d
    np.testing.assert_allclose(np.linalg.norm(stored.vectors, axis=1), 1.0, rtol=1e-5)
    # The same photos through the model in memory (the fixture's, rebuilt from its seed) and
    # the preprocessing of its timm config give the same embeddings as the file did.
    from photoid.data.images import load_image
    from photoid.deep.embed import load_pretrained_embedder

    torch.manual_seed(0)
    original = timm.create_model("test_resnet", pretrained=False, num_classes=0).eval()
    given = replace(config, image_size=None)
    transform = load_pretrained_embedder(given).preprocessing.transform()
    dataset = load_dataset(root)
    pixels = [
        transform(image=load_image(p, bbox=b))["image"]
        for p, b in zip(
            dataset.paths(), dataset.cells("bbox") or [None] * len(dataset), strict=True
        )
    ]
    with torch.no_grad():
        expected = torch.nn.functional.normalize(original(torch.stack(pixels)), dim=1).numpy()
    by_image = dict(zip(stored.images, stored.vectors, strict=True))
    found = np.stack([by_image[name] for name in dataset.table["image"]])
    assert float(np.abs(found - expected).max()) < 1e-5
    neither = CliRunner().invoke(app, ["embed", str(root), "--out", str(out)])
    assert neither.exit_code != 0 and "--set pretrained.model=NAME" in neither.output
