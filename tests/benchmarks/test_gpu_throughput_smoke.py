"""benchmarks/gpu_throughput.py runs end to end on the CPU at a tiny size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_throughput.py"


@pytest.mark.slow
def test_benchmark_prints_one_row_per_model(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(SCRIPT),
        *("--device", "cpu", "--size", "32", "--steps", "1", "--warmup", "1"),
        *("--models", "test_resnet", "--batch", "4", "--photo-size", "64"),
        *("--individuals", "2", "--workers", "0", "--no-compile", "--work", str(tmp_path)),
        *("--pretrained", "test_vit", "--pretrained-size", "32", "--pretrained-photos", "6"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Card: CPU only" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("| test_resnet |")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 11 and cells[3] == "-"  # no compile column without --compile
    assert all(float(cells[i].replace(",", "")) > 0 for i in (1, 2, 4, 5, 6, 9, 10))
    assert cells[7].split()[1] in ("pass", "FAIL") and cells[8].split()[1] in ("pass", "FAIL")
    assert (tmp_path / "data64" / "metadata.csv").is_file()
    line = done.stdout.split("Gallery embedding with a pretrained-size model: ")[1].splitlines()[0]
    embedded = json.loads(line)
    assert (embedded["model"], embedded["device"], embedded["photos"]) == ("test_vit", "cpu", 6)
    assert embedded["photos_per_s_fp32"] > 0
    assert embedded["max_abs_diff_fp32_vs_cpu_fp32"] == 0.0  # the same path on the same CPU
