"""Local-engine settings: validation, typed KEY=VALUE overrides, the feature fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoid.errors import PhotoidError
from photoid.local.config import LocalConfig, default_cache_dir, parse_overrides


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("knn", 0, "knn must be at least 1"),
        ("first_stage_depth", 0, "first_stage_depth must be at least 1"),
        ("first_stage_keypoints", 4097, "first_stage_keypoints must be at most 4096"),
        ("first_stage_photos", -1, r"first_stage_photos must be at least 0 \(0: all\)"),
        ("retrieval", "three_stage", "retrieval must be one of auto, single, two_stage"),
        ("max_side", 0, "max_side must be at least 1"),
        ("ratio", 0.0, r"ratio must be in \(0, 1\]"),
        ("ratio", 1.5, r"ratio must be in \(0, 1\]"),
    ],
)
def test_bad_values_are_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(PhotoidError, match=message):
        LocalConfig(**{field: value})  # type: ignore[arg-type]


def test_parse_overrides_converts_to_each_settings_type() -> None:
    parsed = parse_overrides(
        ["shortlist=50", "clahe=yes", "ratio = 0.7", "geometry=affine", "min-inliers=4"]
    )
    assert parsed == {
        "shortlist": 50,
        "clahe": True,
        "ratio": 0.7,
        "geometry": "affine",
        "min_inliers": 4,
    }
    assert parse_overrides(["use_bbox=0"]) == {"use_bbox": False}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("shortlist=abc", "setting shortlist: 'abc' is not a valid int"),
        ("clahe=maybe", "setting clahe: 'maybe' is not a valid bool"),
        ("nosuch=1", "bad setting 'nosuch=1'"),
        ("shortlist", "bad setting 'shortlist': use KEY=VALUE"),
    ],
)
def test_parse_overrides_refuses_bad_pairs(pair: str, message: str) -> None:
    with pytest.raises(PhotoidError, match=message):
        parse_overrides([pair])


def test_with_overrides_drops_none_and_refuses_unknown_keys() -> None:
    config = LocalConfig().with_overrides(knn=3, shortlist=None)
    assert config.knn == 3
    assert config.shortlist == LocalConfig().shortlist
    with pytest.raises(PhotoidError, match="unknown local-engine setting"):
        LocalConfig().with_overrides(colour=True)


def test_fingerprint_changes_only_with_feature_settings() -> None:
    base = LocalConfig()
    assert base.fingerprint() == LocalConfig(knn=9, shortlist=3).fingerprint()
    assert base.fingerprint() != LocalConfig(max_side=256).fingerprint()
    assert base.fingerprint() != LocalConfig(detector="orb").fingerprint()
    assert len(base.fingerprint()) == 16
    assert base.to_dict()["detector"] == "rootsift"


def test_default_cache_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PHOTOID_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "features"
    monkeypatch.delenv("PHOTOID_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "photoid" / "features"
