"""Optional auxiliary species classifier on the embedding (e.g. Happywhale's 30 species)."""

from __future__ import annotations

import torch
from torch import nn

from photoid.models.heads.base import ClassifierHead
from photoid.models.heads.focal import focal_loss


class SpeciesHead(ClassifierHead):
    """Linear classifier over species, cross-entropy times ``weight`` (lambda), added by the
    trainer to the identity loss. ``num_classes`` is the number of species.
    """

    def __init__(self, embedding_size: int, num_classes: int, *, weight: float = 0.1) -> None:
        super().__init__(embedding_size, num_classes)
        self.classifier = nn.Linear(embedding_size, num_classes)
        self.weight = weight

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, species labels (B,) int64 (-1: no species, left out) ->
        weight * mean cross-entropy over the photos with a species (0.0 without any), scalar."""
        return self.weight * focal_loss(self.logits(embeddings), labels, gamma=0.0)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, D) -> species scores (B, num_species)."""
        logits: torch.Tensor = self.classifier(embeddings)
        return logits
