"""``photoid detector train`` learns where the animal is: a tiny detector trained for a few
epochs on photos of one bright shape on a textured ground finds the shape in photos it never
saw; the run folder has ``photoid train``'s layout, and ``photoid detect`` loads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image
from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data import load_dataset
from photoid.metrics.detection import detection_recall

SETTINGS = [
    "backbone=test_resnet",
    "fpn_channels=64",
    "image_size=128",
    "epochs=12",
    "batch_size=4",
    "lr=0.003",
    "workers=0",
    "warmup_epochs=0.5",
]


def _scenes(root: Path, count: int, seed: int) -> list[tuple[float, float, float, float]]:
    """``count`` 128 x 96 photos of a yellow blob somewhere on green noise; their boxes."""
    rng = np.random.default_rng(seed)
    (root / "img").mkdir(parents=True)
    boxes, rows = [], []
    for i in range(count):
        pixels = rng.normal([70, 110, 50], 25, (96, 128, 3)).clip(0, 255)
        w, h = int(rng.integers(24, 48)), int(rng.integers(16, 32))
        x, y = int(rng.integers(0, 128 - w)), int(rng.integers(0, 96 - h))
        yy, xx = np.mgrid[0:h, 0:w]
        inside = ((xx - w / 2 + 0.5) / (w / 2)) ** 2 + ((yy - h / 2 + 0.5) / (h / 2)) ** 2 <= 1
        pixels[y : y + h, x : x + w][inside] = [230, 200, 60]
        Image.fromarray(pixels.astype(np.uint8)).save(root / "img" / f"{i}.png")
        box = (float(x), float(y), float(w), float(h))
        boxes.append(box)
        rows.append(
            {"image": f"img/{i}.png", "identity": f"a{i}", "bbox": ",".join(f"{v:g}" for v in box)}
        )
    frame = pd.DataFrame(rows)
    frame["split"] = ["train"] * (count - 4) + ["val"] * 4
    frame.to_csv(root / "metadata.csv", index=False)
    return boxes


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_trained_detector_finds_the_animal_in_new_photos(tmp_path: Path) -> None:
    _scenes(tmp_path / "train", 24, seed=0)
    run = tmp_path / "run"
    sets = [part for s in SETTINGS for part in ("--set", s)]
    out = _run(
        "detector", "train", str(tmp_path / "train"), "--out", str(run),
        "--split-column", "split", "--device", "cpu", "--quiet", *sets,
    )  # fmt: skip
    assert "trained on 20 photos" in out and "best checkpoint" in out
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert list((run / "checkpoints").glob("best-*.ckpt"))
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert (saved["backbone"], saved["image_size"], saved["accelerator"]) == (
        "test_resnet",
        128,
        "cpu",
    )

    truth = _scenes(tmp_path / "new", 12, seed=1)
    table = pd.read_csv(tmp_path / "new" / "metadata.csv")
    table["bbox"] = ""  # a user's raw photos: no boxes
    table.to_csv(tmp_path / "new" / "metadata.csv", index=False)
    shutil.rmtree(run / "tensorboard")  # not needed to load
    out = _run("detect", str(tmp_path / "new"), "--detector", str(run), "--quiet")
    assert "wrote" in out
    found = load_dataset(tmp_path / "new").table
    corners = [
        np.array([[x, y, x + w, y + h]]) if box is not None else np.zeros((0, 4))
        for box in found["bbox"]
        for x, y, w, h in [box or (0, 0, 0, 0)]
    ]
    expected = [np.array([[x, y, x + w, y + h]]) for x, y, w, h in truth]
    assert detection_recall(expected, corners, iou=0.5) >= 0.75
    assert set(found["detection_flag"].fillna("")) <= {"", "several", "no_animal"}

    # identify --detector: each query photo cropped to its detected box first.
    result = CliRunner().invoke(
        app,
        ["identify", "--gallery", str(tmp_path / "train"), "--detector", str(run),
         "--cache", str(tmp_path / "cache"), "--new-individual", "never", "--quiet",
         str(tmp_path / "new" / "img" / "0.png"), str(tmp_path / "new" / "img" / "1.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "detector: an animal in" in result.output and "of 2 photos" in result.output
