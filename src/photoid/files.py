"""Files written whole or not at all: the one way photoid replaces a file."""

from __future__ import annotations

import os
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
