"""CosFace (Wang et al., CVPR 2018): additive cosine margin on the target class."""

from __future__ import annotations

from pytorch_metric_learning.losses import CosFaceLoss  # type: ignore[import-untyped]

from photoid.models.heads._pml import PMLClassifierHead


class CosFaceHead(PMLClassifierHead):
    """``cos(theta_y) - margin`` for the target class, all logits times ``scale``.

    Args:
        margin: cosine margin (unitless, subtracted from a cosine similarity); 0.35 in the paper.
        scale: logit scale s.
    """

    def __init__(
        self, embedding_size: int, num_classes: int, *, margin: float = 0.35, scale: float = 64.0
    ) -> None:
        loss = CosFaceLoss(
            num_classes=num_classes, embedding_size=embedding_size, margin=margin, scale=scale
        )
        super().__init__(embedding_size, num_classes, loss)
