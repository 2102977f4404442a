"""`photoid demo` ends with the command serving the demo catalog and a login that works."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import photoid.cli.demo as demo_cli
from photoid.catalog import open_catalog, verify_password
from photoid.cli.app import app
from photoid.demo import DemoResult, DemoSettings, run_demo


def test_demo_prints_how_to_serve_and_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tiny(out: Path, progress: object = None) -> DemoResult:
        return run_demo(out, DemoSettings(individuals=5, images_per=3, size=96))

    monkeypatch.setattr(demo_cli, "run_demo", tiny)
    out = tmp_path / "demo-out"
    result = CliRunner().invoke(app, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2] == f"  photoid serve --data {out / 'catalog'}"
    prefix = "then open http://127.0.0.1:8000/review and log in as demo / "
    assert lines[-1].startswith(prefix)
    password = lines[-1].removeprefix(prefix).split()[0]
    catalog = open_catalog(out / "catalog")
    try:
        assert verify_password(catalog, "demo", password) is not None
    finally:
        catalog.close()
