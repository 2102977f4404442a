"""Where networks run (``--device``) and with which arithmetic (``--precision``): names checked
before any work, float32 on the CPU unless bfloat16 is asked for, mixed precision within
tolerance of float32, a saved engine loaded onto the device asked for with the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import timm
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.cli.engine_options import engine_options
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.deep.embed import embed_images, load_pretrained_embedder
from photoid.devices import autocast_dtype, check_device_name, check_precision, resolve_device
from photoid.engines import create_engine
from photoid.engines.base import EngineOptions
from photoid.engines.fitting import gallery_rows
from photoid.engines.pretrained_config import PretrainedConfig
from photoid.engines.store import load_engine, save_engine
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.train.config import device_settings

NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PretrainedConfig]:
    """3 individuals x 3 photos (photo 2 of each a query) and a tiny timm model's weights."""
    root = tmp_path_factory.mktemp("devices")
    csv_path = generate(root / "data", individuals=3, images_per=3, seed=5, size=96)
    cells = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    cells["split"] = np.where(np.tile(np.arange(3), 3) < 2, "train", "test")
    cells.to_csv(csv_path, index=False)
    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False, num_classes=0)
    save_file(dict(model.state_dict()), str(root / "vit.safetensors"))
    config = PretrainedConfig(
        model="test_vit", weights=str(root / "vit.safetensors"), image_size=32, device="cpu"
    )
    return root / "data", config


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12"])
def test_device_names_that_read_right_pass(name: str) -> None:
    assert check_device_name(name) == name


@pytest.mark.parametrize("name", ["gpu", "CPU", "cuda:", "cuda:x", "mps", ""])
def test_other_device_names_are_refused_with_the_choices(name: str) -> None:
    with pytest.raises(PhotoidError, match="use auto, cpu, cuda or cuda:N"):
        check_device_name(name)


def test_precision_is_float32_on_the_cpu_unless_bfloat16_is_asked() -> None:
    cpu = torch.device("cpu")
    assert autocast_dtype(cpu, "auto") is None and autocast_dtype(cpu, "fp32") is None
    assert autocast_dtype(cpu, "bf16") is torch.bfloat16
    with pytest.raises(PhotoidError, match="fp16 needs a CUDA device"):
        autocast_dtype(cpu, "fp16")
    with pytest.raises(PhotoidError, match="auto, fp32, bf16, fp16"):
        check_precision("half")


@NO_CUDA
def test_cuda_is_refused_where_there_is_none() -> None:
    with pytest.raises(PhotoidError, match="no CUDA device here; use --device=cpu or auto"):
        resolve_device("cuda:1", "--device")
    assert resolve_device("auto").type == "cpu"


def test_bfloat16_embeddings_stay_within_tolerance_of_float32(
    data: tuple[Path, PretrainedConfig],
) -> None:
    root, config = data
    embedder = load_pretrained_embedder(config)
    paths = sorted(root.glob("images/**/*.*"))[:6]
    assert len(paths) == 6
    exact, errors = embed_images(embedder, paths, image_size=32, batch_size=4, precision="fp32")
    auto, _ = embed_images(embedder, paths, image_size=32, batch_size=4, precision="auto")
    mixed, _ = embed_images(embedder, paths, image_size=32, batch_size=4, precision="bf16")
    assert errors == [None] * 6
    np.testing.assert_array_equal(auto, exact)  # auto on the CPU is float32
    difference = np.abs(mixed - exact).max()
    assert 0.0 < difference < 0.05  # bfloat16 ran (not identical), and stayed close
    assert float(np.min(np.sum(mixed * exact, axis=1))) > 0.995


def test_a_saved_engine_loads_onto_the_device_asked_for(
    data: tuple[Path, PretrainedConfig], tmp_path: Path
) -> None:
    root, config = data
    dataset = load_dataset(root)
    gallery, _ = gallery_rows(dataset, "split")
    queries = Queries.of(dataset.subset((dataset.table["split"] == "test").to_numpy()))
    options = EngineOptions(pretrained=config, device="cpu")
    engine = create_engine("pretrained", options).fit(gallery)
    rankings = engine.identify(queries)
    save_engine(engine, tmp_path / "engine", gallery)

    exact = load_engine(tmp_path / "engine", "cpu", "fp32")
    again = exact.identify(queries)
    assert exact.options.device == "cpu" and exact.options.pretrained.device == "cpu"
    assert [[(c.identity, c.score) for c in a.candidates] for a in again] == [
        [(c.identity, c.score) for c in a.candidates] for a in rankings
    ]
    mixed = load_engine(tmp_path / "engine", "cpu", "bf16").identify(queries)
    for one, other in zip(mixed, rankings, strict=True):
        scores = {c.identity: c.score for c in other.candidates}
        assert all(abs(c.score - scores[c.identity]) < 0.02 for c in one.candidates)
    if not torch.cuda.is_available():
        with pytest.raises(PhotoidError, match="no CUDA device here"):
            load_engine(tmp_path / "engine", "cuda")


def test_the_command_line_places_every_network() -> None:
    options = engine_options(settings=None, cache=None, no_cache=True, device="cpu")
    assert (options.device, options.keypoints.device, options.pretrained.device) == ("cpu",) * 3
    own = engine_options(
        settings=["keypoints.device=auto"], cache=None, no_cache=True, device="cpu"
    )
    assert (own.keypoints.device, own.pretrained.device) == ("auto", "cpu")
    with pytest.raises(PhotoidError, match="--precision 'half'"):
        engine_options(settings=None, cache=None, no_cache=True, precision="half")


def test_a_bad_device_stops_a_command_before_any_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["fit", str(tmp_path / "nowhere"), "--out", str(tmp_path / "e"), "--device", "gpu"]
    )
    assert result.exit_code == 2
    assert "--device 'gpu': use auto, cpu, cuda or cuda:N" in result.stderr
    assert not (tmp_path / "e").exists()


def test_training_devices_become_lightning_settings() -> None:
    assert device_settings("auto") == []
    assert device_settings("cpu") == ["accelerator=cpu"]
    assert device_settings("cuda") == ["accelerator=gpu"]
    assert device_settings("cuda:3") == ["accelerator=gpu", "devices=3,"]
