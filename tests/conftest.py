"""Shared fixtures. Tests that need the real datasets beside the project use ``shared_datasets``:
without them they skip with the reason, and under PHOTOID_REQUIRE_SHARED=1 (CI) they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_root() -> Path:
    configured = os.environ.get("PHOTOID_SHARED_DATASETS")
    return Path(configured) if configured else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Folder holding LionData, CTai_subset and KoiVideo (read-only; never copy into the repo)."""
    root = _shared_root()
    if not (root / "LionData" / "metadata.csv").is_file():
        reason = (
            f"real datasets not found at {root}; set PHOTOID_SHARED_DATASETS to a folder holding "
            "LionData, CTai_subset and KoiVideo"
        )
        if os.environ.get("PHOTOID_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (PHOTOID_REQUIRE_SHARED=1 forbids skipping)")
        pytest.skip(reason)
    return root
