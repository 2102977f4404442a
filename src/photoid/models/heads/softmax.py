"""Plain softmax classification over all identities, as in the Turtle Recall 2022 winner.

A linear layer with bias on the embedding, trained with cross-entropy; no margin, no
normalisation of the weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from photoid.models.heads.base import ClassifierHead


class SoftmaxHead(ClassifierHead):
    """Linear classifier ``W e + c`` over num_classes, cross-entropy loss.

    Args:
        label_smoothing: cross-entropy label smoothing in [0, 1).
    """

    def __init__(
        self, embedding_size: int, num_classes: int, *, label_smoothing: float = 0.0
    ) -> None:
        super().__init__(embedding_size, num_classes)
        self.classifier = nn.Linear(embedding_size, num_classes)
        self.label_smoothing = label_smoothing

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, labels (B,) int64 -> mean cross-entropy, scalar."""
        return F.cross_entropy(
            self.logits(embeddings), labels, label_smoothing=self.label_smoothing
        )

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, D) -> unnormalised class scores (B, C)."""
        logits: torch.Tensor = self.classifier(embeddings)
        return logits
