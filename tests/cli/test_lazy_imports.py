"""`photoid --help` stays fast: the command modules import the heavy libraries (torch, pandas,
faiss, ...) only inside the commands that use them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import get_args

from typer.testing import CliRunner

from photoid.cli import constants
from photoid.cli.app import app

HEAVY = (
    "torch",
    "lightning",
    "timm",
    "torchvision",
    "faiss",
    "cv2",
    "sklearn",
    "sqlalchemy",
    "fastapi",
    "pandas",
    "albumentations",
)


def _heavy_loaded_after(code: str) -> str:
    """Run ``code`` in a fresh interpreter, then print which heavy modules it imported."""
    script = code + textwrap.dedent(
        f"""
        import sys
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_app_imports_no_heavy_library() -> None:
    assert _heavy_loaded_after("import photoid.cli.app") == "[]"


def test_every_help_imports_no_heavy_library() -> None:
    code = textwrap.dedent(
        """
        import typer
        from typer.testing import CliRunner
        from photoid.cli.app import app

        def walk(command, path):
            yield path
            for name, child in getattr(command, "commands", {}).items():
                yield from walk(child, [*path, name])

        paths = list(walk(typer.main.get_command(app), []))
        assert len(paths) > 10, paths
        for path in paths:
            result = CliRunner().invoke(app, [*path, "--help"])
            assert result.exit_code == 0, (path, result.output)
            assert "Usage:" in result.output, (path, result.output)
        """
    )
    assert _heavy_loaded_after(code) == "[]"


def test_help_shows_usage() -> None:
    result = CliRunner().invoke(app, ["--help"], prog_name="photoid")
    assert result.exit_code == 0, result.output
    assert "Usage: photoid [OPTIONS] COMMAND [ARGS]..." in result.output
    assert "identify" in result.output
    result = CliRunner().invoke(app, ["identify", "--help"], prog_name="photoid")
    assert result.exit_code == 0, result.output
    assert "Usage: photoid identify [OPTIONS]" in result.output
    assert "--query" in result.output


def test_light_constants_match_the_library() -> None:
    from photoid.data.check import DEFAULT_MIN_SIDE
    from photoid.data.splits import UndatedPolicy
    from photoid.data.splits_apply import SplitKind
    from photoid.deep.ensemble import COMBINES, SHORTLIST, Combine
    from photoid.evaluation.skips import DEFAULT_MAX_SKIPPED

    assert constants.DEFAULT_MIN_SIDE == DEFAULT_MIN_SIDE
    assert constants.DEFAULT_MAX_SKIPPED == DEFAULT_MAX_SKIPPED
    assert get_args(constants.SplitKind) == get_args(SplitKind)
    assert get_args(constants.UndatedPolicy) == get_args(UndatedPolicy)
    assert (COMBINES, SHORTLIST) == (constants.COMBINES, constants.SHORTLIST)
    assert get_args(Combine) == COMBINES
