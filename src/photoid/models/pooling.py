"""Global poolings that turn a backbone's feature map (B, C, H, W) into one vector (B, C).

GeM (generalised mean) pooling with a learnable exponent p is from Radenovic, Tolias and Chum,
"Fine-tuning CNN Image Retrieval with No Human Annotation", TPAMI 2018: p=1 is average pooling and
p -> infinity tends to max pooling. Poolings are looked up by name in ``POOLINGS``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from photoid.errors import PhotoidError


class GeM(nn.Module):
    """Generalised-mean pooling ``(mean(clamp(x, eps)^p))^(1/p)`` over H and W, p learnable.

    Args:
        p: initial exponent (3.0 in the paper); a trainable parameter of shape (1,).
        eps: floor applied to activations before the power, so negative inputs cannot give NaN.
    """

    def __init__(self, p: float = 3.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.full((1,), float(p)))
        self.eps = eps

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (B, C, H, W) float -> (B, C) float."""
        powered = features.clamp(min=self.eps).pow(self.p)
        return powered.mean(dim=(-2, -1)).pow(1.0 / self.p)

    def extra_repr(self) -> str:
        return f"p={self.p.item():.4f}, eps={self.eps}"


class AvgPool(nn.Module):
    """Global average pooling: (B, C, H, W) -> (B, C)."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features.mean(dim=(-2, -1))


class MaxPool(nn.Module):
    """Global max pooling: (B, C, H, W) -> (B, C)."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features.amax(dim=(-2, -1))


POOLINGS: dict[str, Callable[..., nn.Module]] = {"gem": GeM, "avg": AvgPool, "max": MaxPool}


def create_pooling(name: str, **params: float) -> nn.Module:
    """The pooling registered as ``name`` (gem, avg, max), built with ``params`` (e.g. p=3.0)."""
    if name not in POOLINGS:
        raise PhotoidError(f"unknown pooling {name!r}; choose one of {', '.join(sorted(POOLINGS))}")
    return POOLINGS[name](**params)
