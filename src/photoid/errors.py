"""Errors a user can act on: each names the file (and row) at fault and what to do."""

from __future__ import annotations

from pathlib import Path


class PhotoidError(Exception):
    """Base of every error photoid raises on purpose; the CLI prints it without a traceback."""


class DatasetError(PhotoidError):
    """A dataset folder or its metadata.csv cannot be used as it is."""

    def __init__(self, message: str, *, path: Path | None = None, row: int | None = None) -> None:
        self.path = path
        self.row = row
        where = ""
        if path is not None:
            where = f"{path}"
            if row is not None:
                where += f", row {row}"
            where += ": "
        super().__init__(where + message)


class ImageLoadError(PhotoidError):
    """An image file cannot be decoded into pixels."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
