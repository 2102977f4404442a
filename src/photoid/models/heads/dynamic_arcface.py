"""Sub-center ArcFace with a margin per class set from its frequency ("dynamic margins").

Rare classes get larger margins: ``m_c = a * n_c**(-lam) + b`` with ``n_c`` the number of
training images of class c. Dynamic margins come from the Google Landmark Recognition 2020 3rd
place solution (Ha et al., arXiv:2010.05350); with sub-center ArcFace (k=2) they are the
identity head of the Happywhale 2022 Kaggle winner (github.com/knshnb/kaggle-happywhale-1st-place),
whose config/default.yaml gives the defaults here (a=0.27126, lam=0.364399, b=0.05, s=20.9588,
k=2). pytorch-metric-learning has no per-class margin, so the loss
is written here, with the same formula as its ArcFaceLoss: for target angle theta and margin m,
``cos(theta + m)`` while ``theta <= pi - m``, else ``cos(theta) - m * sin(m)``, logits times s,
cross-entropy averaged over the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.heads.base import ClassifierHead


def dynamic_margins(
    class_counts: Sequence[int], *, a: float = 0.27126, lam: float = 0.364399, b: float = 0.05
) -> torch.Tensor:
    """Margins in radians, (C,) float32: ``a * n_c ** (-lam) + b`` for each class count n_c >= 1."""
    counts = torch.as_tensor(list(class_counts), dtype=torch.float64)
    if counts.ndim != 1 or counts.numel() == 0:
        raise PhotoidError("class_counts must be a non-empty list of per-class image counts")
    if bool((counts < 1).any()):
        bad = int(torch.nonzero(counts < 1)[0, 0])
        raise PhotoidError(f"class {bad} has {int(counts[bad])} training images; need >= 1")
    return (a * counts.pow(-lam) + b).to(torch.float32)


class DynamicArcFaceHead(ClassifierHead):
    """Sub-center ArcFace whose class c uses margin ``m_c`` (radians) from its image count.

    Args:
        class_counts: n_c, training images per class, length num_classes.
        a, lam, b: margin formula coefficients, ``m_c = a * n_c**(-lam) + b`` (radians).
        scale: logit scale s.
        sub_centers: k, centres per class.
    Weights ``W`` are (embedding_size, num_classes * k), column ``c * k + j`` for centre j of
    class c, laid out as in pytorch-metric-learning's SubCenterArcFaceLoss.
    """

    def __init__(
        self,
        embedding_size: int,
        num_classes: int,
        *,
        class_counts: Sequence[int],
        a: float = 0.27126,
        lam: float = 0.364399,
        b: float = 0.05,
        scale: float = 20.9588,
        sub_centers: int = 2,
    ) -> None:
        super().__init__(embedding_size, num_classes)
        margins = dynamic_margins(class_counts, a=a, lam=lam, b=b)
        if margins.numel() != num_classes:
            raise PhotoidError(
                f"class_counts has {margins.numel()} entries for {num_classes} classes"
            )
        self.scale = scale
        self.sub_centers = sub_centers
        self.margins: torch.Tensor
        self.register_buffer("margins", margins)
        self.W = nn.Parameter(torch.empty(embedding_size, num_classes * sub_centers))
        nn.init.normal_(self.W)

    def _cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, D) -> cosine to each class's closest sub-centre, (B, C)."""
        cosine = F.normalize(embeddings, dim=1) @ F.normalize(self.W, dim=0)
        return cosine.view(-1, self.num_classes, self.sub_centers).amax(dim=2)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, labels (B,) int64 -> mean cross-entropy, scalar."""
        cosine = self._cosine(embeddings)
        target = cosine.gather(1, labels.unsqueeze(1)).squeeze(1)
        angles = torch.acos(target.clamp(-1.0, 1.0))
        margin = self.margins[labels].to(cosine.dtype)
        modified = torch.where(
            angles <= math.pi - margin,
            torch.cos(angles + margin),
            target - margin * torch.sin(margin),
        )
        logits = cosine.scatter(1, labels.unsqueeze(1), modified.unsqueeze(1))
        return F.cross_entropy(logits * self.scale, labels)

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Scaled cosine to each class's closest sub-centre, no margin: (B, C) float."""
        return self._cosine(embeddings) * self.scale
