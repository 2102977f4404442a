"""Heads: losses on embeddings, chosen by name from ``HEADS``; all share ``Head``'s interface.

Beside the identity heads: the auxiliary species head and the hierarchical taxonomy heads
(several levels, so outside the registry), both built by the trainer when configured.
"""

from __future__ import annotations

from typing import Any

from photoid.errors import PhotoidError
from photoid.models.heads.arcface import ArcFaceHead
from photoid.models.heads.base import ClassifierHead, Head
from photoid.models.heads.cosface import CosFaceHead
from photoid.models.heads.dynamic_arcface import DynamicArcFaceHead, dynamic_margins
from photoid.models.heads.focal import focal_loss
from photoid.models.heads.softmax import SoftmaxHead
from photoid.models.heads.species import SpeciesHead
from photoid.models.heads.subcenter_arcface import SubCenterArcFaceHead
from photoid.models.heads.taxonomy import Taxonomy, TaxonomyHead
from photoid.models.heads.triplet import TripletHead

HEADS: dict[str, type[Head]] = {
    "arcface": ArcFaceHead,
    "subcenter_arcface": SubCenterArcFaceHead,
    "dynamic_arcface": DynamicArcFaceHead,
    "cosface": CosFaceHead,
    "softmax": SoftmaxHead,
    "triplet": TripletHead,
}


def create_head(name: str, embedding_size: int, num_classes: int, **params: Any) -> Head:
    """The identity head registered as ``name``, built with its keyword ``params``."""
    if name not in HEADS:
        raise PhotoidError(f"unknown head {name!r}; choose one of {', '.join(sorted(HEADS))}")
    try:
        return HEADS[name](embedding_size, num_classes, **params)
    except TypeError as error:
        raise PhotoidError(f"head {name!r}: {error}") from error


__all__ = [
    "HEADS",
    "ArcFaceHead",
    "ClassifierHead",
    "CosFaceHead",
    "DynamicArcFaceHead",
    "Head",
    "SoftmaxHead",
    "SpeciesHead",
    "SubCenterArcFaceHead",
    "Taxonomy",
    "TaxonomyHead",
    "TripletHead",
    "create_head",
    "dynamic_margins",
    "focal_loss",
]
