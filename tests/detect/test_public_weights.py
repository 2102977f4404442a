"""A public detector's weights file (a state dict of an architecture torchvision or timm builds)
loads through ``photoid detect --detector FILE --set architecture=NAME``; the models here are
made by the tests (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data import load_dataset
from photoid.detect.config import DetectorConfig
from photoid.detect.model import build_detector
from photoid.detect.run import Detector
from photoid.errors import PhotoidError

TINY = ["backbone=test_resnet", "fpn_channels=64", "image_size=64", "score_threshold=0.0"]


def _photo(path: Path) -> Path:
    pixels = torch.zeros(96, 128, 3, dtype=torch.uint8)
    pixels[30:60, 40:90] = torch.tensor([200, 180, 40], dtype=torch.uint8)
    Image.fromarray(pixels.numpy()).save(path)
    return path


def _same_detections(detector: Detector, network: torch.nn.Module, photo: Path) -> None:
    """The loaded detector's best box is the reference network's best box, scaled back."""
    found = detector.find([photo], workers=0)[0]
    from photoid.detect.data import PhotoFrames

    image, scale, _ = PhotoFrames([photo], detector.config.image_size)[0]
    with torch.no_grad():
        reference = network.eval()([image])[0]
    best = int(torch.argmax(reference["scores"]))
    x0, y0, x1, y1 = (float(v) * scale for v in reference["boxes"][best])
    assert found.score == pytest.approx(float(reference["scores"][best]), abs=1e-5)
    assert found.boxes[0] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=1e-3)


def test_torchvision_builder_weights_load_with_their_class_count(tmp_path: Path) -> None:
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    torch.manual_seed(0)
    network = fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None, num_classes=4, box_score_thresh=0.0
    )
    weights = tmp_path / "public.pth"
    torch.save({"model": network.state_dict()}, weights)  # wrapped, as many releases are
    detector = Detector.load(
        weights,
        ["architecture=fasterrcnn_mobilenet_v3_large_320_fpn", "score_threshold=0.0"],
    )
    assert detector.config.classes == 3  # read from the box predictor: 4 outputs - background
    assert "torchvision fasterrcnn_mobilenet_v3_large_320_fpn" in detector.description
    assert sum(p.numel() for p in detector.network.parameters()) == sum(
        p.numel() for p in network.parameters()
    )
    for ours, theirs in zip(
        detector.network.state_dict().values(), network.state_dict().values(), strict=True
    ):
        assert torch.equal(ours, theirs)


def test_own_architecture_weights_file_detects_like_the_network(tmp_path: Path) -> None:
    torch.manual_seed(1)
    config = DetectorConfig(backbone="test_resnet", fpn_channels=64, image_size=64, classes=2)
    network = build_detector(config)
    weights = tmp_path / "own.pt"
    torch.save(network.state_dict(), weights)
    detector = Detector.load(weights, TINY)
    assert detector.config.classes == 2  # read from the weights, not the default 1
    _same_detections(detector, network, _photo(tmp_path / "p.png"))


def test_detect_command_takes_a_weights_file(tmp_path: Path) -> None:
    torch.manual_seed(2)
    network = build_detector(DetectorConfig(backbone="test_resnet", fpn_channels=64, image_size=64))
    torch.save(network.state_dict(), tmp_path / "w.pt")
    data = tmp_path / "data"
    data.mkdir()
    _photo(data / "p.png")
    pd.DataFrame({"image": ["p.png"], "identity": ["a"]}).to_csv(data / "metadata.csv", index=False)
    args = ["detect", str(data), "--detector", str(tmp_path / "w.pt"), "--quiet"]
    for setting in TINY:
        args += ["--set", setting]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "fcos weights" in result.output and "wrote 1 boxes" in result.output
    assert load_dataset(data).table["bbox"].iloc[0] is not None


def test_a_pickled_whole_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    network = build_detector(DetectorConfig(backbone="test_resnet", fpn_channels=64))
    torch.save(network, tmp_path / "yolo.pt")  # a whole pickled model, as YOLO files are
    with pytest.raises(PhotoidError, match="pickled model, not a weights file"):
        Detector.load(tmp_path / "yolo.pt")


def test_weights_of_another_architecture_are_refused_by_name(tmp_path: Path) -> None:
    network = build_detector(DetectorConfig(backbone="test_resnet", fpn_channels=64))
    torch.save(network.state_dict(), tmp_path / "w.pt")
    with pytest.raises(PhotoidError, match="do not fit the architecture"):
        Detector.load(tmp_path / "w.pt", ["backbone=test_resnet", "fpn_channels=96"])
    with pytest.raises(PhotoidError, match="unknown detector architecture 'yolov5'"):
        Detector.load(tmp_path / "w.pt", ["architecture=yolov5"])
