"""Augmentation policies as batched tensor operations on the device (the GPU data path).

The same policy names as :mod:`photoid.train.augment` (``none``, ``light``, ``heavy``), close in
spirit: a random affine (scale, rotation, translation, shear), brightness, contrast,
saturation and hue jitter, Gaussian blur and noise, and black rectangles (coarse dropout). They
differ from the CPU pipelines in order and detail: they run after the photo is cropped and
resized to ``S x S`` (so blur and noise are in pixels of the resized photo), every geometric
change (the policy's and ``rot45``'s) is one bilinear resampling, and there is no
perspective warp or motion blur. Every draw comes from the ``torch.Generator`` passed in, so a
seed repeats a batch's augmentations exactly on the same device; no host synchronisation is
needed, as every image draws its parameters and a mask says which changes apply to it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from photoid.errors import PhotoidError
from photoid.train.augment import IMAGENET_MEAN, IMAGENET_STD

Range = tuple[float, float]


@dataclass(frozen=True)
class GpuPolicy:
    """Probabilities (per image) and ranges (uniform) of one policy. Angles in degrees;
    ``translate`` and ``hole_size`` are fractions of the image side; ``brightness`` an offset
    and ``contrast`` a gain change, both on the 0-1 scale; ``saturation`` a relative change;
    ``noise_std`` and ``blur_sigma`` (pixels of the resized image) are ranges."""

    affine_p: float = 0.0
    scale: Range = (1.0, 1.0)
    translate: float = 0.0
    rotate: float = 0.0
    shear: float = 0.0
    rotate_p: float = 0.0
    extra_rotate: float = 0.0
    brightness_p: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    color_p: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    blur_p: float = 0.0
    blur_sigma: Range = (0.5, 1.2)
    noise_p: float = 0.0
    noise_std: Range = (0.02, 0.1)
    dropout_p: float = 0.0
    holes: int = 4
    hole_size: Range = (0.05, 0.2)


# Name -> policy; the counterparts of photoid.train.augment.POLICIES.
GPU_POLICIES: dict[str, GpuPolicy] = {
    "none": GpuPolicy(),
    "light": GpuPolicy(
        affine_p=0.5,
        scale=(0.9, 1.1),
        translate=0.05,
        rotate=10.0,
        brightness_p=0.5,
        brightness=0.2,
        contrast=0.2,
        color_p=0.3,
        saturation=0.1,
        hue=10.0,
    ),
    "heavy": GpuPolicy(
        affine_p=0.7,
        scale=(0.8, 1.2),
        translate=0.1,
        rotate=15.0,
        shear=8.0,
        rotate_p=0.3,
        extra_rotate=30.0,
        brightness_p=0.5,
        brightness=0.3,
        contrast=0.3,
        color_p=0.6,
        saturation=0.3,
        hue=18.0,
        blur_p=0.3,
        noise_p=0.3,
        dropout_p=0.4,
    ),
}

# RGB -> YIQ: hue turns the (I, Q) plane, saturation scales it.
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_CONSTANTS = (
    torch.tensor(IMAGENET_MEAN)[None, :, None, None],
    torch.tensor(IMAGENET_STD)[None, :, None, None],
    _YIQ,
    torch.linalg.inv(_YIQ),
)


def crop_resize(images: list[torch.Tensor], boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Crop each image to its box and resize it to ``size x size`` (aspect not kept).

    ``images``: B tensors ``(3, H_i, W_i)`` uint8 on one device; ``boxes``: ``(B, 4)``
    ``x0, y0, x1, y1`` in pixels, end-exclusive, non-empty. Returns ``(B, 3, size, size)``
    float32 in [0, 1]. Images of one shape are stacked and resampled by a single
    ``roi_align`` (Mask R-CNN's RoIAlign, He et al. 2017): each output pixel averages
    ``ceil(box side / size)`` bilinear samples per axis, an area average when shrinking and
    bilinear interpolation when enlarging.
    """
    if not images:
        raise PhotoidError("crop_resize needs at least one image")
    device = images[0].device
    out = torch.empty((len(images), 3, size, size), dtype=torch.float32, device=device)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for position, image in enumerate(images):
        groups[tuple(image.shape)].append(position)
    # Small host tensors go over without blocking: a blocking copy would wait for the stream.
    rois = boxes.to(torch.float32).to(device, non_blocking=True)
    for positions in groups.values():
        stacked = torch.stack([images[p] for p in positions]).float().div_(255.0)
        where = torch.tensor(positions).to(device, non_blocking=True)
        batch_index = torch.arange(len(positions), device=device, dtype=torch.float32)
        regions = torch.cat([batch_index[:, None], rois[where]], dim=1)
        out[where] = roi_align(stacked, regions, (size, size), aligned=True)
    return out


