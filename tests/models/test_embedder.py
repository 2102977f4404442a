"""The embedder's output contract and its config fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from photoid.errors import PhotoidError
from photoid.models.embedder import Embedder, EmbedderConfig


@pytest.mark.parametrize(
    ("backbone", "pooling"),
    [("test_convnext", "gem"), ("test_efficientnet", "avg"), ("test_vit", "max")],
)
def test_output_is_unit_norm_rows(backbone: str, pooling: str) -> None:
    model = Embedder(EmbedderConfig(backbone, embedding_size=32, pooling=pooling, dropout=0.1))
    out = model(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, 32)
    assert out.dtype == torch.float32
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)


def test_gradients_reach_backbone_and_gem() -> None:
    model = Embedder(EmbedderConfig("test_convnext", embedding_size=8))
    model(torch.randn(2, 3, 64, 64))[:, 0].sum().backward()
    first = next(model.backbone.parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0
    assert model.pooling.p.grad is not None


def test_fingerprint_changes_with_settings() -> None:
    base = EmbedderConfig("test_convnext")
    assert base.fingerprint() == EmbedderConfig("test_convnext").fingerprint()
    assert len(base.fingerprint()) == 16
    others = {
        EmbedderConfig("test_convnext", embedding_size=256).fingerprint(),
        EmbedderConfig("test_convnext", weights=Path("w.pt")).fingerprint(),
        EmbedderConfig("test_resnet").fingerprint(),
    }
    assert base.fingerprint() not in others
    assert len(others) == 3


def test_bad_embedding_size_is_refused() -> None:
    with pytest.raises(PhotoidError, match="embedding_size"):
        Embedder(EmbedderConfig("test_convnext", embedding_size=0))


def test_features_are_the_unnormalised_neck_output_of_forward() -> None:
    model = Embedder(EmbedderConfig("test_efficientnet", embedding_size=16)).eval()
    images = torch.randn(4, 3, 64, 64)
    features = model.features(images)
    # Eval-mode BN of a random projection: rows are far from unit length.
    assert not torch.allclose(features.norm(dim=1), torch.ones(4), atol=0.05)
    assert torch.allclose(model(images), features / features.norm(dim=1, keepdim=True), atol=1e-6)


def test_mobilenetv3_pools_its_last_feature_map() -> None:
    # MobileNetV3's own head adds a 1x1 conv (576 -> 1024 channels) after pooling; the embedder
    # pools forward_features (576 channels = num_features), so the projection fits.
    model = Embedder(EmbedderConfig("mobilenetv3_small_100", embedding_size=8))
    assert model.projection.in_features == 576
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 8)


def test_features_go_through_the_module_call_so_compile_and_hooks_cover_training() -> None:
    model = Embedder(EmbedderConfig("test_resnet", embedding_size=8)).eval()
    graphs: list[object] = []

    def record(graph: torch.fx.GraphModule, inputs: list[torch.Tensor]) -> object:
        graphs.append(graph)
        return graph.forward

    formats: list[bool] = []
    model.register_forward_pre_hook(
        lambda m, a: formats.append(a[0].is_contiguous(memory_format=torch.channels_last))
    )
    model.compile(backend=record)
    images = torch.randn(2, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    features = model.features(images)
    assert graphs, "features() bypassed the compiled module call"
    assert formats == [True]
    assert torch.allclose(model(images), features / features.norm(dim=1, keepdim=True), atol=1e-5)
