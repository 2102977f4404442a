"""The Lightning module: embedder + identity head (+ optional species head and hierarchical
taxonomy heads), AdamW with a head learning-rate multiplier, linear warmup then cosine decay,
validation MAP@5."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Timer
from lightning.pytorch.trainer.states import RunningStage

from photoid.errors import PhotoidError
from photoid.metrics import map_at_k
from photoid.models import Embedder, create_head
from photoid.models.embedder import embedder_config
from photoid.models.heads import SpeciesHead, Taxonomy, TaxonomyHead
from photoid.train.config import TrainConfig


def warmup_cosine(step: float, warmup: int, total: int) -> float:
    """Learning-rate factor: linear from 1/warmup to 1 over ``warmup`` steps, then cosine to 0."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class MetricLearner(L.LightningModule):
    """Trains an :class:`Embedder` with the configured head; logs ``train_loss`` and
    ``val_map5`` (leave-one-out 1-NN ranking among the validation photos, by identity).

    Batches are :class:`photoid.train.dataset.PhotoDataset` samples collated: ``(images,
    labels, indices, species, taxonomy)``. With ``num_species`` > 1 and ``species_weight`` > 0
    a :class:`SpeciesHead` adds ``species_weight`` x its cross-entropy on ``species`` (B,); with
    a ``taxonomy`` and ``taxonomy_weight`` > 0 a :class:`TaxonomyHead` adds ``taxonomy_weight``
    x the sum of its per-level focal losses (``focal_gamma``) on ``taxonomy`` (B, L). Each
    auxiliary loss is logged, ``train_species_loss`` as added (weighted) and
    ``train_<column>_loss`` per taxonomy level before ``taxonomy_weight``, with the accuracy
    over the labelled photos as ``train_species_acc`` and ``train_<column>_acc``.
    """

    def __init__(
        self,
        config: TrainConfig,
        num_classes: int,
        steps_per_epoch: int,
        class_counts: list[int] | None = None,
        num_species: int = 0,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            {
                "config": config.to_dict(),
                "num_classes": num_classes,
                "num_species": num_species,
                "taxonomy": taxonomy.to_dict() if taxonomy is not None else None,
            }
        )
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        self.embedder = Embedder(embedder_config(config))
        params: dict[str, Any] = dict(config.head_params)
        if config.head == "dynamic_arcface":
            params["class_counts"] = class_counts or [1] * num_classes
        self.head = create_head(config.head, config.embedding_size, num_classes, **params)
        self.species_head = (
            SpeciesHead(config.embedding_size, num_species, weight=config.species_weight)
            if num_species > 1 and config.species_weight > 0
            else None
        )
        self.taxonomy_head = (
            TaxonomyHead(config.embedding_size, taxonomy, gamma=config.focal_gamma)
            if taxonomy is not None and config.taxonomy_weight > 0
            else None
        )
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, S, S) float -> (B, D) unit embeddings."""
        embeddings: torch.Tensor = self.embedder(images)
        return embeddings

    def training_step(self, batch: Any, batch_index: int) -> torch.Tensor:
        images, labels = batch[0], batch[1]
        # BN-neck features, not unit vectors: see Embedder.features.
        embeddings = self.embedder.features(images)
        loss: torch.Tensor = self.head(embeddings, labels)
        if self.species_head is not None:
            species = self._auxiliary(batch, 3, "species")
            species_loss = self.species_head(embeddings, species)
            self._log_level("species", species_loss, self.species_head.logits(embeddings), species)
            loss = loss + species_loss
        if self.taxonomy_head is not None:
            taxonomy = self._auxiliary(batch, 4, "taxonomy")
            log_probs = self.taxonomy_head(embeddings)
            levels = self.taxonomy_head.level_losses(log_probs, taxonomy)
            for i, column in enumerate(self.taxonomy_head.taxonomy.columns):
                self._log_level(column, levels[i], log_probs[i], taxonomy[:, i])
            loss = loss + self.config.taxonomy_weight * torch.stack(levels).sum()
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, sync_dist=True)
        return loss

    def _auxiliary(self, batch: Any, position: int, what: str) -> torch.Tensor:
        if len(batch) <= position:
            raise PhotoidError(
                f"the {what} head is on but the batches carry no {what} labels; feed "
                "PhotoDataset samples (image, label, index, species, taxonomy)"
            )
        labels: torch.Tensor = batch[position]
        return labels

    def _log_level(
        self, name: str, loss: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor
    ) -> None:
        """Log one auxiliary level's loss and, when the batch has labels, its accuracy."""
        self.log(f"train_{name}_loss", loss, on_step=True, on_epoch=True, sync_dist=True)
        known = labels >= 0
        if bool(known.any()):
            hits = (scores[known].argmax(dim=1) == labels[known]).float().mean()
            # Not synced: another process's batch may have no label, and would not join the sync.
            self.log(f"train_{name}_acc", hits, on_step=True, on_epoch=True)

    def validation_step(self, batch: Any, batch_index: int) -> None:
        images, labels = batch[0], batch[1]
        self._val.append((self.embedder(images).detach().float().cpu(), labels.cpu()))

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        embeddings = torch.cat([e for e, _ in self._val]).numpy()
        labels = torch.cat([y for _, y in self._val]).numpy()
        self._val.clear()
        score = leave_one_out_map5(embeddings, labels)
        self.log("val_map5", score, prog_bar=True, sync_dist=True)

    def configure_optimizers(self) -> Any:
        backbone = list(self.embedder.backbone.parameters())
        backbone_ids = {id(p) for p in backbone}
        rest = [p for p in self.parameters() if id(p) not in backbone_ids]
        optimizer = torch.optim.AdamW(
            [
                {"params": backbone, "lr": self.config.lr},
                {"params": rest, "lr": self.config.lr * self.config.head_lr_multiplier},
            ],
            weight_decay=self.config.weight_decay,
        )
        steps = max(1, self.steps_per_epoch // self.config.accumulate)
        total = steps * self.config.epochs
        warmup = round(self.config.warmup_epochs * steps)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: warmup_cosine(self.schedule_position(step, warmup, total), warmup, total),
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def schedule_position(self, step: int, warmup: int, total: int) -> float:
        """See :func:`schedule_position`."""
        return schedule_position(self._trainer, self.config.max_minutes, step, warmup, total)


def schedule_position(
    trainer: L.Trainer | None, max_minutes: float, step: int, warmup: int, total: int
) -> float:
    """Where the learning-rate schedule stands after ``step`` optimiser steps: ``step``, or,
    with a wall-time budget (``max_minutes``) that runs out before the last epoch, the
    share of the budget spent mapped onto the steps after warm-up, whichever is further.
    So a run cut short by its budget still ends its cosine at 0 instead of stopping at a
    high learning rate. The time comes from Lightning's ``Timer`` (restored on resume)."""
    if max_minutes <= 0 or trainer is None or step < warmup:
        return step
    callbacks: list[Any] = getattr(trainer, "callbacks", [])  # set by Lightning at runtime
    timer = next((c for c in callbacks if isinstance(c, Timer)), None)
    if timer is None:
        return step
    spent = timer.time_elapsed(RunningStage.TRAINING) / (max_minutes * 60.0)
    return max(float(step), warmup + spent * (total - warmup))


def leave_one_out_map5(embeddings: np.ndarray, labels: np.ndarray) -> float:
    """Each photo of an identity with another photo queries all the others; MAP@5 over
    identities ranked by their best photo's cosine similarity. ``embeddings`` ``(N, D)`` unit
    float32, ``labels`` ``(N,)`` int (negative = unknown, never a query). 0.0 with no query."""
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, -np.inf)
    counts = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, np.int64)
    truth: list[int] = []
    predictions: list[list[int]] = []
    for row in range(len(labels)):
        if labels[row] < 0 or counts[labels[row]] < 2:
            continue
        order = np.argsort(-similarity[row], kind="stable")
        ranked: list[int] = []
        for column in order:
            label = int(labels[column])
            if label >= 0 and label not in ranked:
                ranked.append(label)
            if len(ranked) == 5:
                break
        truth.append(int(labels[row]))
        predictions.append(ranked)
    return map_at_k(truth, predictions, 5) if truth else 0.0
