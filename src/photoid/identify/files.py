"""Query paths given on the command line: files, or folders searched for images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from photoid.errors import PhotoidError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


def collect_images(paths: Sequence[Path]) -> list[Path]:
    """Each file as given; each folder expanded to its images (recursively, sorted by path).

    Raises PhotoidError for a path that does not exist or a folder without images.
    """
    images: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                raise PhotoidError(f"{path}: the folder holds no images ({sorted(IMAGE_SUFFIXES)})")
            images.extend(found)
        elif path.exists():
            images.append(path)
        else:
            raise PhotoidError(f"{path}: no such file or folder")
    return images
