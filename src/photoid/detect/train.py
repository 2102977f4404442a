"""``photoid detector train``: a detector fitted with Lightning on the rows that have a box.

The run folder has the layout of ``photoid train``: ``config.yaml`` (every setting),
``checkpoints/last.ckpt`` (rewritten atomically every ``checkpoint_every_steps`` steps and at
each epoch end; ``--resume`` continues from it) and ``checkpoints/best-*.ckpt`` (the best
validation recall), CSV and TensorBoard logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from photoid.data.table import Dataset
from photoid.detect.config import DetectorConfig, save_detector_config
from photoid.detect.data import BoxedImages, as_lists, boxed_photos, seed_detector_worker
from photoid.detect.module import DetectorLearner
from photoid.train.run import train_val_rows
from photoid.train.trainer import RunSettings, run_training

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class DetectorRun:
    """Where a trained detector's files are, and its best validation recall at IoU 0.5 (None
    without validation photos)."""

    folder: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    best_recall: float | None
    epochs: int
    train_photos: int
    val_photos: int


def train_detector(
    dataset: Dataset,
    config: DetectorConfig,
    out: Path,
    *,
    split_column: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> DetectorRun:
    """Train on the boxed photos of the ``train`` rows of ``split_column`` and validate on its
    ``val`` rows (else its ``test`` rows); without a split column, on every boxed photo, with no
    validation."""
    train, val = train_val_rows(dataset, split_column)
    photos = boxed_photos(train)
    held = boxed_photos(val) if val is not None else []
    L.seed_everything(config.seed, workers=True, verbose=False)
    images = BoxedImages(
        photos,
        config.image_size,
        augment=True,
        scale_jitter=config.scale_jitter,
        seed=config.seed,
        crop=config.train_crop,
    )
    loader = DataLoader(
        images,
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=config.workers,
        collate_fn=as_lists,
        worker_init_fn=seed_detector_worker,
        persistent_workers=config.workers > 0,
        drop_last=len(images) > config.batch_size,
        generator=torch.Generator().manual_seed(config.seed),
    )
    val_loader = None
    if held:
        val_images = BoxedImages(held, config.image_size)
        val_loader = DataLoader(
            val_images, batch_size=config.batch_size, num_workers=0, collate_fn=as_lists
        )
    model = DetectorLearner(config, steps_per_epoch=len(loader))
    out.mkdir(parents=True, exist_ok=True)
    save_detector_config(config, out / CONFIG_FILE)
    settings = RunSettings.of(config)
    finished = run_training(
        model,
        loader,
        val_loader,
        out,
        settings,
        monitor="val_recall",
        resume=resume,
        progress=progress,
        gradient_clip_val=10.0,
    )
    return DetectorRun(
        folder=out,
        last_checkpoint=finished.last,
        best_checkpoint=finished.best,
        best_recall=finished.score,
        epochs=finished.epochs,
        train_photos=len(photos),
        val_photos=len(held),
    )
