"""How the local engine grows with its gallery: 1,000 to 100,000 synthetic photos at 512 px.

    .venv/bin/python benchmarks/_scaling_data.py --work DIR            # once, in the background
    .venv/bin/python benchmarks/local_scaling.py --work DIR [--sizes 1000 10000 100000]
        [--retrieval single two_stage] [--queries 200] [--add 1000]

The photos come from benchmarks/_scaling_data.py (shards of 500 individuals x 6 photos; photos
0-4 of an individual go into the gallery, photo 5 is its query; a gallery of N photos is the
first N/5 individuals). Features are cached once, so each size measures the index, not SIFT.

Each size and retrieval mode runs in two fresh processes. The first builds the engine (photos
added from the feature cache, then the index) and saves it; the second loads it and measures:
resident memory (anonymous RSS, so the memory-mapped features on disk do not count) per photo
beyond a process that has imported the engine, disk per photo, ms per query, top-1, and the
shortlist recall (the share of queries whose individual has a photo among the ``shortlist``
photos verified geometrically; for two stages also among the queries the single stage answers
right at the same size, when it ran, or at the largest single-stage size, on that size's
queries, for galleries too large for the single stage); then it adds the photos of the next
``--add / 5`` individuals and times it.
The last line extrapolates two stages to 1,000,000 photos along the line through the two largest
sizes (memory and disk totals, ms per query and build times). The stored features are dropped
from the page cache before the queries (cold reads, as a store larger than memory would be);
the queries are then timed again with the whole store read into the page cache first (warm: a
service whose store fits in memory). ``--set KEY=VALUE`` changes a local-engine setting (the
engine folder is then named after it; query-time settings apply to a reused engine too).
Run ``single`` before ``two_stage`` (the default order) for the shortlist recall where the
single stage is right.
The add time includes extracting the new photos' features (2 threads), as a user's would.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _machine import describe
from _scaling_data import PER_INDIVIDUAL, SHARD, load_photos, ready_shards

GALLERY_PHOTOS = PER_INDIVIDUAL - 1


def _anon_kib() -> int:
    """Anonymous resident memory, after the allocator hands back what it keeps freed (the
    pickle's bytes, read whole and freed after loading, would otherwise count)."""
    import ctypes
    import ctypes.util

    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc:
        ctypes.CDLL(libc).malloc_trim(0)
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def _selection(work: Path, size: int, add: int, queries: int, photos: Any = None) -> dict[str, Any]:
    """The gallery, added and query rows of ``size`` photos, indexing ``photos`` (the shards
    it needs, loaded here when not given; a larger size's photos start with the same ones)."""
    individuals = size // GALLERY_PHOTOS
    extra = add // GALLERY_PHOTOS
    shards = -(-(individuals + extra) // SHARD)
    if photos is None:
        if ready_shards(work) < shards:
            raise SystemExit(
                f"{size:,} photos (+{add}) need {shards} shards; {ready_shards(work)} are "
                f"ready: run benchmarks/_scaling_data.py --work {work} first"
            )
        photos = load_photos(work, shards)
    identity = np.asarray(photos.identities)
    number = np.asarray(photos.numbers)
    order = list(dict.fromkeys(photos.identities))
    member = np.isin(identity, order[:individuals])
    newcomer = np.isin(identity, order[individuals : individuals + extra])
    asked = np.flatnonzero(member & (number == GALLERY_PHOTOS))
    asked = asked[np.linspace(0, asked.size - 1, min(queries, asked.size)).astype(int)]
    return {
        "photos": photos,
        "gallery": np.flatnonzero(member & (number < GALLERY_PHOTOS)),
        "added": np.flatnonzero(newcomer & (number < GALLERY_PHOTOS)),
        "queries": asked,
    }


def _add(engine: Any, photos: Any, rows: np.ndarray) -> int:
    return int(
        engine.add(
            [photos.paths[i] for i in rows],
            [photos.identities[i] for i in rows],
            bboxes=[photos.bboxes[i] for i in rows],
            names=[str(photos.paths[i]) for i in rows],
        )
    )


def _config(args: argparse.Namespace, retrieval: str) -> Any:
    from photoid.local.config import LocalConfig, parse_overrides

    config = LocalConfig(retrieval=retrieval)  # type: ignore[arg-type]
    return config.with_overrides(**parse_overrides(args.set, config))


def _folder(work: Path, size: int, retrieval: str, args: argparse.Namespace) -> Path:
    tag = "".join(f"-{pair}" for pair in args.set)
    return work / "engines" / f"{retrieval}-{size}{tag}"


def build(work: Path, size: int, retrieval: str, args: argparse.Namespace) -> dict[str, Any]:
    from photoid.local.engine import LocalEngine
    from photoid.local.storage import saving_into

    chosen = _selection(work, size, args.add, args.queries)
    engine = LocalEngine(_config(args, retrieval), work / "cache")
    started = time.perf_counter()
    _add(engine, chosen["photos"], chosen["gallery"])
    added = time.perf_counter()
    engine.build_index()
    finished = time.perf_counter()
    folder = _folder(work, size, retrieval, args)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    import pickle

    with saving_into(folder):
        (folder / "engine.pkl").write_bytes(pickle.dumps(engine, pickle.HIGHEST_PROTOCOL))
    built: dict[str, Any] = {
        "photos": len(engine),
        "two_stage": engine.retrieval.two_stage,
        "load_features_s": round(added - started, 1),
        "index_build_s": round(finished - added, 1),
        "build_peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    (folder / "build.json").write_text(json.dumps(built))
    return built


def _extract(engine: Any, photos: Any, rows: np.ndarray) -> list[Any]:
    """The features of photos ``rows`` (from the engine's feature cache)."""
    from photoid.local.extraction import extract_many

    paths, boxes = [photos.paths[i] for i in rows], [photos.bboxes[i] for i in rows]
    return [e.features for e in extract_many(paths, boxes, engine.config, engine.cache)]


def _ask(
    engine: Any, photos: Any, rows: np.ndarray, features: list[Any]
) -> tuple[list[bool], list[bool], float]:
    """Each query's top-1 right, its individual in the shortlist, and the seconds spent."""
    right, found, seconds = [], [], 0.0
    for row, query in zip(rows, features, strict=True):
        truth = photos.identities[row]
        started = time.perf_counter()
        scores, matches, allowed = engine.score_images(query)
        ranked = engine.rank(scores, matches, allowed)
        seconds += time.perf_counter() - started
        right.append(bool(ranked) and ranked[0].identity == truth)
        found.append(any(engine.identities[m] == truth for m in matches))
    return right, found, seconds


def _page_cache(files: list[Path], keep: bool) -> None:
    """Read ``files`` into the page cache (``keep``), or drop them from it."""
    import os

    for file in files:
        with file.open("rb") as handle:
            if keep:
                while handle.read(1 << 24):
                    pass
            else:
                os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def measure(work: Path, size: int, retrieval: str, args: argparse.Namespace) -> dict[str, Any]:
    import pickle

    import photoid.local.engine  # noqa: F401 - imported before the baseline, not counted
    from photoid.local.storage import loading_from

    chosen = _selection(work, size, args.add, args.queries)
    photos, asked = chosen["photos"], chosen["queries"]
    folder = _folder(work, size, retrieval, args)
    before = _anon_kib()
    with loading_from(folder):
        engine = pickle.loads((folder / "engine.pkl").read_bytes())
    resident = _anon_kib() - before
    engine.config = engine.retrieval.config = _config(args, retrieval)  # query-time settings
    retr = engine.retrieval
    disk = retr.store.disk_bytes + sum(f.stat().st_size for f in folder.glob("*.pkl"))
    stored = sorted(retr.store.folder.path.glob("*.bin"))
    features = _extract(engine, photos, asked)
    _page_cache(stored, keep=False)  # cold, as a store larger than memory would be
    right, found, seconds = _ask(engine, photos, asked, features)
    _page_cache(stored, keep=True)  # warm: the whole store in the page cache
    _, _, warm = _ask(engine, photos, asked, features)
    result = {
        "resident_bytes_per_photo": round(resident * 1024 / size),
        "disk_bytes_per_photo": round(disk / size),
        "ms_per_query": round(1000 * seconds / len(asked), 1),
        "warm_ms_per_query": round(1000 * warm / len(asked), 1),
        "top1": round(float(np.mean(right)), 3),
        "shortlist_recall": round(float(np.mean(found)), 3),
        "right": right,
        "found": found,
        "queries": len(asked),
    }
    if size > args.single_up_to and retr.two_stage:
        # The largest single stage's queries (their individuals are in this gallery too).
        small = _selection(work, args.single_up_to, args.add, args.queries, photos)["queries"]
        result["found_small"] = _ask(engine, photos, small, _extract(engine, photos, small))[1]
    engine.cache = None  # new photos: their features are extracted, as a user's would be
    started = time.perf_counter()
    added = _add(engine, photos, chosen["added"])
    add_seconds = time.perf_counter() - started
    result["added_photos"] = added
    result["add_ms_per_photo"] = round(1000 * add_seconds / max(added, 1), 1)
    return result


def _child(mode: str, size: int, retrieval: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--work",
        str(args.work),
        "--queries",
        str(args.queries),
        "--add",
        str(args.add),
        "--single-up-to",
        str(args.single_up_to),
        *[f"--set={pair}" for pair in args.set],
        f"--{mode}",
        f"{retrieval}:{size}",
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--retrieval", nargs="+", default=["single", "two_stage"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-scaling"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--add", type=int, default=1000)
    parser.add_argument("--single-up-to", type=int, default=10000, help="largest single stage")
    parser.add_argument(
        "--reuse", nargs="*", default=[], help="retrieval modes whose saved engines are reused"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a local-engine setting"
    )
    parser.add_argument(
        "--measured",
        nargs="*",
        default=[],
        help="retrieval modes whose saved measurements (measure.json) are reused",
    )
    parser.add_argument("--build", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for mode in ("build", "measure"):
        if getattr(args, mode):
            retrieval, size = getattr(args, mode).split(":")
            run = build if mode == "build" else measure
            print(json.dumps(run(args.work, int(size), retrieval, args)))
            return
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        for retrieval in args.retrieval:
            if retrieval == "single" and size > args.single_up_to:
                continue
            result = {"size": size, "retrieval": retrieval}
            built = _folder(args.work, size, retrieval, args) / "build.json"
            if retrieval in args.reuse and built.is_file():
                result |= json.loads(built.read_text())
            else:
                result |= _child("build", size, retrieval, args)
            measured = _folder(args.work, size, retrieval, args) / "measure.json"
            if retrieval in args.measured and measured.is_file():
                result |= json.loads(measured.read_text())
            else:
                result |= _child("measure", size, retrieval, args)
                measured.write_text(json.dumps(result))
            _where_single_right(result, rows, args.single_up_to)
            shown = {k: v for k, v in result.items() if k not in ("right", "found", "found_small")}
            print(json.dumps(shown), flush=True)
            rows.append(result)
    print(f"\nMachine: {describe()}. Command: `python {' '.join(sys.argv)}`\n")
    print(
        "| photos | retrieval | build s (features + index) | build peak RSS GiB | resident "
        "B/photo | disk B/photo | ms/query cold / warm | top-1 | shortlist recall (where single "
        "is right) | add ms/photo |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        recall = str(r["shortlist_recall"])
        if "recall_where_single_right" in r:
            at = "" if r["single_right_at"] == r["size"] else f" at {r['single_right_at']:,}"
            recall += f" ({r['recall_where_single_right']}{at})"
        print(
            f"| {r['size']:,} | {r['retrieval']} | {r['load_features_s']} + "
            f"{r['index_build_s']} | {r['build_peak_rss_gib']} | "
            f"{r['resident_bytes_per_photo']:,} | {r['disk_bytes_per_photo']:,} | "
            f"{r['ms_per_query']} / {r['warm_ms_per_query']} | {r['top1']} | {recall} | "
            f"{r['add_ms_per_photo']} |"
        )
    staged = sorted((r for r in rows if r["two_stage"]), key=lambda r: r["size"])
    if len(staged) >= 2:
        print(_million(staged[-2], staged[-1]))


def _where_single_right(result: dict[str, Any], rows: list[dict[str, Any]], largest: int) -> None:
    """Add the shortlist recall of a two-stage ``result`` among the queries the single stage
    answers right: at the same size, or at the ``largest`` single-stage size on its queries."""
    if not result["two_stage"]:
        return
    size, found = result["size"], result["found"]
    if "found_small" in result:
        size, found = largest, result["found_small"]
    single = next((r for r in rows if r["size"] == size and not r["two_stage"]), None)
    if single is not None:
        kept = [f for f, r in zip(found, single["right"], strict=True) if r]
        if kept:
            result["recall_where_single_right"] = round(float(np.mean(kept)), 3)
            result["single_right_at"] = size


def _million(small: dict[str, Any], large: dict[str, Any]) -> str:
    """Two stages at 1,000,000 photos, each total on the straight line through the two largest
    sizes (memory and disk in bytes, not per photo, so fixed costs stay fixed). The query time
    also on a line in sqrt(N): ``auto``'s inverted lists grow with sqrt(N), so each probe scans
    lists that grow with sqrt(N) too; the straight line is the pessimistic bound."""
    million = 1_000_000

    def line(key: str, per_photo: bool = False, scale: Any = float) -> float:
        a, b = (r[key] * (r["size"] if per_photo else 1) for r in (small, large))
        x0, x1, x = scale(small["size"]), scale(large["size"]), scale(million)
        return float(b + (b - a) / (x1 - x0) * (x - x1))

    resident = line("resident_bytes_per_photo", True) / 2**30
    disk = line("disk_bytes_per_photo", True) / 2**30
    return (
        f"\n1,000,000 photos, extrapolated from {small['size']:,} and {large['size']:,}: "
        f"{resident:.1f} GiB resident beyond the imported libraries, {disk:.0f} GiB on disk, "
        f"{line('ms_per_query', scale=math.sqrt):.0f} ms per query cold on a line in sqrt(N) "
        f"({line('ms_per_query'):.0f} on a straight line; warm "
        f"{line('warm_ms_per_query', scale=math.sqrt):.0f} / "
        f"{line('warm_ms_per_query'):.0f}); adding the photos "
        f"{line('load_features_s') / 60:.0f} min, then the index build "
        f"{line('index_build_s') / 60:.0f} min."
    )


if __name__ == "__main__":
    main()
