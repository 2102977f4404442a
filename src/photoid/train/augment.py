"""Augmentation policies: a registry of albumentations pipelines keyed by name.

Every policy takes an ``(H, W, 3)`` uint8 RGB array of any size and returns a ``(3, S, S)``
float32 torch tensor: the photo is plainly resized to an ``S x S`` square (no letterbox padding,
so the whole frame is used; the aspect ratio is not kept, which is the same for every photo and
so does not hurt matching) and normalised with the ImageNet mean and std. No policy flips the
photo: most markings are asymmetric, so a mirrored animal is another pattern (see
``mirror_as_new`` in :mod:`photoid.train.dataset` for using mirrors as new identities).

Pipelines draw from their own random generator (albumentations 2): the same ``seed`` gives the
same augmentations, whatever the global numpy/torch/python seeds are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import albumentations as A  # type: ignore[import-untyped]
from albumentations.pytorch import ToTensorV2  # type: ignore[import-untyped]

from photoid.errors import PhotoidError

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

Transform = Any  # an albumentations transform; the library ships no type information


def _light() -> list[Transform]:
    """Mild photometric changes and small geometric jitter (the default for training)."""
    return [
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), rotate=(-10, 10), p=0.5),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5),
        A.HueSaturationValue(hue_shift_limit=5, sat_shift_limit=15, val_shift_limit=10, p=0.3),
    ]


def _heavy() -> list[Transform]:
    """Strong changes for small datasets: noise, blur, colour, viewpoint and occlusion."""
    return [
        A.Perspective(scale=(0.02, 0.08), p=0.3),
        A.Affine(
            scale=(0.8, 1.2),
            translate_percent=(-0.1, 0.1),
            rotate=(-15, 15),
            shear=(-8, 8),
            p=0.7,
        ),
        A.Rotate(limit=(-30, 30), p=0.3),
        A.OneOf(
            [A.GaussianBlur(blur_limit=(3, 7), p=1.0), A.MotionBlur(blur_limit=(3, 9), p=1.0)],
            p=0.3,
        ),
        A.GaussNoise(std_range=(0.02, 0.1), p=0.3),
        A.OneOf(
            [
                A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05, p=1.0),
                A.HueSaturationValue(
                    hue_shift_limit=10, sat_shift_limit=30, val_shift_limit=20, p=1.0
                ),
            ],
            p=0.6,
        ),
        A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3, p=0.5),
        A.CoarseDropout(
            num_holes_range=(1, 4),
            hole_height_range=(0.05, 0.2),
            hole_width_range=(0.05, 0.2),
            fill=0,
            p=0.4,
        ),
    ]


def _none() -> list[Transform]:
    """No augmentation: resize and normalise only (evaluation and feature extraction)."""
    return []


# Name -> the augmentations that run on the original-size photo, before resizing.
POLICIES: dict[str, Callable[[], list[Transform]]] = {
    "none": _none,
    "light": _light,
    "heavy": _heavy,
}


def rotate_by_45() -> Transform:
    """Rotation by a uniformly random multiple of 45 degrees, for photos taken from above.

    A quarter turn (0, 90, 180 or 270 degrees, exact pixel permutation on a square) followed,
    half of the time, by a further 45 degrees (corners filled with black): eight equally likely
    angles in all.
    """
    return A.Sequential(
        [A.RandomRotate90(p=1.0), A.Rotate(limit=(45, 45), fill=0, p=0.5)],
        p=1.0,
    )


def build_transform(
    policy: str, image_size: int, *, rot45: bool = False, seed: int | None = None
) -> A.Compose:
    """The full pipeline of a policy: augment, resize to ``image_size`` square, normalise.

    Order: the policy's augmentations on the original photo; plain resize to
    ``image_size x image_size`` (area averaging when shrinking, bilinear when enlarging);
    with ``rot45``, a random multiple of 45 degrees (after resizing, so quarter turns are
    exact); ImageNet normalisation; conversion to a ``(3, image_size, image_size)`` float32
    tensor. ``seed`` fixes the pipeline's own random generator (None: fresh entropy).
    Raises PhotoidError for an unknown policy or a non-positive size.
    """
    if policy not in POLICIES:
        raise PhotoidError(
            f"unknown augmentation policy {policy!r}; choose one of {sorted(POLICIES)}"
        )
    if image_size < 1:
        raise PhotoidError(f"image_size must be a positive number of pixels, got {image_size}")
    transforms = POLICIES[policy]()
    transforms.append(A.Resize(image_size, image_size, area_for_downscale="image"))
    if rot45:
        transforms.append(rotate_by_45())
    transforms.append(A.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD, max_pixel_value=255.0))
    transforms.append(ToTensorV2())
    return A.Compose(transforms, seed=seed)
