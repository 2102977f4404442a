"""The identification gallery of a catalog: every image attached to an individual, indexed by
an engine (the local-feature engine by default, the deep one given a checkpoint).

Each catalog image enters the engine as its own identity (its image id), and the gallery keeps
the map image id -> individual code beside it. A decision, merge, split or undo only changes
that map, so :meth:`CatalogGallery.sync` never re-indexes: it adds the images attached since
the last sync (``engine.add``, incremental) and relabels or drops the others. Images dropped
(detached from every individual) stay in the engine's index but are never proposed; only the
memory they hold is wasted until the gallery is built anew. Per-individual scores are
aggregated here from the engine's per-image scores (sum of the ``take`` best images: 1 is
``max``, 2 the local engine's ``top2``). :meth:`CatalogGallery.leave_one_out` ranks gallery
images against the rest of the gallery, as uploads are ranked (for calibration).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from photoid.catalog.db import Catalog
from photoid.catalog.models import Image, Individual
from photoid.errors import PhotoidError
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.extraction import extract_many
from photoid.local.features import Features
from photoid.local.results import Candidate, Identification, Match

Box = tuple[float, float, float, float]
WIDE = 200
_CHUNK = 500  # image ids per IN (...) query, well below SQLite's limit on bound parameters
_TAKE = {"max": 1, "top2": 2, "top3": 3}
_NO_POINTS = np.zeros((0, 2), np.float32)


class Engine(Protocol):
    """What the gallery needs of an engine (:class:`LocalEngine` and ``DeepEngine`` fit)."""

    def __len__(self) -> int: ...

    def add(
        self,
        paths: Sequence[Path],
        identities: Sequence[str],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
    ) -> int: ...

    def identify(
        self,
        paths: Sequence[Path],
        *,
        bboxes: Sequence[Box | None] | None = None,
        names: Sequence[str] | None = None,
    ) -> list[Identification]: ...


@runtime_checkable
class RanksItself(Protocol):
    """An engine ranking each gallery photo against the rest (the deep engine): ``k`` best
    identity names per photo (in the order added) and their ``(N, k)`` scores."""

    @property
    def identities(self) -> list[str]: ...

    def leave_one_out(self, k: int = 5) -> tuple[list[list[str]], np.ndarray]: ...


@dataclass(frozen=True)
class Ranked:
    """One candidate individual for a query image: its code, its raw engine score, its best
    matching gallery image id and the matched keypoint pairs ``[[qx, qy, gx, gy], ...]`` in
    pixels of the query and of that image (None when the engine gives no keypoints)."""

    code: str
    score: float
    best_image_id: int
    keypoints: list[list[float]] | None


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed: images added to the engine, relabelled, and dropped."""

    added: int
    relabelled: int
    dropped: int


