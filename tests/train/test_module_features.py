"""The training heads see the BN-neck features, not the unit embeddings."""

from __future__ import annotations

import torch

from photoid.train.config import TrainConfig
from photoid.train.module import MetricLearner


def test_softmax_head_gets_unnormalised_features() -> None:
    config = TrainConfig(backbone="test_efficientnet", embedding_size=16, head="softmax")
    model = MetricLearner(config, num_classes=3, steps_per_epoch=1)
    seen: list[torch.Tensor] = []
    model.head.register_forward_hook(lambda _m, inputs, _out: seen.append(inputs[0].detach()))
    model.log = lambda *args, **kwargs: None  # type: ignore[method-assign]
    images = torch.randn(6, 3, 32, 32)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    model.training_step((images, labels, torch.arange(6)), 0)
    # Training-mode BN over the batch: each feature has unit variance, so a row's length is
    # about sqrt(16) = 4, not 1.
    norms = seen[0].norm(dim=1)
    assert norms.mean() > 2.0
    model.eval()
    assert torch.allclose(model(images).norm(dim=1), torch.ones(6), atol=1e-5)
