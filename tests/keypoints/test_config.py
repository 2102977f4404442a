"""Learned-keypoint settings: validation, and --set routing by prefix."""

from __future__ import annotations

import pytest

from photoid.cli.options import fused_config, keypoint_config, local_config
from photoid.errors import PhotoidError
from photoid.keypoints.config import KeypointConfig
from photoid.keypoints.extract import target_side


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


def test_small_animals_are_enlarged_at_most_max_upscale_times() -> None:
    free = KeypointConfig(side=512)
    capped = KeypointConfig(side=512, max_upscale=2.0)
    assert target_side((130, 100, 3), free) == 512  # enlarged to side, as before
    assert target_side((130, 100, 3), capped) == 260  # 2 x 130
    assert target_side((100, 400, 3), capped) == 512  # 2 x 400 > side: side wins
    assert target_side((2000, 1500, 3), capped) == 512  # shrinking is never capped
    # The cap changes the stored features; unset, older caches keep their folder.
    assert capped.fingerprint() != free.fingerprint()
    assert free.fingerprint() == KeypointConfig(side=512, max_upscale=None).fingerprint()
    with pytest.raises(PhotoidError, match="max_upscale"):
        KeypointConfig(max_upscale=0.5)
