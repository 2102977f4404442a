"""The identification gallery of a catalog: every image attached to an individual, indexed by a
registry engine (:mod:`photoid.engines`: ``local`` by default, ``deep`` given a checkpoint).

Each catalog image enters the engine as its own identity (its image id), and the gallery keeps
the map image id -> individual code beside it. A decision, merge, split or undo only changes
that map, so :meth:`CatalogGallery.sync` never re-indexes: it adds the images attached since
the last sync (``Engine.add``, incremental) and relabels or drops the others. Images dropped
(detached from every individual, or deleted) are taken out of an engine that can remove photos
(``Engine.remove``: the local engine, no rebuild; attached again, they are added again as new
photos); another engine keeps them in its index, never proposed (the map is rebuilt from the
database at every sync). Per-individual scores are aggregated here from
the engine's per-image scores (sum of the ``take`` best images: 1 is ``max``, 2 the local
engine's ``top2``). :meth:`CatalogGallery.leave_one_out` ranks gallery images against the rest
of the gallery, as uploads are ranked (for calibration).

A gallery opened on a folder (:meth:`CatalogGallery.open`; the service's is ``DATA/engine``)
is saved there after every sync that adds images and loaded from it at the next start when its
format and settings match (:mod:`photoid.catalog.gallery_store`); else it starts empty, saying
why. A crash before a save only means that the next start adds those images again. An indexed
image whose content or box the database no longer has (its id given to another photo) is taken
out and added again (an engine that cannot remove photos is rebuilt) rather than matched with
stale features.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from photoid.catalog.db import Catalog
from photoid.catalog.gallery_rows import attached, engine_queries, images_by_id
from photoid.catalog.gallery_store import (
    MANIFEST,
    Signature,
    gallery_settings,
    load_gallery,
    save_gallery,
)
from photoid.catalog.models import Image
from photoid.core import Candidate
from photoid.data.table import Dataset
from photoid.decide.policy import NewIndividualSetting
from photoid.engines.base import Engine, EngineOptions
from photoid.engines.registry import create_engine
from photoid.errors import PhotoidError
from photoid.fusion.config import Queries
from photoid.local.config import LocalConfig

WIDE = 200
_TAKE = {"max": 1, "top2": 2, "top3": 3}
log = logging.getLogger(__name__)


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
    """A registry engine (``method``: ``local`` or ``deep``, built with ``options``) over the
    catalog's attached images; thread-safe (one lock around it all).

    ``name`` is the engine name stored with candidates; ``take`` the number of best images
    summed per individual; ``keypoints`` whether the engine gives matched keypoints; ``wide``
    the images the engine ranks per query, so that individuals survive metadata filters.
    ``folder``: where the gallery is saved after syncs that add images (None: nowhere);
    ``restored``: whether it was loaded from there; ``rebuild_reason``: why not, when it was
    looked for there.
    """

    def __init__(
        self,
        method: str,
        options: EngineOptions,
        *,
        wide: int = WIDE,
        engine: Engine | None = None,
    ) -> None:
        self.name = method
        self.options = options
        self.wide = wide
        self.take = _TAKE[options.local.aggregate] if method == "local" else 1
        self.keypoints = method == "local"
        self.engine = engine if engine is not None else _empty_engine(method, options)
        self.folder: Path | None = None
        self.restored = False
        self.rebuild_reason: str | None = None
        self._owners: dict[int, str] = {}
        self._indexed: dict[int, Signature] = {}
        self._lock = threading.RLock()

    @classmethod
    def local(
        cls, config: LocalConfig | None = None, cache_dir: Path | None = None, wide: int = WIDE
    ) -> CatalogGallery:
        """An empty gallery on the local-feature engine."""
        return cls("local", _options(None, config, cache_dir, wide), wide=wide)

    @classmethod
    def deep(cls, checkpoint: Path, wide: int = WIDE) -> CatalogGallery:
        """An empty gallery on the deep engine with the embedder of a training ``checkpoint``."""
        return cls("deep", _options(checkpoint, None, None, wide), wide=wide)

    @classmethod
    def open(
        cls,
        folder: Path,
        checkpoint: Path | None = None,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        wide: int = WIDE,
        device: str = "auto",
    ) -> CatalogGallery:
        """The gallery saved in ``folder`` when it was saved by this format with these settings
        (deep engine when ``checkpoint`` is given, else local), else an empty one (why is
        logged and kept in :attr:`rebuild_reason`); either way saved into ``folder`` after every
        sync that adds images. Not synced yet: :meth:`sync` adds the images attached since.
        A deep engine's embedder runs on ``device`` (``auto``: a CUDA GPU when there is one)."""
        method = "local" if checkpoint is None else "deep"
        options = replace(_options(checkpoint, config, cache_dir, wide), device=device)
        try:
            saved = load_gallery(folder, gallery_settings(method, options, wide))
        except PhotoidError as error:
            gallery = cls(method, options, wide=wide)
            gallery.rebuild_reason = str(error)
            level = logging.WARNING if (folder / MANIFEST).exists() else logging.INFO
            log.log(level, "building the %s gallery anew: %s", method, error)
        else:
            engine = saved.engine.use_device(device, options.precision)
            gallery = cls(method, options, wide=wide, engine=engine)
            gallery._indexed = dict(saved.indexed)
            gallery.restored = True
            log.info(
                "loaded the %s gallery of %d images from %s", method, len(saved.indexed), folder
            )
        gallery.folder = folder
        return gallery

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        checkpoint: Path | None = None,
        config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        folder: Path | None = None,
    ) -> CatalogGallery:
        """The gallery of ``catalog`` (deep engine when ``checkpoint`` is given, else local),
        filled with every attached image; with ``folder``, :meth:`open` on it first, so that
        only the images attached since its last save are extracted."""
        if folder is not None:
            gallery = cls.open(folder, checkpoint, config, cache_dir)
        elif checkpoint is not None:
            gallery = cls.deep(checkpoint)
        else:
            gallery = cls.local(config, cache_dir)
        gallery.sync(catalog)
        return gallery

    @cached_property
    def settings(self) -> dict[str, Any]:
        """What the saved gallery is checked against (:func:`gallery_settings`)."""
        return gallery_settings(self.name, self.options, self.wide)

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
        matching worker also calls it before every job); nothing already indexed is redone.
        An indexed image that now holds another photo or box is taken out and added again,
        a detached one taken out, without a rebuild (an engine that cannot remove photos is
        rebuilt when one changed and keeps detached ones unasked). Saved into :attr:`folder`
        when it added images."""
        with self._lock:
            with catalog.session() as session:
                current, signatures = attached(session)
                changed = [i for i, sig in signatures.items() if self._indexed.get(i, sig) != sig]
                gone = [i for i in self._indexed if i not in current]
                if self.engine.removes:
                    self._remove([*changed, *gone])
                if changed and not self.engine.removes:
                    log.warning(
                        "%d indexed images (ids %s) now hold other photos or boxes: rebuilding "
                        "the %s gallery",
                        len(changed),
                        ", ".join(map(str, changed[:5])),
                        self.name,
                    )
                    self.engine = _empty_engine(self.name, self.options)
                    self._indexed = {}
                fresh = images_by_id(session, sorted(set(current) - set(self._indexed)))
            if fresh:
                self.engine.add(self._asked(catalog, fresh), [str(image.id) for image in fresh])
                self._indexed.update((image.id, signatures[image.id]) for image in fresh)
            old = self._owners
            relabelled = sum(1 for i, code in old.items() if i in current and current[i] != code)
            dropped = sum(1 for i in old if i not in current)
            self._owners = {i: code for i, code in current.items() if i in self._indexed}
            if fresh and self.folder is not None:  # a restored gallery redoes removals itself
                self._save_quietly(self.folder)
            return SyncReport(len(fresh), relabelled, dropped)

    def _remove(self, ids: Sequence[int]) -> None:
        """Take images ``ids`` out of the engine (no rebuild), so that a changed one is added
        again as new and a detached one is never searched."""
        for image_id in ids:
            self._indexed.pop(image_id, None)
        if ids:
            self.engine.remove([str(i) for i in ids])

    def save(self, folder: Path | None = None) -> Path:
        """Write the gallery into ``folder`` (default :attr:`folder`) atomically; returns the
        manifest's path (:func:`photoid.catalog.gallery_store.save_gallery`)."""
        target = folder or self.folder
        if target is None:
            raise PhotoidError("CatalogGallery.save: no folder given and none opened")
        with self._lock:
            return save_gallery(target, self.engine, dict(self._indexed), self.settings)

    def _save_quietly(self, folder: Path) -> None:
        """Save, logging a failure: the gallery in memory stays right, and the next start
        only adds the unsaved images again."""
        try:
            self.save(folder)
        except (OSError, pickle.PicklingError, PhotoidError) as error:
            log.warning("the %s gallery was not saved in %s: %s", self.name, folder, error)

    def _asked(self, catalog: Catalog, images: Sequence[Image]) -> Queries:
        """Catalog images as the engine takes them: named by id, boxes grown by its margin."""
        return self.engine.cropped(engine_queries(catalog, images))

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
            answers = self.engine.identify(self._asked(catalog, images))
            owners = dict(self._owners)
        return [self._individuals(a.candidates, owners, top, allowed, exclude) for a in answers]

    def leave_one_out(
        self, catalog: Catalog, image_ids: Sequence[int], top: int = 5
    ) -> dict[int, list[Ranked]]:
        """The ``top`` best individuals for gallery images ``image_ids``, each ranked against
        the rest of the gallery as an upload would be: itself left out of the engine and the
        images of its own encounter never used as evidence (``Engine.left_out``). Images the
        engine does not hold (unreadable) or cannot read again are left out of the answer.
        PhotoidError for an engine that cannot rank its gallery against itself."""
        with catalog.session() as session:
            encounter = {i: e for i, e in session.execute(select(Image.id, Image.encounter_id))}
            images = images_by_id(session, sorted(set(image_ids)))
        together: dict[int, set[int]] = {}
        for i, e in encounter.items():
            together.setdefault(e, set()).add(i)
        with self._lock:
            owners = dict(self._owners)
            rows = {name: row for row, name in enumerate(self.engine.images)}
            asked = [i for i in images if i.id in owners and str(i.id) in rows]
            answers = (
                self.engine.left_out(
                    self._asked(catalog, asked), [rows[str(i.id)] for i in asked], top=self.wide
                )
                if asked
                else []
            )
        return {
            image.id: self._individuals(
                answer.candidates, owners, top, None, together[encounter[image.id]]
            )
            for image, answer in zip(asked, answers, strict=True)
            if answer.warning is None
        }

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


def _options(
    checkpoint: Path | None, config: LocalConfig | None, cache_dir: Path | None, wide: int
) -> EngineOptions:
    """The engine options of a catalog gallery: ``wide`` images ranked per query, no
    new-individual policy (reviewers decide), the deep ``checkpoint`` when given."""
    return EngineOptions(
        local=(config or LocalConfig()).with_overrides(top=wide),
        cache_dir=cache_dir,
        models=() if checkpoint is None else (checkpoint,),
        new_individual=NewIndividualSetting("never"),
    )


def _empty_engine(method: str, options: EngineOptions) -> Engine:
    """A registry engine fitted on no photos, ready for ``add``."""
    nothing = pd.DataFrame(
        {"image": pd.Series([], dtype=str), "identity": pd.Series([], dtype=str)}
    )
    return create_engine(method, options).fit(Dataset(Path("."), nothing, ()))
