"""``last.ckpt``: rewritten every N optimiser steps and at each epoch end, atomically.

Lightning's own checkpoint writer stages the file in the system temp folder and moves it into
place; across filesystems (a tmpfs ``/tmp``, a network run folder) that move is a copy, and a
kill during the copy leaves a truncated checkpoint. Here the checkpoint is written next to its
final name (``last.ckpt.partial``), flushed to disk, and renamed over ``last.ckpt``, which is
atomic on one filesystem: a kill at any moment leaves the previous or the new checkpoint whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Checkpoint

from photoid.train.resumable import ResumableLoader


class LastCheckpoint(Checkpoint):
    """Keeps ``path`` holding the newest training state.

    Saves at every epoch end (after validation, early stopping and the best-model checkpoint
    have updated their states) and, with ``every_n_steps`` > 0, after every ``every_n_steps``
    optimiser steps inside an epoch (not after the epoch's last batch: the epoch-end save
    follows). With the training ``loader`` given, the checkpoint also holds its state, and
    loading the checkpoint hands it back: Lightning does that itself only when it resumes an
    unfinished epoch, not from an epoch-end checkpoint, whose loader state carries the random
    states the next epoch starts from.
    """

    def __init__(
        self, path: Path, every_n_steps: int = 0, loader: ResumableLoader | None = None
    ) -> None:
        self.path = path
        self.every_n_steps = every_n_steps
        self.loader = loader
        self._last_step = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._last_step = trainer.global_step

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        # With gradient accumulation most batches take no optimiser step: saving after one of
        # them would lose the gradients accumulated so far.
        step, stepped = trainer.global_step, trainer.global_step != self._last_step
        self._last_step = step
        if (
            stepped
            and self.every_n_steps > 0
            and step % self.every_n_steps == 0
            and batch_idx + 1 < trainer.num_training_batches
        ):
            self.save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.save(trainer)

    def state_dict(self) -> dict[str, Any]:
        return {} if self.loader is None else {"loader": self.loader.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self.loader is not None and "loader" in state_dict:
            self.loader.load_state_dict(state_dict["loader"])

    def save(self, trainer: L.Trainer) -> None:
        """Write the trainer's full state to ``path`` atomically (rank 0 writes under DDP)."""
        # Reduce the logged metrics now on every rank, as ModelCheckpoint does: rank 0's
        # progress bar reduces them earlier than the other ranks, and without this the
        # other ranks' reduction would pair with the checkpoint's barrier and hang.
        _ = trainer.callback_metrics
        partial = self.path.with_name(self.path.name + ".partial")
        trainer.save_checkpoint(partial, weights_only=False)
        if trainer.is_global_zero:
            replace_durably(partial, self.path)


def replace_durably(source: Path, target: Path) -> None:
    """Flush ``source`` to disk, then rename it over ``target`` (same folder: atomic)."""
    with source.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    if os.name == "posix":
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
