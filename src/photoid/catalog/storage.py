"""Content-addressed image files: ``images/ab/<sha256>.<ext>`` under the data folder.

A file is written to a temporary name in its final folder, fsynced, checked to be a decodable
image and renamed into place before any database row names it, so a row never points at a
missing or half-written file. A crash between the rename and the commit leaves an orphan
file, which is harmless; :func:`photoid.catalog.maintenance.gc` removes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from photoid.data.images import DEFAULT_MAX_PIXELS, load_image, read_info
from photoid.errors import ImageLoadError

IMAGES_DIR = "images"
TEMP_PREFIX = ".tmp-"
EXTENSIONS: dict[str, str] = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "TIFF": "tif",
    "BMP": "bmp",
    "GIF": "gif",
}


@dataclass(frozen=True)
class StoredFile:
    """A file in the store: ``file`` is its path relative to the data folder."""

    sha256: str
    file: str
    format: str
    width: int
    height: int


class ImageStore:
    """The image files of one catalog, under ``data_dir/images``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / IMAGES_DIR

    def path(self, file: str) -> Path:
        """Absolute path of a stored ``file`` (as kept in the ``images.file`` column)."""
        return self.data_dir / file

    def put(self, data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> StoredFile:
        """Store ``data`` (the bytes of an image file) and return where it lies.

        The type is read from the content, not from ``name`` (only used in messages).
        Raises ImageLoadError naming ``name`` for bytes that are not a whole image of a
        supported type (JPEG, PNG, WebP, TIFF, BMP, GIF) or have more than ``max_pixels``.
        """
        digest = hashlib.sha256(data).hexdigest()
        folder = self.root / digest[:2]
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            info = _check_image(tmp, name, max_pixels)
            final = folder / f"{digest}.{EXTENSIONS[info.format]}"
            if final.is_file() and file_sha256(final) == digest:
                tmp.unlink()
            else:
                os.replace(tmp, final)
                _fsync_dir(folder)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        file = final.relative_to(self.data_dir).as_posix()
        return StoredFile(digest, file, info.format, info.width, info.height)

    def files(self) -> Iterator[str]:
        """Every file in the store (temporary leftovers included), relative to the data folder."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*")):
            if path.is_file():
                yield path.relative_to(self.data_dir).as_posix()

    def remove(self, file: str) -> None:
        """Delete a stored file (missing is fine)."""
        with contextlib.suppress(FileNotFoundError):
            self.path(file).unlink()


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Info:
    format: str
    width: int
    height: int


def _check_image(tmp: Path, name: str, max_pixels: int) -> _Info:
    try:
        info = read_info(tmp, max_pixels=max_pixels)
        load_image(tmp, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise ImageLoadError(Path(name), exc.reason) from None
    if info.format not in EXTENSIONS:
        raise ImageLoadError(
            Path(name),
            f"{info.format} images are not accepted; convert it to one of "
            f"{', '.join(sorted(EXTENSIONS))}",
        )
    return _Info(info.format, info.width, info.height)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
