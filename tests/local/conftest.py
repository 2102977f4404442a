"""The tiny synthetic dataset the local engine's tests share (6 individuals x 4 photos, 192 px),
and one feature cache for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from photoid.data.synth import generate
from photoid.data.table import Dataset, load_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root = tmp_path_factory.mktemp("synth") / "animals"
    generate(root, individuals=6, images_per=4, seed=3, size=192)
    return load_dataset(root)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")
