"""A photoid checkpoint of an untrained tiny embedder, for tests of everything that loads one."""

from __future__ import annotations

from pathlib import Path

import torch

from photoid.models import Embedder
from photoid.models.embedder import embedder_config
from photoid.train.config import resolve_config


def random_checkpoint(
    path: Path, seed: int = 0, *, embedding_size: int = 8, use_bbox: bool = False
) -> Path:
    """A photoid checkpoint of an untrained tiny embedder (32 px, ``embedding_size``-d), its
    weights drawn with ``seed``; parent folders are made."""
    config = resolve_config(
        None,
        [
            "backbone=test_resnet",
            "image_size=32",
            f"embedding_size={embedding_size}",
            f"use_bbox={str(use_bbox).lower()}",
        ],
    )
    torch.manual_seed(seed)
    weights = {
        f"embedder.{k}": v for k, v in Embedder(embedder_config(config)).state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"hyper_parameters": {"config": config.to_dict()}, "state_dict": weights}, path)
    return path
