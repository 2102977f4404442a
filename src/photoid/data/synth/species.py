"""The synthetic species: one body plan, palette, habitat list and marking kind each.

Every individual of a species shares the plan; :func:`Species.make_shape` only jitters its
proportions by ``jitter`` (relative std), so silhouette alone does not tell individuals apart.
Fins are the exception real photo-ID shares: their trailing-edge notches are part of the outline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from photoid.data.synth.body import BodyShape, FinShape, QuadrupedShape
from photoid.data.synth.pattern import fin_coat, spotted_coat, striped_coat


@dataclass(frozen=True)
class Species:
    """A registry entry. ``habitats`` and ``occluders`` name entries of scene and occlusion."""

    name: str  # key in SynthConfig.species and prefix of identity names
    label: str  # written to the species column
    habitats: tuple[str, ...]
    occluders: tuple[str, ...]
    make_shape: Callable[[np.random.Generator, float], BodyShape]
    make_coat: Callable[[np.random.Generator, BodyShape, int], np.ndarray]


def _j(rng: np.random.Generator, value: float, jitter: float) -> float:
    return float(value * (1.0 + rng.normal(0.0, jitter)))


def _cat_shape(rng: np.random.Generator, jitter: float) -> BodyShape:
    return QuadrupedShape(
        torso=(1.0, 0.5, _j(rng, 0.5, jitter), _j(rng, 0.16, jitter)),
        neck_length=_j(rng, 0.16, jitter),
        neck_width=(0.24, 0.17),
        neck_angle=_j(rng, 0.35, jitter),
        head=(_j(rng, 0.12, jitter), _j(rng, 0.1, jitter)),
        head_drop=0.35,
        ear=0.05,
        leg_length=_j(rng, 0.36, jitter),
        leg_width=_j(rng, 0.075, jitter),
        tail_length=_j(rng, 0.5, jitter),
        tail_width=0.045,
        tail_angle=0.9,
        tail_curl=-0.1,
        tail_tuft=False,
    )


def _equid_shape(rng: np.random.Generator, jitter: float) -> BodyShape:
    return QuadrupedShape(
        torso=(1.02, 0.46, _j(rng, 0.46, jitter), _j(rng, 0.18, jitter)),
        neck_length=_j(rng, 0.28, jitter),
        neck_width=(0.26, 0.15),
        neck_angle=_j(rng, 0.95, jitter),
        head=(_j(rng, 0.17, jitter), _j(rng, 0.075, jitter)),
        head_drop=1.6,
        ear=0.07,
        leg_length=_j(rng, 0.42, jitter),
        leg_width=_j(rng, 0.065, jitter),
        tail_length=_j(rng, 0.36, jitter),
        tail_width=0.035,
        tail_angle=1.3,
        tail_curl=0.0,
        tail_tuft=True,
    )


def _fin_shape(rng: np.random.Generator, jitter: float) -> BodyShape:
    notches = [
        (
            float(rng.uniform(0.08, 0.92)),
            float(rng.uniform(0.025, 0.07)),
            float(rng.uniform(0.02, 0.06)),
        )
        for _ in range(int(rng.integers(1, 6)))
    ]
    if rng.random() < 0.25:  # a chopped-off tip
        notches.append((0.0, float(rng.uniform(0.04, 0.1)), float(rng.uniform(0.03, 0.06))))
    return FinShape(
        lead_base=(_j(rng, 0.6, jitter / 2), 0.8),
        trail_base=(_j(rng, 1.22, jitter / 2), 0.8),
        tip=(_j(rng, 1.4, jitter / 2), float(np.clip(_j(rng, 0.1, jitter * 2), 0.05, 0.2))),
        lead_bulge=_j(rng, 0.09, jitter * 2),
        trail_hollow=_j(rng, 0.16, jitter * 2),
        notches=tuple(sorted(notches)),
        back=(1.0, 1.15, 0.75, 0.38),
    )


def _spotted(rng: np.random.Generator, shape: BodyShape, hc: int) -> np.ndarray:
    assert isinstance(shape, QuadrupedShape)
    return spotted_coat(rng, shape, hc)


def _striped(rng: np.random.Generator, shape: BodyShape, hc: int) -> np.ndarray:
    assert isinstance(shape, QuadrupedShape)
    return striped_coat(rng, shape, hc)


def _finned(rng: np.random.Generator, shape: BodyShape, hc: int) -> np.ndarray:
    assert isinstance(shape, FinShape)
    return fin_coat(rng, shape, hc)


SPECIES: dict[str, Species] = {
    "spotted": Species(
        "spotted",
        "spotted cat (synthetic)",
        ("grass", "savanna", "foliage"),
        ("branch", "tuft", "bush"),
        _cat_shape,
        _spotted,
    ),
    "striped": Species(
        "striped",
        "striped equid (synthetic)",
        ("grass", "savanna"),
        ("branch", "tuft", "bush"),
        _equid_shape,
        _striped,
    ),
    "finned": Species(
        "finned",
        "dolphin dorsal fin (synthetic)",
        ("water",),
        ("splash",),
        _fin_shape,
        _finned,
    ),
}
