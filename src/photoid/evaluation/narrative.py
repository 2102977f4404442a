"""The opening of an evaluation report in words: what was run on what, and how well it did, then
the headline numbers as a small table."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from photoid.core import NEW_INDIVIDUAL
from photoid.data.selection import select_rows
from photoid.data.table import load_dataset
from photoid.errors import PhotoidError
from photoid.evaluation.result import EvaluationResult

ENGINES = {
    "local": "the local engine (keypoints matched between photos and verified geometrically)",
    "keypoints": "the learned-keypoint engine (learned keypoints matched and verified)",
    "deep": "the deep engine (a trained embedding model)",
    "pretrained": "the pretrained engine (an embedding model used without training)",
    "fused": "the fused engine (keypoint and colour engines, each calibrated, combined into one "
    "probability per candidate)",
}


@dataclass(frozen=True)
class Tally:
    """Counts of queries behind the rates: ``first``/``top5``: the right answer first / among
    the five; ``known``/``new``: queries of gallery individuals / of new ones, and
    ``known_first``/``new_first`` of them answered right first (``new_individual`` first for a
    new one)."""

    queries: int
    first: int
    top5: int
    known: int
    known_first: int
    new: int
    new_first: int


def tally(result: EvaluationResult) -> Tally:
    """Count right answers in ``result.truth`` against ``result.predictions`` (an unanswered
    query, such as an unreadable photo, is a miss)."""
    first = [bool(p) and p[0] == t for t, p in zip(result.truth, result.predictions, strict=True)]
    top5 = [t in p[:5] for t, p in zip(result.truth, result.predictions, strict=True)]
    new = [t == NEW_INDIVIDUAL for t in result.truth]
    return Tally(
        queries=len(result.truth),
        first=sum(first),
        top5=sum(top5),
        known=new.count(False),
        known_first=sum(f for f, n in zip(first, new, strict=True) if not n),
        new=sum(new),
        new_first=sum(f for f, n in zip(first, new, strict=True) if n),
    )


def gallery_individuals(result: EvaluationResult) -> int | None:
    """How many individuals the split's gallery rows hold, read back from the dataset; None
    where it cannot be read any more (the report still says how many photos)."""
    try:
        rows = select_rows(load_dataset(Path(result.dataset)), result.split_column)
    except (PhotoidError, OSError, ValueError, KeyError):
        return None
    return len(set(rows.gallery.table["identity"].astype(str)))


def describe_run(result: EvaluationResult, counts: Tally, individuals: int | None) -> str:
    """The report's opening (HTML): a paragraph on what was run on how many photos, one on
    how well it did."""
    engine = ENGINES.get(result.method, f"the {result.method} engine")
    whose = "" if individuals is None else f" of {plural(individuals, 'individual')}"
    what = [
        f"This report shows how well {html.escape(engine)} identified "
        f"{plural(counts.queries, 'query photo')} of the dataset "
        f"<b>{html.escape(Path(result.dataset).name)}</b> against a gallery of "
        f"{plural(result.gallery, 'photo')}{whose} (gallery and queries as the "
        f"<code>{html.escape(result.split_column)}</code> column marks them).",
    ]
    if counts.new:
        what.append(
            f"{_count(counts.new, counts.queries)} show an individual that is not in the "
            "gallery; for those the right answer is \u201cnew individual\u201d."
        )
    how: list[str] = []
    if counts.queries:
        how.append(
            f"The right answer was the first suggestion for {_count(counts.first, counts.queries)} "
            f"and among the five suggestions for {_count(counts.top5, counts.queries)}."
        )
        how.append(
            f"MAP@5 is {result.map5:.2f}: an answer scores 1 when the right one is suggested "
            "first, 1/2 when second, 1/3 when third, down to 0 when it is not among the five, "
            "and MAP@5 is the mean over the queries."
        )
    if counts.known and counts.new:
        how.append(
            "Of the photos of individuals in the gallery, "
            f"{_count(counts.known_first, counts.known)} were matched to the right one first; "
            f"of the new individuals, {_count(counts.new_first, counts.new)} were recognised "
            "as new."
        )
    skipped = len(result.skipped)
    if skipped:
        how.append(
            f"{plural(skipped, 'photo')} could not be read and "
            f"{'was' if skipped == 1 else 'were'} left out (an unread query counts as a miss)."
        )
    speed = result.queries / max(result.seconds, 1e-9)
    how.append(
        f"Building the gallery took {result.gallery_seconds:.1f} s and answering the queries "
        f"{result.seconds:.1f} s ({speed:.1f} photos per second)."
    )
    return "".join(f"<p class='lead'>{' '.join(part)}</p>" for part in (what, how) if part)


def headline_table(result: EvaluationResult, counts: Tally) -> str:
    """The headline numbers: top-1, top-5, MAP@5, and the known/new split where both exist."""
    rows = [
        ("Right answer first (top-1)", _rate(counts.first, counts.queries)),
        ("Right answer among the five (top-5)", _rate(counts.top5, counts.queries)),
        ("MAP@5 (1 first, 1/2 second, ... 0 absent)", f"{result.map5:.2f}"),
    ]
    if counts.known and counts.new:
        rows.append(("Gallery individuals, right first", _rate(counts.known_first, counts.known)))
        rows.append(("New individuals, recognised as new", _rate(counts.new_first, counts.new)))
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='headline'>{body}</table>"


def _rate(hits: int, total: int) -> str:
    return "n/a" if total == 0 else f"{100.0 * hits / total:.0f}% ({hits} of {total})"


def _count(hits: int, total: int) -> str:
    """``"82 of 100 photos"``."""
    return f"{hits} of {plural(total, 'photo')}"


def plural(n: int, noun: str) -> str:
    """``"1 photo"``, ``"2 photos"``, ``"2 queries"``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("ry") else f"{n} {noun}s"
