"""The identification gallery of a catalog: every image attached to an individual, indexed by
an engine (the local-feature engine by default, the deep one given a checkpoint).

Each catalog image enters the engine as its own identity (its image id), and the gallery keeps
the map image id -> individual code beside it. A decision, merge, split or undo only changes
that map, so :meth:`CatalogGallery.sync` never re-indexes: it adds the images attached since
the last sync (``engine.add``, incremental) and relabels or drops the others. Images dropped
(detached from every individual) stay in the engine's index but are never proposed; only the
memory they hold is wasted until the gallery is built anew. Per-individual scores are
aggregated here from the engine's per-image scores (sum of the ``take`` best images: 1 is
``max``, 2 the local engine's ``top2``).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sqlalchemy import select

from photoid.catalog.db import Catalog
from photoid.catalog.models import Image, Individual
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.local.results import Candidate, Identification

Box = tuple[float, float, float, float]
WIDE = 200
_CHUNK = 500  # image ids per IN (...) query, well below SQLite's limit on bound parameters
_TAKE = {"max": 1, "top2": 2, "top3": 3}


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
                fresh = [
                    image
                    for start in range(0, len(wanted), _CHUNK)
                    for image in session.scalars(
                        select(Image)
                        .where(Image.id.in_(wanted[start : start + _CHUNK]))
                        .order_by(Image.id)
                    )
                ]
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
