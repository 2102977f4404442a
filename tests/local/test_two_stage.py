"""Two-stage retrieval in the local engine: compressed descriptors in memory shortlist, exact
descriptors from disk re-rank; photos added and removed without a rebuild; saved and loaded
with the engine. Tiny synthetic dataset (6 individuals x 4 photos, 192 px)."""

from __future__ import annotations

import pickle
from pathlib import Path

import faiss
import numpy as np
import pytest

from photoid.data.table import Dataset
from photoid.errors import PhotoidError
from photoid.local import first_stage
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_one
from photoid.local.first_stage import FirstStage, auto_factory, two_level_centroids
from photoid.local.storage import loading_from, saving_into

TWO = LocalConfig(max_side=256, retrieval="two_stage", first_stage_index="IVF8,PQ32x4fs")
ONE = LocalConfig(max_side=256, retrieval="single")


def _split(dataset: Dataset) -> tuple[Dataset, Dataset]:
    photo = dataset.table.groupby("identity").cumcount().to_numpy()
    return dataset.subset(photo < 3), dataset.subset(photo == 3)


def _top(engine: LocalEngine, queries: Dataset) -> list[str | None]:
    answers = engine.identify(
        queries.paths(), bboxes=queries.cells("bbox"), names=list(queries.table["image"])
    )
    return [a.candidates[0].identity if a.candidates else None for a in answers]


def test_auto_factory_follows_the_gallery_size() -> None:
    # 2 sqrt(N) lists as a power of two, at least 39 training vectors per list, at most 65,536.
    assert auto_factory(10_000, binary=False) == "IVF256,PQ32x4fs"  # 2 x 100 -> 256
    assert auto_factory(1_000, binary=False) == "IVF16,PQ32x4fs"  # 1000 / 39 = 25 -> 16
    assert auto_factory(1_000_000, binary=False) == "IVF2048_HNSW32,PQ32x4fs"
    assert auto_factory(10**8, binary=False) == "IVF16384_HNSW32,PQ32x4fs"  # 20,000 -> 2^14
    assert auto_factory(10**10, binary=False) == "IVF65536_HNSW32,PQ32x4fs"  # 200,000 capped
    assert auto_factory(10_000, binary=True) == "BIVF256"


def test_first_stage_finds_a_stored_descriptor_and_forgets_removed_photos() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20 * 50, 128)).astype(np.float32)
    owners = np.repeat(np.arange(20), 50)
    keypoints = np.tile(np.arange(50), 20)
    stage = FirstStage(128, vectors, binary=False, factory="IVF4,PQ32x4fs", probes=4)
    stage.add(vectors, owners, keypoints)
    photos, points, near = stage.search(vectors[[7 * 50 + 3]], 4)
    assert (photos[0, 0], points[0, 0]) == (7, 3)
    # Compressed distances, ascending: the vector's own code is far nearer than any other
    # vector (two random 128-d normal vectors lie about sqrt(2 x 128) = 16 apart; 4-bit codes
    # of 4 dimensions each leave the vector about 6 from its own code).
    assert np.all(np.diff(near[0]) >= 0) and near[0, 0] < 0.6 * near[0, 1]
    assert 10 < near[0, 1] < 22  # Euclidean, not squared (about 16 x 16 = 256)
    stage.remove(np.array([7]), np.array([50]))
    assert stage.size == 19 * 50
    photos, _, _ = stage.search(vectors[7 * 50 : 8 * 50], 4)
    assert 7 not in photos


def test_two_level_centroids_find_every_cluster() -> None:
    # 40 tight clusters 10 apart, 1,000 points each; 160 lists in two levels (13 coarse
    # clusters first): exactly 160 centroids, and every cluster has one within its spread.
    rng = np.random.default_rng(1)
    centres = 10 * rng.standard_normal((40, 16)).astype(np.float32)
    points = np.repeat(centres, 1000, axis=0) + 0.1 * rng.standard_normal((40_000, 16))
    centroids = two_level_centroids(points.astype(np.float32), 160)
    assert centroids.shape == (160, 16)
    nearest = np.linalg.norm(centres[:, None] - centroids[None], axis=2).min(axis=1)
    assert nearest.max() < 0.5  # a point lies 0.1 x sqrt(16) = 0.4 from its centre


def test_two_level_shares_follow_the_cluster_sizes() -> None:
    # 7 lists over clusters of 5, 3 and 2 vectors: 3.5, 2.1 and 1.4 -> 3, 2, 1, and the one
    # left over goes to the largest remainder (0.5).
    assert first_stage._shares(np.array([5, 3, 2]), 7).tolist() == [4, 2, 1]
    assert first_stage._shares(np.array([2, 100]), 50).tolist() == [1, 49]


