"""One photo of one individual: pose, viewpoint warp, placement in a scene, occlusion, camera.

The canonical animal is warped into the scene by a plane-to-image homography (yaw and pitch give
perspective foreshortening, roll rotates in the image) plus a smooth non-rigid bend, so keypoint
matching sees realistic but not perfectly planar changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from photoid.data.synth import seeds
from photoid.data.synth.body import FinShape, draw_body, sample_pose
from photoid.data.synth.camera import Light, degrade, expose
from photoid.data.synth.config import SynthConfig
from photoid.data.synth.individual import LEFT, RIGHT, Individual, canvas_height
from photoid.data.synth.landmarks import add_landmarks, landmark_count
from photoid.data.synth.noise import smoothstep, value_noise
from photoid.data.synth.occlusion import make_occluder
from photoid.data.synth.place import (
    PLACE_SIZE,
    Place,
    choose_place,
    own_background,
    place_background,
)
from photoid.data.synth.scene import HABITATS, make_background

_PLACEMENT_TRIES = 20


@dataclass(frozen=True)
class Photo:
    """A rendered photo before file encoding.

    ``image``: ``(H, W, 3)`` uint8 RGB. ``mask``: ``(H, W)`` bool, the animal's pixels inside the
    frame (occluders in front do not remove them). ``bbox``: tight ``(x, y, w, h)`` box of
    ``mask`` in pixels. ``side``: ``"left"`` or ``"right"`` flank.
    """

    image: np.ndarray
    mask: np.ndarray
    bbox: tuple[int, int, int, int]
    side: str
    jpeg_quality: int


@dataclass(frozen=True)
class _Look:
    """What the photos of one encounter share."""

    habitat: str
    tint: np.ndarray  # (3,) background palette gains
    cast: np.ndarray  # (3,) colour cast gains
    direction: float  # light direction, radians
    place: Place | None  # where it happens when the dataset has sites (place.py)


def _encounter_look(
    individual: Individual, encounter: int, seed: int, config: SynthConfig
) -> _Look:
    rng = seeds.stream(seed, individual.index, seeds.ENCOUNTER, encounter)
    habitats = individual.species.habitats
    habitat = habitats[int(rng.integers(len(habitats)))]
    tint = (1.0 + rng.normal(0.0, config.encounter_tint, 3)).astype(np.float32)
    cast = (1.0 + rng.normal(0.0, config.encounter_cast, 3)).astype(np.float32)
    direction = float(rng.uniform(0.0, 2.0 * math.pi))
    place = None
    if config.sites > 0:  # drawn last, so the draws above keep their values
        place = choose_place(rng, individual.index, encounter, habitats, habitat, config)
        habitat = place.habitat
    return _Look(habitat, tint, cast, direction, place)


def render_photo(individual: Individual, photo: int, seed: int, config: SynthConfig) -> Photo:
    """Render photo number ``photo`` of ``individual``; the same arguments give the same pixels.

    With ``config.size_range`` the photo's longest side is drawn from it, and the animal and its
    occluder are computed in a window around the animal (fast at 2.5k px); photos of one fixed
    ``size`` are computed over the whole frame.
    """
    look = _encounter_look(individual, individual.photo_encounters[photo], seed, config)
    rng = seeds.stream(seed, individual.index, seeds.IMAGE, photo)
    flip = rng.random() < config.right_side_fraction  # drawn always, so left photos never shift
    side = RIGHT if config.asymmetric and flip else LEFT
    texture = _animal_texture(individual, side, rng, config)
    shot = _shot_config(rng, config)
    windowed = config.size_range is not None
    height, width = shot.scene_shape
    habitats = individual.species.habitats
    moved = habitats[int(rng.integers(len(habitats)))]  # the animal walked to another patch
    elsewhere = rng.random() < config.habitat_change
    habitat = moved if elsewhere else look.habitat
    background = _background(look, habitat, elsewhere, rng, seed, shot, config)
    colour, alpha, (left, top) = _place(texture, rng, shot, windowed)
    for _ in range(_PLACEMENT_TRIES):
        if (alpha > 0.5).any():
            break
        colour, alpha, (left, top) = _place(texture, rng, shot, windowed)  # wholly out: again
    else:
        raise ValueError(f"the animal stays out of view; raise animal_scale {config.animal_scale}")
    around = np.s_[top : top + alpha.shape[0], left : left + alpha.shape[1]]
    scene = background  # a fresh array: drawn into in place
    scene[around] = background[around] * (1.0 - alpha[..., None]) + colour
    mask = np.zeros((height, width), bool)
    mask[around] = alpha > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    if rng.random() < config.occlusion_prob:
        kinds = individual.species.occluders
        kind = kinds[int(rng.integers(len(kinds)))]
        area = rng.uniform(*config.occlusion_area)
        x0, y0, x1, y1 = _reach(box, (height, width)) if windowed else (0, 0, width, height)
        inside = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
        # A big photo's occluder is drawn at PLACE_SIZE and enlarged: near the lens, it is soft.
        shrink = min(1.0, PLACE_SIZE / max(height, width)) if windowed else 1.0
        cover, layer = _occluder(kind, rng, (y1 - y0, x1 - x0), inside, area, shot, shrink)
        region = np.s_[y0:y1, x0:x1]
        scene[region] = scene[region] * (1.0 - cover[..., None]) + layer * cover[..., None]
    light = Light(
        direction=look.direction + float(rng.normal(0.0, 0.4)),
        strength=float(rng.uniform(0.3, 1.0)),
        cast=look.cast * (1.0 + rng.normal(0.0, config.color_cast, 3)).astype(np.float32),
        exposure=float(rng.uniform(0.85, 1.15)),
        gamma=float(rng.uniform(*config.gamma)),
    )
    dappled = HABITATS[habitat].dappled
    image = degrade(expose(scene.astype(np.float32), light, rng, shot, dappled), rng, shot)
    quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
    bbox = (box[0], box[1], box[2] - box[0], box[3] - box[1])
    return Photo(image=image, mask=mask, bbox=bbox, side=side, jpeg_quality=quality)


def _occluder(
    kind: str,
    rng: np.random.Generator,
    shape: tuple[int, int],
    box: tuple[int, int, int, int],
    area: float,
    shot: SynthConfig,
    shrink: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`make_occluder` over ``shape`` (H, W) around ``box`` (x0, y0, x1, y1 px), drawn at
    ``shrink`` times that size and enlarged back when ``shrink`` < 1."""
    if shrink >= 1.0:
        return make_occluder(kind, rng, shape, box, area, shot.pixel_scale)
    small = (max(2, round(shape[0] * shrink)), max(2, round(shape[1] * shrink)))
    inside = (
        int(box[0] * shrink),
        int(box[1] * shrink),
        max(int(box[0] * shrink) + 1, round(box[2] * shrink)),
        max(int(box[1] * shrink) + 1, round(box[3] * shrink)),
    )
    cover, layer = make_occluder(kind, rng, small, inside, area, shot.pixel_scale * shrink)
    size = (shape[1], shape[0])
    return (
        cv2.resize(cover, size, interpolation=cv2.INTER_LINEAR),
        cv2.resize(layer, size, interpolation=cv2.INTER_LINEAR),
    )


