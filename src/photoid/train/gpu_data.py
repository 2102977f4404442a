"""The worker side of the GPU data path (``decode: gpu``): DataLoader workers only read files.

A CPU core decodes and resizes about 40 photos of 1024 x 768 a second, so the 16 cores of a GPU
machine cannot feed an H100 (over 1,500 photos a second); nvjpeg decodes them on the GPU at
several thousand a second. Workers therefore hand over each JPEG's raw bytes with its EXIF
orientation and its crop box, and :mod:`photoid.train.gpu_batch` decodes, crops, resizes and
augments whole batches on the device.

A file nvjpeg cannot be trusted with (PNG, TIFF, WebP, CMYK or 12-bit JPEG, or a JPEG that does
not end with its end-of-image marker, as truncated copies do) is decoded in the worker instead,
by :func:`photoid.data.images.load_image` (the CPU path's loader), and travels as upright,
already cropped pixels. A file that cannot be read at all (missing, empty, not an image, bbox
outside the image, over the pixel limit) is logged once per worker and replaced by the next
photo of the same identity, as :class:`photoid.train.dataset.PhotoDataset` does.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Sampler
from torch.utils.data import Dataset as TorchDataset

from photoid.data.images import DEFAULT_MAX_PIXELS, load_image
from photoid.errors import ImageLoadError
from photoid.train.config import TrainConfig
from photoid.train.dataset import PhotoDataset

logger = logging.getLogger(__name__)

_EXIF_ORIENTATION = 0x0112
_NVJPEG_MODES = ("RGB", "L")  # YCbCr and grayscale JPEGs; CMYK/YCCK go through the CPU


class EncodedSample(NamedTuple):
    """One photo as a worker hands it over.

    ``data``: ``(N,)`` uint8 JPEG file bytes when ``encoded``, else ``(3, H, W)`` uint8 RGB
    pixels, upright and already cropped. ``orientation``: EXIF orientation 1-8 of the encoded
    bytes (1 for pixels). ``box``: ``(x0, y0, x1, y1)`` integer crop in pixels of the upright
    image, end-exclusive (the whole image without a bbox). ``flip``: mirror left-right after
    cropping (``mirror_as_new``). ``sample_index``: position in the dataset. ``path``: the
    file, for error messages. ``label``, ``species`` (-1: none) and ``taxonomy`` (``(L,)``
    int64) as in :class:`photoid.train.dataset.PhotoDataset`'s samples.
    """

    data: torch.Tensor
    encoded: bool
    orientation: int
    box: tuple[int, int, int, int]
    label: int
    sample_index: int
    flip: bool
    path: str
    species: int
    taxonomy: torch.Tensor


class EncodedBatch:
    """A collated batch of :class:`EncodedSample`; ``B`` photos.

    ``data`` (list of B tensors), ``encoded`` (list of B bools), ``paths`` (list of B str),
    ``orientation`` ``(B,)`` int64, ``boxes`` ``(B, 4)`` int64 ``x0, y0, x1, y1``, ``labels``
    ``(B,)`` int64, ``indices`` ``(B,)`` int64, ``flips`` ``(B,)`` bool, ``species`` ``(B,)``
    int64, ``taxonomy`` ``(B, L)`` int64.

    A plain class, not a tuple or dataclass, so that code moving collections of tensors to the
    device (Lightning's batch transfer) leaves it alone: nvjpeg reads its input from host
    memory. :meth:`pin_memory` serves a DataLoader with ``pin_memory=True``.
    """

    __slots__ = (
        "boxes",
        "data",
        "encoded",
        "flips",
        "indices",
        "labels",
        "orientation",
        "paths",
        "species",
        "taxonomy",
    )

    def __init__(self, samples: Sequence[EncodedSample]) -> None:
        self.data = [s.data for s in samples]
        self.encoded = [s.encoded for s in samples]
        self.paths = [s.path for s in samples]
        self.orientation = torch.tensor([s.orientation for s in samples], dtype=torch.int64)
        self.boxes = torch.tensor([s.box for s in samples], dtype=torch.int64).reshape(-1, 4)
        self.labels = torch.tensor([s.label for s in samples], dtype=torch.int64)
        self.indices = torch.tensor([s.sample_index for s in samples], dtype=torch.int64)
        self.flips = torch.tensor([s.flip for s in samples], dtype=torch.bool)
        self.species = torch.tensor([s.species for s in samples], dtype=torch.int64)
        self.taxonomy = torch.stack([s.taxonomy for s in samples])

    def __len__(self) -> int:
        return len(self.data)

    def pin_memory(self) -> EncodedBatch:
        """The same batch with its tensors in page-locked memory (faster host-device copies)."""
        self.data = [t.pin_memory() for t in self.data]
        self.labels, self.indices = self.labels.pin_memory(), self.indices.pin_memory()
        self.flips, self.species = self.flips.pin_memory(), self.species.pin_memory()
        self.taxonomy = self.taxonomy.pin_memory()
        return self


def collate_encoded(samples: Sequence[EncodedSample]) -> EncodedBatch:
    """DataLoader ``collate_fn`` for :class:`EncodedPhotos`."""
    return EncodedBatch(samples)


class EncodedPhotos(TorchDataset[EncodedSample]):
    """The samples of a :class:`PhotoDataset` (same length, labels, bbox use and mirroring),
    as :class:`EncodedSample` instead of decoded, augmented tensors."""

    def __init__(self, photos: PhotoDataset, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.photos = photos
        self.max_pixels = max_pixels
        self._row_labels = photos.data.labels
        self._broken: set[int] = set()

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, index: int) -> EncodedSample:
        if not 0 <= index < len(self):
            raise IndexError(f"sample {index} is out of range for {len(self)} samples")
        data = self.photos.data
        rows = len(data)
        row, flip = index % rows, index >= rows
        same_label = np.flatnonzero(self._row_labels == self._row_labels[row])
        start = int(np.searchsorted(same_label, row))
        for candidate in np.roll(same_label, -start).tolist():
            if candidate in self._broken:
                continue
            try:
                return self._encode(candidate, index, flip)
            except ImageLoadError as exc:
                self._broken.add(candidate)
                logger.warning(
                    "skipping unreadable image %s (%s); using another photo of identity %r",
                    exc.path,
                    exc.reason,
                    data.table["identity"].iloc[candidate],
                )
        raise ImageLoadError(
            data.image_path(row),
            f"no photo of identity {data.table['identity'].iloc[row]!r} can be decoded; "
            "fix or remove its files (`photoid data check` lists them)",
        )

    def _encode(self, row: int, index: int, flip: bool) -> EncodedSample:
        path = self.photos.data.image_path(row)
        bbox = self.photos.data.table["bbox"].iloc[row] if self.photos.use_bbox else None
        photos = self.photos
        species = -1 if photos.species_labels is None else int(photos.species_labels[index])
        taxonomy = torch.from_numpy(photos.taxonomy_labels[index].copy())
        tail = (int(photos.labels[index]), index, flip, str(path), species, taxonomy)
        raw = _read_bytes(path)
        header = _jpeg_header(raw)
        if header is None:
            upright = load_image(path, bbox, self.max_pixels)
            pixels = torch.from_numpy(upright.transpose(2, 0, 1).copy())
            whole = (0, 0, upright.shape[1], upright.shape[0])
            return EncodedSample(pixels, False, 1, whole, *tail)
        width, height, orientation = header
        if width * height > self.max_pixels:
            raise ImageLoadError(
                path, f"{width}x{height} pixels is over the limit of {self.max_pixels:,}"
            )
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        box = crop_box(bbox, width, height)
        if box[2] <= box[0] or box[3] <= box[1]:
            raise ImageLoadError(path, f"bbox {bbox} lies outside the {width}x{height} image")
        data = torch.frombuffer(bytearray(raw), dtype=torch.uint8)
        return EncodedSample(data, True, orientation, box, *tail)


def crop_box(
    bbox: tuple[float, float, float, float] | None, width: int, height: int
) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` end-exclusive integer crop of a ``width x height`` image: the bbox
    ``(x, y, w, h)`` rounded and clipped as :func:`photoid.data.images.crop` does (may be
    empty), or the whole image for None."""
    if bbox is None:
        return (0, 0, width, height)
    x, y, w, h = bbox
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(width, round(x + w)), min(height, round(y + h))
    return (x0, y0, max(x0, x1), max(y0, y1))


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot read the file ({exc.strerror})") from None
    if not raw:
        raise ImageLoadError(path, "the file is empty (0 bytes)")
    return raw


def _jpeg_header(raw: bytes) -> tuple[int, int, int] | None:
    """``(width, height, EXIF orientation)`` of a JPEG nvjpeg can decode, else None.

    Only the header is parsed (Pillow reads no pixels here). The end-of-image marker must close
    the file (trailing padding allowed), or the file is likely truncated.
    """
    if not raw.startswith(b"\xff\xd8\xff") or not raw.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        return None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "JPEG" or image.mode not in _NVJPEG_MODES:
                return None
            width, height = image.size
            orientation = int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # Pillow raises many types; the CPU decoder gives the proper error
        return None
    return width, height, orientation if 1 <= orientation <= 8 else 1


def encoded_loader(
    photos: PhotoDataset, config: TrainConfig, sampler: Sampler[int], *, drop_last: bool = True
) -> DataLoader[EncodedSample]:
    """A DataLoader of :class:`EncodedBatch`: ``config.batch_size`` samples of ``photos`` per
    batch (a last, smaller one unless ``drop_last``), drawn by ``sampler``, read by
    ``config.workers`` processes (the role of fit's CPU loader; ``photos.transform`` is not
    used). :func:`photoid.train.gpu_batch.gpu_loader` wraps it to deliver device tensors."""
    workers = config.workers
    return DataLoader(
        EncodedPhotos(photos),
        batch_size=config.batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate_encoded,
        drop_last=drop_last,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
    )
