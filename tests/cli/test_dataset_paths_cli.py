"""Every command that reads a dataset applies the one image-path rule of
:mod:`photoid.data.paths`: an image path out of the folder (``..``, absolute, or a symbolic link
whose target lies outside) stops it with the row and the path, before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from photoid.cli.app import app

COMMANDS = {
    "data check": lambda ds, tmp: ["data", "check", str(ds)],
    "evaluate": lambda ds, tmp: ["evaluate", str(ds), "--no-cache"],
    "fit": lambda ds, tmp: ["fit", str(ds), "--out", str(tmp / "engine"), "--no-cache"],
    "identify": lambda ds, tmp: ["identify", "--gallery", str(ds), str(tmp / "outside.png")],
    "catalog import": lambda ds, tmp: ["catalog", "import", str(ds), "--data", str(tmp / "cat")],
    "benchmark": lambda ds, tmp: ["benchmark", str(ds), "--methods", "local", "--work", str(tmp)],
}


def _dataset(tmp: Path, escape: str) -> Path:
    """Row 2 a photo inside the folder; row 3 one beside it, reached by ``escape``."""
    root = tmp / "ds"
    (root / "images").mkdir(parents=True)
    Image.new("RGB", (40, 40), (1, 2, 3)).save(root / "images/a.png")
    Image.new("RGB", (40, 40), (9, 2, 3)).save(tmp / "outside.png")
    if escape == "link":
        (root / "images/b.png").symlink_to(tmp / "outside.png")
        cell = "images/b.png"
    else:
        cell = "../outside.png"
    (root / "metadata.csv").write_text(
        f"image,identity,split\nimages/a.png,A,train\n{cell},A,test\n", encoding="utf-8"
    )
    return root


@pytest.mark.parametrize("escape", ["link", "parent"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_path_out_of_the_folder(
    tmp_path: Path, command: str, escape: str
) -> None:
    root = _dataset(tmp_path, escape)
    result = CliRunner().invoke(app, COMMANDS[command](root, tmp_path), env={"COLUMNS": "300"})
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    words = "is a symbolic link to" if escape == "link" else "leaves the dataset folder"
    if command == "data check":
        assert ("link_outside" if escape == "link" else "path_outside") in result.output
        assert words in result.output
    else:
        shown = "'images/b.png'" if escape == "link" else "'../outside.png'"
        assert f"row 3: the image{'' if escape == 'link' else ' path'} {shown}" in result.stderr
        assert words in result.stderr
    assert not (tmp_path / "engine").exists()
