"""GeM against hand-computed averages and maxima; the registry by name."""

from __future__ import annotations

import pytest
import torch

from photoid.errors import PhotoidError
from photoid.models.pooling import GeM, create_pooling

# One channel holding 1, 2, 3, 4 in a 2x2 map; a second channel holding 2 everywhere.
MAP = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[2.0, 2.0], [2.0, 2.0]]]])


def test_gem_at_p1_is_the_average() -> None:
    pooled = GeM(p=1.0)(MAP)
    assert pooled.shape == (1, 2)
    assert pooled[0].tolist() == pytest.approx([2.5, 2.0])


def test_gem_at_p2_is_the_root_mean_square() -> None:
    # sqrt((1 + 4 + 9 + 16) / 4) = sqrt(7.5)
    assert GeM(p=2.0)(MAP)[0, 0].item() == pytest.approx(7.5**0.5, rel=1e-6)


def test_gem_tends_to_max_for_large_p() -> None:
    # (4**100 / 4 + smaller terms) ** (1/100) ~= 4 * 0.25 ** 0.01 = 3.9448
    pooled = GeM(p=100.0)(MAP.double())
    assert pooled[0, 0].item() == pytest.approx(4 * 0.25**0.01, rel=1e-6)
    assert pooled[0, 0].item() > 3.9
    assert pooled[0, 1].item() == pytest.approx(2.0)


def test_gem_p_is_learnable() -> None:
    gem = GeM(p=3.0)
    gem(MAP).sum().backward()
    assert gem.p.requires_grad
    assert gem.p.grad is not None
    assert gem.p.grad.abs().item() > 0


def test_gem_clamps_negative_activations() -> None:
    pooled = GeM(p=3.0)(torch.full((1, 1, 2, 2), -5.0))
    assert torch.isfinite(pooled).all()


@pytest.mark.parametrize(("name", "expected"), [("avg", [2.5, 2.0]), ("max", [4.0, 2.0])])
def test_registry_avg_and_max(name: str, expected: list[float]) -> None:
    assert create_pooling(name)(MAP).tolist() == [expected]


def test_unknown_pooling_lists_choices() -> None:
    with pytest.raises(PhotoidError, match="avg, gem, max"):
        create_pooling("median")
