"""The embedding network: backbone -> pooling -> dropout -> linear -> BatchNorm neck -> L2 norm.

The BN neck (a BatchNorm1d after the projection) follows the re-identification "bag of tricks"
(Luo et al., CVPR-W 2019); every head in ``photoid.models.heads`` takes its output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.backbone import create_backbone
from photoid.models.pooling import create_pooling

if TYPE_CHECKING:
    from photoid.train.config import TrainConfig


@dataclass(frozen=True)
class EmbedderConfig:
    """Everything that decides the embedder's architecture and starting weights.

    Attributes:
        backbone: timm model name (or ``hf-hub:`` name).
        embedding_size: D, length of the output vectors.
        pooling: name in ``photoid.models.pooling.POOLINGS`` (gem, avg, max).
        pretrained: download timm's pretrained weights (needs the network).
        weights: local .safetensors / torch state dict for the backbone, used offline.
        dropout: probability applied to the pooled features before the projection.
        gem_p: initial GeM exponent (used only when pooling is "gem").
        in_chans: image channels.
    """

    backbone: str
    embedding_size: int = 512
    pooling: str = "gem"
    pretrained: bool = False
    weights: Path | None = None
    dropout: float = 0.0
    gem_p: float = 3.0
    in_chans: int = 3

    def fingerprint(self) -> str:
        """16 hex characters of sha256 over the settings; equal configs give equal fingerprints."""
        settings = asdict(self)
        settings["weights"] = None if self.weights is None else str(self.weights)
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class Embedder(nn.Module):
    """images (B, in_chans, H, W) float -> embeddings (B, D) float, each row of unit L2 norm."""

    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__()
        if config.embedding_size < 1:
            raise PhotoidError(f"embedding_size must be positive, got {config.embedding_size}")
        if not 0.0 <= config.dropout < 1.0:
            raise PhotoidError(f"dropout must be in [0, 1), got {config.dropout}")
        self.config = config
        self.backbone = create_backbone(
            config.backbone,
            pretrained=config.pretrained,
            weights=config.weights,
            in_chans=config.in_chans,
        )
        params = {"p": config.gem_p} if config.pooling == "gem" else {}
        self.pooling = create_pooling(config.pooling, **params)
        self.dropout = nn.Dropout(config.dropout)
        channels = int(getattr(self.backbone, "num_features"))  # noqa: B009 (set by timm)
        self.projection = nn.Linear(channels, config.embedding_size, bias=False)
        self.neck = nn.BatchNorm1d(config.embedding_size)

    @property
    def embedding_size(self) -> int:
        """D, the length of the output vectors."""
        return self.config.embedding_size

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, in_chans, H, W) float -> (B, embedding_size) float BN-neck features,
        before L2 normalisation: what the training heads see (margin heads normalise them
        themselves; a softmax classifier needs their scale to reach confident logits).

        A call of the module (``self(images, normalize=False)``), so that what is applied to
        its call (``torch.compile``, the channels_last input hook) applies to training too."""
        features: torch.Tensor = self(images, normalize=False)
        return features

    def forward(self, images: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """images (B, in_chans, H, W) float -> (B, embedding_size) float, L2-normalised rows
        (the BN-neck features themselves with ``normalize=False``)."""
        # forward_features: the last feature map, whose width is num_features (calling the
        # model would also run extra head layers of some families, e.g. MobileNetV3's conv_head).
        maps: torch.Tensor = self.backbone.forward_features(images)  # type: ignore[operator]
        if maps.ndim == 3:
            # Transformer tokens (B, N, C) become a (B, C, N, 1) map for the same poolings.
            maps = maps.transpose(1, 2).unsqueeze(-1)
        pooled: torch.Tensor = self.pooling(maps)
        projected: torch.Tensor = self.neck(self.projection(self.dropout(pooled)))
        return F.normalize(projected, p=2.0, dim=1) if normalize else projected


def embedder_config(config: TrainConfig) -> EmbedderConfig:
    """The embedder's architecture settings out of a training config."""
    return EmbedderConfig(
        backbone=config.backbone,
        embedding_size=config.embedding_size,
        pooling=config.pooling,
        pretrained=config.pretrained,
        weights=Path(config.weights) if config.weights else None,
    )