class CatalogGallery:
    """An engine over the catalog's attached images; thread-safe (one lock around it all).

    ``name`` is the engine name stored with candidates; ``take`` the number of best images
    summed per individual; ``keypoints`` whether the engine gives matched keypoints.
    """

    def __init__(
        self, engine: Engine, name: str, *, take: int = 1, keypoints: bool = False
    ) -> None:
        self.engine = engine
        self.name = name
        self.take = take
        self.keypoints = keypoints
        self._owners: dict[int, str] = {}
        self._indexed: set[int] = set()
        self._lock = threading.RLock()

    @classmethod
    def local(
        cls, config: LocalConfig | None = None, cache_dir: Path | None = None, wide: int = WIDE
    ) -> CatalogGallery:
        """An empty gallery on the local-feature engine; the engine ranks ``wide`` images per
        query so that individuals survive metadata filters."""
        settings = (config or LocalConfig()).with_overrides(top=wide)
        engine = LocalEngine(settings, cache_dir)
        return cls(engine, "local", take=_TAKE[settings.aggregate], keypoints=True)

    @classmethod
    def deep(cls, checkpoint: Path, wide: int = WIDE) -> CatalogGallery:
        """An empty gallery on the deep engine with the embedder of a training ``checkpoint``."""
        from photoid.deep.embed import load_embedder
        from photoid.deep.engine import DeepEngine

        embedder, config = load_embedder(checkpoint)
        engine = DeepEngine(embedder, config.image_size, use_bbox=config.use_bbox, top=wide)
        return cls(engine, "deep")

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        checkpoint: Path | None = None,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
    ) -> CatalogGallery:
        """The gallery of ``catalog`` (deep engine when ``checkpoint`` is given, else local),
        filled with every attached image."""
        gallery = cls.deep(checkpoint) if checkpoint is not None else cls.local(config, cache_dir)
        gallery.sync(catalog)
        return gallery

    def __len__(self) -> int:
        """Images currently proposed (attached to an individual and indexed)."""
        with self._lock:
            return len(self._owners)

    def members(self) -> dict[int, str]:
        """Image id -> individual code of every image currently proposed (a copy)."""
        with self._lock:
            return dict(self._owners)

    def owner(self, image_id: int) -> str | None:
        """Code of the individual that gallery image ``image_id`` shows (None: not in it)."""
        with self._lock:
            return self._owners.get(image_id)

    def sync(self, catalog: Catalog) -> SyncReport:
        """Catch up with the catalog: index the images attached since the last sync, relabel
        those whose individual changed, drop those detached. Call it after decisions (the
        matching worker also calls it before every job); nothing already indexed is redone."""
        owners = select(Image.id, Individual.code).join(
            Individual, Image.individual_id == Individual.id
        )
        with self._lock:
            with catalog.session() as session:
                current: dict[int, str] = {i: code for i, code in session.execute(owners)}
                wanted = sorted(set(current) - self._indexed)
                fresh = _images(session, wanted)
            if fresh:
                self.engine.add(
                    [catalog.store.path(image.file) for image in fresh],
                    [str(image.id) for image in fresh],
                    bboxes=[image.bbox for image in fresh],
                    names=[str(image.id) for image in fresh],
                )
                self._indexed.update(image.id for image in fresh)
            old = self._owners
            relabelled = sum(1 for i, code in old.items() if i in current and current[i] != code)
            dropped = sum(1 for i in old if i not in current)
            self._owners = {i: code for i, code in current.items() if i in self._indexed}
            return SyncReport(len(fresh), relabelled, dropped)

    def rank(
        self,
        catalog: Catalog,
        images: Sequence[Image],
        top: int = 5,
        allowed: Collection[str] | None = None,
        exclude: Collection[int] = (),
    ) -> list[list[Ranked]]:
        """The ``top`` best individuals for each query image, best first.

        ``allowed``: only these individual codes (None: all); ``exclude``: gallery image ids
        never used as evidence (e.g. the query's own encounter).
        """
        with self._lock:
            answers = self.engine.identify(
                [catalog.store.path(image.file) for image in images],
                bboxes=[image.bbox for image in images],
                names=[str(image.id) for image in images],
            )
            owners = dict(self._owners)
        return [self._individuals(a.candidates, owners, top, allowed, exclude) for a in answers]

    def leave_one_out(
        self, catalog: Catalog, image_ids: Sequence[int], top: int = 5
    ) -> dict[int, list[Ranked]]:
        """The ``top`` best individuals for gallery images ``image_ids``, each ranked against
        the rest of the gallery as an upload would be: itself left out of the engine and the
        images of its own encounter never used as evidence. Images the engine does not hold
        (unreadable) are left out of the answer. Local engine: query features are extracted
        again (from the feature cache when there is one); deep engine: stored embeddings.
        PhotoidError for an engine that can do neither."""
        with catalog.session() as session:
            encounter = {i: e for i, e in session.execute(select(Image.id, Image.encounter_id))}
            images = _images(session, sorted(set(image_ids)))
        together: dict[int, set[int]] = {}
        for i, e in encounter.items():
            together.setdefault(e, set()).add(i)
        images = [image for image in images if self.owner(image.id) is not None]
        engine = self.engine
        features: list[Features | None] = []
        if isinstance(engine, LocalEngine):  # extracted outside the lock: syncs may go on
            paths = [catalog.store.path(image.file) for image in images]
            bboxes = [image.bbox for image in images]
            extracted = extract_many(paths, bboxes, engine.config, engine.cache)
            features = [result.features for result in extracted]
        with self._lock:
            owners = dict(self._owners)
            hits = self._left_out_hits([image.id for image in images], features)
        return {
            i: self._individuals(found, owners, top, None, together[encounter[i]])
            for i, found in hits.items()
        }

    def _left_out_hits(
        self, image_ids: list[int], features: list[Features | None]
    ) -> dict[int, list[Candidate]]:
        """Per-image hits of gallery images against the engine with each left out; ``features``
        of each image for the local engine (None: it has none)."""
        engine = self.engine
        out: dict[int, list[Candidate]] = {}
        if isinstance(engine, LocalEngine):
            rows = {name: row for row, name in enumerate(engine.images)}
            for image_id, found in zip(image_ids, features, strict=True):
                row = rows.get(str(image_id))
                if found is not None and row is not None:
                    answer = engine.identify_features(str(image_id), found, exclude=row)
                    out[image_id] = answer.candidates
            return out
        if not isinstance(engine, RanksItself):
            raise PhotoidError(
                f"the {self.name} engine cannot rank its gallery against itself (local and deep "
                "engines can)"
            )
        ranked, scores = engine.leave_one_out(WIDE)
        rows = {name: row for row, name in enumerate(engine.identities)}
        for image_id in image_ids:
            row = rows.get(str(image_id))
            if row is not None:
                pairs = zip(ranked[row], scores[row].tolist(), strict=False)
                out[image_id] = [_hit(name, score) for name, score in pairs]
        return out

    def _individuals(
        self,
        hits: list[Candidate],
        owners: dict[int, str],
        top: int,
        allowed: Collection[str] | None,
        exclude: Collection[int],
    ) -> list[Ranked]:
        """Per-image hits (best first) -> individuals scored by their ``take`` best images."""
        grouped: dict[str, list[Candidate]] = {}
        for hit in hits:
            image_id = int(hit.identity)
            code = owners.get(image_id)
            if code is None or image_id in exclude or (allowed is not None and code not in allowed):
                continue
            grouped.setdefault(code, []).append(hit)
        scored = [
            (sum(h.score for h in group[: self.take]), code, group[0])
            for code, group in grouped.items()
        ]
        scored.sort(key=lambda item: -item[0])
        return [
            Ranked(code, float(score), int(best.identity), self._pairs(best))
            for score, code, best in scored[:top]
        ]

    def _pairs(self, hit: Candidate) -> list[list[float]] | None:
        if not self.keypoints:
            return None
        pairs = np.column_stack([hit.best.query_points, hit.best.gallery_points])
        return [[round(float(v), 2) for v in row] for row in pairs.reshape(-1, 4)]


def _images(session: Session, ids: Sequence[int]) -> list[Image]:
    """The images with these (sorted) ids, in id order, fetched in chunks."""
    return [
        image
        for start in range(0, len(ids), _CHUNK)
        for image in session.scalars(
            select(Image).where(Image.id.in_(ids[start : start + _CHUNK])).order_by(Image.id)
        )
    ]


def _hit(identity: str, score: float) -> Candidate:
    """A per-image hit without keypoint evidence (what the deep engine gives)."""
    return Candidate(identity, score, Match(identity, score, 0, _NO_POINTS, _NO_POINTS))
