"""The synthetic photos of the scaling benchmark, generated once in shards under a work folder.

A shard is ``SHARD`` individuals x ``PER_INDIVIDUAL`` photos of 512 px rendered with its own seed
(the shard number), so shards never share an individual. Each shard is a whole dataset
(metadata.csv written last), and its features are extracted into the feature cache right after
it is rendered: an interrupted preparation resumes at the first unfinished shard.

    .venv/bin/python benchmarks/_scaling_data.py --work DIR --photos 121200   # in the background
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

SHARD = 500
PER_INDIVIDUAL = 6  # photos 0-4 go into the gallery, photo 5 is the individual's query
SIZE = 512
DONE = "features.done"


@dataclass(frozen=True)
class Photos:
    """Plain lists of the photos of some shards, in shard order."""

    paths: list[Path]
    identities: list[str]
    bboxes: list[tuple[float, float, float, float] | None]
    numbers: list[int]  # the photo's number within its individual (0..PER_INDIVIDUAL-1)


def shard_folder(work: Path, shard: int) -> Path:
    return work / "shards" / f"{shard:03d}"


def ready_shards(work: Path) -> int:
    """How many shards, from the first, are rendered and have their features cached."""
    count = 0
    while (shard_folder(work, count) / DONE).is_file():
        count += 1
    return count


def prepare(work: Path, shards: int, workers: int = 2) -> None:
    """Render and extract shards ``0..shards-1`` that are not done yet."""
    from photoid.data import load_dataset
    from photoid.data.synth import generate
    from photoid.local.cache import FeatureCache
    from photoid.local.config import LocalConfig
    from photoid.local.extraction import extract_many

    config = LocalConfig()
    cache = FeatureCache(work / "cache", config.fingerprint())
    for shard in range(shards):
        folder = shard_folder(work, shard)
        if (folder / DONE).is_file():
            continue
        started = time.perf_counter()
        if not (folder / "metadata.csv").is_file():
            generate(
                folder,
                individuals=SHARD,
                images_per=PER_INDIVIDUAL,
                seed=shard,
                size=SIZE,
                workers=workers,
                overwrite=True,
            )
        rendered = time.perf_counter()
        dataset = load_dataset(folder)
        extract_many(dataset.paths(), list(dataset.table["bbox"]), config, cache, workers=workers)
        (folder / DONE).write_text("ok\n")
        print(
            f"shard {shard}: rendered in {rendered - started:.0f} s, features in "
            f"{time.perf_counter() - rendered:.0f} s",
            flush=True,
        )


def load_photos(work: Path, shards: int) -> Photos:
    """Every photo of shards ``0..shards-1``; identities prefixed by their shard."""
    from photoid.data import load_dataset

    out = Photos([], [], [], [])
    for shard in range(shards):
        dataset = load_dataset(shard_folder(work, shard))
        table = dataset.table
        out.paths.extend(dataset.paths())
        out.identities.extend(f"{shard:03d}/{name}" for name in table["identity"])
        out.bboxes.extend(table["bbox"])
        numbers = table["image"].str.extract(r"_(\d+)\.\w+$")[0].astype(int)
        out.numbers.extend(int(n) for n in numbers)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-scaling"))
    parser.add_argument("--photos", type=int, default=121_200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    per_shard = SHARD * PER_INDIVIDUAL
    prepare(args.work, -(-args.photos // per_shard), args.workers)


if __name__ == "__main__":
    main()
