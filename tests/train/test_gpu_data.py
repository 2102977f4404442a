"""The GPU data path (decode: gpu), run on the CPU: worker samples, device decode, crop,
resize and augmentation, and a few training steps through Lightning."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from torch.utils.data import SequentialSampler

from photoid.data.table import Dataset, load_dataset
from photoid.errors import ImageLoadError, PhotoidError
from photoid.train.config import TrainConfig
from photoid.train.dataset import PhotoDataset
from photoid.train.gpu_augment import GpuAugment, crop_resize
from photoid.train.gpu_batch import (
    GpuBatchTransform,
    decode_batch,
    gpu_loader,
    orient,
    prepare_model,
)
from photoid.train.gpu_data import EncodedBatch, EncodedPhotos, crop_box
from photoid.train.module import MetricLearner
from photoid.train.sampler import pk_sampler

CPU = torch.device("cpu")
STD = torch.tensor([0.229, 0.224, 0.225])[None, :, None, None]


def _scene(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth colour gradients plus a few flat blocks: JPEG-friendly, not symmetric."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack(
        [255 * x / width, 255 * y / height, 128 + 100 * np.sin(x / 7 + y / 11)], axis=-1
    )
    for _ in range(4):
        top, left = rng.integers(0, height - 12), rng.integers(0, width - 12)
        pixels[top : top + 12, left : left + 12] = rng.integers(0, 256, 3)
    return pixels.clip(0, 255).astype(np.uint8)


def _dataset(root: Path, files: list[tuple[str, str, str]], orientation: int = 1) -> Dataset:
    """files: (name, identity, bbox cell); ``.jpg`` at quality 95 (with EXIF ``orientation``),
    anything else through Pillow's format for the suffix."""
    lines = ["image,identity,bbox"]
    for seed, (name, identity, bbox) in enumerate(files):
        image = Image.fromarray(_scene(90, 120, seed))
        if name.endswith(".jpg"):
            exif = Image.Exif()
            exif[0x0112] = orientation
            image.save(root / name, quality=95, exif=exif.tobytes())
        else:
            image.save(root / name)
        lines.append(f'{name},{identity},"{bbox}"')
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return load_dataset(root)


def _config(**changes: object) -> TrainConfig:
    return replace(TrainConfig(image_size=48, policy="none", channels_last=False), **changes)


def _batch(photos: PhotoDataset, indices: list[int]) -> EncodedBatch:
    encoded = EncodedPhotos(photos)
    return EncodedBatch([encoded[i] for i in indices])


def _gap(gpu: torch.Tensor, cpu: torch.Tensor) -> float:
    """Mean absolute difference on the 0-255 scale of two normalised image batches."""
    return float(((gpu - cpu) * STD * 255).abs().mean())


def test_crop_box_rounds_and_clips_like_the_cpu_crop() -> None:
    assert crop_box((10.4, 5.6, 20.0, 200.0), 100, 50) == (10, 6, 30, 50)
    assert crop_box((-3.0, -1.0, 10.0, 10.0), 100, 50) == (0, 0, 7, 9)
    assert crop_box(None, 100, 50) == (0, 0, 100, 50)
    assert crop_box((120.0, 0.0, 5.0, 5.0), 100, 50) == (120, 0, 120, 5)  # empty


@pytest.mark.parametrize("bbox", ["", "20,10,60,50", "100,70,40,40"])
def test_decode_crop_resize_matches_the_cpu_path(tmp_path: Path, bbox: str) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", bbox), ("b.jpg", "x", bbox)])
    photos = PhotoDataset(data, policy="none", image_size=48)
    sample = EncodedPhotos(photos)[0]
    assert sample.encoded and sample.data.dtype == torch.uint8 and sample.data.ndim == 1
    images, labels, indices, species, taxonomy = GpuBatchTransform(_config())(
        _batch(photos, [0, 1]), CPU
    )
    expected = torch.stack([photos[0][0], photos[1][0]])
    assert images.shape == (2, 3, 48, 48) and images.dtype == torch.float32
    assert _gap(images, expected) < 3.0
    assert labels.tolist() == [0, 0] and indices.tolist() == [0, 1]
    assert species.tolist() == [-1, -1] and taxonomy.shape == (2, 0)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillows_exif_transpose(orientation: int) -> None:
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    image = Image.fromarray(pixels)
    image.getexif()[0x0112] = orientation
    expected = np.asarray(ImageOps.exif_transpose(image))
    turned = orient(torch.from_numpy(pixels).permute(2, 0, 1), orientation)
    assert np.array_equal(turned.permute(1, 2, 0).numpy(), expected)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_jpeg_with_bbox_matches_the_cpu_path(tmp_path: Path, orientation: int) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", "10,20,50,40")], orientation=orientation)
    photos = PhotoDataset(data, policy="none", image_size=32)
    sample = EncodedPhotos(photos)[0]
    assert sample.orientation == orientation
    images = GpuBatchTransform(_config(image_size=32))(_batch(photos, [0]), CPU)[0]
    assert _gap(images, photos[0][0][None]) < 3.0


