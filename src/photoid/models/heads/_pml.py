"""Adapter from pytorch-metric-learning's large-margin softmax losses to photoid's Head."""

from __future__ import annotations

from typing import Any

import torch

from photoid.models.heads.base import ClassifierHead


class PMLClassifierHead(ClassifierHead):
    """Wraps a PML loss holding class weights ``W`` (D, C) (or (D, C * k) with sub-centres)."""

    def __init__(self, embedding_size: int, num_classes: int, loss: Any) -> None:
        super().__init__(embedding_size, num_classes)
        self.loss = loss

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, labels (B,) int64 -> mean loss over the batch, scalar."""
        loss: torch.Tensor = self.loss(embeddings, labels)
        return loss

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Scaled cosine similarity to each class (its best sub-centre): (B, C) float."""
        logits: torch.Tensor = self.loss.get_logits(embeddings)
        return logits
