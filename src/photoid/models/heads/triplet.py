"""Triplet loss on cosine similarity with batch-hard mining (Hermans et al., 2017).

For each anchor, the miner picks its hardest positive (least similar same-class embedding) and
hardest negative (most similar other-class one) in the batch; the loss is
``max(0, cos(a, n) - cos(a, p) + margin)`` averaged over the triplets with a non-zero loss. The
margin is in cosine units, which equal cosine-distance units (distance = 1 - cosine). Batches need
at least two images of some class (use an M-per-class sampler).
"""

from __future__ import annotations

from typing import Any

import torch
from pytorch_metric_learning.distances import CosineSimilarity  # type: ignore[import-untyped]
from pytorch_metric_learning.losses import TripletMarginLoss  # type: ignore[import-untyped]
from pytorch_metric_learning.miners import (  # type: ignore[import-untyped]
    BatchEasyHardMiner,
    BatchHardMiner,
)

from photoid.errors import PhotoidError
from photoid.models.heads.base import Head

_MINERS = ("batch_hard", "batch_easy_hard")


class TripletHead(Head):
    """Triplet margin loss with a batch miner; no class weights, so no ``logits``.

    Args:
        margin: required gap between positive and negative cosine similarity (= cosine distance).
        miner: "batch_hard" (hardest positive, hardest negative) or "batch_easy_hard" (easiest
            positive, hardest negative; Xuan et al., WACV 2020).
    ``num_classes`` is kept for the shared interface and unused.
    """

    def __init__(
        self,
        embedding_size: int,
        num_classes: int,
        *,
        margin: float = 0.2,
        miner: str = "batch_hard",
    ) -> None:
        super().__init__(embedding_size, num_classes)
        if miner not in _MINERS:
            raise PhotoidError(f"unknown triplet miner {miner!r}; choose one of {_MINERS}")
        distance = CosineSimilarity()
        self.miner: Any = (
            BatchHardMiner(distance=distance)
            if miner == "batch_hard"
            else BatchEasyHardMiner(distance=distance)
        )
        self.loss: Any = TripletMarginLoss(margin=margin, distance=distance)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, labels (B,) int64 -> loss, scalar (0 with no valid triplet)."""
        triplets = self.miner(embeddings, labels)
        loss: torch.Tensor = self.loss(embeddings, labels, triplets)
        return loss
