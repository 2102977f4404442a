"""benchmarks/catalog_load.py serves a small catalog on SQLite and loads it briefly without
errors or lost decisions; a burst of new individuals all succeed and a killed worker's job is
finished by another."""

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
    command += ["--burst", "8", "--lease", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("| sqlite | 3 |")]
    cells = [cell.strip() for cell in summary.strip("|").split("|")]
    assert len(cells) == 10
    assert cells[7] == "0"  # errors
    posted, stored = (int(n) for n in cells[8].split(" / "))
    assert posted == stored > 0
    rows = [line.split("|") for line in done.stdout.splitlines() if "| sqlite |" in line]
    kinds = [cells[2].strip() for cells in rows]
    assert kinds[1:6] == ["upload", "candidates", "decision", "list", "page"]
    (faults,) = [[c.strip() for c in cells[1:-1]] for cells in rows if cells[2].strip() == "8"]
    # 8 simultaneous new individuals: none failed, 8 distinct codes; the killed worker's job
    # was kept while it lived, then done by another worker on its second attempt.
    assert (faults[2], faults[3]) == ("0", "8")
    assert (faults[6], faults[7], faults[9]) == ("yes", "done", "2")