class GpuAugment:
    """A policy applied to ``(B, 3, S, S)`` float32 images in [0, 1] on any device, returning
    ImageNet-normalised float32 of the same shape (channels_last memory when asked).

    ``rot45`` adds a uniformly random multiple of 45 degrees to every image (corners black),
    as :func:`photoid.train.augment.rotate_by_45` does. Raises PhotoidError for an unknown
    policy name.
    """

    def __init__(self, policy: str, *, rot45: bool = False, channels_last: bool = False) -> None:
        if policy not in GPU_POLICIES:
            raise PhotoidError(
                f"unknown augmentation policy {policy!r}; choose one of {sorted(GPU_POLICIES)}"
            )
        self.policy = GPU_POLICIES[policy]
        self.rot45 = rot45
        self.channels_last = channels_last
        self._constants: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def _on(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        """ImageNet mean and std, YIQ and its inverse, copied to ``device`` once."""
        if device not in self._constants:
            self._constants[device] = tuple(c.to(device) for c in _CONSTANTS)
        return self._constants[device]

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        p = self.policy
        x = images
        if p.affine_p > 0 or p.rotate_p > 0 or self.rot45:
            x = self._geometry(x, generator)
        if p.brightness_p > 0:
            x = self._brightness_contrast(x, generator)
        if p.color_p > 0:
            x = self._color(x, generator)
        if p.blur_p > 0:
            x = self._blur(x, generator)
        if p.noise_p > 0:
            amount = _chosen(x, p.noise_p, generator) * _uniform(x, p.noise_std, generator)
            noise = torch.randn(x.shape, generator=generator, device=x.device)
            x = x + amount[:, None, None, None] * noise
        if p.dropout_p > 0:
            x = x * ~self._holes(x, generator)
        x = x.clamp(0.0, 1.0)
        mean, std = self._on(x.device)[:2]
        x = (x - mean) / std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _geometry(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """One bilinear resampling for affine, extra rotation and rot45 together (black fill)."""
        p = self.policy
        count = x.shape[0]
        on = _chosen(x, p.affine_p, g)
        scale = 1.0 + on * (_uniform(x, p.scale, g) - 1.0)
        angle = on * _uniform(x, (-p.rotate, p.rotate), g)
        angle = angle + _chosen(x, p.rotate_p, g) * _uniform(
            x, (-p.extra_rotate, p.extra_rotate), g
        )
        if self.rot45:
            turns = torch.randint(0, 8, (count,), generator=g, device=x.device)
            angle = angle + 45.0 * turns
        shear = torch.deg2rad(on * _uniform(x, (-p.shear, p.shear), g))
        shift = on[:, None] * 2.0 * p.translate * (2.0 * _rand(x, (count, 2), g) - 1.0)
        theta = torch.deg2rad(angle)
        cos, sin = torch.cos(theta), torch.sin(theta)
        # Forward map (input -> output, normalised coordinates): rotate . scale . shear, then
        # shift. affine_grid needs its inverse (output -> input), written out for 2 x 2.
        tan = torch.tan(shear)
        a, b = scale * cos, scale * (cos * tan - sin)
        c, d = scale * sin, scale * (sin * tan + cos)
        det = a * d - b * c
        inverse = torch.stack([d, -b, -c, a], dim=1).reshape(count, 2, 2) / det[:, None, None]
        offset = -(inverse @ shift[:, :, None])
        matrix = torch.cat([inverse, offset], dim=2)
        grid = F.affine_grid(matrix, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _brightness_contrast(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        p = self.policy
        on = _chosen(x, p.brightness_p, g)
        gain = 1.0 + on * _uniform(x, (-p.contrast, p.contrast), g)
        offset = on * _uniform(x, (-p.brightness, p.brightness), g)
        return x * gain[:, None, None, None] + offset[:, None, None, None]

    def _color(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Hue turn and saturation gain as one 3 x 3 matrix per image, in YIQ space."""
        p = self.policy
        on = _chosen(x, p.color_p, g)
        hue = torch.deg2rad(on * _uniform(x, (-p.hue, p.hue), g))
        saturation = 1.0 + on * _uniform(x, (-p.saturation, p.saturation), g)
        cos, sin = torch.cos(hue) * saturation, torch.sin(hue) * saturation
        one, zero = torch.ones_like(cos), torch.zeros_like(cos)
        turn = torch.stack([one, zero, zero, zero, cos, -sin, zero, sin, cos], dim=1)
        yiq, yiq_inverse = self._on(x.device)[2:]
        matrix = yiq_inverse @ turn.reshape(-1, 3, 3) @ yiq
        return torch.einsum("bij,bjhw->bihw", matrix, x)

    def _blur(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Separable Gaussian blur, its sigma per image (identity kernel where not chosen)."""
        p = self.policy
        count, channels, height, width = x.shape
        radius = math.ceil(3.0 * p.blur_sigma[1])
        sigma = _uniform(x, p.blur_sigma, g)
        taps = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (taps[None, :] / sigma[:, None]) ** 2)
        kernel = kernel / kernel.sum(dim=1, keepdim=True)
        identity = (taps == 0).to(x.dtype).expand_as(kernel)
        on = _chosen(x, p.blur_p, g)[:, None]
        kernel = on * kernel + (1.0 - on) * identity
        weight = kernel.repeat_interleave(channels, dim=0)[:, None, :]
        flat = F.pad(x.reshape(1, count * channels, height, width), [radius] * 4, mode="reflect")
        flat = F.conv2d(flat, weight[:, :, :, None], groups=count * channels)
        flat = F.conv2d(flat, weight[:, :, None, :], groups=count * channels)
        return flat.reshape(count, channels, height, width)

    def _holes(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """``(B, 1, S, S)`` bool, true inside 1 to ``holes`` random rectangles per chosen image."""
        p = self.policy
        count, _, height, width = x.shape
        shape = (count, p.holes)
        sides = p.hole_size[0] + (p.hole_size[1] - p.hole_size[0]) * _rand(x, (*shape, 2), g)
        hole_h, hole_w = sides[..., 0] * height, sides[..., 1] * width
        top = _rand(x, shape, g) * (height - hole_h)
        left = _rand(x, shape, g) * (width - hole_w)
        number = torch.randint(1, p.holes + 1, (count, 1), generator=g, device=x.device)
        active = torch.arange(p.holes, device=x.device)[None, :] < number
        active = active & (_chosen(x, p.dropout_p, g) > 0)[:, None]
        ys = torch.arange(height, device=x.device, dtype=x.dtype)[None, None, :, None]
        xs = torch.arange(width, device=x.device, dtype=x.dtype)[None, None, None, :]
        inside_y = (ys >= top[..., None, None]) & (ys < (top + hole_h)[..., None, None])
        inside_x = (xs >= left[..., None, None]) & (xs < (left + hole_w)[..., None, None])
        inside = inside_y & inside_x & active[..., None, None]
        return inside.any(dim=1, keepdim=True)


def _rand(x: torch.Tensor, shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=g, device=x.device, dtype=x.dtype)


def _uniform(x: torch.Tensor, bounds: Range, g: torch.Generator) -> torch.Tensor:
    """``(B,)`` uniform draws in ``bounds``, one per image of ``x``."""
    return bounds[0] + (bounds[1] - bounds[0]) * _rand(x, (x.shape[0],), g)


def _chosen(x: torch.Tensor, probability: float, g: torch.Generator) -> torch.Tensor:
    """``(B,)`` float, 1.0 for the images a change with ``probability`` applies to, else 0.0."""
    return (_rand(x, (x.shape[0],), g) < probability).to(x.dtype)
