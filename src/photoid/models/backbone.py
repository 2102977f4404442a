"""Backbones from timm by name, returning feature maps (no classifier, no pooling).

Weights come from the hub (``pretrained=True``, online only), from a local file (``weights``,
offline), or are random (the default). ``hf-hub:`` names pass straight to timm.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import timm
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.weights import load_weights


def create_backbone(
    name: str, *, pretrained: bool = False, weights: Path | None = None, in_chans: int = 3
) -> nn.Module:
    """A timm model with ``num_classes=0, global_pool=""``: images (B, in_chans, H, W) float ->
    feature maps (B, C, h, w) for CNNs (tokens (B, N, C) for ViTs); C is ``model.num_features``.

    Raises PhotoidError for an unknown name (listing close matches), a hub download that fails,
    or a weights file that cannot be read or does not fit.
    """
    check_model_name(name)
    try:
        model = timm.create_model(
            name, pretrained=pretrained, num_classes=0, global_pool="", in_chans=in_chans
        )
    except Exception as error:
        where = "download pretrained weights for" if pretrained else "create"
        raise PhotoidError(
            f"cannot {where} timm model {name!r} ({type(error).__name__}: {error}); offline, "
            "pass a local weights file instead of pretrained"
        ) from error
    if weights is not None:
        load_weights(model, weights)
    return model


def check_model_name(name: str) -> None:
    """Raises PhotoidError, listing close matches, unless ``name`` is a timm model or an
    ``hf-hub:`` name (checked by timm when created)."""
    if not name.startswith("hf-hub:") and not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise PhotoidError(f"unknown timm model {name!r}{hint} (see timm.list_models())")
