"""Field scenes: photo sizes drawn per photo, small animals, scenery shared by the photos taken
at one place (an encounter's own place, or a site shared by every individual), landmarks.

Photos stay small (256-320 px) so the file runs in seconds; scenery sharing is checked the way a
person would: a patch of one photo, outside the animal, found again in the other.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from photoid.data.images import load_image
from photoid.data.synth import Photo, SynthConfig, generate, make_individual, render_example
from photoid.data.synth.landmarks import DRAWERS, KINDS, add_landmarks
from photoid.data.synth.place import _panorama
from photoid.data.synth.presets import PRESETS

SMALL = replace(PRESETS["field"], size=256, size_range=(256, 320))
# Nothing that hides the scenery from a patch comparison: no shadows, occluders, blur or moves.
CLEAN = replace(
    SMALL,
    shadow_prob=0.0,
    occlusion_prob=0.0,
    habitat_change=0.0,
    blur_sigma=(0.0, 0.0),
    background_blur=(0.0, 0.0),
    motion_blur_prob=0.0,
    noise_sigma=(0.005, 0.01),
    truncation_prob=0.0,
    animal_scale=(0.1, 0.3),
)
PATCH = 48  # px, of a 256-320 px photo
SCALES = np.linspace(0.75, 1.35, 13)  # photo sizes and zooms differ between photos


def _detail(photo: Photo) -> np.ndarray:
    """Grey levels less their smooth part (Gaussian, sigma 4 px): the texture, not the light."""
    grey = cv2.cvtColor(photo.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail: np.ndarray = grey - cv2.GaussianBlur(grey, (0, 0), 4.0)
    return detail


def _best_patch_match(a: Photo, b: Photo) -> float:
    """Highest normalised correlation of any textured PATCH x PATCH patch of ``a`` lying outside
    its animal box, searched for all over ``b`` at each of SCALES."""
    grey_a, grey_b = _detail(a), _detail(b)
    resized = [cv2.resize(grey_b, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) for f in SCALES]
    x0, y0, w, h = a.bbox
    best = -1.0
    for y in range(0, grey_a.shape[0] - PATCH, PATCH // 2):
        for x in range(0, grey_a.shape[1] - PATCH, PATCH // 2):
            if x < x0 + w and x0 < x + PATCH and y < y0 + h and y0 < y + PATCH:
                continue  # overlaps the animal
            patch = grey_a[y : y + PATCH, x : x + PATCH]
            if patch.std() < 2.0:
                continue
            for image in resized:
                found = cv2.matchTemplate(image, patch, cv2.TM_CCOEFF_NORMED)
                best = max(best, float(found.max()))
    return best


def test_presets_name_the_default_and_the_field_settings() -> None:
    assert set(PRESETS) == {"default", "field", "wide"}
    wide = PRESETS["wide"]  # the field scenery at one size, the animal small
    assert (wide.size, wide.size_range, wide.animal_scale) == (768, None, (0.12, 0.35))
    assert wide.sites == PRESETS["field"].sites and wide.clutter == PRESETS["field"].clutter
    assert PRESETS["default"] == SynthConfig()
    field = PRESETS["field"]
    assert field.size_range == (1024, 2560) and field.animal_scale == (0.10, 0.50)
    assert field.sites == 6 and 0.5 <= field.site_prob <= 0.7 and field.clutter > 0
    assert field.encounters == (2, 4) and abs(field.aspect - 2 / 3) < 0.01


def test_photo_sizes_lie_in_size_range_and_keep_the_aspect() -> None:
    shots = [render_example(1, i, p, 3, SMALL) for i in range(3) for p in range(3)]
    longest = [max(s.image.shape[:2]) for s in shots]
    assert all(256 <= side <= 320 for side in longest), longest
    assert len(set(longest)) > 3  # drawn per photo, not per dataset
    for shot in shots:
        height, width = shot.image.shape[:2]
        assert abs(height / width - 2 / 3) < 0.01
        assert shot.mask.shape == (height, width)
        x, y, w, h = shot.bbox  # in the photo's own pixels
        assert 0 <= x < x + w <= width and 0 <= y < y + h <= height


def test_animal_box_width_share_lies_in_animal_scale() -> None:
    """Seen square on (no turn, tilt, roll or bend) and never cut by an edge, the box is as
    wide as the drawn share of the frame: 10-50%, less the animal's soft edge."""
    config = replace(
        SMALL, roll_deg=0.0, yaw_deg=0.0, pitch_deg=0.0, deform=0.0, truncation_prob=0.0
    )
    shares = []
    for individual in range(3):
        for photo in range(4):
            shot = render_example(2, individual, photo, 4, config)
            shares.append(shot.bbox[2] / shot.image.shape[1])
    assert all(0.10 - 0.02 <= share <= 0.50 + 0.01 for share in shares), shares
    assert max(shares) - min(shares) > 0.15  # spread over the range, not one size


