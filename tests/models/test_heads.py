"""Every head on a tiny separable problem; margins in radians; dynamic margins by hand."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import ArcFaceLoss  # type: ignore[import-untyped]

from photoid.errors import PhotoidError
from photoid.models.heads import (
    HEADS,
    ArcFaceHead,
    ClassifierHead,
    DynamicArcFaceHead,
    Head,
    SpeciesHead,
    SubCenterArcFaceHead,
    create_head,
    dynamic_margins,
)

CLASSES = 4
PER_CLASS = 8
DIM = 16
PARAMS: dict[str, dict[str, Any]] = {"dynamic_arcface": {"class_counts": [1, 3, 9, 27]}}


def _problem() -> tuple[torch.Tensor, torch.Tensor]:
    """4 clusters of 8 points in R^8 (centres 3 apart, noise 0.5) and their labels."""
    generator = torch.Generator().manual_seed(0)
    centres = 3.0 * torch.randn(CLASSES, 8, generator=generator)
    labels = torch.arange(CLASSES).repeat_interleave(PER_CLASS)
    points = centres[labels] + 0.5 * torch.randn(len(labels), 8, generator=generator)
    return points, labels


def _build(name: str) -> Head:
    if name == "species":
        return SpeciesHead(DIM, CLASSES, weight=1.0)
    return create_head(name, DIM, CLASSES, **PARAMS.get(name, {}))


@pytest.mark.parametrize("name", [*sorted(HEADS), "species"])
def test_head_loss_decreases_when_trained(name: str) -> None:
    torch.manual_seed(0)
    points, labels = _problem()
    encoder = torch.nn.Linear(8, DIM)
    head = _build(name)
    optimiser = torch.optim.SGD([*encoder.parameters(), *head.parameters()], lr=0.05)
    losses = []
    for _ in range(15):
        loss = head(F.normalize(encoder(points), dim=1), labels)
        assert loss.ndim == 0
        assert torch.isfinite(loss)
        losses.append(loss.item())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert losses[0] > 0
    assert losses[-1] < 0.9 * losses[0]
    if isinstance(head, ClassifierHead):
        logits = head.logits(F.normalize(encoder(points), dim=1))
        assert logits.shape == (CLASSES * PER_CLASS, CLASSES)
    else:
        assert name == "triplet"


def test_every_registered_head_but_triplet_has_logits() -> None:
    with_logits = {name for name, cls in HEADS.items() if issubclass(cls, ClassifierHead)}
    assert set(HEADS) - with_logits == {"triplet"}


def test_arcface_margin_radians_become_pml_degrees() -> None:
    assert math.degrees(0.5) == pytest.approx(28.6479, abs=1e-4)
    head = ArcFaceHead(DIM, CLASSES, margin=0.5, scale=30.0)
    assert head.loss.margin == pytest.approx(0.5)  # PML stores radians after its conversion
    reference = ArcFaceLoss(num_classes=CLASSES, embedding_size=DIM, margin=28.6479, scale=30.0)
    reference.W.data.copy_(head.loss.W.data)
    embeddings = F.normalize(torch.randn(8, DIM), dim=1)
    labels = torch.arange(8) % CLASSES
    assert head(embeddings, labels).item() == pytest.approx(
        reference(embeddings, labels).item(), rel=1e-5
    )


def test_subcenter_margin_radians_become_pml_degrees() -> None:
    head = SubCenterArcFaceHead(DIM, CLASSES, margin=0.3, sub_centers=3)
    assert head.loss.margin == pytest.approx(0.3)
    assert head.loss.W.shape == (DIM, CLASSES * 3)


def test_dynamic_margins_by_hand() -> None:
    # 0.5 * n**-0.25 + 0.05 for n = 1, 16, 81: 0.5 + 0.05, 0.25 + 0.05, 0.5/3 + 0.05
    margins = dynamic_margins([1, 16, 81], a=0.5, lam=0.25, b=0.05)
    assert margins.tolist() == pytest.approx([0.55, 0.30, 0.5 / 3 + 0.05], rel=1e-6)


def test_dynamic_margin_loss_by_hand() -> None:
    # Class centres e1, e2; each sample sits on its own centre (angle 0), so its target logit is
    # s * cos(m_c) and the other is 0: loss_i = log(1 + exp(-s * cos(m_c))).
    head = DynamicArcFaceHead(
        2, 2, class_counts=[1, 16], a=0.5, lam=0.25, b=0.05, scale=2.0, sub_centers=1
    )
    head.W.data = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = head(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1]))
    expected = math.log1p(math.exp(-2 * math.cos(0.55))) + math.log1p(math.exp(-2 * math.cos(0.3)))
    assert loss.item() == pytest.approx(expected / 2, rel=1e-6)


def test_dynamic_with_equal_margins_matches_fixed_subcenter_arcface() -> None:
    torch.manual_seed(1)
    fixed = SubCenterArcFaceHead(DIM, CLASSES, margin=0.5, scale=64.0, sub_centers=2)
    dynamic = DynamicArcFaceHead(
        DIM, CLASSES, class_counts=[2, 5, 7, 11], a=0.0, b=0.5, scale=64.0, sub_centers=2
    )
    dynamic.W.data.copy_(fixed.loss.W.data)
    embeddings = F.normalize(torch.randn(12, DIM), dim=1)
    labels = torch.arange(12) % CLASSES
    # Sample 0 faces away from every centre of its class: the theta > pi - m branch.
    embeddings[0] = -F.normalize(fixed.loss.W.data[:, 0:2].sum(dim=1), dim=0)
    assert dynamic(embeddings, labels).item() == pytest.approx(
        fixed(embeddings, labels).item(), rel=1e-5
    )
    assert torch.allclose(dynamic.logits(embeddings) / 64.0, fixed.logits(embeddings) / 64.0)


def test_dynamic_refuses_wrong_counts() -> None:
    with pytest.raises(PhotoidError, match="3 entries for 4 classes"):
        DynamicArcFaceHead(DIM, CLASSES, class_counts=[1, 2, 3])
    with pytest.raises(PhotoidError, match="class 1 has 0 training images"):
        DynamicArcFaceHead(DIM, 2, class_counts=[4, 0])


def test_unknown_head_and_bad_params_are_refused() -> None:
    with pytest.raises(PhotoidError, match="unknown head 'circle'"):
        create_head("circle", DIM, CLASSES)
    with pytest.raises(PhotoidError, match="head 'arcface'"):
        create_head("arcface", DIM, CLASSES, margn=0.5)
    with pytest.raises(PhotoidError, match="unknown triplet miner"):
        create_head("triplet", DIM, CLASSES, miner="semi_hard")


def test_species_head_leaves_photos_without_species_out() -> None:
    head = SpeciesHead(DIM, CLASSES, weight=0.5)
    embeddings = F.normalize(torch.randn(4, DIM), dim=1)
    labels = torch.tensor([2, -1, 0, -1])
    expected = 0.5 * F.cross_entropy(head.logits(embeddings)[[0, 2]], labels[[0, 2]])
    assert head(embeddings, labels).item() == pytest.approx(expected.item(), rel=1e-6)
    assert head(embeddings, torch.tensor([-1, -1, -1, -1])).item() == 0.0
