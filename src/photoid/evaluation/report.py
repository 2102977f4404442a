"""A self-contained HTML report of one evaluation run, written for the person who will use the
engine: a paragraph saying what was run and how well it did, the headline numbers, sample queries
beside their candidates with the matched keypoints drawn (right and wrong answers both), how far
to trust the probabilities (calibrated engines only), and every raw number, collapsed."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from photoid.core import Box, Identification
from photoid.evaluation.drawing import draw_pair, load_or_blank, to_data_uri
from photoid.evaluation.narrative import (
    describe_run,
    gallery_individuals,
    headline_table,
    plural,
    tally,
)
from photoid.evaluation.raw_numbers import raw_numbers_section
from photoid.evaluation.report_calibration import calibration_section
from photoid.evaluation.result import EvaluationResult
from photoid.evaluation.shares import Shares, answer_shares, as_percent, percentages
from photoid.metrics import NEW_INDIVIDUAL

THUMB_HEIGHT = 150
"""Height in pixels of each query-and-candidate picture, so that three sit side by side."""

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222;
line-height:1.45}
h1{font-size:1.6em}.lead{font-size:1.05em;max-width:60em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}th{font-weight:600}
table.headline td{text-align:right;font-variant-numeric:tabular-nums}
.q{margin:1.2em 0;padding:.8em 1em;border-left:6px solid #999;background:#fafafa}
.right{border-color:#2a8a2a}.wrong{border-color:#c03030}
.verdict{font-weight:600}.right .verdict{color:#2a8a2a}.wrong .verdict{color:#c03030}
ol.answer,ul.answer{margin:.3em 0;padding-left:1.8em}ul.answer{list-style:none}
ol.answer li.hit{font-weight:bold;color:#2a8a2a}ul.answer li{color:#555}
.pct{display:inline-block;min-width:3.2em;text-align:right;margin-right:.5em;
font-variant-numeric:tabular-nums}
.note{color:#555;font-size:90%}
.qbody{display:flex;gap:16px;align-items:flex-start}.qbody>.answers{flex:0 0 19em}
.cands{display:flex;flex-wrap:wrap;gap:12px;flex:1}.cand{font-size:85%;width:calc((100% - 24px)/3)}
.cand .hit{font-weight:bold;color:#2a8a2a}.cand small{overflow-wrap:anywhere}img{max-width:100%}
.figures{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0}figcaption{font-size:90%;color:#555}.nodiagram{max-width:26em;color:#555}
details.raw{margin-top:2em}details.raw summary{cursor:pointer;font-weight:600}
details.raw table table{margin:0}th small{font-weight:normal;color:#555}
"""


def write_report(
    result: EvaluationResult, path: Path, *, samples: int = 12, candidates: int = 3, seed: int = 0
) -> Path:
    """Write the report to ``path``; ``samples`` queries, half right and half wrong if possible,
    each with the evidence of its first ``candidates`` gallery individuals."""
    truth = result.truth
    top1 = [p[0] if p else "" for p in result.predictions]
    right = [i for i in range(len(truth)) if top1[i] == truth[i]]
    wrong = [i for i in range(len(truth)) if top1[i] != truth[i]]
    rng = np.random.default_rng(seed)
    chosen_wrong = _sample(rng, wrong, max(samples // 2, samples - len(right)))
    chosen_right = _sample(rng, right, samples - len(chosen_wrong))
    root = Path(result.dataset)
    boxes = boxes_by_image(root)
    counts = tally(result)
    title = f"Photo identification of {root.name}: {result.method} engine"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        describe_run(result, counts, gallery_individuals(result)),
        headline_table(result, counts),
        "<h2>Sample queries</h2>",
        f"<p>{plural(len(chosen_right), 'query')} answered right and {len(chosen_wrong)} "
        "answered wrong, "
        "drawn at random. Each query photo (left in each picture) is drawn beside the "
        "best-matching gallery photo of its first suggested individuals (right); lines join the "
        "keypoints matched and verified between the two. A green edge: right first; red: "
        "wrong."
        + (
            " The yellow frame is the animal's box (bbox), which the engine looks inside."
            if boxes
            else ""
        )
        + "</p>",
    ]
    for i in sorted(chosen_right + chosen_wrong):
        parts.append(_query_block(result, i, root, candidates, boxes))
    parts.append(calibration_section(result))
    parts.append(raw_numbers_section(result.summary()))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(part for part in parts if part), encoding="utf-8")
    return path


def boxes_by_image(root: Path) -> dict[str, Box]:
    """Each image's box in the dataset at ``root`` (the first row's, for an image on several
    rows); empty when the dataset has no boxes or cannot be read again (a report never fails
    on its pictures)."""
    from photoid.data.table import load_dataset
    from photoid.errors import PhotoidError

    try:
        table = load_dataset(root).table
    except (PhotoidError, OSError):
        return {}
    if "bbox" not in table.columns:
        return {}
    found: dict[str, Box] = {}
    for image, box in zip(table["image"], table["bbox"], strict=True):
        if box is not None:
            found.setdefault(str(image), box)
    return found


def _sample(rng: np.random.Generator, items: list[int], count: int) -> list[int]:
    count = max(0, min(count, len(items)))
    return sorted(rng.choice(items, size=count, replace=False).tolist()) if count else []


