"""Marker replacement in docs/benchmarks.md-like files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from photoid.benchmark.docs import (
    BEGIN,
    END,
    check_markers,
    replace_in_file,
    replace_section,
    write_atomic,
)
from photoid.errors import PhotoidError

DOC = f"# Benchmarks\n\nIntro.\n\n{BEGIN}\nold table\nold line\n{END}\n\nAfter.\n"


def test_text_between_the_markers_is_replaced_and_the_rest_kept() -> None:
    updated = replace_section(DOC, "| a |\n|---|\n")
    assert updated == f"# Benchmarks\n\nIntro.\n\n{BEGIN}\n\n| a |\n|---|\n\n{END}\n\nAfter.\n"
    assert replace_section(updated, "| a |\n|---|\n") == updated


def test_windows_newlines_are_kept() -> None:
    updated = replace_section(DOC.replace("\n", "\r\n"), "x\ny")
    assert (
        updated
        == f"# Benchmarks\r\n\r\nIntro.\r\n\r\n{BEGIN}\r\n\r\nx\r\ny\r\n\r\n{END}\r\n\r\nAfter.\r\n"
    )


@pytest.mark.parametrize(
    "document",
    [
        "# no markers\n",
        f"{BEGIN}\nonly the begin\n",
        f"{END}\n{BEGIN}\n",
        f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n",
    ],
)
def test_missing_or_misplaced_markers_are_refused(document: str) -> None:
    with pytest.raises(PhotoidError, match=re.escape("docs/x.md: needs exactly one line")):
        replace_section(document, "t", source="docs/x.md")


def test_file_is_replaced_atomically_and_left_alone_on_error(tmp_path: Path) -> None:
    good = tmp_path / "benchmarks.md"
    good.write_text(DOC, encoding="utf-8")
    replace_in_file(good, "new")
    assert good.read_text(encoding="utf-8") == replace_section(DOC, "new")
    bad = tmp_path / "other.md"
    bad.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(PhotoidError, match=re.escape(f"{bad}: needs exactly one line")):
        replace_in_file(bad, "new")
    assert bad.read_text(encoding="utf-8") == "no markers\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks.md", "other.md"]


def test_check_markers_before_running(tmp_path: Path) -> None:
    good = tmp_path / "benchmarks.md"
    good.write_text(DOC, encoding="utf-8")
    check_markers(good)
    assert good.read_text(encoding="utf-8") == DOC
    with pytest.raises(PhotoidError, match=re.escape("missing.md: cannot read it")):
        check_markers(tmp_path / "missing.md")


def test_write_atomic_names_an_unwritable_folder(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "out.md"
    with pytest.raises(PhotoidError, match=re.escape("no-such-folder/out.md: cannot write there")):
        write_atomic(target, "x")
