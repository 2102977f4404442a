"""benchmarks/catalog_load.py serves a small catalog on SQLite and loads it briefly without
errors or lost decisions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "catalog_load.py"


@pytest.mark.slow
def test_three_clients_lose_no_decision_on_sqlite() -> None:
    command = [sys.executable, str(SCRIPT), "--seconds", "3", "--clients", "3"]
    command += ["--backend", "sqlite", "--individuals", "4", "--photos", "2", "--size", "128"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("| sqlite | 3 |")]
    cells = [cell.strip() for cell in summary.strip("|").split("|")]
    assert len(cells) == 10
    assert cells[7] == "0"  # errors
    posted, stored = (int(n) for n in cells[8].split(" / "))
    assert posted == stored > 0
    kinds = [
        line.split("|")[2].strip() for line in done.stdout.splitlines() if "| sqlite |" in line
    ]
    assert kinds[1:] == ["upload", "candidates", "decision", "list", "page"]
