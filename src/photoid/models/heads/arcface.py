"""ArcFace (Deng et al., CVPR 2019): additive angular margin on the target class."""

from __future__ import annotations

import math

from pytorch_metric_learning.losses import ArcFaceLoss  # type: ignore[import-untyped]

from photoid.models.heads._pml import PMLClassifierHead


class ArcFaceHead(PMLClassifierHead):
    """``cos(theta_y + margin)`` for the target class, all logits times ``scale``.

    Args:
        margin: angular margin in radians (0.5 rad = 28.65 degrees, the paper's value); converted
            to the degrees pytorch-metric-learning takes.
        scale: logit scale s.
    """

    def __init__(
        self, embedding_size: int, num_classes: int, *, margin: float = 0.5, scale: float = 64.0
    ) -> None:
        loss = ArcFaceLoss(
            num_classes=num_classes,
            embedding_size=embedding_size,
            margin=math.degrees(margin),
            scale=scale,
        )
        super().__init__(embedding_size, num_classes, loss)
