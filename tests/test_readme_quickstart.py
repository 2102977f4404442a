"""The README's Python quickstart runs as written, on a tiny synthetic dataset."""

from __future__ import annotations

import ast
import csv
import re
import shutil
from pathlib import Path

import pytest

from photoid.data.synth.generate import generate

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Use from Python"


def quickstart() -> str:
    """The first fenced python block of the README's quickstart section."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md lost its {SECTION!r} section"
    found = re.search(r"```python\n(.*?)```", text[text.index(SECTION) :], re.DOTALL)
    assert found is not None, f"no python block under {SECTION!r} in README.md"
    return found.group(1)


def make_whales(folder: Path) -> list[str]:
    """``folder/my-whales``: 4 individuals x 3 photos; ``folder/new-photos``: a fourth photo of
    each, held out of the dataset. Returns the held-out photos' identities."""
    dataset = folder / "my-whales"
    generate(dataset, individuals=4, images_per=4, seed=0)
    table = dataset / "metadata.csv"
    with table.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    held = [r for r in rows if r["image"].endswith("_003.jpg")]
    (folder / "new-photos").mkdir()
    for row in held:
        shutil.move(dataset / row["image"], folder / "new-photos" / Path(row["image"]).name)
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r not in held)
    return sorted(r["identity"] for r in held)


def test_readme_quickstart_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    identities = make_whales(tmp_path)
    monkeypatch.chdir(tmp_path)
    exec(compile(quickstart(), str(README), "exec"), {"__name__": "readme"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(identities), lines
    answers: dict[str, list[str]] = {}
    for line in lines:
        query, printed = line.split(" ", 1)
        answers[Path(query).name] = [name for name, _ in ast.literal_eval(printed)]
    assert sorted(answers) == sorted(f"{i}_003.jpg" for i in identities)
    for name, ranked in answers.items():
        assert 1 <= len(ranked) <= 3
        assert name.removesuffix("_003.jpg") in ranked, (name, ranked)
    assert (tmp_path / "my-whales-engine" / "engine.json").is_file()