def _shot_config(rng: np.random.Generator, config: SynthConfig) -> SynthConfig:
    """``config`` with the photo's own ``size`` drawn from ``size_range`` (if set)."""
    if config.size_range is None:
        return config
    low, high = config.size_range
    return replace(config, size=int(rng.integers(low, high + 1)), size_range=None)


def _background(
    look: _Look,
    habitat: str,
    elsewhere: bool,
    rng: np.random.Generator,
    seed: int,
    shot: SynthConfig,
    config: SynthConfig,
) -> np.ndarray:
    """``(H, W, 3)`` float32 scenery behind the animal in ``shot``'s frame: a crop of the
    encounter's place (unless the animal walked ``elsewhere``), else a patch of ``habitat`` of
    its own; with depth-of-field blur and ``config.clutter`` landmarks."""
    frame = shot.scene_shape
    if config.sites == 0 and config.size_range is None:  # rendered at the frame's own size
        background = make_background(habitat, rng, frame, look.tint, shot.pixel_scale)
        count = landmark_count(rng, config.clutter)
        add_landmarks(rng, background, habitat, count, frame[0], look.tint)
        depth_blur = rng.uniform(*config.background_blur) * shot.pixel_scale
        if depth_blur > 0.3:
            background = cv2.GaussianBlur(background, (0, 0), depth_blur)
        return background
    depth_blur = rng.uniform(*config.background_blur) * shot.pixel_scale
    if look.place is not None and not elsewhere:
        return place_background(look.place, rng, seed, frame, look.tint, depth_blur, config)
    return own_background(habitat, rng, frame, look.tint, depth_blur, config)


def _animal_texture(
    individual: Individual, side: str, rng: np.random.Generator, config: SynthConfig
) -> np.ndarray:
    """The posed, shaded animal cropped to its silhouette: ``(h, w, 4)`` float32, alpha last."""
    hc = canvas_height(config)
    mask = draw_body(individual.shape, sample_pose(rng, config.pose_jitter), hc)
    rim = cv2.GaussianBlur(mask, (0, 0), 0.05 * hc)
    shade = 0.6 + 0.4 * np.clip(rim * 1.7 - 0.2, 0.0, 1.0)  # rounded body: darker at the edges
    if not isinstance(individual.shape, FinShape):
        _, cy, _, ay = individual.shape.torso
        y = (np.arange(hc, dtype=np.float32)[:, None] + 0.5) / hc
        shade = shade * (1.05 - 0.25 * smoothstep(y, cy, cy + 1.3 * ay))  # shadowed belly
    rgba = np.dstack([individual.coats[side] * (shade * mask)[..., None], mask])
    rows, cols = np.flatnonzero(mask.max(axis=1) > 0.02), np.flatnonzero(mask.max(axis=0) > 0.02)
    rgba = rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return np.ascontiguousarray(rgba[:, ::-1] if side == RIGHT else rgba, np.float32)


