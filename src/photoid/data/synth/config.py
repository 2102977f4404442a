"""Every knob of the synthetic photo-ID generator, with the defaults the tests and demo use.

The defaults are tuned so that identity is recoverable but not trivial. Over 20 individuals x 5
photos at 256 px (bbox crops, seeds 0-5), SIFT + ratio test 0.8 + RANSAC-homography inlier 1-NN
scores top-1 0.69-0.92 (spotted ~0.95, striped ~0.85, fins ~0.65), while an HSV colour-histogram
1-NN scores 0.08-0.22 (chance 4/99; knowing the species alone gives ~0.12).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

SPECIES_NAMES: tuple[str, ...] = ("spotted", "striped", "finned")
IMAGE_FORMATS: tuple[str, ...] = ("jpg", "png")


@dataclass(frozen=True)
class SynthConfig:
    """Settings of one synthetic dataset. Ranges are ``(low, high)`` and sampled uniformly.

    Lengths are in pixels of a 256 px scene unless said otherwise and scale with each photo's
    size; angles are in degrees; fractions are of the animal's box or of the frame, as named.
    With ``size_range`` each photo draws its own longest side from it and ``size`` only sets the
    detail of the animal's texture. Named settings are in :mod:`photoid.data.synth.presets`.
    """

    size: int = 256  # longest side of every scene image, px (with size_range: texture detail only)
    size_range: tuple[int, int] | None = None  # if set: longest side drawn per photo, px
    aspect: float = 0.75  # scene height / width (landscape)
    canvas_scale: float = 1.0  # canonical texture width / scene width (detail kept before warping)
    species: tuple[str, ...] = SPECIES_NAMES  # individual i gets species[i % len(species)]
    image_format: str = "jpg"  # "jpg" or "png" (png files still carry JPEG artefacts)
    jpeg_quality: tuple[int, int] = (60, 92)

    # Sides: without asymmetry every photo shows the left flank.
    asymmetric: bool = False
    right_side_fraction: float = 0.5  # share of photos showing the right flank when asymmetric

    # Encounters: photos of one individual are grouped into dated sightings.
    encounters: tuple[int, int] = (2, 4)  # sightings per individual (capped at images_per)
    first_date: str = "2019-01-01"
    date_span_days: int = 4 * 365

    # Individual variation inside a species (identity must not hide in these).
    shape_jitter: float = 0.05  # relative std of body proportions
    coat_jitter: float = 0.015  # std of per-channel coat colour gains

    # Viewpoint and placement.
    animal_scale: tuple[float, float] = (0.4, 0.85)  # animal box width / scene width
    roll_deg: float = 20.0  # max in-plane rotation
    yaw_deg: float = 35.0  # max turn about the vertical axis (foreshortening)
    pitch_deg: float = 15.0  # max tilt about the horizontal axis
    focal: float = 1.6  # focal length / animal width: smaller means stronger perspective
    deform: float = 0.025  # non-rigid bending amplitude / animal width
    pose_jitter: float = 1.0  # scale of per-photo head, leg, tail and fin-lean changes
    truncation_prob: float = 0.2  # chance the animal runs off a frame edge
    truncation_max: float = 0.3  # largest share of the animal box outside the frame

    # Places (see place.py): shared sites, panoramas cropped per photo, landmarks in the scenery.
    sites: int = 0  # shared places of the dataset; 0: every photo gets its own background
    site_prob: float = 0.0  # chance an encounter takes place at a site (if one suits its species)
    clutter: float = 0.0  # landmarks (rocks, trunks, logs, bushes) per frame area of scenery

    # Lighting.
    light_gradient: float = 0.35  # max brightness change across the frame
    color_cast: float = 0.07  # std of per-channel gains per photo
    encounter_cast: float = 0.02  # std of per-channel gains shared by one sighting
    encounter_tint: float = 0.04  # std of background palette gains shared by one sighting
    habitat_change: float = 0.4  # chance a photo's background differs from its sighting's
    gamma: tuple[float, float] = (0.8, 1.25)
    shadow_prob: float = 0.35  # chance of dappled shadows over the scene
    shadow_strength: float = 0.45  # darkest shadow multiplies brightness by 1 - this
    vignette: float = 0.3

    # Optics and sensor.
    blur_sigma: tuple[float, float] = (0.0, 1.5)
    motion_blur_prob: float = 0.15
    motion_blur_length: tuple[float, float] = (3.0, 7.0)
    background_blur: tuple[float, float] = (0.0, 2.5)  # extra depth-of-field blur, sigma
    noise_sigma: tuple[float, float] = (0.01, 0.04)  # Gaussian sensor noise, share of full scale

    # Occlusion: a branch, grass tuft, bush or splash in front of the animal.
    occlusion_prob: float = 0.6
    occlusion_area: tuple[float, float] = (0.05, 0.3)  # share of the animal box covered

    def __post_init__(self) -> None:
        problems = [message for ok, message in _checks(self) if not ok]
        if problems:
            raise ValueError("invalid SynthConfig: " + "; ".join(problems))

    @property
    def scene_shape(self) -> tuple[int, int]:
        """``(height, width)`` of a scene image in pixels; the longest side is ``size``."""
        if self.aspect <= 1.0:
            return (max(1, round(self.size * self.aspect)), self.size)
        return (self.size, max(1, round(self.size / self.aspect)))

    @property
    def pixel_scale(self) -> float:
        """Factor turning the 256-px-scene lengths of this config into pixels of this size."""
        return self.size / 256.0


_PROBABILITIES = (
    "right_side_fraction",
    "site_prob",
    "habitat_change",
    "truncation_prob",
    "shadow_prob",
    "motion_blur_prob",
    "occlusion_prob",
)


def _checks(c: SynthConfig) -> list[tuple[bool, str]]:
    """``(passes, message)`` for every constraint on the fields of ``c``."""
    checks = [
        (c.size >= 32, f"size must be at least 32 px, got {c.size}"),
        (
            c.size_range is None or 32 <= c.size_range[0] <= c.size_range[1],
            f"size_range must be None or (low, high) px with 32 <= low <= high, got {c.size_range}",
        ),
        (c.sites >= 0, f"sites must be 0 (none) or more, got {c.sites}"),
        (
            c.clutter >= 0.0,
            f"clutter must be 0 (none) or more landmarks per frame, got {c.clutter}",
        ),
        (0.25 <= c.aspect <= 4.0, f"aspect must lie in [0.25, 4], got {c.aspect}"),
        (
            bool(c.species) and set(c.species) <= set(SPECIES_NAMES),
            f"species must be a non-empty subset of {SPECIES_NAMES}, got {c.species}",
        ),
        (
            c.image_format in IMAGE_FORMATS,
            f"image_format must be one of {IMAGE_FORMATS}, got {c.image_format!r}",
        ),
        (
            1 <= c.jpeg_quality[0] <= c.jpeg_quality[1] <= 100,
            f"jpeg_quality must be (low, high) in [1, 100], got {c.jpeg_quality}",
        ),
        (
            1 <= c.encounters[0] <= c.encounters[1],
            f"encounters must be (low, high) with 1 <= low <= high, got {c.encounters}",
        ),
        (c.date_span_days >= 1, f"date_span_days must be at least 1, got {c.date_span_days}"),
        (_is_date(c.first_date), f"first_date must be YYYY-MM-DD, got {c.first_date!r}"),
        (
            0.0 < c.animal_scale[0] <= c.animal_scale[1] <= 1.0,
            f"animal_scale must be (low, high) in (0, 1], got {c.animal_scale}",
        ),
        (
            0.05 <= c.truncation_max <= 0.6,
            f"truncation_max must lie in [0.05, 0.6], got {c.truncation_max}",
        ),
    ]
    for name in _PROBABILITIES:
        value = getattr(c, name)
        checks.append((0.0 <= value <= 1.0, f"{name} must lie in [0, 1], got {value}"))
    for item in fields(c):
        value = getattr(c, item.name)
        if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], str):
            checks.append((value[0] <= value[1], f"{item.name} must have low <= high: {value}"))
    return checks


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
