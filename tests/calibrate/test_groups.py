"""Groups of dependent gallery photos, by hand.

Near-duplicate vectors (2-D unit): a0 (1, 0), a1 (0.96, 0.28), a2 (0, 1), b0 (1, 0), b1 (0.6, 0.8).
Dot products: a0.a1 0.96, a1.a2 0.28, a0.a2 0; b0.b1 0.6; a0.b0 1 (different identities).
A second descriptor, COLOURS: a0, a1 (1, 0), a2, b0, b1 (0, 1): a1.a2 0, b0.b1 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from photoid.calibrate.groups import (
    PhotoGroups,
    dataset_groups,
    looks,
    near_duplicate_clusters,
    photo_groups,
)
from photoid.data.table import load_dataset

IDENTITIES = ["a", "a", "a", "b", "b"]
VECTORS = np.array([[1.0, 0.0], [0.96, 0.28], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]], np.float32)
COLOURS = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], np.float32)


def test_near_duplicates_link_within_an_identity_only() -> None:
    """Above 0.9 only a0-a1 link; a0 and b0 are equal but of two identities."""
    labels = near_duplicate_clusters(IDENTITIES, [VECTORS], [0.9])
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 0, 1, 2, 3]


def test_near_duplicate_links_chain_into_components() -> None:
    """Above 0.2: a0-a1 (0.96) and a1-a2 (0.28) chain a0 to a2 (0 apart); b0-b1 (0.6)."""
    assert near_duplicate_clusters(IDENTITIES, [VECTORS], [0.2]).tolist() == [0, 0, 0, 1, 1]


def test_every_descriptor_must_agree() -> None:
    """Above 0.2 in both: a1-a2 differ in colour (0), so only a0-a1 and b0-b1 link."""
    labels = near_duplicate_clusters(IDENTITIES, [VECTORS, COLOURS], [0.2, 0.5])
    assert labels.tolist() == [0, 0, 1, 2, 2]


def test_clusters_without_an_encounter_or_date() -> None:
    groups = photo_groups(IDENTITIES, vectors=[VECTORS], thresholds=[0.5])
    assert groups.kind == "near-duplicate clusters"
    assert groups.ids.tolist() == [0, 0, 1, 2, 2] and groups.count == 3
    assert groups.members(1).tolist() == [0, 1]


def test_without_vectors_each_photo_is_alone() -> None:
    groups = photo_groups(IDENTITIES, dates=[None] * 5)
    assert groups.kind == "photos" and groups.ids.tolist() == [0, 1, 2, 3, 4]


def test_encounter_comes_first_and_holds_every_identity() -> None:
    """e1 holds a0 and b0 (a sighting of both); a2's empty cell leaves it to its cluster, alone
    above 0.5; dates are not used once encounters exist."""
    groups = photo_groups(
        IDENTITIES,
        encounters=["e1", "e2", "", "e1", float("nan")],
        dates=["2024-01-01"] * 5,
        vectors=[VECTORS],
        thresholds=[0.5],
    )
    assert groups.kind == "encounter"
    assert groups.ids.tolist() == [0, 1, 2, 0, 3]


def test_date_groups_one_identity_on_one_day() -> None:
    """a0 and a1 share 1 Jan (times differ); b0 on 1 Jan is another identity; b1 has no date."""
    dates = [
        pd.Timestamp("2024-01-01 08:00"),
        pd.Timestamp("2024-01-01 17:30"),
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-01"),
        pd.NaT,
    ]
    groups = photo_groups(IDENTITIES, encounters=[None] * 5, dates=dates)
    assert groups.kind == "date"
    assert groups.ids.tolist() == [0, 0, 1, 2, 3]


def test_members_of_a_group() -> None:
    groups = PhotoGroups(np.array([0, 1, 0, 2, 1]), "photos")
    assert groups.members(2).tolist() == [0, 2] and groups.count == 3


def _write(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_thumbnails_ignore_brightness_and_mark_unreadable_photos(tmp_path: Path) -> None:
    """A left-to-right ramp and the same ramp brighter give one thumbnail; its mirror the
    opposite one (dot product -1) but the same colours; a missing file gives zeros."""
    ramp = np.tile(np.linspace(0, 200, 32).astype(np.uint8), (32, 1))
    _write(tmp_path / "ramp.png", np.dstack([ramp] * 3))
    _write(tmp_path / "bright.png", np.dstack([ramp + 40] * 3))
    _write(tmp_path / "mirror.png", np.dstack([ramp[:, ::-1]] * 3))
    names = ["ramp.png", "bright.png", "mirror.png", "missing.png"]
    vectors, colours = looks([tmp_path / n for n in names])
    assert vectors.shape == (4, 256) and vectors.dtype == np.float32
    assert colours.shape == (4, 512) and colours.dtype == np.float32
    assert colours[0] @ colours[2] == pytest.approx(1.0, abs=1e-5)
    assert not colours[3].any()
    assert vectors[0] @ vectors[1] == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] @ vectors[2] == pytest.approx(-1.0, abs=1e-3)  # uint8 rounding
    assert not vectors[3].any()


def test_dataset_groups_cluster_near_duplicate_photos(tmp_path: Path) -> None:
    """Two frames of one ramp (one a little noisy) are near-duplicates; the mirrored frame of
    the same identity and the same ramp of another identity are not linked to them."""
    ramp = np.tile(np.linspace(0, 200, 32).astype(np.uint8), (32, 1))
    noisy = ramp.copy()
    noisy[::4, ::4] += 20
    frames = {"x1": ramp, "x2": noisy, "x3": ramp[:, ::-1], "y1": ramp}
    for name, pixels in frames.items():
        _write(tmp_path / "images" / f"{name}.png", np.dstack([pixels] * 3))
    pd.DataFrame(
        {"image": [f"images/{n}.png" for n in frames], "identity": ["x", "x", "x", "y"]}
    ).to_csv(tmp_path / "metadata.csv", index=False)
    groups = dataset_groups(load_dataset(tmp_path))
    assert groups.kind == "near-duplicate clusters"
    assert groups.ids.tolist() == [0, 0, 1, 2]
