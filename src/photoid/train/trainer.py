"""The Lightning trainer of every photoid training run (embedders and detectors): checkpoints
(``last.ckpt`` rewritten atomically, the best by a validation score, early stopping), CSV and
TensorBoard logs under the run folder, a wall-time budget and the precision for the device."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from photoid.train.checkpointing import LastCheckpoint
from photoid.train.resumable import ResumableLoader


def precision_name(precision: str) -> str:
    """``auto``: bf16 mixed precision on a GPU, fp32 on the CPU; anything else as given."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if torch.cuda.is_available() else "32-true"


def log_interval(steps_per_epoch: int) -> int:
    """Steps between two logged training steps: five per epoch at least, and no more often than
    every 50 steps on long epochs (Lightning's default). Each logged step waits for the device
    (the loss is read back), so logging every step would cost a GPU run ~10% of its speed."""
    return max(1, min(50, steps_per_epoch // 5))


@dataclass(frozen=True)
class RunSettings:
    """What a run's trainer needs from its config."""

    epochs: int
    max_minutes: float
    accelerator: str
    devices: str
    precision: str
    checkpoint_every_steps: int
    patience: int
    strategy: str = "auto"
    accumulate: int = 1

    @classmethod
    def of(cls, config: Any) -> RunSettings:
        """The fields of this class read from a config holding them (``strategy`` and
        ``accumulate`` where it has them)."""
        names = [f.name for f in fields(cls)]
        return cls(**{n: getattr(config, n) for n in names if hasattr(config, n)})


@dataclass(frozen=True)
class Finished:
    """The checkpoints a run left, and the best validation score (None without validation)."""

    last: Path
    best: Path | None
    score: float | None
    epochs: int


def run_training(
    model: L.LightningModule,
    loader: Any,
    val_loader: Any | None,
    out: Path,
    settings: RunSettings,
    *,
    monitor: str,
    resume: bool = False,
    progress: bool = True,
    resumable: ResumableLoader | None = None,
    **trainer_options: Any,
) -> Finished:
    """Fit ``model`` with checkpoints in ``out/checkpoints`` (``best-{epoch}.ckpt`` by the
    highest ``monitor`` with early stopping after ``patience`` epochs, when there is a
    ``val_loader``), logs in ``out``; ``resume`` continues from ``last.ckpt`` when it exists.
    ``trainer_options`` go to :class:`lightning.Trainer` as they are."""
    checkpoints = out / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    last = checkpoints / "last.ckpt"
    best = ModelCheckpoint(
        dirpath=checkpoints, filename="best-{epoch}", monitor=monitor, mode="max"
    )
    callbacks: list[L.Callback] = []
    if val_loader is not None:
        callbacks += [best, EarlyStopping(monitor, mode="max", patience=settings.patience)]
    # Last, so that the states of the callbacks above are saved after their epoch-end updates.
    callbacks.append(LastCheckpoint(last, settings.checkpoint_every_steps, resumable))
    trainer = L.Trainer(
        max_epochs=settings.epochs,
        max_time=timedelta(minutes=settings.max_minutes) if settings.max_minutes > 0 else None,
        accelerator=settings.accelerator,
        devices=settings.devices,
        strategy=settings.strategy,
        precision=precision_name(settings.precision),  # type: ignore[arg-type]
        accumulate_grad_batches=settings.accumulate,
        callbacks=callbacks,
        logger=[CSVLogger(out, name="logs"), TensorBoardLogger(out, name="tensorboard")],
        default_root_dir=out,
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=log_interval(len(loader)),
        num_sanity_val_steps=0,
        **trainer_options,
    )
    trainer.fit(
        model, loader, val_loader, ckpt_path=str(last) if resume and last.is_file() else None
    )
    has_best = val_loader is not None and bool(best.best_model_path)
    score = best.best_model_score if has_best else None
    return Finished(
        last=last,
        best=Path(best.best_model_path) if has_best else None,
        score=float(score) if score is not None else None,
        epochs=trainer.current_epoch,
    )
