"""``photoid catalog import|export`` and ``photoid users add`` through the real CLI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from photoid.catalog import open_catalog, verify_password
from photoid.catalog.models import Image
from photoid.cli.app import app
from photoid.data.synth import generate
from photoid.data.table import load_dataset


def test_import_then_export(tmp_path: Path, catalog_url: str | None) -> None:
    source = tmp_path / "synth"
    generate(source, individuals=2, images_per=2, seed=0, size=40)
    data = ["--data", str(tmp_path / "data")] + (["--url", catalog_url] if catalog_url else [])
    runner = CliRunner()
    imported = runner.invoke(app, ["catalog", "import", str(source), *data])
    assert imported.exit_code == 0, imported.output
    assert "Imported 4 images, 2 individuals and 4 encounters" in imported.output
    exported = runner.invoke(app, ["catalog", "export", str(tmp_path / "out"), *data])
    assert exported.exit_code == 0, exported.output
    assert sorted(load_dataset(tmp_path / "out").table["identity"]) == sorted(
        load_dataset(source).table["identity"]
    )
    again = runner.invoke(app, ["catalog", "import", str(source), *data])
    assert again.exit_code == 2
    assert "is not empty; import starts a new catalog" in again.output


def test_users_add_with_option_and_prompt(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path / "data")]
    runner = CliRunner()
    given = runner.invoke(
        app, ["users", "add", "ana", "--role", "admin", "--password", "s3cret-pw", *data]
    )
    assert given.exit_code == 0, given.output
    assert "Added user ana (admin)" in given.output
    prompted = runner.invoke(
        app, ["users", "add", "bob", "--role", "viewer", *data], input="other-pw\nother-pw\n"
    )
    assert prompted.exit_code == 0, prompted.output
    bad = runner.invoke(
        app, ["users", "add", "cy", "--role", "boss", "--password", "12345678", *data]
    )
    assert bad.exit_code == 2
    assert "'boss' is not one of viewer, reviewer, admin" in bad.output
    catalog = open_catalog(tmp_path / "data")
    assert verify_password(catalog, "ana", "s3cret-pw") is not None
    assert verify_password(catalog, "bob", "other-pw") is not None
    catalog.close()


def test_history_lists_changes_and_undo_reverses_one(tmp_path: Path) -> None:
    source = generate(tmp_path / "src", individuals=2, images_per=2, seed=1).parent
    data = ["--data", str(tmp_path / "data")]
    runner = CliRunner()
    assert runner.invoke(app, ["catalog", "import", str(source), *data]).exit_code == 0
    listed = runner.invoke(app, ["catalog", "history", *data])
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()  # one change: the import
    change = line.split("\t")[0]
    assert change.startswith("#") and "import" in line
    undone = runner.invoke(app, ["catalog", "undo", change[1:], "--actor", "ana", *data])
    assert undone.exit_code == 0, undone.output
    assert f"Undid change {change}" in undone.output
    catalog = open_catalog(tmp_path / "data")
    try:
        with catalog.session() as session:
            assert session.scalar(select(func.count()).select_from(Image)) == 0
    finally:
        catalog.close()
    after = runner.invoke(app, ["catalog", "history", *data]).output.splitlines()
    assert "ana" in after[0] and f"(undone by #{after[0].split(chr(9))[0][1:]})" in after[1]
    refused = runner.invoke(app, ["catalog", "undo", change[1:], *data])
    assert refused.exit_code != 0 and "already undone" in refused.output
