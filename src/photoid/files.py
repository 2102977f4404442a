"""Files written whole or not at all (the one way photoid replaces a file), and files placed
as hard links where the file system allows (the one way photoid shares an image without copying).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: Path, binary: bool = True) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside ``path`` that replaces ``path`` when the block ends
    without an error (readers see the old file or the new one, never half of one; a killed
    writer leaves the old one). The folder must exist. Text mode writes UTF-8 with newlines as
    given."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if binary:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_open`."""
    with atomic_open(path) as handle:
        handle.write(data)


def link_or_copy(source: Path, target: Path) -> OSError | None:
    """Make ``target`` a hard link to the file ``source`` (resolved first, so a symbolic link is
    never linked itself): a regular file sharing the source's data, no copy made. Where the file
    system refuses (another file system, EXDEV; hard links not allowed, EPERM; ...) the file is
    copied instead and the refusal returned; None when linked. ``target`` must not exist."""
    real = source.resolve()
    try:
        os.link(real, target)
    except OSError as refused:
        shutil.copyfile(real, target)
        return refused
    return None
