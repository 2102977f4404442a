"""photoid.files: hard links where the file system allows, else a copy and the refusal."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from photoid.files import link_or_copy


def test_link_or_copy_makes_a_hard_link_to_the_file_behind_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.bin"
    real.write_bytes(b"photo")
    alias = tmp_path / "alias.bin"
    alias.symlink_to(real)
    target = tmp_path / "out.bin"
    assert link_or_copy(alias, target) is None
    assert not target.is_symlink()
    assert os.stat(target).st_ino == os.stat(real).st_ino


def test_link_or_copy_copies_and_returns_the_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(src: object, dst: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", cross_device)
    source = tmp_path / "a.bin"
    source.write_bytes(b"photo")
    refused = link_or_copy(source, tmp_path / "b.bin")
    assert refused is not None and refused.errno == errno.EXDEV
    assert (tmp_path / "b.bin").read_bytes() == b"photo"
    assert os.stat(tmp_path / "b.bin").st_ino != os.stat(source).st_ino
