"""Landmarks: distinct objects in the scenery (rocks with blotchy lichen, tree trunks with bark,
logs, bushes with berries).

Unlike the repetitive grass strokes and pebbles of :mod:`~photoid.data.synth.scene`, every
landmark is unique and full of corners and blobs, so a keypoint matcher finds and matches it:
photos taken at one place then share keypoints that say nothing about the animal. Drawers paint
into an ``(H, W, 3)`` float32 RGB image in [0, 1] in place; sizes are in pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from photoid.data.synth.noise import smoothstep, value_noise

Drawer = Callable[[np.random.Generator, np.ndarray, float, float, float, np.ndarray], None]

# Which landmarks stand in each habitat of scene.HABITATS, with their shares.
KINDS: dict[str, dict[str, float]] = {
    "grass": {"rock": 0.35, "trunk": 0.2, "log": 0.2, "bush": 0.25},
    "savanna": {"rock": 0.4, "trunk": 0.15, "log": 0.15, "bush": 0.3},
    "foliage": {"rock": 0.2, "trunk": 0.4, "log": 0.2, "bush": 0.2},
    "water": {"rock": 0.65, "log": 0.35},
}

# Size of each kind as a share of the frame height, (low, high), before the depth factor:
# rock radius, trunk width, log length, bush radius.
SIZES: dict[str, tuple[float, float]] = {
    "rock": (0.06, 0.15),
    "trunk": (0.03, 0.07),
    "log": (0.18, 0.40),
    "bush": (0.07, 0.15),
}

_LICHENS = np.array(
    [[0.70, 0.72, 0.36], [0.85, 0.58, 0.22], [0.88, 0.87, 0.80], [0.25, 0.30, 0.16]], np.float32
)
_BERRIES = np.array([[0.80, 0.12, 0.10], [0.95, 0.92, 0.85], [0.95, 0.80, 0.20]], np.float32)


def add_landmarks(
    rng: np.random.Generator,
    image: np.ndarray,
    habitat: str,
    count: int,
    frame_height: float,
    tint: np.ndarray,
) -> None:
    """Draw ``count`` landmarks of ``habitat`` (a key of :data:`KINDS`) into ``image`` in place,
    farthest (highest) first; lower ones are nearer and drawn larger. ``frame_height``: height in
    px of one photo's view of ``image`` (sizes are shares of it); ``tint``: (3,) colour gains."""
    if count <= 0:
        return
    height, width = image.shape[:2]
    names = list(KINDS[habitat])
    shares = np.array([KINDS[habitat][n] for n in names])
    kinds = rng.choice(len(names), size=count, p=shares / shares.sum())
    xs = rng.uniform(0.0, width, count)
    ys = np.sort(rng.uniform(0.12 * height, height, count))
    for kind, x, y in zip(kinds.tolist(), xs.tolist(), ys.tolist(), strict=True):
        name = names[kind]
        depth = 0.5 + 0.8 * y / height
        size = rng.uniform(*SIZES[name]) * frame_height * depth
        if name == "trunk":
            y = min(y, 0.85 * height)  # a trunk stands behind the nearest ground
        DRAWERS[name](rng, image, x, y, max(size, 3.0), tint.astype(np.float32))


def landmark_count(rng: np.random.Generator, clutter: float, frames: float = 1.0) -> int:
    """How many landmarks ``frames`` frame areas of scenery hold at ``clutter`` landmarks per
    frame: Poisson distributed; 0 (and no random draw) when ``clutter`` is 0."""
    return int(rng.poisson(clutter * frames)) if clutter > 0 else 0


