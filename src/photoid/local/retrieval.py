"""Where the local engine finds each query descriptor's nearest gallery descriptors.

Every photo's features go to the :class:`~photoid.local.store.FeatureStore` on disk. A small
gallery also keeps all its descriptors in one in-memory index (single stage, exact neighbours
over the whole gallery). A large one (``retrieval``: ``two_stage``, or ``auto`` from
``two_stage_above`` photos) keeps only compressed descriptors in memory
(:class:`~photoid.local.first_stage.FirstStage`): each query descriptor's compressed
neighbours vote for their photos, and the ``first_stage_photos`` best voted have their stored
descriptors read from disk (one read per photo's rows, in file order) to re-rank those
neighbours exactly (the second stage); the other neighbours keep their compressed distances,
put on the exact scale. Removed photos stay in the store, never asked again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from photoid.local.config import LocalConfig
from photoid.local.features import Features, get_detector
from photoid.local.first_stage import FirstStage, auto_factory, lists_of
from photoid.local.index import DescriptorIndex
from photoid.local.neighbours import drop_owner
from photoid.local.store import FeatureStore
from photoid.local.voting import best_first, image_votes, lnbnn_weights

Neighbours = tuple[np.ndarray, np.ndarray, np.ndarray]
# A query descriptor's neighbours rarely hold more than a few keypoints of one gallery image.
_DEPTH = 16


class Retrieval:
    """The gallery's features and the indexes over them, by photo row."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        detector = get_detector(config.detector)
        self.binary = detector.binary
        self.dim = detector.dim
        width = detector.dim // 8 if detector.binary else detector.dim
        self.store = FeatureStore(config.detector, width, binary=detector.binary)
        self.single: DescriptorIndex | None = None
        if config.retrieval != "two_stage":
            self.single = self._single_index()
        self.first: FirstStage | None = None
        self.alive = np.zeros(0, bool)

    def _single_index(self) -> DescriptorIndex:
        config = self.config
        return DescriptorIndex(
            self.dim,
            binary=self.binary,
            kind=config.index,
            approximate_above=config.approximate_above,
            ivf_above=config.ivf_above,
            probes=config.ivf_probes,
        )

    def __len__(self) -> int:
        return len(self.store)

    @property
    def two_stage(self) -> bool:
        return self.first is not None

    @property
    def live(self) -> int:
        return int(self.alive.sum())

    def add(self, batch: Sequence[Features]) -> None:
        """Store ``batch`` as the next photos and index them."""
        first_row = len(self.store)
        self.store.append(batch)
        self.alive = np.concatenate([self.alive, np.ones(len(batch), bool)])
        if self.first is not None:
            self.first.add(*self._strongest(batch, first_row))
        elif self.single is not None:
            for offset, features in enumerate(batch):
                self.single.add(features.descriptors, first_row + offset)

    def _strongest(
        self, batch: Sequence[Features], first_row: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first-stage descriptors of ``batch`` (each photo's strongest, stored first),
        their owner rows and keypoint numbers."""
        top = self.config.first_stage_keypoints
        parts = [f.descriptors[:top] for f in batch]
        counts = np.array([len(p) for p in parts], np.int64)
        owners = np.repeat(np.arange(first_row, first_row + len(batch), dtype=np.int64), counts)
        keypoints = np.arange(owners.size, dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts, counts
        )
        width = self.store.descriptors.width
        empty = np.zeros((0, width), np.uint8 if self.binary else np.float32)
        return (np.concatenate(parts) if parts else empty), owners, keypoints

    def remove(self, rows: np.ndarray) -> None:
        """Never ask photos ``rows`` again (their stored features stay on disk)."""
        rows = np.asarray(rows, np.int64)
        self.alive[rows] = False
        if self.first is not None:
            counts = np.minimum(self.store.count[rows], self.config.first_stage_keypoints)
            self.first.remove(rows, counts)

    # -- building ---------------------------------------------------------------------------

    @property
    def due(self) -> bool:
        """Whether the next query first builds an index (the first stage, or the single
        stage's approximate index): :meth:`prepare` builds it now instead."""
        if self._wants_two_stage() or self._outgrown():
            return True
        return self.single is not None and self.single.due

    def _wants_two_stage(self) -> bool:
        if self.first is not None or self.live == 0:
            return False
        if self.config.retrieval == "two_stage":
            return True
        return self.config.retrieval == "auto" and self.live >= self.config.two_stage_above

    def _outgrown(self) -> bool:
        """Whether an ``auto`` first stage trained on a much smaller gallery should be trained
        again: ``auto`` would now choose four times its inverted lists (each list then holds
        four times the descriptors it was sized for, and every probe scans them all)."""
        if self.first is None or self.config.first_stage_index != "auto":
            return False
        wanted = lists_of(auto_factory(self.first.size, binary=self.binary))
        return wanted >= 4 * lists_of(self.first.factory)

    def prepare(self) -> None:
        """Build what :attr:`due` says: switching to two stages frees the single stage; a
        first stage the gallery has outgrown is trained again from the stored features."""
        if self._wants_two_stage() or self._outgrown():
            self._build_first_stage()
            self.single = None
        elif self.single is not None:
            self.single.prepare()

    def _build_first_stage(self) -> None:
        """Train the first stage on a sample of the stored descriptors, then add every live
        photo's strongest descriptors, read back from disk in chunks."""
        store, top = self.store, self.config.first_stage_keypoints
        rows = np.flatnonzero(self.alive)
        counts = np.minimum(store.count[rows], top).astype(np.int64)
        factory = self.config.first_stage_index
        if factory == "auto":
            factory = auto_factory(int(counts.sum()), binary=self.binary)
        lists = lists_of(factory)
        sample = self._sample(rows, counts, FirstStage.sample_size(lists))
        self.first = FirstStage(
            self.dim,
            sample,
            binary=self.binary,
            factory=factory,
            probes=self.config.first_stage_probes,
            knn=self.config.knn,
        )
        for chunk in np.array_split(rows, max(1, rows.size // 2000)):
            descriptors, owners, keypoints = self._strongest(
                [store.features(int(r)) for r in chunk], 0
            )
            self.first.add(descriptors, chunk[owners], keypoints)
        self.first.compact()

    def _sample(self, rows: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
        """About ``size`` first-stage descriptors drawn evenly over ``rows``."""
        rng = np.random.default_rng(0)
        # Photos drawn with a quarter to spare, so that the sample is never short of ``size``.
        share = 1.25 * size / max(1, int(counts.sum()))
        take = rows if share >= 1 else rows[rng.random(rows.size) < share]
        parts = [
            self.store.features(int(r)).descriptors[: self.config.first_stage_keypoints]
            for r in take
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.store.descriptors.width))

    # -- asking -----------------------------------------------------------------------------

    def neighbours(
        self, descriptors: np.ndarray, keep: int, left_out: np.ndarray, allowed: np.ndarray | None
    ) -> Neighbours:
        """The ``keep`` nearest gallery neighbours of each query descriptor: distances
        ``(n, keep)`` (inf where missing) and each one's owner photo and keypoint number (-1).
        The single stage leaves out the photos in ``left_out`` (votes drop the others not
        ``allowed``); two stages leave out every photo not ``allowed``, so ``allowed`` must
        already exclude ``left_out`` (as :meth:`LocalEngine._allowed` does)."""
        if self.due:
            self.prepare()
        if self.first is None:
            assert self.single is not None
            return _single_stage(self.single, descriptors, keep, left_out)
        config = self.config
        photos, keypoints, rough = self.first.search(
            descriptors, config.first_stage_depth, config.first_stage_probes
        )
        if allowed is not None:
            keypoints[(photos >= 0) & ~allowed[np.maximum(photos, 0)]] = -1
        found = keypoints >= 0
        rough[~found] = np.inf
        if self.binary:  # binary codes are stored whole: their distances are exact already
            read = np.zeros_like(found)
        else:
            read = found & self._promising(rough, photos)[np.maximum(photos, 0)]
        return self._exact(descriptors, keep, photos, keypoints, rough, read)

    def _promising(self, rough: np.ndarray, photos: np.ndarray) -> np.ndarray:
        """Bool by photo row: the ``first_stage_photos`` photos best voted for by the
        compressed neighbours (LNBNN over every compressed neighbour, the deepest as the
        normaliser), whose stored descriptors the second stage reads; every photo when the
        setting is 0. ``rough`` comes ascending from faiss, the neighbours left out set to inf:
        the last finite distance of each row is its deepest, as the normaliser needs."""
        limit = self.config.first_stage_photos
        # One neighbour per descriptor has no normaliser to vote with: every photo is read.
        if limit == 0 or limit >= len(self.store) or rough.shape[1] < 2:
            return np.ones(len(self.store), bool)
        owners = np.where(np.isfinite(rough), photos, -1)
        votes = image_votes(lnbnn_weights(rough, rough.shape[1] - 1), owners, len(self.store))
        chosen = np.zeros(len(self.store), bool)
        chosen[best_first(votes, limit)] = True
        return chosen

    def _exact(
        self,
        descriptors: np.ndarray,
        keep: int,
        photos: np.ndarray,
        keypoints: np.ndarray,
        rough: np.ndarray,
        read: np.ndarray,
    ) -> Neighbours:
        """The second stage: the compressed neighbours (``keypoints`` -1: none) re-ranked, the
        ``keep`` nearest. Neighbours in the photos ``read`` (bool ``(n, depth)``) get their
        exact distances from the stored descriptors, one read of those photos' rows in file
        order; the others keep their compressed distance corrected by the compression's
        typical error measured on the ones read (the median difference of squares), so that
        they compete on the same scale."""
        n, depth = photos.shape
        rows = self.store.start[photos[read]] + keypoints[read]
        unique, inverse = np.unique(rows, return_inverse=True)
        stored = self.store.decode(self.store.descriptors.take(unique))
        query = np.repeat(np.arange(n), read.sum(axis=1))
        if self.binary:
            bits = np.unpackbits(np.bitwise_xor(stored[inverse], descriptors[query]), axis=1)
            exact = bits.sum(axis=1).astype(np.float32)
        else:
            difference = stored[inverse] - descriptors[query]
            exact = np.sqrt(np.einsum("ij,ij->i", difference, difference)).astype(np.float32)
        distances = rough.copy()
        unread = np.isfinite(rough) & ~read
        if exact.size and unread.any():
            excess = float(np.median(rough[read] ** 2 - exact**2))
            distances[unread] = np.sqrt(np.maximum(rough[unread] ** 2 - excess, 0.0))
        distances[read] = exact
        order = np.argsort(distances, axis=1, kind="stable")[:, :keep]
        distances = np.take_along_axis(distances, order, axis=1)
        missing = ~np.isfinite(distances)
        owners = np.where(missing, -1, np.take_along_axis(photos, order, axis=1))
        points = np.where(missing, -1, np.take_along_axis(keypoints, order, axis=1))
        if keep > depth:
            pad = ((0, 0), (0, keep - depth))
            distances = np.pad(distances, pad, constant_values=np.inf)
            owners = np.pad(owners, pad, constant_values=-1)
            points = np.pad(points, pad, constant_values=-1)
        return distances, owners, points


def _single_stage(
    index: DescriptorIndex, descriptors: np.ndarray, keep: int, left_out: np.ndarray
) -> Neighbours:
    """The ``keep`` nearest neighbours among the images not in ``left_out``. A left-out image
    may hold many of a descriptor's neighbours (a group of near-duplicates holds most), so the
    rows left short are searched again, deeper, down to ``_DEPTH`` neighbours per left-out
    image; rows still short keep missing neighbours."""
    if left_out.size == 0:
        return index.search(descriptors, keep)
    limit = min(index.size, keep + _DEPTH * left_out.size)
    depth = min(limit, keep + left_out.size)
    rows = np.arange(descriptors.shape[0])
    out = drop_owner(*index.search(descriptors, depth), left_out, keep)
    while True:
        short = rows[(out[1][rows] < 0).any(axis=1)]
        if short.size == 0 or depth >= limit:
            return out
        depth = min(limit, 4 * depth)
        deeper = drop_owner(*index.search(descriptors[short], depth), left_out, keep)
        for mine, theirs in zip(out, deeper, strict=True):
            mine[short] = theirs
        rows = short
