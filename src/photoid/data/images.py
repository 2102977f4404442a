"""Image loading that never surprises: EXIF orientation applied, every mode turned into RGB,
a decompression-bomb limit, and an error naming the file on any failure."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from photoid.errors import ImageLoadError


class ImageFileError(ImageLoadError):
    """An :class:`ImageLoadError` with ``code``, the finding code ``photoid data check`` gives
    the same problem: ``file_missing``, ``file_empty``, ``not_an_image``, ``image_too_large``,
    ``image_corrupt`` or ``bbox_outside``."""

    def __init__(self, path: Path, reason: str, code: str) -> None:
        super().__init__(path, reason)
        self.code = code


# Pillow refuses above this itself; photoid checks its own limit first, with a clear message.
Image.MAX_IMAGE_PIXELS = None
DEFAULT_MAX_PIXELS = 178_956_970  # Pillow's default bomb threshold (about 13,400 x 13,400)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, read without decoding the pixels."""

    width: int
    height: int
    format: str
    mode: str


def read_info(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Width, height (after EXIF orientation), format and mode, from the file header.

    Raises ImageLoadError for a missing, empty or non-image file, or one over ``max_pixels``.
    """
    _check_file(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            _check_pixels(path, width, height, max_pixels)
            orientation = _header_orientation(image)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            info = ImageInfo(width, height, image.format or "unknown", image.mode)
    except ImageLoadError:
        raise
    except Exception as exc:  # Pillow raises many types for unreadable files
        raise ImageFileError(path, f"not a readable image ({exc})", "not_an_image") from None
    return info


def _header_orientation(image: Image.Image) -> int:
    """EXIF orientation from the header; Pillow's PNG getexif() would decode every pixel."""
    if image.format == "PNG":
        exif = Image.Exif()
        exif.load(image.info.get("exif", b""))
        return int(exif.get(0x0112, 1))
    return int(image.getexif().get(0x0112, 1))


def load_image(
    path: Path,
    bbox: tuple[float, float, float, float] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode ``path`` into an ``(H, W, 3)`` uint8 RGB array.

    EXIF orientation is applied before cropping, so ``bbox`` (x, y, w, h in pixels of the
    upright image) is clipped to the image. Grayscale, palette, CMYK, 16-bit and float images
    become RGB; alpha is composited on black. Raises ImageLoadError naming the file when it is
    missing, empty, not an image, truncated, corrupt or larger than ``max_pixels``.
    """
    _check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_pixels(path, image.size[0], image.size[1], max_pixels)
                image.load()
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except ImageLoadError:
        raise
    except Exception as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason:
            reason = f"the file is truncated ({reason}); re-copy or re-export it"
        else:
            reason = f"cannot decode the image ({reason})"
        code = "not_an_image" if isinstance(exc, UnidentifiedImageError) else "image_corrupt"
        raise ImageFileError(path, reason, code) from None
    pixels = np.asarray(rgb, dtype=np.uint8)
    if bbox is not None:
        pixels = crop(pixels, bbox)
        if pixels.size == 0:
            raise ImageFileError(path, _outside(bbox, rgb.width, rgb.height), "bbox_outside")
    return pixels


def image_problem(
    path: Path,
    bbox: tuple[float, float, float, float] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[str, str] | None:
    """Why :func:`load_image` fails on ``path`` cropped to ``bbox``: ``(code, reason)`` with the
    codes of :class:`ImageFileError` (``file_unreadable`` for an operating-system error), or
    None when it loads. Decodes every pixel; a file problem comes before a box problem."""
    try:
        pixels = load_image(path, max_pixels=max_pixels)
    except ImageFileError as exc:
        return exc.code, exc.reason
    except ImageLoadError as exc:
        return "image_corrupt", exc.reason
    except OSError as exc:
        return "file_unreadable", str(exc)
    height, width = pixels.shape[:2]
    if bbox is not None and crop(pixels, bbox).size == 0:
        return "bbox_outside", _outside(bbox, width, height)
    return None


def _outside(bbox: tuple[float, float, float, float], width: int, height: int) -> str:
    shown = ",".join(f"{v:g}" for v in bbox)
    reason = f"bbox {shown} (x,y,w,h) lies outside the {width}x{height} image"
    return reason + already_cropped_hint(bbox, width, height)


def already_cropped_hint(bbox: tuple[float, float, float, float], width: int, height: int) -> str:
    """A note for a box exactly the image's size but placed elsewhere: the box was drawn in a
    larger frame and the file is already the crop (as KoiVideo's video crops)."""
    if (round(bbox[2]), round(bbox[3])) == (width, height) and (bbox[0], bbox[1]) != (0, 0):
        return "; the box is the image's own size, so the image is probably already the crop"
    return ""


def crop(pixels: np.ndarray, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Crop ``(H, W, C)`` pixels to the box (x, y, w, h) clipped to the image; may be empty."""
    x, y, w, h = bbox
    height, width = pixels.shape[:2]
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(width, round(x + w)), min(height, round(y + h))
    return pixels[y0 : max(y0, y1), x0 : max(x0, x1)]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageFileError(path, "file not found", "file_missing")
    if not path.is_file():
        raise ImageFileError(path, "not a file", "file_missing")
    if path.stat().st_size == 0:
        raise ImageFileError(path, "the file is empty (0 bytes)", "file_empty")


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageFileError(
            path,
            f"{width}x{height} = {width * height:,} pixels is over the limit of {max_pixels:,} "
            "(a possible decompression bomb); downscale the image or raise the limit",
            "image_too_large",
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
            scaled = values / 65535.0
        elif mode == "I":
            scaled = values / 255.0
        else:
            low, high = float(values.min()), float(values.max())
            scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
        gray = Image.fromarray(np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        return gray.convert("RGB")
    if mode in ("P", "L", "RGB") and "transparency" in image.info:
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")
