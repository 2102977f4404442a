"""A pretrained timm model loaded from each kind of local weights file gives the original
model's embeddings; its preprocessing is its own; bad names and files are refused clearly."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.pretrained import load_pretrained, preprocessing, strip_prefix

NAME = "test_resnet"


@pytest.fixture(scope="module")
def original() -> nn.Module:
    torch.manual_seed(3)
    model = timm.create_model(NAME, pretrained=False, num_classes=0)
    # Random BatchNorm statistics, so a file that left them unset would show.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def _save(kind: str, model: nn.Module, folder: Path) -> Path:
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    if kind == "safetensors":
        save_file(state, str(folder / "w.safetensors"))
        return folder / "w.safetensors"
    path = folder / f"{kind}.pth"
    if kind == "pth":
        torch.save(state, path)
    elif kind == "timm":
        torch.save({"epoch": 3, "arch": NAME, "state_dict": state}, path)
    else:  # a Lightning module holding the model as ``self.model``
        lightning = {f"model.{k}": v for k, v in state.items()}
        torch.save({"epoch": 3, "global_step": 9, "state_dict": lightning}, path)
    return path


@pytest.mark.parametrize("kind", ["safetensors", "pth", "timm", "lightning"])
def test_each_weights_file_gives_the_original_embeddings(
    kind: str, original: nn.Module, tmp_path: Path
) -> None:
    embedder = load_pretrained(NAME, _save(kind, original, tmp_path))
    images = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = torch.nn.functional.normalize(original(images), dim=1)
        found = embedder(images)
    assert found.shape == (2, original.num_features) == (2, embedder.embedding_size)
    assert torch.allclose(found, expected, atol=1e-6)


def test_it_pickles_with_its_weights(original: nn.Module, tmp_path: Path) -> None:
    embedder = load_pretrained(NAME, _save("safetensors", original, tmp_path))
    again = pickle.loads(pickle.dumps(embedder))
    images = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(again(images), embedder(images))
    assert again.preprocessing == embedder.preprocessing and not hasattr(again, "on_cuda")


def test_preprocessing_is_the_models_own() -> None:
    mean, std = (0.1, 0.2, 0.3), (0.4, 0.5, 0.6)
    model = timm.create_model(
        NAME,
        pretrained=False,
        num_classes=0,
        pretrained_cfg_overlay={"input_size": (3, 64, 64), "mean": mean, "std": std},
    )
    found = preprocessing(model)
    assert (found.size, found.mean, found.std) == ((64, 64), mean, std)
    resize, normalize, _ = found.transform().transforms
    assert (resize.height, resize.width) == (64, 64)
    assert tuple(normalize.mean) == mean and tuple(normalize.std) == std
    assert preprocessing(model, image_size=32).size == (32, 32)
    half = (0.5, 0.5, 0.5)
    assert preprocessing(model, mean=half, std=half).mean == half
    pixels = torch.full((10, 20, 3), 255, dtype=torch.uint8).numpy()
    tensor = found.transform()(image=pixels)["image"]
    assert tensor.shape == (3, 64, 64)
    white = [(1 - m) / s for m, s in zip(mean, std, strict=True)]
    assert torch.allclose(tensor[:, 0, 0], torch.tensor(white))


def test_the_prefix_that_fits_is_found() -> None:
    own = {"a.w": 0, "b.w": 0}
    tensor = torch.zeros(1)
    assert set(strip_prefix({"model.a.w": tensor, "model.b.w": tensor}, own, None)) == set(own)
    assert set(strip_prefix({"a.w": tensor, "b.w": tensor}, own, None)) == set(own)
    picked = strip_prefix({"x.a.w": tensor, "y.b.w": tensor}, own, "y.")
    assert set(picked) == {"b.w"}


def test_bad_names_and_files_are_refused(original: nn.Module, tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match="weights file not found"):
        load_pretrained(NAME, tmp_path / "absent.safetensors")
    with pytest.raises(PhotoidError, match=r"unknown timm model 'test_resnt'.*test_resnet"):
        load_pretrained("test_resnt", tmp_path / "absent.safetensors")
    state = dict(original.state_dict())
    first = next(iter(state))
    state.pop(first)
    state["extra.weight"] = torch.zeros(2)
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(PhotoidError, match="missing from the file") as info:
        load_pretrained(NAME, tmp_path / "bad.safetensors")
    assert f"1 missing from the file ({first})" in str(info.value)
    assert "1 unexpected in the file (extra.weight)" in str(info.value)
    other = timm.create_model("test_vit", pretrained=False, num_classes=0)
    save_file(dict(other.state_dict()), str(tmp_path / "vit.safetensors"))
    with pytest.raises(PhotoidError, match="do not fit the architecture"):
        load_pretrained(NAME, tmp_path / "vit.safetensors")