def test_large_inverted_files_are_trained_in_two_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((40 * 50, 32)).astype(np.float32)
    given = []

    def spy(sample: np.ndarray, lists: int, seed: int = 0) -> np.ndarray:
        given.append(two_level_centroids(sample, lists, seed))
        return given[-1]

    monkeypatch.setattr(first_stage, "TWO_LEVEL_FROM", 32)
    monkeypatch.setattr(first_stage, "two_level_centroids", spy)
    FirstStage(32, vectors, binary=False, factory="IVF16,PQ16x4fs", probes=4)
    assert given == []  # below TWO_LEVEL_FROM: faiss's own k-means
    stage = FirstStage(32, vectors, binary=False, factory="IVF32,PQ16x4fs", probes=32)
    assert len(given) == 1
    quantizer = faiss.extract_index_ivf(stage._index).quantizer
    assert np.array_equal(quantizer.reconstruct_n(0, 32), given[0])  # kept, not retrained
    stage.add(vectors, np.arange(2000) // 50, np.arange(2000) % 50)
    photos, points, _ = stage.search(vectors[[13 * 50 + 7]], 1)
    assert (photos[0, 0], points[0, 0]) == (13, 7)


def test_unread_neighbours_are_put_on_the_exact_scale(dataset: Dataset, cache: Path) -> None:
    # One query descriptor: photo 0's keypoint 0 itself, read (exact distance 0, compressed
    # 3), and photo 1's keypoint 0, not read, compressed 5: the compression's excess of
    # squares is 3^2 - 0^2 = 9, so the unread one lies sqrt(25 - 9) = 4 away. Nothing read:
    # the compressed distances stay.
    gallery, _ = _split(dataset)
    retrieval = LocalEngine.from_dataset(gallery, TWO, cache).retrieval
    query = retrieval.store.features(0).descriptors[:1]
    photos, keypoints = np.array([[0, 1]]), np.array([[0, 0]])
    rough = np.array([[3.0, 5.0]], np.float32)
    for read, expected in (([True, False], [0.0, 4.0]), ([False, False], [3.0, 5.0])):
        near, owners, _ = retrieval._exact(query, 2, photos, keypoints, rough, np.array([read]))
        assert np.allclose(near[0], expected, atol=0.02) and owners[0].tolist() == [0, 1]


def test_unusable_factory_strings_are_refused_clearly() -> None:
    sample = np.random.default_rng(1).standard_normal((100, 128)).astype(np.float32)
    with pytest.raises(PhotoidError, match="not a faiss index factory string"):
        FirstStage(128, sample, binary=False, factory="Nonsense12")
    with pytest.raises(PhotoidError, match="use an inverted file"):
        FirstStage(128, sample, binary=False, factory="HNSW32")
    with pytest.raises(PhotoidError, match="needs 2,496 descriptors"):
        FirstStage(128, sample, binary=False, factory="IVF64,PQ32x4fs")


def test_an_exhaustive_first_stage_gives_the_single_stage_neighbours(
    dataset: Dataset, cache: Path
) -> None:
    # Every list probed, every descriptor kept and returned: the re-ranking from disk then
    # finds the single stage's neighbours, at distances that differ only by the rounding of
    # stored descriptors to 1/510: at most sqrt(128) * 0.5 / 510 = 0.0111 per distance.
    gallery, queries = _split(dataset)
    whole = LocalConfig(
        max_side=256,
        retrieval="two_stage",
        first_stage_index="IVF4,Flat",
        first_stage_probes=4,
        first_stage_keypoints=4096,
        first_stage_depth=5000,
    )
    single = LocalEngine.from_dataset(gallery, ONE, cache)
    staged = LocalEngine.from_dataset(gallery, whole, cache)
    staged.build_index()
    assert staged.retrieval.two_stage and staged.retrieval.single is None
    none = np.zeros(0, np.int64)
    for path, box in zip(queries.paths(), queries.cells("bbox") or [], strict=True):
        query = extract_one(path, box, ONE, None).features
        assert query is not None
        near, owners, points = single.retrieval.neighbours(query.descriptors, 6, none, None)
        near2, owners2, points2 = staged.retrieval.neighbours(query.descriptors, 6, none, None)
        shared = 0
        for row in range(near.shape[0]):
            exact = dict(zip(zip(owners[row], points[row], strict=True), near[row], strict=True))
            found = dict(zip(zip(owners2[row], points2[row], strict=True), near2[row], strict=True))
            for pair in exact.keys() & found.keys():
                assert abs(exact[pair] - found[pair]) <= np.sqrt(128) * 0.5 / 510 + 1e-6
                shared += 1
        assert shared >= 0.9 * owners.size  # rounding only swaps the last near-equal ones
    assert _top(staged, queries) == _top(single, queries)


def test_compressed_first_stage_still_finds_the_individuals(dataset: Dataset, cache: Path) -> None:
    gallery, queries = _split(dataset)
    truth = list(queries.table["identity"])
    one = _top(LocalEngine.from_dataset(gallery, ONE, cache), queries)
    two = _top(LocalEngine.from_dataset(gallery, TWO, cache), queries)
    right = [sum(a == t for a, t in zip(top, truth, strict=True)) for top in (one, two)]
    assert right[0] >= 5 and right[1] >= right[0] - 1


def _photos_read(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets, at each read of stored descriptors, how many photos it reads from."""
    store, counts = engine.retrieval.store, []
    take = store.descriptors.take

    def spy(rows: np.ndarray) -> np.ndarray:
        counts.append(np.unique(np.searchsorted(store.start, rows, side="right") - 1).size)
        return take(rows)

    monkeypatch.setattr(store.descriptors, "take", spy)
    return counts


def test_the_second_stage_reads_only_the_best_voted_photos(
    dataset: Dataset, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # first_stage_photos=2: each query reads the stored descriptors of at most 2 photos (the
    # best voted by compressed distances); 0 reads those of every photo with a neighbour.
    gallery, queries = _split(dataset)
    truth = list(queries.table["identity"])
    right = {}
    for limit in (0, 2):
        config = TWO.with_overrides(first_stage_photos=limit)
        engine = LocalEngine.from_dataset(gallery, config, cache)
        read = _photos_read(engine, monkeypatch)
        answers = _top(engine, queries)
        right[limit] = sum(a == t for a, t in zip(answers, truth, strict=True))
        if limit:
            assert read and max(read) == 2
        else:
            assert min(read) > 2  # every photo with a compressed neighbour: most of the 18
    assert right[0] >= 5 and right[2] >= right[0] - 1


def test_auto_switches_to_two_stages_at_its_threshold_and_keeps_adding(
    dataset: Dataset, cache: Path
) -> None:
    gallery, queries = _split(dataset)
    config = LocalConfig(max_side=256, two_stage_above=12, first_stage_index="IVF4,PQ32x4fs")
    first = gallery.subset(np.arange(len(gallery)) < 11)
    engine = LocalEngine.from_dataset(first, config, cache)
    assert not engine.retrieval.due  # 11 photos: one short of two stages
    rest = gallery.subset(np.arange(len(gallery)) >= 11)
    engine.add(rest.paths(), list(rest.table["identity"]), bboxes=rest.cells("bbox"))
    assert engine.retrieval.due
    engine.build_index()
    assert engine.retrieval.two_stage and engine.retrieval.single is None
    indexed = engine.retrieval.first.size  # type: ignore[union-attr]
    engine.add(queries.paths()[:1], list(queries.table["identity"])[:1], bboxes=[None])
    stored = int(engine.retrieval.store.count[-1])
    strongest = min(stored, config.first_stage_keypoints)
    assert engine.retrieval.first.size == indexed + strongest  # type: ignore[union-attr]


def test_removed_photos_are_never_answered(dataset: Dataset, cache: Path) -> None:
    gallery, queries = _split(dataset)
    for config in (ONE, TWO):
        engine = LocalEngine.from_dataset(gallery, config, cache)
        target = str(queries.table["identity"].iloc[0])
        names = [n for n, i in zip(engine.images, engine.identities, strict=True) if i == target]
        assert engine.remove([*names, "not-in-the-gallery.jpg"]) == 3
        answer = engine.identify(queries.paths()[:1], bboxes=queries.cells("bbox")[:1])[0]
        assert answer.candidates and target not in {c.identity for c in answer.candidates}
        assert engine.remove(names) == 0  # already gone
        engine.remove(list(engine.images))
        empty = engine.identify(queries.paths()[:1])[0]
        assert empty.warning == "the gallery is empty"


def test_a_saved_two_stage_engine_answers_the_same_after_loading(
    dataset: Dataset, cache: Path, tmp_path: Path
) -> None:
    gallery, queries = _split(dataset)
    engine = LocalEngine.from_dataset(gallery, TWO, cache)
    before = _top(engine, queries)
    with saving_into(tmp_path / "engine"):
        state = pickle.dumps(engine)
    assert (tmp_path / "engine" / "stores").is_dir()
    with loading_from(tmp_path / "engine"):
        loaded = pickle.loads(state)
    assert _top(loaded, queries) == before
    added = loaded.add(queries.paths()[:2], list(queries.table["identity"])[:2])
    assert added == 2 and len(loaded) == len(gallery) + 2


def test_an_outgrown_first_stage_is_trained_again_with_more_lists() -> None:
    from photoid.local.features import Features
    from photoid.local.retrieval import Retrieval

    rng = np.random.default_rng(2)

    def photos(count: int) -> list[Features]:
        return [
            Features(
                rng.uniform(0, 256, (100, 2)).astype(np.float32),
                rng.uniform(0, 0.4, (100, 128)).astype(np.float32),
                1.0,
                (0.0, 0.0),
            )
            for _ in range(count)
        ]

    retrieval = Retrieval(LocalConfig(retrieval="two_stage"))
    retrieval.add(photos(30))  # 3,000 descriptors: auto trains 64 lists (3,000 / 39 -> 64)
    retrieval.prepare()
    assert retrieval.first is not None and retrieval.first.factory == "IVF64,PQ32x4fs"
    retrieval.add(photos(400))  # 43,000: auto would now take 512 lists, 8 times as many
    assert retrieval.due
    retrieval.prepare()
    assert retrieval.first.factory == "IVF512,PQ32x4fs" and retrieval.first.size == 43_000
    assert not retrieval.due