def test_png_goes_through_the_worker_decode(tmp_path: Path) -> None:
    data = _dataset(tmp_path, [("a.png", "x", "20,10,60,50")])
    photos = PhotoDataset(data, policy="none", image_size=48)
    sample = EncodedPhotos(photos)[0]
    assert not sample.encoded
    assert sample.data.shape == (3, 50, 60) and sample.box == (0, 0, 60, 50)
    images = GpuBatchTransform(_config())(_batch(photos, [0]), CPU)[0]
    assert _gap(images, photos[0][0][None]) < 1.0


def test_mirror_as_new_flips_after_cropping(tmp_path: Path) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", "20,10,60,50")])
    photos = PhotoDataset(data, policy="none", image_size=48, mirror_as_new=True)
    images, labels = GpuBatchTransform(_config())(_batch(photos, [0, 1]), CPU)[:2]
    assert torch.allclose(images[1], images[0].flip(-1), atol=1e-5)
    assert labels.tolist() == [0, 1]
    assert _gap(images[1:], photos[1][0][None]) < 3.0


def test_unreadable_file_is_replaced_by_a_photo_of_the_same_identity(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", ""), ("b.jpg", "x", ""), ("c.jpg", "y", "")])
    (tmp_path / "a.jpg").write_bytes(b"")
    photos = PhotoDataset(data, policy="none", image_size=48)
    with caplog.at_level(logging.WARNING):
        sample = EncodedPhotos(photos)[0]
    assert sample.path.endswith("b.jpg") and sample.sample_index == 0
    assert "a.jpg" in caplog.text and "empty" in caplog.text
    (tmp_path / "c.jpg").write_bytes(b"not an image")
    with pytest.raises(ImageLoadError, match="no photo of identity 'y'"):
        EncodedPhotos(photos)[2]


def test_jpeg_no_decoder_reads_is_replaced_within_the_batch(tmp_path: Path) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", ""), ("b.jpg", "x", "")])
    photos = PhotoDataset(data, policy="none", image_size=48)
    good = EncodedPhotos(photos)[1]
    garbage = torch.frombuffer(
        bytearray(b"\xff\xd8\xff" + bytes(64) + b"\xff\xd9"), dtype=torch.uint8
    )
    broken = good._replace(data=garbage, path="broken.jpg", box=(0, 0, 5, 5))
    images, boxes = decode_batch(EncodedBatch([broken, good]), CPU)
    assert torch.equal(images[0], images[1]) and boxes[0].tolist() == [0, 0, 120, 90]
    lonely = broken._replace(label=7)
    with pytest.raises(ImageLoadError, match=r"broken\.jpg"):
        decode_batch(EncodedBatch([lonely, good]), CPU)


def test_none_policy_is_deterministic_and_seeds_repeat_augmentations(tmp_path: Path) -> None:
    data = _dataset(tmp_path, [("a.jpg", "x", ""), ("b.jpg", "y", "")])
    photos = PhotoDataset(data, policy="none", image_size=48)
    batch = _batch(photos, [0, 1])
    plain = [GpuBatchTransform(_config(seed=s))(batch, CPU)[0] for s in (0, 1)]
    assert torch.equal(plain[0], plain[1])
    heavy = [
        GpuBatchTransform(_config(policy="heavy", rot45=True, seed=s))(batch, CPU)[0]
        for s in (0, 0, 1)
    ]
    assert torch.equal(heavy[0], heavy[1])
    assert not torch.equal(heavy[0], heavy[2])
    assert not torch.equal(heavy[0], plain[0])
    transform = GpuBatchTransform(_config(policy="light", seed=0))
    assert not torch.equal(transform(batch, CPU)[0], transform(batch, CPU)[0])  # stream moves on
    assert torch.equal(transform(batch, CPU, train=False)[0], plain[0])


def test_quarter_turns_are_exact_and_heavy_output_is_channels_last() -> None:
    images = torch.rand(64, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    out = GpuAugment("none", rot45=True)(images, torch.Generator().manual_seed(3))
    mean = torch.tensor([0.485, 0.456, 0.406])[None, :, None, None]
    restored = out * STD + mean
    turns = [restored[i].rot90(k, dims=(1, 2)) for i in range(64) for k in range(4)]
    exact = sum(
        any(torch.allclose(t, images[i], atol=1e-5) for t in turns[4 * i : 4 * i + 4])
        for i in range(64)
    )
    assert 16 <= exact <= 48  # about half of the images get a multiple of 90 degrees
    heavy = GpuAugment("heavy", channels_last=True)(images, torch.Generator().manual_seed(0))
    assert heavy.shape == images.shape and heavy.dtype == torch.float32
    assert heavy.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(PhotoidError, match="unknown augmentation policy"):
        GpuAugment("wild")


def test_crop_resize_handles_mixed_sizes_and_averages_when_shrinking() -> None:
    flat = torch.full((3, 8, 8), 200, dtype=torch.uint8)
    stripes = torch.zeros((3, 6, 10), dtype=torch.uint8)
    stripes[:, :, ::2] = 255  # columns 0, 2, 4, ...: the 2 -> 1 average is 127.5
    out = crop_resize([flat, stripes], torch.tensor([[0, 0, 8, 8], [0, 0, 8, 6]]), 4)
    assert out.shape == (2, 3, 4, 4)
    assert torch.allclose(out[0], torch.full((3, 4, 4), 200 / 255))
    assert torch.allclose(out[1], torch.full((3, 4, 4), 127.5 / 255), atol=1e-4)


def test_prepare_model_sets_channels_last_weights_and_inputs() -> None:
    layer = torch.nn.Conv2d(3, 4, 3)
    seen: list[bool] = []
    layer.register_forward_pre_hook(
        lambda m, a: seen.append(a[0].is_contiguous(memory_format=torch.channels_last))
    )
    model = prepare_model(torch.nn.Sequential(layer), _config(channels_last=True))
    model(torch.rand(2, 3, 8, 8))
    assert layer.weight.is_contiguous(memory_format=torch.channels_last) and seen == [True]


def _tiny(tmp_path: Path) -> tuple[PhotoDataset, TrainConfig]:
    files = [(f"{n}{i}.jpg", n, "5,5,80,60") for n in "abcd" for i in range(3)]
    config = _config(
        backbone="test_resnet",
        image_size=32,
        embedding_size=8,
        identities_per_batch=2,
        images_per_identity=2,
        workers=0,
        policy="heavy",
        decode="gpu",
    )
    return PhotoDataset(_dataset(tmp_path, files), image_size=32), config


def test_training_steps_through_the_gpu_path(tmp_path: Path) -> None:
    photos, config = _tiny(tmp_path)
    loader = gpu_loader(photos, config, pk_sampler(photos.labels, 2, 2, seed=0))
    assert len(loader) == 3  # 12 photos, 4 per batch
    model = MetricLearner(config, photos.num_classes, len(loader))
    before = [p.detach().clone() for p in model.embedder.parameters()]
    val = gpu_loader(photos, config, SequentialSampler(photos), train=False)
    trainer = L.Trainer(
        max_steps=2,
        val_check_interval=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, loader, val)
    assert trainer.global_step == 2 and 0.0 <= trainer.callback_metrics["val_map5"] <= 1.0
    assert torch.isfinite(trainer.callback_metrics["train_loss_step"])
    after = list(model.embedder.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_device_loader_yields_in_order_stops_early_and_raises_worker_errors(
    tmp_path: Path,
) -> None:
    photos, config = _tiny(tmp_path)
    loader = gpu_loader(photos, config, pk_sampler(photos.labels, 2, 2, seed=0), train=False)
    batches = list(loader)
    assert len(batches) == 3 and all(b[0].shape == (4, 3, 32, 32) for b in batches)
    assert torch.equal(batches[0][0], next(iter(loader))[0])  # none policy: same batch again
    every = gpu_loader(photos, config, SequentialSampler(range(10)), train=False)
    assert [len(b[0]) for b in every] == [4, 4, 2]  # not training: the last, short batch too
    threads = threading.active_count()
    for _ in loader:
        break
    assert threading.active_count() == threads  # the producer thread has ended
    for path in tmp_path.glob("*.jpg"):
        path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="no photo of identity"):
        list(loader)
