"""Sub-center ArcFace (Deng et al., ECCV 2020): k weight vectors per class, the closest counts."""

from __future__ import annotations

import math

from pytorch_metric_learning.losses import SubCenterArcFaceLoss  # type: ignore[import-untyped]

from photoid.models.heads._pml import PMLClassifierHead


class SubCenterArcFaceHead(PMLClassifierHead):
    """ArcFace over the best of ``sub_centers`` centres per class, robust to noisy labels.

    Args:
        margin: angular margin in radians (converted to degrees for pytorch-metric-learning).
        scale: logit scale s.
        sub_centers: k, centres per class.
    """

    def __init__(
        self,
        embedding_size: int,
        num_classes: int,
        *,
        margin: float = 0.5,
        scale: float = 64.0,
        sub_centers: int = 2,
    ) -> None:
        loss = SubCenterArcFaceLoss(
            num_classes=num_classes,
            embedding_size=embedding_size,
            margin=math.degrees(margin),
            scale=scale,
            sub_centers=sub_centers,
        )
        super().__init__(embedding_size, num_classes, loss)
