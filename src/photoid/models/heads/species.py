"""Optional auxiliary species classifier on the embedding (e.g. Happywhale's 30 species)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from photoid.models.heads.base import ClassifierHead


class SpeciesHead(ClassifierHead):
    """Linear classifier over species, cross-entropy times ``weight`` (lambda), added by the
    trainer to the identity loss. ``num_classes`` is the number of species.
    """

    def __init__(self, embedding_size: int, num_classes: int, *, weight: float = 0.1) -> None:
        super().__init__(embedding_size, num_classes)
        self.classifier = nn.Linear(embedding_size, num_classes)
        self.weight = weight

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, species labels (B,) int64 -> weight * cross-entropy, scalar."""
        return self.weight * F.cross_entropy(self.logits(embeddings), labels)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, D) -> species scores (B, num_species)."""
        logits: torch.Tensor = self.classifier(embeddings)
        return logits
