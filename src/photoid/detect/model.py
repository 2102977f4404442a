"""Detection networks: torchvision's FCOS, RetinaNet and Faster R-CNN on a timm backbone with a
feature pyramid, or one of torchvision's own detection builders for a public weights file.

Class 0 is the background in every torchvision detector; photoid's own detectors predict one
class, the animal (label 1).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from photoid.detect.config import DetectorConfig
from photoid.errors import PhotoidError

_STRIDES = (8, 16, 32)
_INFER_SCORE = 0.05  # the networks keep detections down to this; photoid detect filters later


class PyramidBackbone(nn.Module):
    """A timm feature extractor (its stride 8, 16 and 32 maps) under a torchvision feature
    pyramid of ``channels`` channels; ``extra`` adds P6/P7 (FCOS, RetinaNet) or a max-pooled
    level (Faster R-CNN). ``out_channels`` is what torchvision's detectors read."""

    def __init__(
        self,
        name: str,
        channels: int,
        extra: nn.Module,
        pretrained: bool = False,
        weights: str | None = None,
    ) -> None:
        import timm
        from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork

        super().__init__()
        options: dict[str, Any] = {}
        if weights:
            if not Path(weights).is_file():
                raise PhotoidError(f"{weights}: no such backbone weights file")
            options["pretrained_cfg_overlay"] = {"file": str(weights)}
        try:
            self.body = timm.create_model(
                name, pretrained=pretrained or bool(weights), features_only=True, **options
            )
        except RuntimeError as exc:
            raise PhotoidError(f"backbone {name!r}: {exc}") from None
        info: Any = self.body.feature_info
        reductions = list(info.reduction())
        levels = [i for i, r in enumerate(reductions) if r in _STRIDES]
        self.levels = tuple(levels if len(levels) == 3 else range(len(reductions))[-3:])
        in_channels = [info.channels()[i] for i in self.levels]
        self.fpn = FeaturePyramidNetwork(in_channels, channels, extra_blocks=extra)
        self.out_channels = channels

    def forward(self, images: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        maps = self.body(images)
        named: OrderedDict[str, torch.Tensor] = self.fpn(
            OrderedDict((str(i), maps[level]) for i, level in enumerate(self.levels))
        )
        return named


def build_detector(config: DetectorConfig, classes: int | None = None) -> nn.Module:
    """The untrained network ``config`` names, predicting ``classes`` (default
    ``config.classes``) classes besides the background."""
    count = config.classes if classes is None else classes
    if count < 1:
        raise PhotoidError(
            "the detector's class count is unknown: set classes=N (the classes it predicts "
            "besides the background)"
        )
    if not config.own:
        return _torchvision_builder(config.architecture, count)
    from torchvision.models.detection import FCOS, FasterRCNN, RetinaNet
    from torchvision.models.detection.fcos import FCOSHead
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

    ch, size = config.fpn_channels, config.image_size
    # Photos come shrunk to ``size`` (photoid.detect.data); training crops keep their pixels.
    sizes: dict[str, Any] = {"min_size": size, "max_size": size, "_skip_resize": True}
    if config.architecture == "fasterrcnn":
        from torchvision.models.detection.anchor_utils import AnchorGenerator
        from torchvision.ops import MultiScaleRoIAlign

        backbone = PyramidBackbone(
            config.backbone, ch, LastLevelMaxPool(), config.pretrained, config.weights
        )
        anchors = AnchorGenerator(((32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 4)
        pool = MultiScaleRoIAlign(["0", "1", "2"], output_size=7, sampling_ratio=2)
        faster: nn.Module = FasterRCNN(
            backbone,
            num_classes=count + 1,
            rpn_anchor_generator=anchors,
            box_roi_pool=pool,
            box_score_thresh=_INFER_SCORE,
            box_detections_per_img=20,
            **sizes,
        )
        return faster
    backbone = PyramidBackbone(
        config.backbone, ch, LastLevelP6P7(ch, ch), config.pretrained, config.weights
    )
    if config.architecture == "retinanet":
        retina: nn.Module = RetinaNet(
            backbone,
            num_classes=count + 1,
            score_thresh=_INFER_SCORE,
            detections_per_img=20,
            **sizes,
        )
        return retina
    head = FCOSHead(ch, 1, count + 1, num_convs=config.head_convs)
    fcos: nn.Module = FCOS(
        backbone,
        num_classes=count + 1,
        head=head,
        score_thresh=_INFER_SCORE,
        detections_per_img=20,
        **sizes,
    )
    return fcos


def _torchvision_builder(name: str, classes: int) -> nn.Module:
    import torchvision.models.detection as detection

    builder = getattr(detection, name, None)
    known = sorted(
        n for n in dir(detection) if n.islower() and callable(getattr(detection, n)) and "_" in n
    )
    if builder is None or not callable(builder):
        raise PhotoidError(
            f"unknown detector architecture {name!r}: use fcos, retinanet or fasterrcnn on a "
            f"timm backbone, or a torchvision builder ({', '.join(known)})"
        )
    model: nn.Module = builder(weights=None, weights_backbone=None, num_classes=classes + 1)
    return model


def classes_in(state: dict[str, torch.Tensor], architecture: str) -> int | None:
    """The classes besides the background that a detector's weights predict, read from its
    classification layer (Faster R-CNN's box predictor, FCOS's or RetinaNet's class logits);
    None when the weights hold neither."""
    scores = state.get("roi_heads.box_predictor.cls_score.weight")
    if scores is not None:
        return int(scores.shape[0]) - 1
    logits = state.get("head.classification_head.cls_logits.weight")
    if logits is None:
        return None
    outputs = int(logits.shape[0])
    if "retinanet" in architecture:
        anchors = 9  # torchvision's RetinaNet: 3 sizes x 3 aspect ratios per position
        outputs //= anchors
    return outputs - 1
