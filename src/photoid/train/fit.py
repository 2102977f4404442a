"""One training run: data loaders, callbacks, loggers and the Lightning trainer.

The run folder gets ``config.yaml`` (the resolved config), ``checkpoints/`` (``last.ckpt``
after every epoch and every ``checkpoint_every_steps`` optimiser steps, and the best by
validation MAP@5), CSV logs and TensorBoard logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
from torch.utils.data import DataLoader, SequentialSampler

from photoid.data.table import Dataset
from photoid.errors import PhotoidError
from photoid.train.config import TrainConfig, save_config
from photoid.train.dataset import PhotoDataset, taxonomy_columns
from photoid.train.gpu_batch import DeviceLoader, gpu_loader, prepare_model
from photoid.train.module import MetricLearner
from photoid.train.resumable import ResumableLoader
from photoid.train.sampler import pk_sampler
from photoid.train.trainer import RunSettings, log_interval, precision_name, run_training

__all__ = ["TrainResult", "fit", "log_interval", "precision_for"]


@dataclass(frozen=True)
class TrainResult:
    """Where the run's files are, and the best validation MAP@5 (None without validation)."""

    folder: Path
    last_checkpoint: Path
    best_checkpoint: Path | None
    best_map5: float | None
    epochs: int


def precision_for(config: TrainConfig) -> str:
    """``auto``: bf16 mixed precision on a GPU, fp32 on the CPU."""
    return precision_name(config.precision)


def fit(
    train: Dataset,
    config: TrainConfig,
    out: Path,
    *,
    val: Dataset | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train on ``train`` (rows of known identity); validate on ``val`` when given.

    ``resume`` continues from ``out/checkpoints/last.ckpt`` when it exists: model, optimiser,
    scheduler, epoch, and the position inside the epoch with the random states (see
    :mod:`photoid.train.resumable`); with ``workers=0`` the resumed run ends with exactly the
    weights of an uninterrupted one.
    """
    known = train.subset(train.labels >= 0)
    if len(known.identities) < config.identities_per_batch:
        raise PhotoidError(
            f"training needs at least identities_per_batch={config.identities_per_batch} "
            f"identities, the training rows hold {len(known.identities)}; lower it with "
            "identities_per_batch=N"
        )
    L.seed_everything(config.seed, workers=True, verbose=False)
    images = PhotoDataset(
        known,
        policy=config.policy,
        image_size=config.image_size,
        use_bbox=config.use_bbox,
        mirror_as_new=config.mirror_as_new,
        rot45=config.rot45,
        seed=config.seed,
        taxonomy=taxonomy_columns(config.taxonomy) if config.taxonomy_weight > 0 else (),
    )
    sampler = pk_sampler(
        images.labels, config.identities_per_batch, config.images_per_identity, config.seed
    )
    loader: ResumableLoader | DeviceLoader
    if config.decode == "gpu":
        loader = gpu_loader(images, config, sampler)
    else:
        loader = ResumableLoader(images, sampler, num_workers=config.workers, seed=config.seed)
    val_loader = _val_loader(val, config)
    counts = np.bincount(images.labels[images.labels >= 0], minlength=images.num_classes)
    model = MetricLearner(
        config,
        num_classes=images.num_classes,
        steps_per_epoch=len(loader),
        class_counts=counts.tolist(),
        num_species=len(images.species_names or ()),
        taxonomy=images.taxonomy,
    )
    prepare_model(model.embedder, config)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.yaml")
    settings = RunSettings.of(config)
    finished = run_training(
        model,
        loader,
        val_loader,
        out,
        settings,
        monitor="val_map5",
        resume=resume,
        progress=progress,
        resumable=loader if isinstance(loader, ResumableLoader) else None,
        # Each process draws its own whole P x K batches (the sampler seeds by rank).
        use_distributed_sampler=False,
    )
    return TrainResult(
        folder=out,
        last_checkpoint=finished.last,
        best_checkpoint=finished.best,
        best_map5=finished.score,
        epochs=finished.epochs,
    )


def _val_loader(
    val: Dataset | None, config: TrainConfig
) -> DataLoader[object] | DeviceLoader | None:
    if val is None or len(val) == 0:
        return None
    images = PhotoDataset(
        val, policy="none", image_size=config.image_size, use_bbox=config.use_bbox
    )
    if config.decode == "gpu":
        return gpu_loader(images, config, SequentialSampler(images), train=False)
    return DataLoader(images, batch_size=config.batch_size, num_workers=0)
