"""Reader for a folder per individual: ``ROOT/<identity>/<image>``.

Images may sit in nested subfolders under the identity folder (``ROOT/Ayo/2021/a.jpg``).
Extensions .jpg .jpeg .png .bmp .tif .tiff .webp count as images, in any letter case; hidden
files and folders (name starting with ".") and other files are ignored. A folder named
``unknown`` holds photos of unknown individuals.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from photoid.data.readers._write import Entry, destination
from photoid.errors import DatasetError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
)


def is_image_file(name: str) -> bool:
    """True for a visible file name with an image extension (case-insensitive)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def read_folder(source: Path) -> list[Entry]:
    """One entry per image; identity = name of the top folder under ``source``.

    Destinations keep the layout: ``images/<identity>/<subfolders>/<file>``, in sorted path
    order. Symlinked folders are followed. Image files lying directly in ``source`` have no
    identity: they are left out with a warning.
    """
    if not source.is_dir():
        raise DatasetError(
            "is not a folder; the folder format needs ROOT/<identity>/<image>", path=source
        )
    loose = [p.name for p in source.iterdir() if p.is_file() and is_image_file(p.name)]
    if loose:
        warnings.warn(
            f"{source}: left out {len(loose)} image(s) lying directly in the folder, outside any "
            f"identity folder (first: {sorted(loose)[0]})",
            UserWarning,
            stacklevel=2,
        )
    entries: list[Entry] = []
    identities = sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in identities:
        for path in _images_under(folder):
            relative = path.relative_to(source).as_posix()
            entries.append(
                Entry(
                    source=path,
                    image=destination(relative),
                    cells={"identity": folder.name},
                    origin=path,
                )
            )
    if not entries:
        raise DatasetError(
            "no images found in identity folders; the folder format needs ROOT/<identity>/<image> "
            f"with extensions {', '.join(sorted(IMAGE_EXTENSIONS))}",
            path=source,
        )
    return entries


def _images_under(folder: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subfolders, files in os.walk(folder, followlinks=True):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        found.extend(Path(directory, name) for name in files if is_image_file(name))
    return sorted(found)
