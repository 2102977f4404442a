"""The file half of ``photoid data check``: each listed image visited once, in parallel.

One visit reads the bytes (hashed with SHA-256 to find copies), reads the header (size, EXIF
orientation, pixel count) and decodes every pixel with :func:`photoid.data.images.load_image`.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from photoid.data.findings import Finding
from photoid.data.images import load_image
from photoid.errors import ImageLoadError

ProgressFn = Callable[[int, int], None]

_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class FileVisit:
    """What one visit to an image file found.

    ``size`` is (width, height) in pixels of the upright image, None when it does not decode;
    ``digest`` the SHA-256 of the bytes; ``problem`` an error (code, message) or None.
    """

    size: tuple[int, int] | None = None
    digest: str | None = None
    orientation: int = 1
    problem: tuple[str, str] | None = None  # (code, message)


def visit_files(
    root: Path, paths: list[str], max_pixels: int, workers: int, progress: ProgressFn | None
) -> dict[str, FileVisit]:
    """Visit each file ``root / path`` once with ``workers`` threads; results keep ``paths`` order.

    ``progress(done, total)`` is called in the calling thread after each file.
    """
    visits: dict[str, FileVisit] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda p: _visit(root / p, max_pixels), paths)
        for done, (path, visit) in enumerate(zip(paths, results, strict=True), start=1):
            visits[path] = visit
            if progress is not None:
                progress(done, len(paths))
    return visits


def _visit(path: Path, max_pixels: int) -> FileVisit:
    """Read the file once: hash its bytes, read the header, then decode every pixel."""
    if not path.is_file():
        what = "a folder, not an image file" if path.is_dir() else "no such file"
        return FileVisit(problem=("file_missing", f"{what}; fix the path or add the image"))
    data = path.read_bytes()
    if not data:
        return FileVisit(
            problem=("file_empty", "the file is empty (0 bytes); re-copy or re-export it")
        )
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:  # Pillow raises several types for bytes that are no image it knows
        message = (
            f"not an image file (it starts with {data[:8]!r}); "
            "replace it with the photo or fix the path"
        )
        return FileVisit(digest=digest, problem=("not_an_image", message))
    with image:
        width, height = image.size
        if width * height > max_pixels:
            message = (
                f"{width}x{height} = {width * height:,} pixels is over the limit of "
                f"{max_pixels:,} (a possible decompression bomb); downscale the image"
            )
            return FileVisit(digest=digest, problem=("image_too_large", message))
        orientation = _orientation(image)
    try:
        pixels = load_image(path, max_pixels=max_pixels)
    except ImageLoadError as exc:
        return FileVisit(digest=digest, problem=("image_corrupt", exc.reason))
    return FileVisit((pixels.shape[1], pixels.shape[0]), digest, orientation)


def _orientation(image: Image.Image) -> int:
    """EXIF orientation 1-8 from the header alone; 1 when absent or unreadable."""
    try:
        if image.format == "PNG":
            # PngImageFile.getexif() decodes every pixel to look for EXIF after the image data.
            exif = Image.Exif()
            exif.load(image.info.get("exif", b""))
        else:
            exif = image.getexif()
        value = int(exif.get(_EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block; load_image reports it if it stops decoding
        return 1
    return value if 1 <= value <= 8 else 1


def file_findings(
    images: dict[int, str], first_row: dict[str, int], visits: dict[str, FileVisit], min_side: int
) -> list[Finding]:
    """Per file: its problem, tiny size, EXIF rotation, or content equal to an earlier file.

    Each finding points at the first CSV line listing the file (``first_row``) and its cell as
    written there (``images``: CSV line -> image cell); ``min_side`` is in pixels.
    """
    findings: list[Finding] = []
    by_digest: dict[str, str] = {}
    for path, visit in visits.items():
        row = first_row[path]
        cell = images[row]
        if visit.problem is not None:
            code, message = visit.problem
            findings.append(Finding("error", code, message, row, cell))
        if visit.digest is not None:
            other = by_digest.setdefault(visit.digest, path)
            if other != path:
                message = (
                    f"same file content as row {first_row[other]} ({images[first_row[other]]}); "
                    "delete the copy or fix its row"
                )
                findings.append(Finding("error", "duplicate_content", message, row, cell))
        if visit.size is None:
            continue
        width, height = visit.size
        if min(width, height) < min_side:
            message = (
                f"the image is {width}x{height} px, under {min_side} px on its shorter side; "
                "too small to identify reliably"
            )
            findings.append(Finding("warning", "tiny_image", message, row, cell))
        if visit.orientation != 1:
            message = (
                f"EXIF orientation {visit.orientation}: photoid turns it upright ({width}x"
                f"{height}) before cropping, so its bbox is read in the upright image"
            )
            findings.append(Finding("info", "exif_rotated", message, row, cell))
    return findings