def _query_block(
    result: EvaluationResult, i: int, root: Path, candidates: int, boxes: dict[str, Box]
) -> str:
    answer = result.identifications[i]
    truth = result.truth[i]
    predicted = result.predictions[i]
    verdict = "right" if predicted and predicted[0] == truth else "wrong"
    shown_truth = "a new individual (not in the gallery)" if truth == NEW_INDIVIDUAL else truth
    lines = [
        f"<div class='q {verdict}'><span class='verdict'>{verdict.capitalize()}.</span> "
        f"Query <b>{html.escape(answer.query)}</b> shows <b>{html.escape(shown_truth)}</b>.",
    ]
    if answer.warning:
        lines.append(f"<p>warning: {html.escape(answer.warning)}</p>")
    lines.append("<div class='qbody'><div class='answers'>")
    lines.append(_answer_list(result, i) if predicted else "<p>No answer.</p>")
    if answer.shortlist is not None and truth != NEW_INDIVIDUAL:
        lines.append(
            f"<p class='note'>{_traced(truth in answer.shortlist, verdict == 'right')}</p>"
        )
    lines.append("</div>")
    lines.append(_evidence(answer, predicted, truth, root, candidates, boxes))
    lines.append("</div></div>")
    return "\n".join(lines)


def _answer_list(result: EvaluationResult, i: int) -> str:
    """The answer as a numbered list, with consistent probabilities where the engine gives
    them (:mod:`photoid.evaluation.shares`)."""
    predicted = result.predictions[i]
    truth = result.truth[i]
    values = result.probabilities[i] if i < len(result.probabilities) else []
    if not values:
        items = "".join(_item(name, truth, "") for name in predicted)
        return f"<ol class='answer'>{items}</ol>"
    p_new = result.new_probability[i] if i < len(result.new_probability) else None
    shares = answer_shares(predicted, values, p_new)
    rest = _rest(shares)
    shown = percentages([v for _, v in shares.listed] + [v for _, v in rest])
    items = "".join(
        _item(name, truth, as_percent(v, pct))
        for (name, v), pct in zip(shares.listed, shown, strict=False)
    )
    extra = "".join(
        f"<li class='rest'>{_pct(as_percent(v, pct))}{html.escape(label)}</li>"
        for (label, v), pct in zip(rest, shown[len(shares.listed) :], strict=True)
    )
    note = ""
    if shares.rescaled is not None:
        note = (
            "<p class='note'>The engine's own probabilities for the listed individuals and for "
            f"a new individual add up to {100 * shares.rescaled:.1f}%: each individual's is "
            "calibrated on its own. They are shown scaled down to share what a new individual "
            "leaves.</p>"
        )
    return f"<ol class='answer'>{items}</ol><ul class='answer'>{extra}</ul>{note}"


def _rest(shares: Shares) -> list[tuple[str, float]]:
    """The lines below the list: P(new) where it is not listed, then everyone else."""
    rest = []
    if shares.unlisted_new is not None:
        rest.append(("a new individual (not listed)", shares.unlisted_new))
    rest.append(("someone else in the gallery", shares.other))
    return rest


def _item(name: str, truth: str, percent: str) -> str:
    hit = " class='hit'" if name == truth else ""
    shown = "new individual" if name == NEW_INDIVIDUAL else name
    tick = " \u2714" if name == truth else ""
    return f"<li{hit}>{_pct(percent)}{html.escape(shown)}{tick}</li>"


def _pct(percent: str) -> str:
    return f"<span class='pct'>{html.escape(percent)}</span>" if percent else ""


def _evidence(
    answer: Identification,
    predicted: list[str],
    truth: str,
    root: Path,
    candidates: int,
    boxes: dict[str, Box],
) -> str:
    """The query beside the best photo of each of its first ``candidates`` gallery individuals,
    labelled with their place in the answer (or in the engine's ranking, past the answer)."""
    by_name = {c.identity: c for c in answer.candidates}
    names = [n for n in predicted if n in by_name]
    names += [c.identity for c in answer.candidates if c.identity not in names]
    if not names[:candidates]:
        return ""
    query_pixels = load_or_blank(root / answer.query)
    cells = []
    for name in names[:candidates]:
        candidate = by_name[name]
        match = candidate.best
        picture = draw_pair(
            query_pixels,
            load_or_blank(root / match.image),
            match.query_points,
            match.gallery_points,
            height=THUMB_HEIGHT,
            query_box=boxes.get(answer.query),
            gallery_box=boxes.get(match.image),
        )
        place = f"#{predicted.index(name) + 1}" if name in predicted else "not in the answer"
        hit = " class='hit'" if name == truth else ""
        cells.append(
            f"<div class='cand'><img src='{to_data_uri(picture)}'><br>"
            f"<span{hit}>{place} {html.escape(name)}</span>: {match.inliers} matched keypoints, "
            f"score {candidate.score:.3f}<br><small>{html.escape(match.image)}</small></div>"
        )
    return "<div class='cands'>" + "".join(cells) + "</div>"


def _traced(in_shortlist: bool, right: bool) -> str:
    """Where a re-ranking engine's answer came from, in words."""
    if not in_shortlist:
        return "The true individual was not in the short list: a retrieval miss."
    if right:
        return "The true individual was in the short list and verified first."
    return "The true individual was in the short list but did not verify first."
