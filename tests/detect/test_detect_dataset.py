"""``detect_dataset``: the columns it writes, from a stand-in network whose detections are
known, so every box, score, count and flag below is worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from photoid.data import load_dataset
from photoid.detect.animals import animals
from photoid.detect.config import DetectorConfig
from photoid.detect.run import Detector, detect_dataset


class Scripted(nn.Module):
    """Answers each photo with the next entry of ``script``: (boxes x0,y0,x1,y1, scores,
    labels) in the detector's pixels."""

    def __init__(self, script: list[tuple[list[list[float]], list[float], list[int]]]) -> None:
        super().__init__()
        self.script = list(script)
        self.sizes: list[tuple[int, int]] = []

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        out = []
        for image in images:
            self.sizes.append((image.shape[1], image.shape[2]))
            boxes, scores, labels = self.script.pop(0)
            out.append(
                {
                    "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                    "scores": torch.tensor(scores, dtype=torch.float32),
                    "labels": torch.tensor(labels, dtype=torch.int64),
                }
            )
        return out


def _dataset(root: Path) -> None:
    (root / "img").mkdir(parents=True)
    for name in ("a", "b", "c", "d"):
        Image.new("RGB", (200, 100), (90, 120, 60)).save(root / "img" / f"{name}.jpg")
    (root / "img" / "e.jpg").write_bytes(b"not a jpeg")
    pd.DataFrame(
        {
            "image": [f"img/{n}.jpg" for n in "abcde"],
            "identity": ["x", "y", "x", "z", "y"],
            "bbox": ["", "", "", "1,2,3,4", ""],
            "note": ["keep me", "", "", "", ""],
        }
    ).to_csv(root / "metadata.csv", index=False)


SCRIPT = [
    ([[10, 10, 30, 20]], [0.9], [1]),  # a: one animal
    ([[0, 0, 20, 20], [60, 30, 90, 45], [1, 1, 21, 21]], [0.8, 0.7, 0.6], [1, 1, 1]),  # b: two
    ([[5, 5, 50, 40], [0, 0, 10, 10]], [0.1, 0.95], [1, 2]),  # c: too weak, and not an animal
    ([[40, 20, 60, 30]], [0.5], [1]),  # d: the user's box is there already
]


def _detector(config: DetectorConfig) -> tuple[Detector, Scripted]:
    network = Scripted(SCRIPT)
    return Detector(network, config, "scripted"), network


def test_detect_writes_boxes_scores_counts_and_flags(tmp_path: Path) -> None:
    _dataset(tmp_path)
    detector, network = _detector(
        DetectorConfig(image_size=100, score_threshold=0.3, animal_classes="1")
    )
    summary = detect_dataset(load_dataset(tmp_path), detector, workers=0, batch_size=2)
    # 200 x 100 photos are shrunk to 100 x 50: detector pixels x 2 are the photo's pixels.
    assert network.sizes == [(50, 100)] * 4
    table = pd.read_csv(tmp_path / "metadata.csv", keep_default_na=False, dtype=str)
    assert table["bbox"].tolist() == ["20,20,40,20", "0,0,40,40", "", "1,2,3,4", ""]
    assert table["detection_score"].tolist() == ["0.900", "0.800", "", "0.500", ""]
    # b: the third box overlaps the first (IoU 361/439 = 0.82 >= several_iou 0.3): 2 animals.
    assert table["detections"].tolist() == ["1", "2", "0", "1", ""]
    assert table["detection_flag"].tolist() == ["", "several", "no_animal", "", "unreadable"]
    assert table["note"].tolist() == ["keep me", "", "", "", ""]
    assert (summary.photos, summary.written, summary.kept) == (5, 2, 1)
    assert summary.flagged == {
        "no_animal": ["img/c.jpg"],
        "several": ["img/b.jpg"],
        "unreadable": ["img/e.jpg"],
    }
    assert load_dataset(tmp_path).table["bbox"].iloc[0] == (20.0, 20.0, 40.0, 20.0)


def test_replace_overwrites_the_users_box(tmp_path: Path) -> None:
    _dataset(tmp_path)
    detector, _ = _detector(DetectorConfig(image_size=100, animal_classes="1"))
    summary = detect_dataset(load_dataset(tmp_path), detector, replace=True, workers=0)
    assert load_dataset(tmp_path).table["bbox"].iloc[3] == (80.0, 40.0, 40.0, 20.0)
    assert (summary.written, summary.kept) == (3, 0)


def test_every_class_counts_without_animal_classes(tmp_path: Path) -> None:
    _dataset(tmp_path)
    detector, _ = _detector(DetectorConfig(image_size=100))
    detect_dataset(load_dataset(tmp_path), detector, workers=0)
    # c: the label-2 detection (0.95, box 0,0,10,10) now counts.
    assert load_dataset(tmp_path).table["bbox"].iloc[2] == (0.0, 0.0, 20.0, 20.0)


def test_animals_keeps_one_box_per_animal_best_first() -> None:
    corners = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 10, 11], [0, 0, 1, 1]], float)
    kept, scores = animals(corners, np.array([0.5, 0.9, 0.8, 0.2]), 0.3, 0.3)
    assert kept.tolist() == [[50, 50, 60, 60], [0, 0, 10, 11]]
    assert scores.tolist() == pytest.approx([0.9, 0.8])
    # A second animal must also reach several_score; the best one only the threshold.
    kept, _ = animals(corners, np.array([0.5, 0.9, 0.8, 0.2]), 0.3, 0.3, several_score=0.85)
    assert kept.tolist() == [[50, 50, 60, 60]]
    kept, _ = animals(corners[:1], np.array([0.4]), 0.3, 0.3, several_score=0.85)
    assert kept.tolist() == [[0, 0, 10, 10]]