def _paste(image: np.ndarray, left: int, top: int, colour: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``colour`` ``(h, w, 3)`` with coverage ``alpha`` ``(h, w)`` into ``image`` with its
    top-left corner at ``(left, top)``; parts outside ``image`` are dropped."""
    height, width = image.shape[:2]
    h, w = alpha.shape
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, width), min(top + h, height)
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
    c = colour[y0 - top : y1 - top, x0 - left : x1 - left]
    region = image[y0:y1, x0:x1]
    region[:] = region * (1.0 - a) + c * a


def _fixed(points: np.ndarray) -> np.ndarray:
    return (np.asarray(points) * 16).round().astype(np.int32)


def _shadow(image: np.ndarray, x: float, y: float, rx: float, ry: float) -> None:
    """Darken a soft ellipse of radii ``(rx, ry)`` px on the ground at ``(x, y)``."""
    w, h = int(2 * rx + 8), int(2 * ry + 8)
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, 0.45, -1)
    soft: np.ndarray = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.25 * ry))
    _paste(image, int(x) - w // 2, int(y) - h // 2, np.zeros((h, w, 3), np.float32), soft)


def _rock(
    rng: np.random.Generator, image: np.ndarray, x: float, y: float, size: float, tint: np.ndarray
) -> None:
    """A lumpy boulder of radius ``size`` sitting at ``(x, y)``, lit from above, with lichen
    blotches and dark cracks."""
    flat = rng.uniform(0.55, 0.85)
    count = int(rng.integers(9, 16))
    angles = np.sort(rng.uniform(0.0, 2 * np.pi, count))
    radii = size * rng.uniform(0.72, 1.0, count)
    w, h = int(2 * size + 6), int(2 * size * flat + 6)
    centre = np.array([w / 2, h / 2])
    outline = centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii * flat], axis=1)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [_fixed(outline)], 255, cv2.LINE_AA, 4)
    alpha = mask.astype(np.float32) / 255.0
    u = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    v = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    light = 0.8 + 0.3 * np.clip(-0.45 * u - 0.85 * v, -1.0, 1.0)
    grain = 1.0 + 0.18 * value_noise(rng, (h, w), rng.uniform(6.0, 12.0), 3)
    base = np.array([0.47, 0.45, 0.42], np.float32) * rng.uniform(0.6, 1.2, 3).mean() * tint
    colour = base * (light * grain)[..., None]
    for _ in range(int(rng.integers(2, 4))):  # lichen: blotches of one colour, sharp-edged
        field = value_noise(rng, (h, w), rng.uniform(8.0, 16.0), 3)
        level = rng.uniform(0.2, 0.45)
        spots = smoothstep(field, level, level + 0.06)[..., None]
        lichen = _LICHENS[int(rng.integers(len(_LICHENS)))] * tint * rng.uniform(0.85, 1.1)
        colour = colour * (1.0 - spots) + lichen * light[..., None] * spots
    dark = (base * 0.3).tolist()
    for _ in range(int(rng.integers(2, 5))):  # cracks
        start = centre + rng.uniform(-0.5, 0.5, 2) * np.array([size, size * flat])
        steps = rng.normal(0.0, 0.12 * size, (int(rng.integers(2, 5)), 2)).cumsum(axis=0)
        crack = np.vstack([start, start + steps])
        thick = max(1, round(0.025 * size))
        cv2.polylines(colour, [_fixed(crack)], False, dark, thick, cv2.LINE_AA, 4)
    _shadow(image, x, y - 0.45 * size * flat, 1.1 * size, 0.2 * size)
    _paste(image, int(x - w / 2), int(y) - h + 3, colour, alpha)  # its bottom on the ground


def _trunk(
    rng: np.random.Generator, image: np.ndarray, x: float, y: float, size: float, tint: np.ndarray
) -> None:
    """A tree trunk ``size`` px wide at its foot ``(x, y)``, rising out of the top of the image,
    with ridged bark, knots and a moss side."""
    length = int(y) + 4
    w = int(2.2 * size) + 4
    rows = np.arange(length, dtype=np.float32)[:, None] / max(length, 1)  # 0 top, 1 foot
    half = 0.5 * size * (0.7 + 0.3 * rows + 0.35 * rows**12)  # taper, flared roots
    sway = size * 0.3 * value_noise(rng, (length, 1), 2.0)  # (length, 1)
    cols = np.arange(w, dtype=np.float32)[None, :] - w / 2 - sway
    across = cols / half  # -1 .. 1 inside the trunk
    alpha = np.clip(half - np.abs(cols) + 0.5, 0.0, 1.0).astype(np.float32)
    ridges = value_noise(rng, (max(2, length // 12), w), rng.uniform(6.0, 10.0) * w / size, 2)
    ridges = cv2.resize(ridges, (w, length), interpolation=cv2.INTER_CUBIC)
    furrows = smoothstep(ridges, -0.15, 0.25)
    bark = 0.3 + 0.7 * furrows * (1.0 + 0.25 * value_noise(rng, (length, w), 20.0, 2))
    round_ = np.sqrt(np.clip(1.0 - across**2, 0.0, 1.0)) * (0.75 + 0.25 * np.clip(-across, -1, 1))
    base = np.array([0.36, 0.29, 0.22], np.float32) * rng.uniform(0.7, 1.25) * tint
    colour = base * (bark * (0.35 + 0.75 * round_))[..., None]
    moss = smoothstep(value_noise(rng, (length, w), 8.0, 3) + 0.6 * across, 0.45, 0.6)
    moss_colour = np.array([0.30, 0.42, 0.14], np.float32) * tint
    colour = colour * (1.0 - moss[..., None]) + moss_colour * (round_ * moss)[..., None]
    for _ in range(int(rng.integers(2, 6))):  # knots and branch scars
        ky = int(rng.uniform(0.05, 0.9) * length)
        kx = int(w / 2 + float(sway[min(ky, length - 1), 0]) + rng.uniform(-0.3, 0.3) * size)
        axes = (max(1, int(0.12 * size)), max(1, int(rng.uniform(0.15, 0.35) * size)))
        cv2.ellipse(colour, (kx, ky), axes, 0, 0, 360, (0.32, 0.27, 0.2), -1, cv2.LINE_AA)
        inner = (max(1, axes[0] // 2), max(1, axes[1] // 2))
        cv2.ellipse(colour, (kx, ky), inner, 0, 0, 360, (0.08, 0.06, 0.05), -1, cv2.LINE_AA)
    colour = np.clip(colour, 0.0, 1.0)
    _shadow(image, x, y, 1.6 * size, 0.3 * size)
    _paste(image, int(x - w / 2), int(y) - length + 2, colour, alpha)


def _log(
    rng: np.random.Generator, image: np.ndarray, x: float, y: float, size: float, tint: np.ndarray
) -> None:
    """A fallen log ``size`` px long lying at ``(x, y)``, slightly turned, with bark streaks and
    a sawn end showing growth rings."""
    thick = max(3, int(size * rng.uniform(0.14, 0.24)))
    length = max(4, int(size))
    across = np.linspace(-1.0, 1.0, thick, dtype=np.float32)[:, None]
    round_ = np.sqrt(np.clip(1.0 - across**2, 0.05, 1.0)) * (0.8 - 0.2 * across)
    streaks = value_noise(rng, (thick, max(2, length // 10)), rng.uniform(4.0, 8.0), 2)
    streaks = cv2.resize(streaks, (length, thick), interpolation=cv2.INTER_CUBIC)
    bark = 0.5 + 0.5 * smoothstep(streaks, -0.2, 0.3)
    base = np.array([0.42, 0.33, 0.24], np.float32) * rng.uniform(0.7, 1.3) * tint
    colour = base * (bark * round_)[..., None] * np.ones((1, length, 1), np.float32)
    cap = (length - thick // 3, thick // 2)  # the sawn end: pale wood with darker rings
    axes = (max(1, thick // 3), max(1, thick // 2))
    cv2.ellipse(colour, cap, axes, 0, 0, 360, (0.78, 0.66, 0.48), -1, cv2.LINE_AA)
    for ring in np.linspace(0.85, 0.15, int(rng.integers(3, 7))):
        ring_axes = (max(1, int(axes[0] * ring)), max(1, int(axes[1] * ring)))
        cv2.ellipse(colour, cap, ring_axes, 0, 0, 360, (0.45, 0.33, 0.2), 1, cv2.LINE_AA)
    canvas_alpha = np.ones((thick, length), np.float32)
    pad = int(0.5 * length)
    turn = rng.uniform(-18.0, 18.0)
    rotation = cv2.getRotationMatrix2D((length / 2, thick / 2), turn, 1.0)
    rotation[:, 2] += pad
    out = (length + 2 * pad, thick + 2 * pad)
    colour = cv2.warpAffine(colour * canvas_alpha[..., None], rotation, out)
    alpha = cv2.warpAffine(canvas_alpha, rotation, out)
    colour = colour / np.maximum(alpha, 1e-3)[..., None]
    _shadow(image, x, y + 0.4 * thick, 0.5 * size, 0.35 * thick)
    _paste(image, int(x - out[0] / 2), int(y - out[1] / 2), colour, alpha)


def _bush(
    rng: np.random.Generator, image: np.ndarray, x: float, y: float, size: float, tint: np.ndarray
) -> None:
    """A bush of radius ``size`` on the ground at ``(x, y)``: clumps of leaves in several
    greens, darker inside, dotted with berries or flowers."""
    w, h = int(2.2 * size) + 4, int(1.6 * size) + 4
    colour = np.zeros((h, w, 3), np.float32)
    mask = np.zeros((h, w), np.uint8)
    base = np.array([0.16, 0.28, 0.10], np.float32) * rng.uniform(0.7, 1.3) * tint
    count = int(np.clip(size * 1.2, 25, 160))
    angle = rng.uniform(0.0, 2 * np.pi, count)
    reach = np.sqrt(rng.uniform(0.0, 1.0, count))
    cx = w / 2 + np.cos(angle) * reach * size
    cy = 0.6 * h + np.sin(angle) * reach * 0.55 * h - 0.1 * h
    order = np.argsort(cy)
    for k in order.tolist():
        axes = (
            max(1, int(rng.uniform(0.08, 0.2) * size)),
            max(1, int(rng.uniform(0.05, 0.12) * size)),
        )
        tone = base * rng.uniform(0.5, 1.8) * (1.2 - 0.5 * reach[k])
        centre = (int(cx[k]), int(cy[k]))
        turn = float(rng.uniform(0, 180))
        cv2.ellipse(
            colour, centre, axes, turn, 0, 360, np.clip(tone, 0, 1).tolist(), -1, cv2.LINE_AA
        )
        cv2.ellipse(mask, centre, axes, turn, 0, 360, 255, -1, cv2.LINE_AA)
    berry = _BERRIES[int(rng.integers(len(_BERRIES)))]
    for _ in range(int(rng.integers(4, 16))):
        a, r = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 0.8))
        centre = (int(w / 2 + np.cos(a) * r * size), int(0.5 * h + np.sin(a) * r * 0.5 * h))
        radius = max(1, int(rng.uniform(0.03, 0.06) * size))
        cv2.circle(colour, centre, radius, berry.tolist(), -1, cv2.LINE_AA)
    alpha = mask.astype(np.float32) / 255.0
    colour = colour / np.maximum(alpha, 1e-3)[..., None]  # ellipse edges are antialiased too
    _shadow(image, x, y, 1.0 * size, 0.2 * size)
    _paste(image, int(x - w / 2), int(y - h), np.clip(colour, 0.0, 1.0), alpha)


DRAWERS: dict[str, Drawer] = {"rock": _rock, "trunk": _trunk, "log": _log, "bush": _bush}