def test_photos_at_one_place_share_scenery_and_other_places_do_not() -> None:
    """Individual 0 (seed 0) is seen at encounter 0 (photo 0) and encounter 1 (photos 1-3),
    each at a place of its own (site_prob 0)."""
    config = replace(CLEAN, sites=1, site_prob=0.0)
    assert make_individual(config, 0, 0, 4).photo_encounters == (0, 1, 1, 1)
    shots = [render_example(0, 0, p, 4, config) for p in range(4)]
    assert _best_patch_match(shots[1], shots[2]) > 0.9
    assert _best_patch_match(shots[2], shots[3]) > 0.9
    assert _best_patch_match(shots[0], shots[1]) < 0.7
    assert _best_patch_match(shots[0], shots[3]) < 0.7


def test_a_site_shows_up_in_photos_of_two_individuals() -> None:
    config = replace(CLEAN, species=("spotted",), sites=1, site_prob=1.0)
    first, second = render_example(0, 0, 0, 2, config), render_example(0, 1, 0, 2, config)
    assert _best_patch_match(first, second) > 0.9
    alone = replace(config, site_prob=0.0)  # the same two photos, each at its own place
    first, second = render_example(0, 0, 0, 2, alone), render_example(0, 1, 0, 2, alone)
    assert _best_patch_match(first, second) < 0.7


def test_default_settings_render_what_they_rendered_before_field_scenes() -> None:
    """Boxes and JPEG qualities of nine photos, recorded before the field fields existed: any
    extra random draw at the defaults would shift them."""
    before = [
        ((34, 9, 62, 38), 85), ((32, 6, 53, 27), 75), ((24, 5, 47, 20), 75),
        ((18, 17, 73, 49), 60), ((13, 5, 60, 42), 62), ((21, 16, 66, 42), 65),
        ((4, 10, 43, 30), 75), ((7, 20, 55, 35), 67), ((0, 6, 54, 61), 90),
    ]  # fmt: skip
    config = SynthConfig(size=96)
    shots = [render_example(0, i, p, 3, config) for i in range(3) for p in range(3)]
    assert [(s.bbox, s.jpeg_quality) for s in shots] == before
    ignored = replace(config, site_prob=0.5)  # no sites: the chance of one changes nothing
    assert np.array_equal(render_example(0, 1, 1, 3, ignored).image, shots[4].image)


def test_field_datasets_are_deterministic_across_runs_caches_and_processes(
    tmp_path: Path,
) -> None:
    config = replace(SMALL, sites=2)
    one = generate(tmp_path / "one", individuals=3, images_per=2, seed=4, config=config)
    _panorama.cache_clear()  # the places are rendered again, and must come out the same
    two = generate(tmp_path / "two", individuals=3, images_per=2, seed=4, config=config, workers=2)
    assert one.read_bytes() == two.read_bytes()
    for name in pd.read_csv(one, dtype=str)["image"]:
        assert (one.parent / name).read_bytes() == (two.parent / name).read_bytes()
    other = generate(tmp_path / "other", individuals=1, images_per=2, seed=5, config=config)
    first = pd.read_csv(other, dtype=str)["image"].iloc[0]
    assert not np.array_equal(load_image(other.parent / first), load_image(one.parent / first))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size_range": (320, 256)}, "size_range"),
        ({"size_range": (16, 64)}, "size_range"),
        ({"site_prob": -0.1}, "site_prob"),
        ({"site_prob": 1.5}, "site_prob"),
        ({"sites": -1}, "sites"),
        ({"clutter": -1.0}, "clutter"),
    ],
)
def test_config_rejects_bad_field_values_by_name(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SynthConfig(**change)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "size"), [("bush", 60), ("log", 160), ("rock", 50), ("trunk", 30)]
)
def test_each_landmark_is_a_keypoint_rich_object(kind: str, size: float) -> None:
    """One landmark (``size``: bush or rock radius, log length, trunk width, px) on a plain
    ground: SIFT finds corners and blobs on it (none on the plain ground)."""
    assert set(DRAWERS) == {"bush", "log", "rock", "trunk"}
    image = np.full((240, 320, 3), 0.4, np.float32)
    DRAWERS[kind](np.random.default_rng(0), image, 160.0, 200.0, size, np.ones(3, np.float32))
    assert image.min() >= 0.0 and image.max() <= 1.0
    changed = np.abs(image - 0.4).max(axis=2) > 0.02
    assert changed.sum() > 800
    grey = cv2.cvtColor((image * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    assert len(cv2.SIFT_create().detect(grey, None)) >= 10


def test_no_landmarks_draw_nothing_and_every_habitat_has_some() -> None:
    image = np.full((64, 64, 3), 0.5, np.float32)
    rng = np.random.default_rng(3)
    add_landmarks(rng, image, "grass", 0, 64.0, np.ones(3, np.float32))
    assert (image == 0.5).all()
    assert rng.random() == np.random.default_rng(3).random()  # and draw no random number
    for habitat, kinds in KINDS.items():
        assert kinds and set(kinds) <= set(DRAWERS), habitat
        assert abs(sum(kinds.values()) - 1.0) < 1e-9, habitat
