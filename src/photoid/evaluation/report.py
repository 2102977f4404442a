"""A self-contained HTML report: the summary, a calibration section when the engine gave
probabilities, then sample queries beside their top candidates with the matched keypoints drawn,
right and wrong answers both shown."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from photoid.calibrate.plot import reliability_diagram
from photoid.calibrate.section import png_data_uri
from photoid.evaluation.drawing import draw_pair, load_or_blank, to_data_uri
from photoid.evaluation.result import EvaluationResult
from photoid.metrics import NEW_INDIVIDUAL
from photoid.metrics.calibration import ReliabilityCurve, brier_score, reliability_curve

BINS = 15

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
        _calibration(result),
        "<h2>Sample queries</h2>",
        "<p>Each query is drawn beside the best-matching photo of its top candidates; lines join "
        "the geometrically verified keypoint pairs. Green: right at rank 1; red: wrong.</p>",
    ]
    for i in sorted(chosen_right + chosen_wrong):
        parts.append(_query_block(result, i, root, candidates))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(part for part in parts if part), encoding="utf-8")
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


def _calibration(result: EvaluationResult) -> str:
    """The calibration section, or "" when the result has no probabilities."""
    p, right, rank = result.held_out_pairs()
    if p.size == 0:
        return ""
    first = rank == 0
    answers = {"all top-5 entries": (p, right), "top-1 only": (p[first], right[first])}
    curves = {name: reliability_curve(v, y, BINS) for name, (v, y) in answers.items()}
    rows = "".join(_row(name, curves[name], brier_score(v, y)) for name, (v, y) in answers.items())
    picture = png_data_uri(reliability_diagram(curves, "Answers: reliability"))
    parts = [
        "<h2>Calibration</h2>",
        "<p>Probability that an answer is right, against how often it was, on these held-out "
        f"queries (ECE: expected calibration error over {BINS} equal-width bins).</p>",
        "<table><tr><th>answers</th><th>ECE</th><th>Brier</th><th>count</th></tr>",
        f"{rows}</table>",
        f"<p><img alt='reliability diagram of the answers' src='{picture}'></p>",
    ]
    if result.new_probability:
        parts.append(_new_individuals(result))
    return "\n".join(parts)


def _new_individuals(result: EvaluationResult) -> str:
    p_new = np.asarray(result.new_probability, np.float64)
    is_new = np.asarray([t == NEW_INDIVIDUAL for t in result.truth[: p_new.size]])
    curve = reliability_curve(p_new, is_new, BINS)
    picture = png_data_uri(reliability_diagram({"P(new)": curve}, "New individual: reliability"))
    return (
        "<h3>New individuals</h3>"
        "<p>P(new): the probability that a query shows an individual missing from the gallery, "
        "against whether it did.</p>"
        "<table><tr><th>P(new)</th><th>ECE</th><th>Brier</th><th>count</th></tr>"
        f"{_row('all queries', curve, brier_score(p_new, is_new))}</table>"
        f"<p>Top-1 accuracy on known individuals: {_number(result.acc_known)}; "
        f"on new individuals: {_number(result.acc_new)}.</p>"
        f"<p><img alt='reliability diagram of P(new)' src='{picture}'></p>"
    )


def _row(name: str, curve: ReliabilityCurve, brier: float) -> str:
    return (
        f"<tr><th>{html.escape(name)}</th><td>{curve.ece:.4f}</td><td>{brier:.4f}</td>"
        f"<td>{int(curve.counts.sum())}</td></tr>"
    )


def _number(value: float) -> str:
    return f"{value:.4f}" if np.isfinite(value) else "n/a"


def _query_block(result: EvaluationResult, i: int, root: Path, candidates: int) -> str:
    answer = result.identifications[i]
    truth = result.truth[i]
    predicted = result.predictions[i]
    verdict = "right" if predicted and predicted[0] == truth else "wrong"
    query_pixels = load_or_blank(root / answer.query)
    # Probabilities sit beside the answers they belong to (calibrated engines only).
    values = result.probabilities[i] if i < len(result.probabilities) else []
    chance = dict(zip(predicted, values, strict=False))
    shown = ", ".join(html.escape(name) + _p(chance.get(name), " (", ")") for name in predicted)
    p_new = f"; P(new) = {result.new_probability[i]:.2f}" if i < len(result.new_probability) else ""
    lines = [
        f"<div class='q {verdict}'><b>{html.escape(answer.query)}</b> &mdash; truth "
        f"<b>{html.escape(truth)}</b>; answer: {shown}{p_new}"
    ]
    if answer.warning:
        lines.append(f"<p>warning: {html.escape(answer.warning)}</p>")
    if truth == NEW_INDIVIDUAL:
        lines.append("<p>This individual is not in the gallery.</p>")
    elif answer.shortlist is not None:
        lines.append(f"<p>{_traced(truth in answer.shortlist, verdict == 'right')}</p>")
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
            f"{_p(chance.get(candidate.identity), '', ', ')}score {candidate.score:.3f}, "
            f"{match.inliers} inliers, "
            f"{html.escape(match.image)}</div>"
        )
    lines.append("</div></div>")
    return "\n".join(lines)


def _traced(in_shortlist: bool, right: bool) -> str:
    """Where a re-ranking engine's answer came from, in words."""
    if not in_shortlist:
        return "The true individual was not in the short list: a retrieval miss."
    if right:
        return "The true individual was in the short list and verified first."
    return "The true individual was in the short list but did not verify first."


def _p(value: float | None, before: str, after: str) -> str:
    """``p = 0.87`` wrapped in ``before``/``after``, or "" without a probability."""
    return "" if value is None else f"{before}p = {value:.2f}{after}"
