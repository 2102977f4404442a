"""Softmax focal loss against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from photoid.errors import PhotoidError
from photoid.models.heads import focal_loss

# Scores (0, ln 3): softmax (0.25, 0.75).
LOGITS = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])


def test_focal_loss_by_hand() -> None:
    # true class 1: p_t = 0.75, (0.25)^2 * -ln 0.75; true class 0: p_t = 0.25, (0.75)^2 * -ln 0.25
    easy = 0.0625 * -math.log(0.75)
    hard = 0.5625 * -math.log(0.25)
    loss = focal_loss(LOGITS, torch.tensor([1, 0]), gamma=2.0)
    assert loss.item() == pytest.approx((easy + hard) / 2, rel=1e-6)
    assert focal_loss(LOGITS[:1], torch.tensor([1]), gamma=1.0).item() == pytest.approx(
        0.25 * -math.log(0.75), rel=1e-6
    )


def test_gamma_zero_is_cross_entropy() -> None:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 5, generator=generator)
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    expected = F.cross_entropy(logits, labels)
    assert focal_loss(logits, labels, gamma=0.0).item() == pytest.approx(expected.item(), rel=1e-6)


def test_log_probabilities_give_the_same_loss_as_logits() -> None:
    labels = torch.tensor([1, 0])
    same = focal_loss(F.log_softmax(LOGITS, dim=1), labels)
    assert same.item() == pytest.approx(focal_loss(LOGITS, labels).item(), rel=1e-6)


def test_unlabelled_samples_are_left_out_of_the_mean() -> None:
    loss = focal_loss(LOGITS, torch.tensor([-1, 0]), gamma=2.0)
    assert loss.item() == pytest.approx(0.5625 * -math.log(0.25), rel=1e-6)


def test_no_labelled_sample_gives_zero_with_a_gradient() -> None:
    logits = LOGITS.clone().requires_grad_(True)
    loss = focal_loss(logits, torch.tensor([-1, -1]))
    loss.backward()
    assert loss.item() == 0.0
    assert logits.grad is not None and torch.equal(logits.grad, torch.zeros_like(logits))


def test_negative_gamma_is_refused() -> None:
    with pytest.raises(PhotoidError, match="gamma must be 0 or more"):
        focal_loss(LOGITS, torch.tensor([0, 1]), gamma=-0.5)
