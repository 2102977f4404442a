"""Photos an evaluation could not use: which, why (grouped by the codes ``photoid data check``
reports), and the share past which a run refuses to report numbers.

A gallery photo that cannot be read shrinks the gallery; a query that cannot be read gets no
answer and counts as a miss. A handful of either is worth a note; a fifth of the gallery makes
the numbers describe another dataset, so past ``max_skipped`` the run fails instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from photoid.core import Box, Identification
from photoid.data.images import image_problem
from photoid.data.schema import UNKNOWN_IDENTITY
from photoid.data.table import Dataset
from photoid.errors import PhotoidError

DEFAULT_MAX_SKIPPED = 0.05
"""Share of the gallery photos, or of the queries, that may be skipped before a run fails."""

_FIXES = {
    "bbox_outside": (
        "the boxes lie outside their images (`photoid data check` lists each as bbox_outside): "
        "correct the bbox column (x,y,w,h in pixels of the image file; empty cells where the "
        "file is already the crop), or ignore the boxes with --set use_bbox=false (the "
        "keypoints engine: --set keypoints.use_bbox=false)"
    ),
}
_FILE_FIX = "fix or remove these rows (`photoid data check` lists every bad file with its row)"


@dataclass(frozen=True)
class SkippedPhoto:
    """One photo left out: its CSV line, image cell, problem code and the reason in words."""

    row: int
    image: str
    code: str
    reason: str


@dataclass(frozen=True)
class Skips:
    """The photos of one side (``gallery`` or ``queries``) that were left out, of ``total``."""

    side: str
    total: int
    photos: tuple[SkippedPhoto, ...] = ()

    @property
    def share(self) -> float:
        return len(self.photos) / self.total if self.total else 0.0

    def reasons(self) -> dict[str, int]:
        """Number of skipped photos per problem code, most frequent first."""
        return dict(Counter(p.code for p in self.photos).most_common())

    def describe(self) -> str:
        """``"739 of 916 gallery photos (80.7%): bbox_outside 739 (e.g. row 2, a.jpg: ...)"``."""
        groups = []
        for code, count in self.reasons().items():
            first = next(p for p in self.photos if p.code == code)
            groups.append(f"{code} {count} (e.g. row {first.row}, {first.image}: {first.reason})")
        noun = "gallery photos" if self.side == "gallery" else "queries"
        return f"{len(self.photos)} of {self.total} {noun} ({self.share:.1%}): " + "; ".join(groups)


def gallery_skips(gallery: Dataset, skipped: Sequence[str]) -> Skips:
    """The gallery rows an engine skipped (``skipped``: their image cells, as engines report
    them), each diagnosed by loading it again with its box."""
    rows: dict[str, list[int]] = {}
    for position, name in enumerate(gallery.table["image"]):
        rows.setdefault(str(name), []).append(position)
    boxes = _boxes(gallery)
    photos = []
    for name in skipped:
        positions = rows.get(name)
        if not positions:
            continue
        position = positions.pop(0)
        found = image_problem(gallery.image_path(position), boxes[position])
        code, reason = found or ("unreadable", "the engine could not read it")
        photos.append(SkippedPhoto(_line(gallery, position), name, code, reason))
    known = int((gallery.table["identity"] != UNKNOWN_IDENTITY).sum())  # the photos engines add
    return Skips("gallery", known, tuple(photos))


def query_skips(queries: Dataset, answers: Sequence[Identification]) -> Skips:
    """The queries answered with nothing because their photo could not be read (an answer
    without candidates, a warning, and a photo that does not load; "no keypoints found" and
    other engine outcomes on a readable photo are answers, not skips)."""
    boxes = _boxes(queries)
    photos = []
    for position, answer in enumerate(answers):
        if answer.candidates or answer.warning is None:
            continue
        found = image_problem(queries.image_path(position), boxes[position])
        # A box problem counts only when the engine read the box (its warning says so).
        if found is not None and (found[0] != "bbox_outside" or found[1] in answer.warning):
            image = str(queries.table["image"].iloc[position])
            photos.append(SkippedPhoto(_line(queries, position), image, *found))
    return Skips("queries", len(queries), tuple(photos))


def check_skips(skips: Skips, max_skipped: float) -> None:
    """Raise PhotoidError when more than ``max_skipped`` (a share, 0 to 1) of ``skips`` is
    skipped, with the reasons and what to do."""
    if skips.share <= max_skipped:
        return
    fixes = dict.fromkeys(_FIXES.get(code, _FILE_FIX) for code in skips.reasons())
    raise PhotoidError(
        f"{skips.describe()}. That is more than --max-skipped {max_skipped:.0%} allows, so no "
        f"numbers are reported: they would describe another dataset. To fix: "
        + "; ".join(fixes)
        + ". To accept the loss, raise --max-skipped"
    )


def skipped_summary(skips: Sequence[Skips]) -> dict[str, Any]:
    """``skipped`` (how many photos, all sides) and ``skipped_reasons`` (per side, per code)."""
    return {
        "skipped": sum(len(s.photos) for s in skips),
        "skipped_reasons": {s.side: s.reasons() for s in skips},
    }


def _boxes(dataset: Dataset) -> list[Box | None]:
    """Each row's box (None where it has none), read once for all the photos diagnosed."""
    cells = dataset.cells("bbox") or [None] * len(dataset)
    return [box if isinstance(box, tuple) else None for box in cells]


def _line(dataset: Dataset, position: int) -> int:
    return int(dataset.table.index[position])
