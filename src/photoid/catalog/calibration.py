"""Calibrated candidate scores for the catalog: the matching worker's raw engine scores turned
into the probability that each candidate is the query's individual.

The calibration is fitted on the catalog gallery itself by leave-one-out
(:meth:`CatalogGallery.leave_one_out`: at most ``sample`` gallery photos, drawn with ``seed``,
each ranked against the rest of the gallery as an upload would be, its own encounter never
used as evidence: sound for the local engine, which learns nothing), one isotonic
calibrator per rank bucket (:func:`photoid.calibrate.fit_ranked`). It needs at least
``identities`` individuals with ``photos`` photos each; a smaller gallery stays uncalibrated.
Fitting ranks up to ``sample`` photos, so it is redone only when the gallery has grown by
``growth`` (a share) since the last fit.

A lower-ranked candidate never gets a higher probability than the one above it (the rank
buckets have separate calibrators): probabilities are capped by the previous one, so they keep
the raw ranking.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from photoid.calibrate import ENGINE_TRANSFORMS, Method, RankedCalibrator, fit_ranked
from photoid.calibrate.pairs import pairs_from_rankings
from photoid.catalog.db import Catalog
from photoid.catalog.gallery import CatalogGallery
from photoid.errors import PhotoidError

SUFFIX = " calibrated"
log = logging.getLogger(__name__)


def calibrated_name(engine: str) -> str:
    """The engine name stored with calibrated candidates: ``"local"`` -> ``"local calibrated"``
    (the service labels such scores "calibrated probability")."""
    return engine + SUFFIX


def enough_labels(codes: Iterable[str], identities: int = 2, photos: int = 2) -> bool:
    """Whether at least ``identities`` individuals have ``photos`` photos each, given the
    individual code of every gallery photo."""
    counts = Counter(codes)
    return sum(1 for n in counts.values() if n >= photos) >= identities


def capped(probabilities: Sequence[float]) -> list[float]:
    """``probabilities`` of candidates in ranked order, each capped by the one before it (a
    running minimum), so that sorting by them keeps the ranking."""
    if not probabilities:
        return []
    return list(np.minimum.accumulate(np.asarray(probabilities, np.float64)).tolist())


class GalleryCalibration:
    """The calibration of one :class:`CatalogGallery`, refitted as the gallery grows.

    ``sample`` gallery photos at most are ranked (drawn with ``seed``); ``k`` candidates of
    each give the (score, same?) pairs; ``method`` and ``buckets`` as in :func:`fit_ranked`.
    ``calibrator`` is the current fit (None: scores stay raw), ``fitted_size`` the number of
    gallery photos when it was last fitted (0: never) and ``fits`` how many fits were made.
    """

    def __init__(
        self,
        *,
        sample: int = 200,
        seed: int = 0,
        growth: float = 0.2,
        k: int = 5,
        method: Method = "isotonic",
        buckets: int = 2,
        identities: int = 2,
        photos: int = 2,
    ) -> None:
        self.sample = sample
        self.seed = seed
        self.growth = growth
        self.k = k
        self.method: Method = method
        self.buckets = buckets
        self.identities = identities
        self.photos = photos
        self.calibrator: RankedCalibrator | None = None
        self.fitted_size = 0
        self.fits = 0

    def due(self, size: int) -> bool:
        """Whether a gallery of ``size`` photos calls for a (re)fit: never fitted, or grown by
        ``growth`` since the last fit."""
        return self.fitted_size == 0 or size >= self.fitted_size * (1.0 + self.growth)

    def update(self, catalog: Catalog, gallery: CatalogGallery) -> bool:
        """Refit on ``gallery`` when due and it has enough labelled photos; returns whether it
        fitted. An engine that cannot rank its own gallery, or a gallery giving no candidates,
        keeps the previous fit (none at first: scores stay raw; logged) until the gallery has
        grown again."""
        members = gallery.members()
        if not self.due(len(members)) or not enough_labels(
            members.values(), self.identities, self.photos
        ):
            return False
        fitted = False
        try:
            self.calibrator = self._fit(catalog, gallery, members)
            fitted = True
        except PhotoidError as error:
            log.warning("the %s engine was not (re)calibrated: %s", gallery.name, error)
        self.fitted_size = len(members)
        self.fits += 1
        return fitted

    def _fit(
        self, catalog: Catalog, gallery: CatalogGallery, members: dict[int, str]
    ) -> RankedCalibrator:
        ids = sorted(members)
        if len(ids) > self.sample:
            drawn = np.random.default_rng(self.seed).permutation(len(ids))[: self.sample]
            ids = sorted(ids[i] for i in drawn.tolist())
        answers = gallery.leave_one_out(catalog, ids, self.k)
        queries = sorted(answers)
        pairs = pairs_from_rankings(
            [members[i] for i in queries],
            [[r.code for r in answers[i]] for i in queries],
            [[r.score for r in answers[i]] for i in queries],
            self.k,
        )
        transform = ENGINE_TRANSFORMS.get(gallery.name, "identity")
        fitted = fit_ranked(pairs, self.method, transform, self.buckets)
        log.info(
            "calibrated the %s engine on %d pairs from %d of %d gallery photos",
            gallery.name,
            len(pairs),
            len(queries),
            len(members),
        )
        return fitted

    def probabilities(self, scores: Sequence[float]) -> list[float] | None:
        """Probabilities of candidates with raw ``scores`` in ranked order (best first), capped
        to keep that order (:func:`capped`); None while there is no calibration."""
        if self.calibrator is None:
            return None
        ranks = np.arange(len(scores))
        return capped(self.calibrator.predict(np.asarray(scores, np.float64), ranks).tolist())
