"""Chained taxonomy heads: hand-computed log-probabilities, the chain's gradients, training."""

from __future__ import annotations

import math

import pytest
import torch

from photoid.errors import PhotoidError
from photoid.models.heads import Taxonomy, TaxonomyHead

# families f0, f1, f2; genera g0, g1 (family f0) and g2 (family f1); f2 has no genus.
TREE = Taxonomy(
    columns=("family", "genus"),
    names=(("f0", "f1", "f2"), ("g0", "g1", "g2")),
    parents=((), (0, 0, 1)),
)


def _head_with_biases(family: list[float], genus: list[float]) -> TaxonomyHead:
    """A head whose scores are its biases, whatever the embedding."""
    head = TaxonomyHead(2, TREE, gamma=0.0)
    with torch.no_grad():
        for classifier, bias in zip(head.classifiers, (family, genus), strict=True):
            classifier.weight.zero_()
            classifier.bias.copy_(torch.tensor(bias))
    return head


def test_log_probabilities_follow_the_chain_rule_by_hand() -> None:
    # family scores (0, ln 2, 0): p = (1/4, 1/2, 1/4).
    # genus scores (0, ln 2, 5): p(g0|f0) = 1/3, p(g1|f0) = 2/3, p(g2|f1) = 1 (only child).
    head = _head_with_biases([0.0, math.log(2.0), 0.0], [0.0, math.log(2.0), 5.0])
    family, genus = head(torch.zeros(3, 2))
    assert family.shape == (3, 3) and genus.shape == (3, 3)
    torch.testing.assert_close(family.exp()[0], torch.tensor([0.25, 0.5, 0.25]))
    torch.testing.assert_close(genus.exp()[0], torch.tensor([1 / 12, 1 / 6, 0.5]))
    # f2's mass (1/4) has no genus to go to: the genus level sums to 3/4.
    assert genus.exp()[0].sum().item() == pytest.approx(0.75, rel=1e-6)


def test_a_genus_is_never_more_likely_than_its_family() -> None:
    head = TaxonomyHead(4, TREE)
    family, genus = head(torch.randn(5, 4))
    parents = torch.tensor(TREE.parents[1])
    assert bool((genus <= family[:, parents] + 1e-6).all())


def test_the_genus_loss_trains_the_family_classifier_without_nan() -> None:
    head = TaxonomyHead(4, TREE, gamma=2.0)
    log_probs = head(torch.randn(6, 4))
    labels = torch.tensor([[-1, 0], [-1, 1], [-1, 2], [-1, 2], [-1, 0], [-1, -1]])
    family_loss, genus_loss = head.level_losses(log_probs, labels)
    assert family_loss.item() == 0.0  # no family label in the batch
    genus_loss.backward()
    family_bias = head.classifiers[0].bias.grad
    assert family_bias is not None and float(family_bias.abs().sum()) > 0
    for parameter in head.parameters():
        assert parameter.grad is not None and bool(torch.isfinite(parameter.grad).all())


def test_level_losses_are_focal_losses_by_hand() -> None:
    # gamma 0: cross-entropy. Sample 0: family f1 (p 1/2), genus g2 (p 1/2).
    # Sample 1: family f0 (p 1/4), genus g1 (p 1/6).
    head = _head_with_biases([0.0, math.log(2.0), 0.0], [0.0, math.log(2.0), 5.0])
    labels = torch.tensor([[1, 2], [0, 1]])
    family_loss, genus_loss = head.level_losses(head(torch.zeros(2, 2)), labels)
    assert family_loss.item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-5)
    # the genus level is renormalised over its 3/4 mass: p = (1/2) / (3/4), (1/6) / (3/4)
    expected = -(math.log(2 / 3) + math.log(2 / 9)) / 2
    assert genus_loss.item() == pytest.approx(expected, rel=1e-5)


def test_training_the_heads_lowers_both_losses() -> None:
    torch.manual_seed(0)
    genus = torch.arange(3).repeat_interleave(4)
    labels = torch.stack([torch.tensor(TREE.parents[1])[genus], genus], dim=1)
    points = 3.0 * torch.eye(4)[genus] + 0.3 * torch.randn(12, 4)
    head = TaxonomyHead(4, TREE)
    optimiser = torch.optim.SGD(head.parameters(), lr=0.5)
    first: list[float] = []
    for _ in range(20):
        losses = head.level_losses(head(points), labels)
        first = first or [loss.item() for loss in losses]
        optimiser.zero_grad()
        sum(losses, torch.zeros(())).backward()
        optimiser.step()
    last = [loss.item() for loss in head.level_losses(head(points), labels)]
    assert all(after < 0.5 * before for before, after in zip(first, last, strict=True))


def test_the_taxonomy_round_trips_through_a_dict() -> None:
    assert Taxonomy.from_dict(TREE.to_dict()) == TREE
    assert TREE.sizes == (3, 3)


def test_bad_trees_and_labels_are_refused() -> None:
    with pytest.raises(PhotoidError, match="needs a parent index in"):
        Taxonomy(("family", "genus"), (("f0",), ("g0",)), ((), (1,)))
    with pytest.raises(PhotoidError, match="'genus' has no value"):
        Taxonomy(("family", "genus"), (("f0",), ()), ((), ()))
    with pytest.raises(PhotoidError, match="one names and one parents entry per level"):
        Taxonomy(("family",), (), ())
    head = TaxonomyHead(4, TREE)
    with pytest.raises(PhotoidError, match=r"must be \(batch, 2\)"):
        head.level_losses(head(torch.zeros(2, 4)), torch.zeros(2, dtype=torch.int64))
