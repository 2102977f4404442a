"""Softmax focal loss (Lin et al., 2017, "Focal Loss for Dense Object Detection").

``FL = -(1 - p_t)^gamma * log(p_t)``, ``p_t`` the softmax probability of the true class. It
down-weights examples the model already gets right, so rare classes of a long-tailed label set
(Herbarium's genera and families) are not drowned by the common ones. ``gamma = 0`` is plain
cross-entropy. torchvision's ``sigmoid_focal_loss`` is the one-vs-rest (sigmoid) form and timm's
focal terms are multi-label, hence this small softmax version.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from photoid.errors import PhotoidError

IGNORE_LABEL = -1


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """Mean focal loss over the labelled samples.

    Args:
        logits: ``(B, C)`` float class scores; log-probabilities work too (``log_softmax``
            leaves them unchanged).
        labels: ``(B,)`` int64 in ``[0, C)``; ``-1`` marks an unlabelled sample, left out.
        gamma: focusing exponent, 0 or more (0 gives cross-entropy).

    Returns:
        A float scalar; 0.0 (still attached to ``logits``' graph) when no sample is labelled.
    """
    if gamma < 0:
        raise PhotoidError(f"focal loss gamma must be 0 or more, got {gamma}")
    known = labels != IGNORE_LABEL
    if not bool(known.any()):
        return logits.sum() * 0.0
    log_p = F.log_softmax(logits[known].float(), dim=1)
    log_p_true = log_p.gather(1, labels[known].unsqueeze(1)).squeeze(1)
    weight = (1.0 - log_p_true.exp()).clamp_min(0.0) ** gamma
    return -(weight * log_p_true).mean()
