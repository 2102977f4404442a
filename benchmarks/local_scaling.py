"""How the local engine's query cost grows with the gallery: synthetic galleries of 1,000, 5,000
and 10,000 photos at 512 px longest side, 50 queries each (photos of gallery individuals that
are not in the gallery themselves).

    .venv/bin/python benchmarks/local_scaling.py [--sizes 1000 5000 10000] [--work DIR]

The dataset is generated once under --work (2,000 individuals x 6 photos; photo 5 of each
individual is a query, the rest gallery; a gallery of N photos is the first N/5 individuals).
Features are extracted once into the cache, so each size measures the index and the queries.
Each size runs in its own process, so peak memory (max RSS) is that gallery's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _machine import describe

PER_INDIVIDUAL = 6
QUERIES = 50


def prepare(work: Path, individuals: int, workers: int) -> Path:
    from photoid.data.synth import generate

    data = work / "data"
    if not (data / "metadata.csv").is_file():
        started = time.perf_counter()
        generate(
            data,
            individuals=individuals,
            images_per=PER_INDIVIDUAL,
            seed=0,
            size=512,
            workers=workers,
        )
        print(
            f"generated {individuals * PER_INDIVIDUAL} photos in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return data


def run_size(data: Path, cache: Path, size: int) -> dict[str, float]:
    import numpy as np

    from photoid.data import load_dataset
    from photoid.local.config import LocalConfig
    from photoid.local.engine import LocalEngine
    from photoid.local.extraction import extract_many

    dataset = load_dataset(data)
    table = dataset.table
    photo = table["image"].str.extract(r"_(\d+)\.\w+$")[0].astype(int).to_numpy()
    identities = table["identity"].to_numpy()
    first = list(dict.fromkeys(identities))[: size // (PER_INDIVIDUAL - 1)]
    chosen = np.isin(identities, first)
    gallery = dataset.subset(chosen & (photo != PER_INDIVIDUAL - 1))
    query_rows = np.flatnonzero(chosen & (photo == PER_INDIVIDUAL - 1))
    query_rows = query_rows[np.linspace(0, len(query_rows) - 1, QUERIES).astype(int)]
    config = LocalConfig()
    started = time.perf_counter()
    engine = LocalEngine.from_dataset(gallery, config, cache)
    added = time.perf_counter()
    query_table = table.iloc[query_rows]
    features = extract_many(
        [dataset.root / p for p in query_table["image"]],
        list(query_table["bbox"]),
        config,
        engine.cache,
    )
    # The first search builds the approximate index (when the gallery is large enough).
    engine.index.search(features[0].features.descriptors[:1], 2)  # type: ignore[union-attr]
    indexed = time.perf_counter()
    correct = 0
    started_queries = time.perf_counter()
    for row, extracted in zip(query_rows, features, strict=True):
        answer = engine.identify_features(str(row), extracted.features)  # type: ignore[arg-type]
        top = answer.candidates[0].identity if answer.candidates else None
        correct += int(top == identities[row])
    elapsed = time.perf_counter() - started_queries
    return {
        "gallery_photos": len(engine),
        "descriptors": engine.index.size,
        "approximate": engine.index.approximate,
        "load_features_s": round(added - started, 1),
        "index_build_s": round(indexed - added, 1),
        "ms_per_query": round(1000 * elapsed / len(query_rows), 1),
        "top1": round(correct / len(query_rows), 3),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-scaling"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cache = args.work / "cache"
    if args.one is not None:
        print(json.dumps(run_size(args.work / "data", cache, args.one)))
        return
    individuals = max(args.sizes) // (PER_INDIVIDUAL - 1)
    data = prepare(args.work, individuals, args.workers)
    # Extract every photo once (2 threads), so the sizes below measure search, not extraction.
    from photoid.data import load_dataset
    from photoid.local.cache import FeatureCache
    from photoid.local.config import LocalConfig
    from photoid.local.extraction import extract_many

    config = LocalConfig()
    dataset = load_dataset(data)
    started = time.perf_counter()
    extract_many(
        [dataset.root / p for p in dataset.table["image"]],
        list(dataset.table["bbox"]),
        config,
        FeatureCache(cache, config.fingerprint()),
        workers=args.workers,
    )
    seconds = time.perf_counter() - started
    print(
        f"features of {len(dataset)} photos: {seconds:.0f} s "
        f"({len(dataset) / seconds:.1f} photos/s, cached ones are skipped)",
        flush=True,
    )
    rows = []
    for size in args.sizes:
        out = (
            subprocess.run(
                [sys.executable, __file__, "--work", str(args.work), "--one", str(size)],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        result = json.loads(out)
        print(json.dumps(result), flush=True)
        rows.append(
            f"| {result['gallery_photos']:,} | {result['descriptors']:,} | "
            f"{'HNSW/IVF' if result['approximate'] else 'exact'} | {result['index_build_s']} | "
            f"{result['ms_per_query']} | {result['top1']} | {result['peak_rss_gib']} |"
        )
    print(f"Machine: {describe()}. Command: `python {' '.join(sys.argv)}`\n")
    print(
        "| gallery photos | descriptors | index | index build s | ms per query | top-1 "
        "| peak RSS GiB |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
