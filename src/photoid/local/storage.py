"""Append-only arrays in files, memory-mapped for reading, and the folder that holds them.

A :class:`StoreFolder` is a fresh temporary folder (under ``$PHOTOID_STORE_TMP`` when set) until
the object holding it is saved: saved with :func:`saving_into` a folder, its files move there
(once) and from then on are read and appended there, so saving the same engine again copies
nothing; :func:`prune_stores` then deletes the stores no saved object refers to any more.
Loaded with :func:`loading_from` a folder, it opens the files there. Rows past the count a saved
state records (appended by a process that stopped before saving) are overwritten by the next
append, never read. One object at a time appends to a store's files: it holds an exclusive
lock on the folder (taken when loaded, or at its first append). Another object loaded from the
same folder (the same engine loaded twice, in this process or another) copies the files to a
folder of its own at its first append instead of overwriting the other's rows, and saving never
deletes a store another object holds.
"""

from __future__ import annotations

import contextlib
import os
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

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one writer is then the user's to ensure
    fcntl = None  # type: ignore[assignment]

STORES = "stores"
_SAVING: ContextVar[tuple[Path, set[str]] | None] = ContextVar("photoid_saving_into", default=None)
_LOADING: ContextVar[Path | None] = ContextVar("photoid_loading_from", default=None)


@contextlib.contextmanager
def saving_into(folder: Path) -> Iterator[set[str]]:
    """Objects pickled inside the block move their stored files into ``folder``; yields the
    set of the store names they use (for :func:`prune_stores`, once the pickle is written)."""
    kept: set[str] = set()
    token = _SAVING.set((Path(folder).resolve(), kept))
    try:
        yield kept
    finally:
        _SAVING.reset(token)


def prune_stores(folder: Path, kept: set[str]) -> None:
    """Delete the stores under ``folder`` that are not in ``kept`` (left by an engine saved
    there before, or by a save that stopped before its pickle was written), except those an
    object still holds (another process's gallery)."""
    root = Path(folder) / STORES
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.is_dir() and child.name not in kept:
            handle = _try_lock(child)
            if handle is not None or fcntl is None:
                shutil.rmtree(child, ignore_errors=True)
            if handle is not None:
                handle.close()


def _temporary() -> Path:
    return Path(tempfile.mkdtemp(prefix="photoid-store-", dir=os.environ.get("PHOTOID_STORE_TMP")))


def _try_lock(folder: Path) -> Any:
    """An open handle holding ``folder``'s exclusive lock, or None when another holds it."""
    if fcntl is None:
        return None
    try:
        handle = (folder / ".lock").open("a")
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


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
        self.path = _temporary()
        self._lock: Any = None
        # A temporary folder goes with its object; a saved or loaded one stays.
        self._cleanup: weakref.finalize[Any, Any] | None = weakref.finalize(
            self, shutil.rmtree, self.path, True
        )

    def __getstate__(self) -> dict[str, Any]:
        saving = _SAVING.get()
        if saving is not None:
            self._move(saving[0] / STORES / self.name)
            saving[1].add(self.name)
        return {"name": self.name, "path": str(self.path), "relative": saving is not None}

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
        self._lock = _try_lock(self.path)  # None: another holds it; the first append copies

    def lock(self) -> None:
        """Hold this folder's append lock from now on (until this object is gone); when
        another object holds it, continue in a copy of the files in a folder of this
        object's own (a new temporary one, saved under a new name)."""
        if self._lock is not None or fcntl is None:
            return
        self._lock = _try_lock(self.path)
        if self._lock is not None:
            return
        copy = _temporary()
        for file in self.path.iterdir():
            if file.name != ".lock":
                shutil.copyfile(file, copy / file.name)
        self.name = uuid.uuid4().hex[:12]
        self.path = copy
        self._cleanup = weakref.finalize(self, shutil.rmtree, copy, True)
        self._lock = _try_lock(copy)

    def _move(self, target: Path) -> None:
        """Move the files to ``target`` (unless they are there) and use them from there: a
        temporary folder is renamed when it can be, a saved one copied (it stays with the
        engine it was saved with)."""
        if target.resolve() == self.path.resolve():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        moved = False
        if self._cleanup is not None and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(self.path, target)
                moved = True
        if not moved:
            target.mkdir(parents=True, exist_ok=True)
            for file in self.path.iterdir():
                if file.name != ".lock":
                    shutil.copyfile(file, target / file.name)
        if self._cleanup is not None:
            self._cleanup.detach()
            if not moved:
                shutil.rmtree(self.path, ignore_errors=True)
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
        self.folder.lock()
        mode = "r+b" if self.file.exists() else "wb"
        try:
            with self.file.open(mode) as handle:
                handle.seek(self.nbytes)
                handle.write(data.tobytes())
                handle.truncate()
        except OSError as error:
            raise PhotoidError(f"{self.file}: features could not be stored ({error})") from None
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
