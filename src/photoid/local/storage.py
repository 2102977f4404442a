"""Append-only arrays in files, memory-mapped for reading, and the folder that holds them.

A :class:`StoreFolder` is a fresh temporary folder until the object holding it is saved: saved
with :func:`saving_into` a folder, its files are copied there (once) and from then on read and
appended there, so saving the same engine again copies nothing. Loaded with :func:`loading_from`
a folder, it opens the files there. Rows past the count a saved state records (appended by a
process that stopped before saving) are overwritten by the next append, never read.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from photoid.errors import PhotoidError

STORES = "stores"
_SAVING: ContextVar[Path | None] = ContextVar("photoid_saving_into", default=None)
_LOADING: ContextVar[Path | None] = ContextVar("photoid_loading_from", default=None)


@contextlib.contextmanager
def saving_into(folder: Path) -> Iterator[None]:
    """Objects pickled inside the block move their stored files into ``folder``."""
    token = _SAVING.set(Path(folder))
    try:
        yield
    finally:
        _SAVING.reset(token)


@contextlib.contextmanager
def loading_from(folder: Path) -> Iterator[None]:
    """Objects unpickled inside the block find their stored files in ``folder``."""
    token = _LOADING.set(Path(folder))
    try:
        yield
    finally:
        _LOADING.reset(token)


class StoreFolder:
    """The folder of one store's files: ``<engine folder>/stores/<name>`` once saved."""

    def __init__(self) -> None:
        self.name = uuid.uuid4().hex[:12]
        self.path = Path(tempfile.mkdtemp(prefix="photoid-store-"))
        # A temporary folder goes with its object; a saved or loaded one stays.
        self._cleanup: weakref.finalize[Any, Any] | None = weakref.finalize(
            self, shutil.rmtree, self.path, True
        )

    def __getstate__(self) -> dict[str, Any]:
        target = _SAVING.get()
        if target is not None:
            self._move(target / STORES / self.name)
        return {"name": self.name, "path": str(self.path), "relative": target is not None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        source = _LOADING.get()
        if state["relative"] and source is not None:
            self.path = source / STORES / self.name
        else:
            self.path = Path(state["path"])
        self._cleanup = None
        if not self.path.is_dir():
            raise PhotoidError(
                f"{self.path}: the stored features of this engine are missing; fit it again"
            )

    def _move(self, target: Path) -> None:
        """Copy the files to ``target`` (unless they are there) and use them from there."""
        if target.resolve() == self.path.resolve():
            return
        target.mkdir(parents=True, exist_ok=True)
        for file in self.path.iterdir():
            shutil.copyfile(file, target / file.name)
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None
        self.path = target


class AppendArray:
    """Rows of one shape and dtype appended to a file and read through a memory map.

    ``len()`` is the number of rows this object has appended or was saved with.
    """

    def __init__(self, folder: StoreFolder, name: str, width: int, dtype: str) -> None:
        self.folder = folder
        self.name = name
        self.width = width
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self._map: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_map"] = None
        return state

    def __len__(self) -> int:
        return self.rows

    @property
    def file(self) -> Path:
        return self.folder.path / f"{self.name}.bin"

    @property
    def nbytes(self) -> int:
        return self.rows * self.width * self.dtype.itemsize

    def append(self, rows: np.ndarray) -> int:
        """Append ``(n, width)`` rows; returns the number of the first one."""
        data = np.ascontiguousarray(rows, dtype=self.dtype).reshape(-1, self.width)
        first = self.rows
        mode = "r+b" if self.file.exists() else "wb"
        with self.file.open(mode) as handle:
            handle.seek(self.nbytes)
            handle.write(data.tobytes())
            handle.truncate()
        self.rows += data.shape[0]
        self._map = None
        return first

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop-1`` (a view of the memory map; copy it to keep it)."""
        if stop <= start:
            return np.zeros((0, self.width), self.dtype)
        if self._map is None or self._map.shape[0] < stop:
            if not self.file.is_file():
                raise PhotoidError(f"{self.file}: stored features missing; fit the engine again")
            self._map = np.memmap(self.file, self.dtype, "r", shape=(self.rows, self.width))
        return self._map[start:stop]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows numbered ``rows`` (a copy, in that order)."""
        if rows.size == 0:
            return np.zeros((0, self.width), self.dtype)
        self.read(0, int(rows.max()) + 1)
        assert self._map is not None
        return np.asarray(self._map[rows])
