"""What the camera does to a scene: light, colour cast, shadows, blur, sensor noise, JPEG.

Operates on ``(H, W, 3)`` float32 RGB in [0, 1] (linear-ish) and returns uint8 RGB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from photoid.data.synth.config import SynthConfig
from photoid.data.synth.noise import smoothstep, value_noise


@dataclass(frozen=True)
class Light:
    """Lighting of one photo. ``direction`` in radians (image plane), gains per RGB channel."""

    direction: float
    strength: float  # share of ``config.light_gradient`` used, in [0, 1]
    cast: np.ndarray  # (3,) float32 channel gains
    exposure: float
    gamma: float


def expose(
    image: np.ndarray, light: Light, rng: np.random.Generator, config: SynthConfig, dappled: bool
) -> np.ndarray:
    """Apply the light gradient, vignette, leaf shadows (if ``dappled``), cast, exposure, gamma."""
    height, width = image.shape[:2]
    y = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    ramp = math.cos(light.direction) * x + math.sin(light.direction) * y
    gain = 1.0 + 0.5 * config.light_gradient * light.strength * ramp
    gain = gain * (1.0 - config.vignette * rng.uniform(0.0, 1.0) * (x**2 + y**2) / 2.0)
    if rng.random() < config.shadow_prob and dappled:
        leaves = value_noise(rng, (height, width), rng.uniform(12.0, 24.0), 2)
        gain = gain * (1.0 - config.shadow_strength * smoothstep(leaves, -0.1, 0.3))
    lit = image * gain[..., None] * light.cast * light.exposure
    exposed: np.ndarray = cv2.pow(np.clip(lit, 0.0, 1.0), light.gamma)
    return exposed


def degrade(image: np.ndarray, rng: np.random.Generator, config: SynthConfig) -> np.ndarray:
    """Lens blur (Gaussian or motion), sensor noise, then quantise to ``(H, W, 3)`` uint8 RGB."""
    scale = config.pixel_scale
    sigma = rng.uniform(*config.blur_sigma) * scale
    if rng.random() < config.motion_blur_prob:
        length = max(2, round(rng.uniform(*config.motion_blur_length) * scale))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D(
            ((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1.0
        )
        streak = cv2.warpAffine(kernel, rotation, (length, length))
        streak = (streak / max(float(streak.sum()), 1e-6)).astype(np.float32)
        image = cv2.filter2D(image, -1, streak)
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    noise_level = rng.uniform(*config.noise_sigma)
    grain = rng.standard_normal(image.shape, dtype=np.float32)
    image = image + grain * noise_level * (0.5 + np.sqrt(np.clip(image, 0.0, 1.0)))  # shot + read
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)


def encode(image: np.ndarray, quality: int, image_format: str) -> bytes:
    """File bytes of an ``(H, W, 3)`` uint8 RGB image: JPEG at ``quality``, or PNG of the
    JPEG-decoded pixels (so PNG datasets carry the same compression artefacts)."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if image_format == "png" and ok:
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
        ok, data = cv2.imencode(".png", decoded) if decoded is not None else (False, data)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {image.shape} image as {image_format}")
    return bytes(data.tobytes())
