"""timm backbones by name, local weights files, and the errors a user sees."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file

from photoid.errors import PhotoidError
from photoid.models.backbone import create_backbone
from photoid.models.weights import load_weights

TINY = "test_convnext"


def _images() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))


def test_backbone_returns_feature_maps() -> None:
    model = create_backbone(TINY).eval()
    features = model(_images())
    assert features.ndim == 4
    assert features.shape[:2] == (2, model.num_features)


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_local_weights_round_trip(tmp_path: Path, suffix: str) -> None:
    source = create_backbone(TINY).eval()
    path = tmp_path / f"weights{suffix}"
    if suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    else:
        torch.save({"state_dict": source.state_dict()}, path)
    fresh = create_backbone(TINY).eval()
    with torch.no_grad():
        assert not torch.equal(fresh(_images()), source(_images()))
    loaded = create_backbone(TINY, weights=path).eval()
    with torch.no_grad():
        assert torch.equal(loaded(_images()), source(_images()))


def test_classifier_checkpoint_reports_unused_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    classifier = timm.create_model(TINY, num_classes=7)
    path = tmp_path / "classifier.pth"
    torch.save(classifier.state_dict(), path)
    with caplog.at_level(logging.WARNING):
        report = load_weights(create_backbone(TINY), path)
    assert report.unexpected == ("head.fc.weight", "head.fc.bias")
    assert report.missing == ()
    assert "2 unused from file (head.fc.weight, head.fc.bias)" in caplog.text


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(PhotoidError, match=r"broken\.safetensors"):
        create_backbone(TINY, weights=path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match=r"absent\.pt: weights file not found"):
        create_backbone(TINY, weights=tmp_path / "absent.pt")


def test_weights_of_another_model_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"model": {"unrelated.weight": torch.zeros(3)}}, path)
    with pytest.raises(PhotoidError, match=r"other\.pt: no tensor matches the model"):
        create_backbone(TINY, weights=path)


def test_unknown_model_lists_close_matches() -> None:
    with pytest.raises(PhotoidError, match=r"unknown timm model 'test_convnxt'.*test_convnext"):
        create_backbone("test_convnxt")
