"""Learned-keypoint settings: validation, and --set routing by prefix."""

from __future__ import annotations

import pytest

from photoid.cli.options import fused_config, keypoint_config, local_config
from photoid.errors import PhotoidError
from photoid.keypoints.config import KeypointConfig


def test_prefixed_settings_reach_their_engine_only() -> None:
    settings = [
        "shortlist=50",
        "keypoints.matcher=lightglue",
        "keypoints.shortlist=7",
        "fused.keypoints=true",
        "fused.scales=640,1024",
    ]
    assert local_config(settings).shortlist == 50
    keypoints = keypoint_config(settings)
    assert keypoints.matcher == "lightglue" and keypoints.shortlist == 7
    fused = fused_config(settings)
    assert fused.keypoints is True and fused.scales == (640, 1024)


def test_features_change_the_cache_folder_and_matching_settings_do_not() -> None:
    base = KeypointConfig()
    assert base.fingerprint() != KeypointConfig(extractor="disk").fingerprint()
    assert base.fingerprint() != KeypointConfig(side=1024).fingerprint()
    assert base.fingerprint() == KeypointConfig(matcher="lightglue", shortlist=3).fingerprint()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("keypoints.extractor=superpoint", "aliked-n16, aliked-n16rot, aliked-n32, disk"),
        ("keypoints.matcher=brute", "lightglue, mutual"),
        ("keypoints.side=0", "side must be at least 1"),
        ("keypoints.device=tpu", "auto, cpu, cuda"),
        ("keypoints.colour=1", "unknown keypoint setting|bad setting"),
    ],
)
def test_bad_settings_are_refused_by_name(setting: str, message: str) -> None:
    with pytest.raises(PhotoidError, match=message):
        keypoint_config([setting])
