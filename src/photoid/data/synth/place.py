"""Where a photo is taken: the scenery behind the animal with ``sites`` > 0 or ``size_range``.

With ``sites`` > 0 every encounter takes place somewhere: with chance ``site_prob`` at one of the
dataset's shared sites (the same for every individual: scenery keyed by seed and site number),
else at a place of its own (keyed by the encounter). A place is a panorama larger than the frame,
rendered once per process (cached) with its landmarks; each photo there is a crop at a random
offset (camera pan) and zoom, so photos at one place share scenery pixels, even photos of other
individuals. Backgrounds are rendered with the frame's longest side at most :data:`PLACE_SIZE`
px and resized to the photo, which keeps 2.5k px photos fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from photoid.data.synth import seeds
from photoid.data.synth.config import SynthConfig
from photoid.data.synth.landmarks import add_landmarks, landmark_count
from photoid.data.synth.scene import HABITATS, make_background

PLACE_SIZE = 1280  # longest side (px) of one frame's view of the scenery as rendered
PANORAMA = (1.3, 1.5)  # panorama side / frame side, drawn per place
ZOOM = (1.0, 1.15)  # frame side / crop side in the panorama, drawn per photo
_CACHED_PLACES = 24  # panoramas kept per process: every site plus the latest own places


@dataclass(frozen=True)
class Place:
    """A place: shared site ``index`` (``purpose`` :data:`seeds.SITE`, ``owner`` 0) or the own
    place of encounter ``index`` of individual ``owner`` (:data:`seeds.PLACE`)."""

    purpose: int
    owner: int
    index: int
    habitat: str


def site_habitat(site: int) -> str:
    """Habitat of shared site ``site``: the habitats of scene.HABITATS taken in turn, so every
    species finds a site once there are as many sites as habitats."""
    names = tuple(HABITATS)
    return names[site % len(names)]


def choose_place(
    rng: np.random.Generator,
    owner: int,
    encounter: int,
    habitats: tuple[str, ...],
    habitat: str,
    config: SynthConfig,
) -> Place:
    """Where encounter ``encounter`` of individual ``owner`` (living in ``habitats``) happens:
    with chance ``config.site_prob`` a shared site of one of those habitats, drawn uniformly;
    otherwise (or when no site suits) its own place of ``habitat``."""
    suitable = [site for site in range(config.sites) if site_habitat(site) in habitats]
    at_site = rng.random() < config.site_prob
    pick = int(rng.integers(max(1, len(suitable))))
    if at_site and suitable:
        site = suitable[pick]
        return Place(seeds.SITE, 0, site, site_habitat(site))
    return Place(seeds.PLACE, owner, encounter, habitat)


def view_shape(config: SynthConfig) -> tuple[int, int]:
    """``(height, width)`` px of one frame's view of the scenery as rendered: the frame's shape
    with its longest side the largest photo size, at most :data:`PLACE_SIZE`."""
    largest = config.size_range[1] if config.size_range is not None else config.size
    height, width = config.scene_shape
    factor = min(largest, PLACE_SIZE) / max(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def place_background(
    place: Place,
    rng: np.random.Generator,
    seed: int,
    frame: tuple[int, int],
    tint: np.ndarray,
    blur: float,
    config: SynthConfig,
) -> np.ndarray:
    """``(H, W, 3)`` float32 background of shape ``frame``: a crop of ``place``'s panorama at a
    random pan and zoom drawn from ``rng``, times ``tint`` (3 gains), with depth-of-field blur
    ``blur`` (Gaussian sigma in px of the frame)."""
    view = view_shape(config)
    panorama = _panorama(seed, place, view, config.clutter, config.encounter_tint)
    zoom = rng.uniform(*ZOOM)
    h = min(panorama.shape[0], round(view[0] / zoom))
    w = min(panorama.shape[1], round(view[1] / zoom))
    top = int(rng.integers(0, panorama.shape[0] - h + 1))
    left = int(rng.integers(0, panorama.shape[1] - w + 1))
    crop = panorama[top : top + h, left : left + w].astype(np.float32) * (tint / 255.0)
    return _fit(crop, frame, blur)


def own_background(
    habitat: str,
    rng: np.random.Generator,
    frame: tuple[int, int],
    tint: np.ndarray,
    blur: float,
    config: SynthConfig,
) -> np.ndarray:
    """``(H, W, 3)`` float32 background of shape ``frame`` of a photo's own patch of
    ``habitat``, landmarks included, drawn from ``rng``; ``tint`` and ``blur`` as in
    :func:`place_background`."""
    view = view_shape(config)
    image = make_background(habitat, rng, view, tint, max(view) / 256.0)
    add_landmarks(rng, image, habitat, landmark_count(rng, config.clutter), view[0], tint)
    return _fit(np.clip(image, 0.0, 1.0), frame, blur)


def _fit(image: np.ndarray, frame: tuple[int, int], blur: float) -> np.ndarray:
    """``image`` blurred by ``blur`` (sigma in frame px) and resized to ``frame`` (H, W)."""
    factor = image.shape[1] / frame[1]
    if blur * factor > 0.3:  # blur before an enlargement: cheaper, and the same look
        image = cv2.GaussianBlur(image, (0, 0), blur * factor)
    shrink = cv2.INTER_AREA if factor > 1.0 else cv2.INTER_LINEAR
    fitted: np.ndarray = cv2.resize(image, (frame[1], frame[0]), interpolation=shrink)
    return fitted


@lru_cache(maxsize=_CACHED_PLACES)
def _panorama(
    seed: int, place: Place, view: tuple[int, int], clutter: float, tint_std: float
) -> np.ndarray:
    """``(h, w, 3)`` uint8 RGB scenery of ``place``, PANORAMA times the ``view`` (H, W) on each
    side, from the place's own random stream; read-only, as the cache shares it."""
    rng = seeds.stream(seed, place.owner, place.purpose, place.index)
    stretch = rng.uniform(*PANORAMA)
    shape = (round(view[0] * stretch), round(view[1] * stretch))
    # A site has its own palette; an own place takes its encounter's tint when cropped.
    tint = 1.0 + rng.normal(0.0, tint_std, 3) if place.purpose == seeds.SITE else np.ones(3)
    image = make_background(place.habitat, rng, shape, tint, max(view) / 256.0)
    count = landmark_count(rng, clutter, stretch**2)
    add_landmarks(rng, image, place.habitat, count, view[0], tint)
    pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    pixels.flags.writeable = False
    return pixels
