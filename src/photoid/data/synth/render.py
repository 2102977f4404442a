"""One photo of one individual: pose, viewpoint warp, placement in a scene, occlusion, camera.

The canonical animal is warped into the scene by a plane-to-image homography (yaw and pitch give
perspective foreshortening, roll rotates in the image) plus a smooth non-rigid bend, so keypoint
matching sees realistic but not perfectly planar changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from photoid.data.synth import seeds
from photoid.data.synth.body import FinShape, draw_body, sample_pose
from photoid.data.synth.camera import Light, degrade, expose
from photoid.data.synth.config import SynthConfig
from photoid.data.synth.individual import LEFT, RIGHT, Individual, canvas_height
from photoid.data.synth.noise import smoothstep, value_noise
from photoid.data.synth.occlusion import make_occluder
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


def _encounter_look(
    individual: Individual, encounter: int, seed: int, config: SynthConfig
) -> _Look:
    rng = seeds.stream(seed, individual.index, seeds.ENCOUNTER, encounter)
    habitats = individual.species.habitats
    return _Look(
        habitat=habitats[int(rng.integers(len(habitats)))],
        tint=(1.0 + rng.normal(0.0, config.encounter_tint, 3)).astype(np.float32),
        cast=(1.0 + rng.normal(0.0, config.encounter_cast, 3)).astype(np.float32),
        direction=float(rng.uniform(0.0, 2.0 * math.pi)),
    )


def render_photo(individual: Individual, photo: int, seed: int, config: SynthConfig) -> Photo:
    """Render photo number ``photo`` of ``individual``; the same arguments give the same pixels."""
    look = _encounter_look(individual, individual.photo_encounters[photo], seed, config)
    rng = seeds.stream(seed, individual.index, seeds.IMAGE, photo)
    flip = rng.random() < config.right_side_fraction  # drawn always, so left photos never shift
    side = RIGHT if config.asymmetric and flip else LEFT
    texture = _animal_texture(individual, side, rng, config)
    height, width = config.scene_shape
    habitats = individual.species.habitats
    moved = habitats[int(rng.integers(len(habitats)))]  # the animal walked to another patch
    habitat = moved if rng.random() < config.habitat_change else look.habitat
    background = make_background(habitat, rng, (height, width), look.tint, config.pixel_scale)
    depth_blur = rng.uniform(*config.background_blur) * config.pixel_scale
    if depth_blur > 0.3:
        background = cv2.GaussianBlur(background, (0, 0), depth_blur)
    colour, alpha = _place(texture, rng, config)
    for _ in range(_PLACEMENT_TRIES):
        if (alpha > 0.5).any():
            break
        colour, alpha = _place(texture, rng, config)  # pushed wholly out of frame: try again
    else:
        raise ValueError(f"the animal stays out of view; raise animal_scale {config.animal_scale}")
    scene = background * (1.0 - alpha[..., None]) + colour
    mask = alpha > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    if rng.random() < config.occlusion_prob:
        kinds = individual.species.occluders
        kind = kinds[int(rng.integers(len(kinds)))]
        area = rng.uniform(*config.occlusion_area)
        cover, layer = make_occluder(kind, rng, (height, width), box, area, config.pixel_scale)
        scene = scene * (1.0 - cover[..., None]) + layer * cover[..., None]
    light = Light(
        direction=look.direction + float(rng.normal(0.0, 0.4)),
        strength=float(rng.uniform(0.3, 1.0)),
        cast=look.cast * (1.0 + rng.normal(0.0, config.color_cast, 3)).astype(np.float32),
        exposure=float(rng.uniform(0.85, 1.15)),
        gamma=float(rng.uniform(*config.gamma)),
    )
    dappled = HABITATS[habitat].dappled
    image = degrade(expose(scene.astype(np.float32), light, rng, config, dappled), rng, config)
    quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
    bbox = (box[0], box[1], box[2] - box[0], box[3] - box[1])
    return Photo(image=image, mask=mask, bbox=bbox, side=side, jpeg_quality=quality)


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
    texture: np.ndarray, rng: np.random.Generator, config: SynthConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Warp the premultiplied texture into the scene: ``(H, W, 3)`` colour and ``(H, W)`` alpha."""
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
    inverse = np.linalg.inv(move @ homography)
    gx, gy = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    src = inverse @ np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])
    bend = config.deform * tw_s
    map_x = (src[0] / src[2]).reshape(height, width) + bend * value_noise(rng, (height, width), 1.5)
    map_y = (src[1] / src[2]).reshape(height, width) + bend * value_noise(rng, (height, width), 1.5)
    warped = cv2.remap(
        small,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return warped[..., :3], np.clip(warped[..., 3], 0.0, 1.0)


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
