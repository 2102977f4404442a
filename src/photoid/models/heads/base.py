"""The interface every head shares, so a trainer never special-cases one.

A head turns a batch of embeddings (B, D) and integer identity labels (B,) in [0, num_classes)
into one scalar loss. Heads with class weights also give ``logits`` (B, num_classes). Rows with
an unknown identity (label -1 in photoid's tables) must be left out by the caller.
"""

from __future__ import annotations

import abc

import torch
from torch import nn


class Head(nn.Module, abc.ABC):
    """Loss on embeddings; built as ``Head(embedding_size, num_classes, **params)``."""

    def __init__(self, embedding_size: int, num_classes: int) -> None:
        super().__init__()
        self.embedding_size = embedding_size
        self.num_classes = num_classes

    @abc.abstractmethod
    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float, labels (B,) int64 -> loss, a scalar float tensor."""


class ClassifierHead(Head):
    """A head holding one weight vector (or several sub-centres) per class."""

    @abc.abstractmethod
    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """embeddings (B, D) float -> class scores (B, num_classes) float, margins not applied."""
