"""Content-addressed image files and the orphan collector."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from photoid.catalog import Catalog, ImageUpload, add_encounter, check, gc, history, undo
from photoid.catalog.storage import ImageStore
from photoid.errors import ImageLoadError


def test_put_names_the_file_by_its_hash(tmp_path: Path, make_png: Callable[..., bytes]) -> None:
    store = ImageStore(tmp_path)
    data = make_png(1, size=(12, 8))
    digest = hashlib.sha256(data).hexdigest()
    stored = store.put(data, "photo.jpg")  # the name's extension is ignored: the bytes are PNG
    assert stored.sha256 == digest
    assert stored.file == f"images/{digest[:2]}/{digest}.png"
    assert (stored.format, stored.width, stored.height) == ("PNG", 12, 8)
    assert (tmp_path / stored.file).read_bytes() == data
    assert store.put(data, "again.png") == stored  # same bytes, same single file
    assert list(store.files()) == [stored.file]  # no temporary file left behind


def test_put_refuses_what_is_not_a_whole_image(
    tmp_path: Path, make_png: Callable[..., bytes]
) -> None:
    store = ImageStore(tmp_path)
    with pytest.raises(ImageLoadError, match=r"^notes\.jpg: not a readable image"):
        store.put(b"hello, not an image", "notes.jpg")
    with pytest.raises(ImageLoadError, match=r"^cut\.png: .*truncated"):
        store.put(make_png(2, size=(40, 40))[:-60], "cut.png")
    with pytest.raises(ImageLoadError, match=r"^big\.png: 12x8 = 96 pixels is over the limit"):
        store.put(make_png(3, size=(12, 8)), "big.png", max_pixels=95)
    assert list(store.files()) == []


def test_gc_removes_only_old_orphans(catalog: Catalog, make_png: Callable[..., bytes]) -> None:
    _, (kept,) = add_encounter(catalog, [ImageUpload(make_png(1), "kept.png")])
    orphan = catalog.store.put(make_png(2), "orphan.png").file
    leftover = catalog.store.path(kept.file).parent / ".tmp-crashed"
    leftover.write_bytes(b"half")
    assert gc(catalog) == []  # both are younger than the default hour
    old = catalog.store.path(orphan).stat().st_mtime - 7200
    os.utime(catalog.store.path(orphan), (old, old))
    assert gc(catalog) == [orphan]
    assert sorted(gc(catalog, min_age_s=0)) == [leftover.relative_to(catalog.data_dir).as_posix()]
    assert list(catalog.store.files()) == [kept.file]
    assert check(catalog) == []


def test_files_of_an_undone_upload_become_orphans(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    add_encounter(catalog, [ImageUpload(make_png(1), "a.png")])
    _, (image,) = add_encounter(catalog, [ImageUpload(make_png(1), "same-bytes.png")])
    undo(catalog, history(catalog)[0].id)
    assert gc(catalog, min_age_s=0) == []  # the first upload still names the shared file
    assert catalog.store.path(image.file).is_file()


def test_check_reports_a_missing_and_a_changed_file(
    catalog: Catalog, make_png: Callable[..., bytes]
) -> None:
    _, (first, second) = add_encounter(
        catalog, [ImageUpload(make_png(1), "a.png"), ImageUpload(make_png(2), "b.png")]
    )
    catalog.store.path(first.file).unlink()
    catalog.store.path(second.file).write_bytes(make_png(3))
    assert check(catalog) == [
        f"image {first.id}: file {first.file} is missing",
        f"image {second.id}: file {second.file} does not match its hash",
    ]
