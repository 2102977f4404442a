"""A self-contained HTML report: the summary, then sample queries beside their top candidates
with the matched keypoints drawn, right and wrong answers both shown."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from photoid.evaluation.drawing import draw_pair, load_or_blank, to_data_uri
from photoid.evaluation.run import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.q{margin:1.5em 0;padding:1em;border-left:6px solid #999;background:#fafafa}
.right{border-color:#2a8a2a}.wrong{border-color:#c03030}
.cands{display:flex;flex-wrap:wrap;gap:12px}.cand{font-size:90%}
.hit{font-weight:bold;color:#2a8a2a}img{max-width:100%}
"""


def write_report(
    result: EvaluationResult, path: Path, *, samples: int = 12, candidates: int = 3, seed: int = 0
) -> Path:
    """Write the report to ``path``; ``samples`` queries, half right and half wrong if possible."""
    truth = result.truth
    top1 = [p[0] if p else "" for p in result.predictions]
    right = [i for i in range(len(truth)) if top1[i] == truth[i]]
    wrong = [i for i in range(len(truth)) if top1[i] != truth[i]]
    rng = np.random.default_rng(seed)
    half = samples // 2
    chosen_wrong = _sample(rng, wrong, max(half, samples - len(right)))
    chosen_right = _sample(rng, right, samples - len(chosen_wrong))
    root = Path(result.dataset)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>photoid evaluation: {html.escape(root.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>photoid evaluation: {html.escape(root.name)}</h1>",
        _summary_table(result),
        "<h2>Sample queries</h2>",
        "<p>Each query is drawn beside the best-matching photo of its top candidates; lines join "
        "the geometrically verified keypoint pairs. Green: right at rank 1; red: wrong.</p>",
    ]
    for i in sorted(chosen_right + chosen_wrong):
        parts.append(_query_block(result, i, root, candidates))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _sample(rng: np.random.Generator, items: list[int], count: int) -> list[int]:
    count = max(0, min(count, len(items)))
    return sorted(rng.choice(items, size=count, replace=False).tolist()) if count else []


def _summary_table(result: EvaluationResult) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in result.summary().items()
    )
    return f"<table>{rows}</table>"


def _query_block(result: EvaluationResult, i: int, root: Path, candidates: int) -> str:
    answer = result.identifications[i]
    truth = result.truth[i]
    predicted = result.predictions[i]
    verdict = "right" if predicted and predicted[0] == truth else "wrong"
    query_pixels = load_or_blank(root / answer.query)
    lines = [
        f"<div class='q {verdict}'><b>{html.escape(answer.query)}</b> &mdash; truth "
        f"<b>{html.escape(truth)}</b>; answer: {html.escape(', '.join(predicted))}"
    ]
    if answer.warning:
        lines.append(f"<p>warning: {html.escape(answer.warning)}</p>")
    if truth == NEW_INDIVIDUAL:
        lines.append("<p>This individual is not in the gallery.</p>")
    lines.append("<div class='cands'>")
    for rank, candidate in enumerate(answer.candidates[:candidates], start=1):
        match = candidate.best
        picture = draw_pair(
            query_pixels,
            load_or_blank(root / match.image),
            match.query_points,
            match.gallery_points,
        )
        hit = " hit" if candidate.identity == truth else ""
        lines.append(
            f"<div class='cand'><img src='{to_data_uri(picture)}'><br>"
            f"<span class='{hit.strip()}'>#{rank} {html.escape(candidate.identity)}</span> "
            f"score {candidate.score:.3f}, {match.inliers} inliers, "
            f"{html.escape(match.image)}</div>"
        )
    lines.append("</div></div>")
    return "\n".join(lines)
