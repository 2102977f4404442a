"""Put generated text into a document between two marker lines, keeping everything else."""

from __future__ import annotations

from pathlib import Path

from photoid.errors import PhotoidError
from photoid.files import atomic_open

BEGIN = "<!-- photoid benchmark: begin -->"
END = "<!-- photoid benchmark: end -->"


def replace_section(document: str, text: str, *, source: str = "the document") -> str:
    """``document`` with the lines between the :data:`BEGIN` and :data:`END` lines (each once,
    alone on its line, begin first) replaced by ``text``, framed by blank lines. ``source``
    names the document in errors."""
    lines = document.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise PhotoidError(
            f"{source}: needs exactly one line {BEGIN!r} followed later by one line {END!r} "
            f"(found {len(starts)} and {len(ends)}); add them where the benchmark table goes"
        )
    newline = "\r\n" if lines[starts[0]].endswith("\r\n") else "\n"
    body = newline + newline.join(text.strip("\n").splitlines()) + newline + newline
    return "".join([*lines[: starts[0] + 1], body, *lines[ends[0] :]])


def replace_in_file(path: Path, text: str) -> None:
    """:func:`replace_section` on the file at ``path``, written by :func:`write_atomic`; the
    file is left as it was on any error."""
    write_atomic(path, replace_section(_read(path), text, source=str(path)))


def check_markers(path: Path) -> None:
    """Raise PhotoidError now if :func:`replace_in_file` would refuse ``path`` (unreadable, or
    its marker lines missing), before a long benchmark runs."""
    replace_section(_read(path), "", source=str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PhotoidError(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) whole or not at all
    (:func:`photoid.files.atomic_open`)."""
    try:
        with atomic_open(path, binary=False) as out:
            out.write(text)
    except OSError as exc:
        raise PhotoidError(f"{path}: cannot write there ({exc.strerror or exc})") from exc