def _place(
    texture: np.ndarray, rng: np.random.Generator, config: SynthConfig, windowed: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Warp the premultiplied texture into the scene: ``(h, w, 3)`` colour, ``(h, w)`` alpha and
    the ``(x, y)`` px of their top-left corner in the scene: the whole scene, or if ``windowed``
    only the box the animal can reach (bending included)."""
    height, width = config.scene_shape
    th, tw = texture.shape[:2]
    scale = min(rng.uniform(*config.animal_scale) * width / tw, 0.95 * height / th)
    tw_s, th_s = max(2, round(tw * scale)), max(2, round(th * scale))
    shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(texture, (tw_s, th_s), interpolation=shrink)
    homography = _view(rng, config, tw_s, th_s)
    corners = cv2.perspectiveTransform(
        np.array([[[0, 0], [tw_s, 0], [tw_s, th_s], [0, th_s]]], np.float64), homography
    )[0]
    low, high = corners.min(axis=0), corners.max(axis=0)
    fit = min(1.0, 0.98 * width / (high[0] - low[0]), 0.98 * height / (high[1] - low[1]))
    low, high = low * fit, high * fit
    spare = np.array([width, height]) - (high - low)
    offset = rng.uniform(0.0, 1.0, 2) * spare - low
    if rng.random() < config.truncation_prob:  # push the animal partly off one frame edge
        axis = int(rng.integers(2))
        push = rng.uniform(0.05, config.truncation_max) * (high - low)[axis]
        edge = (width, height)[axis]
        low_edge = rng.random() < 0.5
        offset[axis] = -low[axis] - push if low_edge else edge - high[axis] + push
    move = np.array([[fit, 0, offset[0]], [0, fit, offset[1]], [0, 0, 1]])
    bend = config.deform * tw_s
    x0, y0, x1, y1 = _reached(move @ homography, tw_s, th_s, bend) if windowed else (0, 0, 0, 0)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = (min(width, x1), min(height, y1)) if windowed else (width, height)
    if x1 <= x0 or y1 <= y0:  # wholly out of the frame
        return np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32), (0, 0)
    inverse = np.linalg.inv(move @ homography)
    gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    src = inverse @ np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])
    shape = (y1 - y0, x1 - x0)
    cells = 1.5 * max(shape) / max(height, width)  # the same bend per px as over the whole scene
    map_x = (src[0] / src[2]).reshape(shape) + bend * value_noise(rng, shape, cells)
    map_y = (src[1] / src[2]).reshape(shape) + bend * value_noise(rng, shape, cells)
    warped = cv2.remap(
        small,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return warped[..., :3], np.clip(warped[..., 3], 0.0, 1.0), (x0, y0)


def _reached(homography: np.ndarray, tw: int, th: int, bend: float) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` px box (not clipped) of the scene pixels that can sample a ``tw`` x
    ``th`` texture warped by ``homography`` and bent by up to ``bend`` texture px."""
    m = bend + 2.0
    rim = np.array([[-m, -m, 1], [tw + m, -m, 1], [tw + m, th + m, 1], [-m, th + m, 1]])
    projected = rim @ homography.T
    if (projected[:, 2] <= 1e-9).any():  # the rim crosses the horizon: take the whole scene
        far = 2**30
        return -far, -far, far, far
    points = projected[:, :2] / projected[:, 2:]
    low, high = np.floor(points.min(axis=0)), np.ceil(points.max(axis=0)) + 1
    return int(low[0]), int(low[1]), int(high[0]), int(high[1])


def _reach(box: tuple[int, int, int, int], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` px: the animal's ``box`` grown by twice its diagonal on each side,
    clipped to the scene ``shape`` (H, W): room for any occluder of that box."""
    margin = 2 * int(np.hypot(box[2] - box[0], box[3] - box[1]))
    height, width = shape
    return (
        max(0, box[0] - margin),
        max(0, box[1] - margin),
        min(width, box[2] + margin),
        min(height, box[3] + margin),
    )


def _view(rng: np.random.Generator, config: SynthConfig, tw: int, th: int) -> np.ndarray:
    """Homography from texture pixels to a centred image: yaw, pitch (perspective), then roll."""
    yaw, pitch, roll = (
        math.radians(rng.uniform(-limit, limit))
        for limit in (config.yaw_deg, config.pitch_deg, config.roll_deg)
    )
    ry = np.array(
        [[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]]
    )
    rotation = rx @ ry
    focal = config.focal * tw
    plane = np.column_stack([rotation[:, 0], rotation[:, 1], [0.0, 0.0, focal]])
    project = np.diag([focal, focal, 1.0]) @ plane
    centre = np.array([[1, 0, -tw / 2], [0, 1, -th / 2], [0, 0, 1]])
    spin = np.array(
        [[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]]
    )
    homography: np.ndarray = spin @ project @ centre
    normalised: np.ndarray = homography / homography[2, 2]
    return normalised
