"""The top-level API: lazily imported, paths as str or Path, a fitted engine kept and reloaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import photoid
from photoid.core import NEW_INDIVIDUAL, Identification
from photoid.data.synth.generate import generate
from photoid.data.table import Dataset
from photoid.engines.base import Engine
from photoid.errors import PhotoidError

HEAVY = ("torch", "pandas", "faiss", "cv2", "sklearn", "sqlalchemy", "fastapi", "photoid.api")


@pytest.fixture(scope="module")
def whales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 individuals x 3 synthetic photos."""
    folder = tmp_path_factory.mktemp("api") / "whales"
    generate(folder, individuals=3, images_per=3, seed=1, size=128)
    return folder


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_import_photoid_imports_no_heavy_library() -> None:
    done = _run("-c", f"import sys, photoid; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_every_public_name_resolves() -> None:
    for name in photoid.__all__:
        assert getattr(photoid, name) is not None
        assert name in dir(photoid)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = photoid.nothing


def test_python_m_photoid_is_the_command() -> None:
    done = _run("-m", "photoid", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m photoid [OPTIONS] COMMAND [ARGS]..." in done.stdout
    assert _run("-m", "photoid", "--version").stdout.strip() == f"photoid {photoid.__version__}"


def test_fit_save_load_identify_with_str_and_path(whales: Path, tmp_path: Path) -> None:
    dataset = photoid.load_dataset(str(whales))
    assert isinstance(dataset, Dataset)
    assert len(dataset) == 9
    engine = photoid.fit(str(whales), "local", out=str(tmp_path / "engine"))
    assert isinstance(engine, Engine)
    assert sorted(set(engine.identities)) == sorted(set(dataset.table["identity"]))
    photo = dataset.image_path(0)
    truth = str(dataset.table["identity"].iloc[0])
    by_path = photoid.identify_photos(engine, photo)
    by_str = photoid.identify_photos(photoid.load_engine(str(tmp_path / "engine")), str(photo))
    by_folder = photoid.identify_photos(tmp_path / "engine", [whales / "images"])
    for answers in (by_path, by_str):
        assert len(answers) == 1
        assert isinstance(answers[0], Identification)
        assert answers[0].candidates[0].identity == truth
        assert 1 <= len(answers[0].candidates) <= 5
    assert len(by_folder) == 9
    same = next(a for a in by_folder if Path(a.query) == photo)
    ranked = [c.identity for c in same.candidates]
    assert ranked == [c.identity for c in by_path[0].candidates]
    assert set(ranked) <= {*engine.identities, NEW_INDIVIDUAL}


def test_fit_takes_a_loaded_dataset_and_options(whales: Path) -> None:
    options = photoid.EngineOptions(local=photoid.EngineOptions().local)
    engine = photoid.fit(photoid.load_dataset(whales), options=options)
    assert engine.method == "local"
    assert engine.options is options


def test_errors_say_what_to_do(whales: Path, tmp_path: Path) -> None:
    with pytest.raises(PhotoidError, match="needs a trained model"):
        photoid.fit(whales, "deep")
    with pytest.raises(PhotoidError, match="unknown method 'nope'"):
        photoid.fit(whales, "nope")
    with pytest.raises(PhotoidError, match="no fitted engine here"):
        photoid.load_engine(str(tmp_path))
    engine = photoid.fit(whales)
    with pytest.raises(PhotoidError, match="no such file or folder"):
        photoid.identify_photos(engine, tmp_path / "nothing.jpg")
