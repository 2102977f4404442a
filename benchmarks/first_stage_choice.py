"""Which first stage keeps the right individual in the shortlist: one VLAD vector per photo, or
the compressed descriptors the local engine's first stage votes with.

    .venv/bin/python benchmarks/first_stage_choice.py --work DIR [--photos 2500] [--queries 500]

Photos from benchmarks/_scaling_data.py (gallery: photos 0-4 of the first photos/5
individuals; queries: photo 5 of evenly spaced ones). For each method, the share of queries whose
individual has a photo among the K best-ranked gallery photos (recall@K):

- VLAD: 64 RootSIFT codewords (k-means on up to 100,000 gallery descriptors), signed square
  root, intra-normalised, PCA-whitened to 256 dimensions, exact cosine search (benchmarks/_vlad.py).
- votes: the local engine's first stage (photoid.local.first_stage) with the engine's default
  settings: each photo's strongest descriptors (``first_stage_keypoints``) in
  ``IVF<auto>,PQ32x4fs``; each query descriptor's ``first_stage_depth`` compressed neighbours
  are re-ranked by exact distance and the 5 nearest vote (LNBNN), as in the engine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _machine import describe
from _scaling_data import PER_INDIVIDUAL, SHARD, load_photos, ready_shards
from _vlad import fit_projection, train_codebook, vlad

KS = (10, 50, 100, 200)


def _recall(order: np.ndarray, gallery: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = [(gallery[row[:k]] == t).any() for row, t in zip(order, truth, strict=True)]
    return float(np.mean(hits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/photoid-scaling"))
    parser.add_argument("--photos", type=int, default=2500)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    from photoid.local.cache import FeatureCache
    from photoid.local.config import LocalConfig
    from photoid.local.extraction import extract_many
    from photoid.local.first_stage import FirstStage, auto_factory, lists_of
    from photoid.local.voting import image_votes, lnbnn_weights

    individuals = args.photos // (PER_INDIVIDUAL - 1)
    shards = -(-individuals // SHARD)
    if ready_shards(args.work) < shards:
        raise SystemExit(f"need {shards} shards under {args.work}: run _scaling_data.py first")
    photos = load_photos(args.work, shards)
    config = LocalConfig()
    extracted = extract_many(
        photos.paths,
        photos.bboxes,
        config,
        FeatureCache(args.work / "cache", config.fingerprint()),
    )
    descriptors = [e.features.descriptors for e in extracted]  # type: ignore[union-attr]
    identity = np.asarray(photos.identities)
    number = np.asarray(photos.numbers)
    member = np.isin(identity, list(dict.fromkeys(photos.identities))[:individuals])
    gallery = np.flatnonzero(member & (number < PER_INDIVIDUAL - 1))
    asked = np.flatnonzero(member & (number == PER_INDIVIDUAL - 1))
    asked = asked[np.linspace(0, asked.size - 1, min(args.queries, asked.size)).astype(int)]
    truth, owners_of = identity[asked], identity[gallery]

    started = time.perf_counter()
    stacked = np.concatenate([descriptors[i] for i in gallery])
    sample = stacked[np.random.default_rng(0).permutation(len(stacked))[:100_000]]
    codebook = train_codebook(sample, 64)

    def encode(rows: np.ndarray) -> np.ndarray:
        parts = [descriptors[i] for i in rows]
        owners = np.repeat(np.arange(len(rows)), [len(p) for p in parts])
        return vlad(np.concatenate(parts), owners, len(rows), codebook)

    vectors = encode(gallery)
    projection = fit_projection(vectors[:5000], 256)
    similarity = projection.apply(encode(asked)) @ projection.apply(vectors).T
    vlad_order = np.argsort(-similarity, axis=1)
    vlad_seconds = time.perf_counter() - started

    started = time.perf_counter()
    top = [descriptors[i][: config.first_stage_keypoints] for i in gallery]
    owners = np.repeat(np.arange(len(gallery)), [len(t) for t in top])
    keypoints = np.concatenate([np.arange(len(t)) for t in top])
    strongest = np.concatenate(top)
    starts = np.concatenate([[0], np.cumsum([len(t) for t in top])[:-1]])

    def strongest_of(photo: np.ndarray, point: np.ndarray) -> np.ndarray:
        return np.asarray(strongest[starts[photo] + point])

    factory = auto_factory(len(strongest), binary=False)
    sample = strongest[:: max(1, len(strongest) // FirstStage.sample_size(lists_of(factory)))]
    stage = FirstStage(128, sample, binary=False, factory=factory, probes=config.first_stage_probes)
    stage.add(strongest, owners, keypoints)
    vote_order = []
    for row in asked:
        query = descriptors[row]
        photo, point, _ = stage.search(query, config.first_stage_depth)
        # As the engine did when this was measured: every compressed neighbour re-ranked by
        # its exact distance (the engine now reads only its best-voted photos').
        found = photo >= 0
        distances = np.full(photo.shape, np.inf, np.float32)
        rows, cols = np.nonzero(found)
        neighbours = strongest_of(photo[rows, cols], point[rows, cols])
        distances[rows, cols] = np.linalg.norm(neighbours - query[rows], axis=1)
        order = np.argsort(distances, axis=1, kind="stable")[:, :6]
        near = np.take_along_axis(distances, order, axis=1)
        owner = np.where(np.isfinite(near), np.take_along_axis(photo, order, axis=1), -1)
        votes = image_votes(lnbnn_weights(near, 5), owner, len(gallery))
        vote_order.append(np.argsort(-votes, kind="stable"))
    votes_seconds = time.perf_counter() - started

    print(f"Machine: {describe()}. Command: `python {' '.join(sys.argv)}`\n")
    print(f"{len(gallery):,} gallery photos, {len(asked)} queries\n")
    print("| first stage | " + " | ".join(f"recall@{k}" for k in KS) + " | seconds |")
    print("|---|" + "---|" * (len(KS) + 1))
    for name, order, seconds in (
        ("VLAD 64 x 128 -> PCA-whitened 256, exact", vlad_order, vlad_seconds),
        (
            f"compressed votes ({factory}, {config.first_stage_keypoints} per photo)",
            np.array(vote_order),
            votes_seconds,
        ),
    ):
        cells = " | ".join(f"{_recall(order, owners_of, truth, k):.3f}" for k in KS)
        print(f"| {name} | {cells} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
