"""The Lightning module that trains a detector: torchvision's detection losses summed, AdamW
with linear warm-up then cosine decay (as ``photoid train``), and ``val_recall``: the share of
validation boxes covered at IoU 0.5 by the boxes ``photoid detect`` would keep (one per animal,
at or above ``score_threshold``, best first), as many as the photo has animals: a detector that
scatters boxes everywhere does not score by luck. ``val_precision``: the share of all kept
boxes that cover an animal."""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch

from photoid.detect.animals import animals
from photoid.detect.config import DetectorConfig
from photoid.detect.model import build_detector
from photoid.metrics.detection import detection_recall, matched_truths
from photoid.train.module import schedule_position, warmup_cosine

Batch = tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]


class DetectorLearner(L.LightningModule):
    """Trains ``build_detector(config)``; the checkpoint's hyper-parameters hold the config."""

    def __init__(self, config: DetectorConfig, steps_per_epoch: int) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config.to_dict(), "kind": "photoid-detector"})
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        self.model = build_detector(config)
        self._truths: list[np.ndarray] = []
        self._founds: list[np.ndarray] = []

    def training_step(self, batch: Batch, batch_index: int) -> torch.Tensor:
        images, targets = batch
        plain = [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
        losses: dict[str, torch.Tensor] = self.model(images, plain)
        loss = torch.stack(list(losses.values())).sum()
        self.log("train_loss", loss, prog_bar=True, batch_size=len(images))
        for name, value in losses.items():
            self.log(f"train_{name}", value, batch_size=len(images))
        return loss

    def validation_step(self, batch: Batch, batch_index: int) -> None:
        images, targets = batch
        outputs: list[dict[str, torch.Tensor]] = self.model(images)
        for output, target in zip(outputs, targets, strict=True):
            corners, _ = animals(
                output["boxes"].float().cpu().numpy(),
                output["scores"].float().cpu().numpy(),
                self.config.score_threshold,
                self.config.several_iou,
                self.config.several_score,
            )
            truth = target["boxes"].float().cpu().numpy()
            self._founds.append(corners)
            self._truths.append(truth)

    def on_validation_epoch_end(self) -> None:
        firsts = [f[: max(1, len(t))] for t, f in zip(self._truths, self._founds, strict=True)]
        recall = detection_recall(self._truths, firsts) if self._truths else 0.0
        kept = sum(len(f) for f in self._founds)
        hits = sum(
            int(matched_truths(t, f).sum()) for t, f in zip(self._truths, self._founds, strict=True)
        )
        self._truths, self._founds = [], []
        self.log("val_recall", float(recall), prog_bar=True, sync_dist=True)
        self.log("val_precision", hits / kept if kept else 0.0, sync_dist=True)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay
        )
        total = max(1, self.steps_per_epoch) * self.config.epochs
        warmup = round(self.config.warmup_epochs * max(1, self.steps_per_epoch))
        budget = self.config.max_minutes

        def factor(step: int) -> float:
            position = schedule_position(self._trainer, budget, step, warmup, total)
            return warmup_cosine(position, warmup, total)

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
