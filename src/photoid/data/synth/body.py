"""Animal silhouettes on the canonical canvas: a quadruped seen side-on, or a dorsal fin and back.

The canonical canvas is ``(hc, 2 * hc)`` pixels and shows the animal's left side, head to the
left. Shapes are stored in units of ``hc`` (canvas heights), so one shape draws at any size.
Every individual of a species gets the species' shape with small random proportions; each photo
adds a random :class:`Pose` (head, legs, tail, fin lean, waterline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_SHIFT = 4  # cv2 fixed-point bits: coordinates are drawn with 1/16 px precision
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class QuadrupedShape:
    """Proportions of a four-legged animal, lengths in canvas heights, angles in radians."""

    torso: tuple[float, float, float, float]  # centre x, centre y, half-length, half-height
    neck_length: float
    neck_width: tuple[float, float]  # at the shoulder, at the head
    neck_angle: float  # above the horizontal, pointing forward (left)
    head: tuple[float, float]  # half-length, half-height
    head_drop: float  # how far the head axis turns down from the neck axis
    ear: float  # ear length
    leg_length: float
    leg_width: float
    tail_length: float
    tail_width: float
    tail_angle: float  # below the horizontal, pointing backward (right)
    tail_curl: float  # turn per tail segment (negative curls the tip up)
    tail_tuft: bool


@dataclass(frozen=True)
class FinShape:
    """A dorsal fin on a rounded back, lengths in canvas heights (y grows downward)."""

    lead_base: tuple[float, float]  # where the leading edge meets the back
    trail_base: tuple[float, float]  # where the trailing edge meets the back
    tip: tuple[float, float]
    lead_bulge: float  # outward bow of the leading edge
    trail_hollow: float  # inward curve of the trailing edge (falcate fin)
    notches: tuple[tuple[float, float, float], ...]  # (position 0=tip..1=base, half-width, depth)
    back: tuple[float, float, float, float]  # back ellipse: centre x, centre y, half-axes


BodyShape = QuadrupedShape | FinShape


@dataclass(frozen=True)
class Pose:
    """Per-photo posture. Angles in radians; ``waterline`` in canvas heights (fins only)."""

    neck: float = 0.0
    head: float = 0.0
    legs: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # swing, front to back
    knees: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    tail: float = 0.0
    tail_curl: float = 0.0
    lean: float = 0.0  # fin shear: tip moves by lean * fin height
    waterline: float = 0.9
    wave: float = 0.0  # phase of the ripple along the waterline


NEUTRAL_POSE = Pose()


def sample_pose(rng: np.random.Generator, jitter: float) -> Pose:
    """A random posture; ``jitter`` = 0 gives :data:`NEUTRAL_POSE` geometry, 1 the defaults."""
    swing = rng.normal(0.0, 0.25, 4) * jitter
    knees = np.abs(rng.normal(0.0, 0.3, 4)) * jitter
    stride = rng.uniform(-1.0, 1.0) * 0.35 * jitter  # walking: front and back pairs alternate
    return Pose(
        neck=float(rng.normal(0.0, 0.18) * jitter),
        head=float(rng.normal(0.0, 0.15) * jitter),
        legs=(
            float(swing[0] + stride),
            float(swing[1] - stride),
            float(swing[2] - stride),
            float(swing[3] + stride),
        ),
        knees=(float(knees[0]), float(knees[1]), float(knees[2]), float(knees[3])),
        tail=float(rng.normal(0.0, 0.3) * jitter),
        tail_curl=float(rng.normal(0.0, 0.12) * jitter),
        lean=float(rng.normal(0.0, 0.08) * jitter),
        waterline=float(0.9 + rng.uniform(-0.08, 0.04) * jitter),
        wave=float(rng.uniform(0.0, 2.0 * math.pi)),
    )


def draw_body(shape: BodyShape, pose: Pose, hc: int) -> np.ndarray:
    """Silhouette as an ``(hc, 2 * hc)`` float32 coverage mask in [0, 1] (anti-aliased)."""
    canvas = np.zeros((hc, 2 * hc), np.uint8)
    if isinstance(shape, QuadrupedShape):
        _draw_quadruped(canvas, shape, pose, hc)
        return canvas.astype(np.float32) / 255.0
    _draw_fin(canvas, shape, pose, hc)
    mask = canvas.astype(np.float32) / 255.0
    columns = np.arange(2 * hc, dtype=np.float32) / hc
    water = pose.waterline + 0.012 * np.sin(columns * 9.0 + pose.wave)
    rows = (np.arange(hc, dtype=np.float32)[:, None] + 0.5) / hc
    return mask * np.clip((water[None, :] - rows) * hc, 0.0, 1.0)


def _fixed(x: float, y: float, hc: int) -> tuple[int, int]:
    return (round(x * hc * _ONE), round(y * hc * _ONE))


def _ellipse(
    canvas: np.ndarray,
    hc: int,
    c: tuple[float, float],
    axes: tuple[float, float],
    angle_deg: float = 0.0,
) -> None:
    cv2.ellipse(
        canvas,
        _fixed(c[0], c[1], hc),
        _fixed(axes[0], axes[1], hc),
        angle_deg,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
        _SHIFT,
    )


def _limb(
    canvas: np.ndarray, hc: int, points: list[tuple[float, float]], widths: list[float]
) -> None:
    """A chain of segments, each a filled quadrilateral tapering between the given widths."""
    for (x0, y0), (x1, y1), w0, w1 in zip(points, points[1:], widths, widths[1:], strict=False):
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / norm, dx / norm
        quad = [
            (x0 + nx * w0 / 2, y0 + ny * w0 / 2),
            (x1 + nx * w1 / 2, y1 + ny * w1 / 2),
            (x1 - nx * w1 / 2, y1 - ny * w1 / 2),
            (x0 - nx * w0 / 2, y0 - ny * w0 / 2),
        ]
        poly = np.array([_fixed(x, y, hc) for x, y in quad], np.int32)
        cv2.fillConvexPoly(canvas, poly, 255, cv2.LINE_AA, _SHIFT)
        _ellipse(canvas, hc, (x1, y1), (w1 / 2, w1 / 2))


def _draw_quadruped(canvas: np.ndarray, s: QuadrupedShape, pose: Pose, hc: int) -> None:
    cx, cy, ax, ay = s.torso
    _ellipse(canvas, hc, (cx, cy), (ax, ay))
    _ellipse(canvas, hc, (cx - 0.72 * ax, cy + 0.04 * ay), (0.38 * ax, 1.02 * ay))
    _ellipse(canvas, hc, (cx + 0.72 * ax, cy - 0.02 * ay), (0.36 * ax, 1.04 * ay))
    neck_angle = s.neck_angle + pose.neck
    base = (cx - 0.8 * ax, cy - 0.3 * ay)
    end = (
        base[0] - s.neck_length * math.cos(neck_angle),
        base[1] - s.neck_length * math.sin(neck_angle),
    )
    _limb(canvas, hc, [base, end], list(s.neck_width))
    head_angle = neck_angle - s.head_drop - pose.head
    hx, hy = -math.cos(head_angle), -math.sin(head_angle)
    centre = (end[0] + hx * s.head[0] * 0.7, end[1] + hy * s.head[0] * 0.7)
    _ellipse(canvas, hc, centre, s.head, math.degrees(math.atan2(hy, hx)))
    for offset in (0.05, -0.25):  # two ears behind the crown
        root = (end[0] + hx * s.head[0] * offset, end[1] - s.head[1] * 0.8)
        tip = (root[0] + 0.3 * s.ear, root[1] - s.ear)
        _limb(canvas, hc, [root, tip], [0.6 * s.ear, 0.15 * s.ear])
    hips = (cx - 0.7 * ax, cx - 0.5 * ax, cx + 0.55 * ax, cx + 0.74 * ax)
    upper, lower = 0.5 * s.leg_length, 0.52 * s.leg_length
    for x, swing, knee in zip(hips, pose.legs, pose.knees, strict=True):
        hip = (x, cy + 0.35 * ay)
        joint = (hip[0] - upper * math.sin(swing), hip[1] + upper * math.cos(swing))
        bend = swing - knee if x < cx else swing + knee
        foot = (joint[0] - lower * math.sin(bend), joint[1] + lower * math.cos(bend))
        _limb(canvas, hc, [hip, joint, foot], [1.5 * s.leg_width, s.leg_width, 0.8 * s.leg_width])
    angle = s.tail_angle + pose.tail
    point = (cx + 0.98 * ax, cy - 0.5 * ay)
    points, step = [point], s.tail_length / 8
    for _ in range(8):
        point = (point[0] + step * math.cos(angle), point[1] + step * math.sin(angle))
        points.append(point)
        angle += s.tail_curl + pose.tail_curl
    widths = list(np.linspace(s.tail_width, 0.45 * s.tail_width, len(points)))
    _limb(canvas, hc, points, widths)
    if s.tail_tuft:
        _ellipse(
            canvas,
            hc,
            points[-1],
            (1.3 * s.tail_width, 2.6 * s.tail_width),
            math.degrees(angle) - 90,
        )


def fin_outline(s: FinShape, pose: Pose, samples: int = 96) -> np.ndarray:
    """``(2 * samples + 1, 2)`` float64 polygon of the fin in canvas heights, notches cut in."""
    t = np.linspace(0.0, 1.0, samples)[:, None]
    p0, p2 = np.array(s.lead_base), np.array(s.tip)
    chord = p2 - p0
    normal = np.array([chord[1], -chord[0]]) / np.linalg.norm(chord)  # points forward and up
    c1 = (p0 + p2) / 2 + normal * s.lead_bulge
    lead = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c1 + t**2 * p2
    p3 = np.array(s.trail_base)
    chord = p3 - p2
    inward = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)  # towards the leading edge
    c2 = (p2 + p3) / 2 + inward * s.trail_hollow
    trail = (1 - t) ** 2 * p2 + 2 * (1 - t) * t * c2 + t**2 * p3
    cut = np.zeros(samples)
    for position, half_width, depth in s.notches:
        distance = np.abs(t[:, 0] - position) / half_width
        cut = np.maximum(cut, depth * np.clip(1.0 - distance, 0.0, None) ** 0.7)
    tangent = np.gradient(trail, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    trail = trail + np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) * cut[:, None]
    outline = np.concatenate([lead, trail[1:], [[p3[0], p3[1] + 0.1], [p0[0], p0[1] + 0.1]]])
    base_y = max(p0[1], p3[1])
    outline[:, 0] += pose.lean * np.clip(base_y - outline[:, 1], 0.0, None)
    return outline


def _draw_fin(canvas: np.ndarray, s: FinShape, pose: Pose, hc: int) -> None:
    cx, cy, ax, ay = s.back
    _ellipse(canvas, hc, (cx, cy), (ax, ay))
    poly = np.array([_fixed(x, y, hc) for x, y in fin_outline(s, pose)], np.int32)
    cv2.fillPoly(canvas, [poly], 255, cv2.LINE_AA, _SHIFT)
