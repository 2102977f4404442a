"""One training run: data loaders, callbacks, loggers and the Lightning trainer.

The run folder gets ``config.yaml`` (the resolved config), ``checkpoints/`` (``last.ckpt``
after every epoch and the best by validation MAP@5), CSV logs and TensorBoard logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader

from photoid.data.table import Dataset
from photoid.errors import PhotoidError
from photoid.train.config import TrainConfig, save_config
from photoid.train.dataset import PhotoDataset, seed_worker
from photoid.train.module import MetricLearner
from photoid.train.sampler import pk_sampler


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
    if config.precision != "auto":
        return config.precision
    return "bf16-mixed" if torch.cuda.is_available() else "32-true"


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

    ``resume`` continues from ``out/checkpoints/last.ckpt`` when it exists (model, optimiser,
    scheduler, epoch and the sampler's epoch seed).
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
    )
    sampler = pk_sampler(
        images.labels, config.identities_per_batch, config.images_per_identity, config.seed
    )
    loader = DataLoader(
        images,
        batch_size=config.batch_size,
        sampler=sampler,
        num_workers=config.workers,
        worker_init_fn=seed_worker,
        drop_last=True,
        persistent_workers=config.workers > 0,
    )
    val_loader = _val_loader(val, config)
    counts = np.bincount(images.labels[images.labels >= 0], minlength=images.num_classes)
    model = MetricLearner(
        config,
        num_classes=images.num_classes,
        steps_per_epoch=len(loader),
        class_counts=counts.tolist(),
    )
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.yaml")
    checkpoints = out / "checkpoints"
    # "last.ckpt" is rewritten after every epoch (no monitor: the newest is the top 1).
    latest = ModelCheckpoint(dirpath=checkpoints, filename="last", save_top_k=1)
    best = ModelCheckpoint(
        dirpath=checkpoints, filename="best-{epoch}", monitor="val_map5", mode="max"
    )
    callbacks: list[L.Callback] = [latest]
    if val_loader is not None:
        callbacks += [best, EarlyStopping("val_map5", mode="max", patience=config.patience)]
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator="auto",
        devices=config.devices,
        strategy=config.strategy,
        precision=precision_for(config),  # type: ignore[arg-type]
        accumulate_grad_batches=config.accumulate,
        callbacks=callbacks,
        logger=[CSVLogger(out, name="logs"), TensorBoardLogger(out, name="tensorboard")],
        default_root_dir=out,
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        # Each process draws its own whole P x K batches (the sampler seeds by rank).
        use_distributed_sampler=False,
    )
    last = checkpoints / "last.ckpt"
    trainer.fit(
        model, loader, val_loader, ckpt_path=str(last) if resume and last.is_file() else None
    )
    has_best = val_loader is not None and bool(best.best_model_path)
    score = best.best_model_score if has_best else None
    return TrainResult(
        folder=out,
        last_checkpoint=last,
        best_checkpoint=Path(best.best_model_path) if has_best else None,
        best_map5=float(score) if score is not None else None,
        epochs=trainer.current_epoch,
    )


def _val_loader(val: Dataset | None, config: TrainConfig) -> DataLoader[object] | None:
    if val is None or len(val) == 0:
        return None
    images = PhotoDataset(
        val, policy="none", image_size=config.image_size, use_bbox=config.use_bbox
    )
    return DataLoader(images, batch_size=config.batch_size, num_workers=0)
