"""The device side of the GPU data path: decode a batch of JPEGs with nvjpeg, turn them
upright, crop, resize and augment them on the training device, in a background thread that
keeps a few batches ready; plus the backbone's throughput switches (channels_last, compile).

:func:`gpu_loader` is the drop-in for fit's CPU DataLoader: it yields the same batch layout
(``images, labels, indices, species, taxonomy``), already on the device, so the
LightningModule needs no change. The thread matters: the nvjpeg call blocks its caller until
the batch is decoded (on the GPU's JPEG engines, beside the training kernels), and Lightning
waits for each step to finish when it logs, so decoding in the training loop would add the
decode time to every step instead of hiding it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler
from torchvision.io import ImageReadMode, decode_jpeg

from photoid.errors import ImageLoadError
from photoid.train.config import TrainConfig
from photoid.train.dataset import PhotoDataset
from photoid.train.gpu_augment import GpuAugment, crop_resize
from photoid.train.gpu_data import EncodedBatch, encoded_loader

logger = logging.getLogger(__name__)


def orient(image: torch.Tensor, orientation: int) -> torch.Tensor:
    """Turn ``(C, H, W)`` pixels upright by their EXIF ``orientation`` (1-8), as Pillow's
    ``ImageOps.exif_transpose`` does; returns a view. (nvjpeg ignores EXIF.)"""
    if orientation == 2:
        return image.flip(-1)
    if orientation == 3:
        return image.flip(-2, -1)
    if orientation == 4:
        return image.flip(-2)
    if orientation == 5:
        return image.transpose(-2, -1)
    if orientation == 6:
        return image.rot90(-1, dims=(-2, -1))
    if orientation == 7:
        return image.transpose(-2, -1).flip(-2, -1)
    if orientation == 8:
        return image.rot90(1, dims=(-2, -1))
    return image


def decode_batch(
    batch: EncodedBatch, device: torch.device
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The batch's B photos as upright ``(3, H, W)`` uint8 tensors on ``device``, and their
    ``(B, 4)`` int64 crop boxes.

    JPEG bytes are decoded together (batched nvjpeg on a CUDA device, libjpeg on the CPU). If
    the batched call fails, each photo is tried alone, then with libjpeg on the CPU; a photo
    that no decoder reads is logged and replaced by another photo of the same label in the
    batch (with its box). Raises ImageLoadError when no such photo exists.
    """
    count = len(batch)
    images: list[torch.Tensor | None] = [None] * count
    orientation = batch.orientation.tolist()
    jpegs = [i for i in range(count) if batch.encoded[i]]
    for i in range(count):
        if not batch.encoded[i]:
            images[i] = batch.data[i].to(device, non_blocking=True)
    decoded = _decode_jpegs([batch.data[i] for i in jpegs], [batch.paths[i] for i in jpegs], device)
    for i, image in zip(jpegs, decoded, strict=True):
        images[i] = None if image is None else orient(image, orientation[i])
    boxes = batch.boxes.clone()
    labels = batch.labels.tolist()
    readable = [i for i in range(count) if images[i] is not None]
    for i in range(count):
        if images[i] is not None:
            continue
        twins = [j for j in readable if labels[j] == labels[i]]
        if not twins:
            raise ImageLoadError(
                Path(batch.paths[i]),
                "no decoder can read this JPEG and its batch holds no other "
                "photo of the same identity; re-export or remove the file",
            )
        images[i], boxes[i] = images[twins[0]], boxes[twins[0]]
    return [image for image in images if image is not None], boxes


def _decode_jpegs(
    data: list[torch.Tensor], paths: list[str], device: torch.device
) -> list[torch.Tensor | None]:
    if not data:
        return []
    with warnings.catch_warnings():
        # torchvision 0.29 marks its image codecs deprecated in favour of torchcodec.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
        except RuntimeError:
            pass
        out: list[torch.Tensor | None] = []
        for raw, path in zip(data, paths, strict=True):
            try:
                out.append(decode_jpeg(raw, mode=ImageReadMode.RGB, device=device))
                continue
            except RuntimeError:
                pass
            try:
                out.append(decode_jpeg(raw, mode=ImageReadMode.RGB).to(device))
            except RuntimeError as exc:
                logger.warning(
                    "cannot decode %s (%s); using another photo of its identity", path, exc
                )
                out.append(None)
        return out


