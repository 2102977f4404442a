from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
import torch

from photoid.errors import PhotoidError
from photoid.train.augment import IMAGENET_MEAN, IMAGENET_STD, POLICIES, build_transform


def _noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("rot45", [False, True])
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_gives_a_square_float_tensor(policy: str, rot45: bool) -> None:
    transform = build_transform(policy, 24, rot45=rot45, seed=0)
    for seed in range(3):
        out = transform(image=_noise(37, 91, seed))["image"]
        assert isinstance(out, torch.Tensor)
        assert out.shape == (3, 24, 24)
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()


def test_none_normalises_a_constant_image_by_hand() -> None:
    values = (200, 100, 30)
    image = np.empty((37, 91, 3), dtype=np.uint8)
    image[...] = values
    out = build_transform("none", 16)(image=image)["image"]
    for channel, v in enumerate(values):
        expected = (v / 255 - IMAGENET_MEAN[channel]) / IMAGENET_STD[channel]
        torch.testing.assert_close(out[channel], torch.full((16, 16), expected), atol=1e-5, rtol=0)
    # red (200) -> (200/255 - 0.485) / 0.229 = 1.307048...
    assert out[0, 0, 0].item() == pytest.approx(1.307048, abs=1e-5)


def test_none_is_deterministic_without_a_seed() -> None:
    image = _noise(37, 91)
    first = build_transform("none", 20)(image=image)["image"]
    second = build_transform("none", 20)(image=image)["image"]
    assert torch.equal(first, second)


def test_the_same_seed_repeats_heavy_augmentations_and_another_seed_does_not() -> None:
    image = _noise(40, 50)
    runs = [build_transform("heavy", 20, seed=s) for s in (7, 7, 8)]
    outs = [[t(image=image)["image"] for _ in range(4)] for t in runs]
    assert all(torch.equal(a, b) for a, b in zip(outs[0], outs[1], strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(outs[0], outs[2], strict=True))


def test_no_policy_flips_the_photo() -> None:
    for policy in POLICIES:
        names = repr(POLICIES[policy]())
        assert "Flip" not in names and "Transpose" not in names


def test_rot45_turns_by_multiples_of_45_degrees() -> None:
    size = 16
    image = _noise(size, size)
    base = build_transform("none", size)(image=image)["image"]
    angles = set()
    for seed in range(40):
        pipeline = build_transform("none", size, rot45=True, seed=seed)
        traced = A.Compose(pipeline.transforms, seed=seed, save_applied_params=True)
        result = traced(image=image)
        applied = dict(result["applied_transforms"])
        quarter = applied["RandomRotate90"]["factor"]
        angle = 90 * quarter
        if "Rotate" in applied:
            matrix = applied["Rotate"]["matrix"]
            # a 45-degree turn: cos = sin = 1/sqrt(2)
            np.testing.assert_allclose(np.abs(matrix[:2, :2]), np.full((2, 2), 0.5**0.5))
            angle += 45
        else:
            # quarter turns on a square are exact: np.rot90 turns counter-clockwise k times
            expected = torch.from_numpy(np.rot90(base.numpy(), quarter, axes=(1, 2)).copy())
            assert torch.equal(result["image"], expected)
        angles.add(angle)
    assert angles == {0, 45, 90, 135, 180, 225, 270, 315}


def test_unknown_policy_and_bad_size_are_errors() -> None:
    with pytest.raises(PhotoidError, match="unknown augmentation policy 'medium'"):
        build_transform("medium", 16)
    with pytest.raises(PhotoidError, match="image_size"):
        build_transform("none", 0)
