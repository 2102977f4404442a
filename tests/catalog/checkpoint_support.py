"""A photoid checkpoint of an untrained tiny embedder, for catalog tests of the deep engine."""

from __future__ import annotations

from pathlib import Path

import torch

from photoid.models import Embedder
from photoid.models.embedder import embedder_config
from photoid.train.config import resolve_config


def random_checkpoint(path: Path, seed: int = 0) -> Path:
    """A photoid checkpoint of an untrained tiny embedder (32 px, 8-d embeddings), its weights
    drawn with ``seed``."""
    config = resolve_config(
        None, ["backbone=test_resnet", "image_size=32", "embedding_size=8", "use_bbox=false"]
    )
    torch.manual_seed(seed)
    weights = {
        f"embedder.{k}": v for k, v in Embedder(embedder_config(config)).state_dict().items()
    }
    torch.save({"hyper_parameters": {"config": config.to_dict()}, "state_dict": weights}, path)
    return path