class GpuBatchTransform:
    """Turns an :class:`EncodedBatch` into ``(images, labels, indices, species, taxonomy)`` on
    ``device``, the layout of collated :class:`photoid.train.dataset.PhotoDataset` samples:
    ``images`` ``(B, 3, S, S)`` float32 normalised (channels_last with
    ``config.channels_last``), ``labels``, ``indices`` and ``species`` ``(B,)`` int64,
    ``taxonomy`` ``(B, L)`` int64.

    ``train`` batches get ``config.policy`` (and ``rot45``), others the ``none`` policy.
    Augmentations draw from one generator per device, seeded with ``config.seed`` plus the
    process rank (so DDP processes differ); its state is not checkpointed, so a resumed run
    draws new augmentations.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.image_size = config.image_size
        self.seed = config.seed
        self.augment = GpuAugment(
            config.policy, rot45=config.rot45, channels_last=config.channels_last
        )
        self.plain = GpuAugment("none", channels_last=config.channels_last)
        self._generators: dict[torch.device, torch.Generator] = {}

    def __call__(
        self, batch: EncodedBatch, device: torch.device, *, train: bool = True
    ) -> tuple[torch.Tensor, ...]:
        images, boxes = decode_batch(batch, device)
        pixels = crop_resize(images, boxes, self.image_size)
        flips = batch.flips.to(device, non_blocking=True)[:, None, None, None]
        pixels = torch.where(flips, pixels.flip(-1), pixels)
        augment = self.augment if train else self.plain
        out = augment(pixels, self.generator(device))
        extras = (batch.labels, batch.indices, batch.species, batch.taxonomy)
        return (out, *(t.to(device, non_blocking=True) for t in extras))

    def generator(self, device: torch.device) -> torch.Generator:
        """This process's augmentation generator on ``device`` (made on first use)."""
        device = torch.device(device)
        if device not in self._generators:
            distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
            rank = torch.distributed.get_rank() if distributed else 0
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed + rank)
            self._generators[device] = generator
        return self._generators[device]


class DeviceLoader:
    """Iterates ``loader`` (a DataLoader of :class:`EncodedBatch`) in a background thread that
    runs ``transform`` on each batch, at most ``depth`` batches ahead, and yields the device
    tuples in order. On a CUDA device the thread works on its own stream and each batch is
    handed over with an event, so the training stream waits for it on the GPU only.

    ``device`` None: the current CUDA device when CUDA is available (Lightning has set it by
    the time it iterates), else the CPU. ``sampler``, ``batch_sampler`` and ``len()`` are the
    loader's (Lightning calls the sampler's ``set_epoch`` and inspects both). An error in the
    thread (a worker's ImageLoadError, say) is raised by the iteration.
    """

    def __init__(
        self,
        loader: DataLoader[Any],
        transform: GpuBatchTransform,
        *,
        train: bool = True,
        device: torch.device | None = None,
        depth: int = 2,
    ) -> None:
        self.loader = loader
        self.sampler, self.batch_sampler = loader.sampler, loader.batch_sampler
        self.transform = transform
        self.train = train
        self.device = device
        self.depth = depth

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        device = self.device if self.device is not None else _current_device()
        ready: queue.Queue[Any] = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        thread = threading.Thread(
            target=self._produce,
            args=(device, ready, stop),
            name="photoid-gpu-batches",
            daemon=True,  # an iteration abandoned without being closed must not block exit
        )
        thread.start()
        try:
            while (item := ready.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                batch, event = item
                if event is not None:
                    stream = torch.cuda.current_stream(device)
                    stream.wait_event(event)
                    for tensor in batch:
                        tensor.record_stream(stream)
                yield batch
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    ready.get(timeout=0.05)
            thread.join()

    def _produce(
        self, device: torch.device, ready: queue.Queue[Any], stop: threading.Event
    ) -> None:
        try:
            side = torch.cuda.Stream(device) if device.type == "cuda" else None  # type: ignore[no-untyped-call]
            on_side = torch.cuda.stream(side) if side is not None else contextlib.nullcontext()
            with on_side, torch.no_grad():
                for encoded in self.loader:
                    if stop.is_set():
                        return
                    batch = self.transform(encoded, device, train=self.train)
                    event = None
                    if side is not None:
                        event = torch.cuda.Event()  # type: ignore[no-untyped-call]
                        event.record(side)
                    ready.put((batch, event))
            ready.put(_END)
        except BaseException as exc:  # handed to the consuming thread, which raises it
            ready.put(exc)


_END = object()


def _current_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def gpu_loader(
    photos: PhotoDataset,
    config: TrainConfig,
    sampler: Sampler[int],
    *,
    train: bool = True,
    device: torch.device | None = None,
) -> DeviceLoader:
    """The loader of ``decode: gpu``, in place of fit's CPU DataLoaders: batches of
    ``config.batch_size`` samples of ``photos`` drawn by ``sampler``, read by
    ``config.workers`` processes, decoded and augmented on ``device`` (see
    :class:`DeviceLoader`). ``train``: ``config.policy`` and whole batches only; else the
    ``none`` policy and every sample (validation, embedding). The loader keeps no
    state: a run resumed inside an epoch draws that epoch's batches again from its start."""
    loader = encoded_loader(photos, config, sampler, drop_last=train)
    return DeviceLoader(loader, GpuBatchTransform(config), train=train, device=device)


def prepare_model(embedder: nn.Module, config: TrainConfig) -> nn.Module:
    """Apply the throughput switches in place and return ``embedder``: ``channels_last``
    stores its weights and every 4-D input as NHWC (faster convolutions under bf16 on
    tensor cores); ``compile`` compiles its forward with ``torch.compile`` (state-dict keys
    unchanged, so checkpoints stay interchangeable)."""
    if config.channels_last:
        embedder.to(memory_format=torch.channels_last)
        embedder.register_forward_pre_hook(_channels_last_input)
    if config.compile:
        embedder.compile()
    return embedder


def _channels_last_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    images = args[0]
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        return (images.contiguous(memory_format=torch.channels_last), *args[1:])
    return args
