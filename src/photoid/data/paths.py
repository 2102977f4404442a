"""The one rule for the image paths of ``metadata.csv``: relative to the dataset folder, and
inside it, also once symbolic links are followed.

:func:`photoid.data.table.load_dataset` and :func:`photoid.data.check.check_dataset` apply it,
so every command that reads a dataset (evaluate, identify, fit, benchmark, train, catalog import,
data check) refuses ``../x.jpg``, ``/home/me/x.jpg``, ``C:\\x.jpg`` and a link that leads out of
the folder. Links whose target stays inside the folder are fine, and so are hard links (regular
files inside the folder), which is what ``photoid data convert --link`` makes. There is no way
around the rule.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath


@dataclass(frozen=True)
class PathProblem:
    """Why an image cell is refused: ``code`` is ``path_outside`` (absolute or ``..``) or
    ``link_outside`` (a symbolic link leads out of the folder); ``what`` names the path and
    ``fix`` says what to do (the same for every row with this code)."""

    code: str
    what: str
    fix: str

    @property
    def message(self) -> str:
        return f"{self.what}; {self.fix}"


_RELATIVE = (
    "keep the images inside the folder that holds metadata.csv and write their paths relative "
    "to it (e.g. images/a.jpg)"
)
_LINKED = (
    "put the image files themselves inside the dataset folder: copy them, or hard-link them "
    "(`ln` without -s; `photoid data convert --link` does so)"
)


class ImagePathRule:
    """Checks the image cells of the dataset folder ``root``; the real path of each folder is
    looked up once, so checking every row costs about one ``lstat`` per image."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._real_root = os.path.realpath(self.root)
        self._real_folders: dict[str, str] = {}

    def problem(self, cell: str) -> PathProblem | None:
        """None when ``cell`` (an image path as written in the CSV) is allowed."""
        if PureWindowsPath(cell).anchor:  # "/x", "\\x", "C:\\x", "C:x", "\\\\server\\share"
            return PathProblem("path_outside", f"the image path {cell!r} is absolute", _RELATIVE)
        normal = posixpath.normpath(cell.replace("\\", "/"))
        if normal == ".." or normal.startswith("../"):
            what = f"the image path {cell!r} leaves the dataset folder through '..'"
            return PathProblem("path_outside", what, _RELATIVE)
        real = self._real(cell)
        if self._inside(real):
            return None
        return PathProblem("link_outside", self._link_escape(cell, real), _LINKED)

    def _real(self, cell: str) -> str:
        folder, name = posixpath.split(cell)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = os.path.realpath(self.root / folder)
            self._real_folders[folder] = real_folder
        path = os.path.join(real_folder, name)
        if name in ("", ".", "..") or os.path.islink(path):
            return os.path.realpath(path)
        return path

    def _inside(self, real: str) -> bool:
        return os.path.commonpath([self._real_root, real]) == self._real_root

    def _link_escape(self, cell: str, real: str) -> str:
        """Names the first link on the way that leads out, when one does by itself."""
        current = self.root
        for part in Path(cell).parts:
            current = current / part
            if current.is_symlink() and not self._inside(target := os.path.realpath(current)):
                link = current.relative_to(self.root).as_posix()
                if link == posixpath.normpath(cell):
                    return f"the image {cell!r} is a symbolic link to {target}, outside the folder"
                return (
                    f"the image path {cell!r} leads out of the folder through the symbolic link "
                    f"{link} -> {target}"
                )
        return f"the image path {cell!r} resolves to {real}, outside the dataset folder"
