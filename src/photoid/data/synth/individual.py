"""One synthetic individual: species, body proportions, coat per flank, and sighting schedule.

Sides: the left flank is always drawn. With ``asymmetric`` the right flank gets its own,
independent markings (fins keep their notches, which cut through the fin, but get their own
scars). A right-flank photo is rendered mirrored (head to the right), so mirroring a left-flank
photo does NOT give a valid photo of the same individual's right side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from photoid.data.synth import seeds
from photoid.data.synth.body import BodyShape
from photoid.data.synth.config import SynthConfig
from photoid.data.synth.species import SPECIES, Species

LEFT = "left"
RIGHT = "right"


@dataclass(frozen=True)
class Individual:
    """Everything fixed about one animal across its photos."""

    index: int
    identity: str
    species: Species
    shape: BodyShape
    coats: dict[str, np.ndarray]  # side -> (hc, 2hc, 3) float32 RGB in [0, 1]
    dates: tuple[str, ...]  # YYYY-MM-DD of each encounter, ascending
    photo_encounters: tuple[int, ...]  # encounter number of each photo, ascending

    def encounter_name(self, encounter: int) -> str:
        """Encounter id written to metadata, e.g. ``spotted_0003_e1``."""
        return f"{self.identity}_e{encounter}"


def canvas_height(config: SynthConfig) -> int:
    """Canonical canvas height in px (the canvas is twice as wide)."""
    return max(32, round(config.size * config.canvas_scale / 2))


def species_of(config: SynthConfig, index: int) -> Species:
    """Species of individual ``index``: the configured species taken in turn."""
    return SPECIES[config.species[index % len(config.species)]]


def make_individual(config: SynthConfig, seed: int, index: int, images_per: int) -> Individual:
    """Build individual ``index`` from its own random stream (independent of other individuals)."""
    species = species_of(config, index)
    rng = seeds.stream(seed, index, seeds.INDIVIDUAL)
    hc = canvas_height(config)
    shape = species.make_shape(rng, config.shape_jitter)
    gains = (1.0 + rng.normal(0.0, config.coat_jitter, 3)).astype(np.float32)
    coats = {LEFT: np.clip(species.make_coat(rng, shape, hc) * gains, 0.0, 1.0)}
    if config.asymmetric:
        right = seeds.stream(seed, index, seeds.RIGHT_COAT)
        coats[RIGHT] = np.clip(species.make_coat(right, shape, hc) * gains, 0.0, 1.0)
    dates, encounters = _schedule(rng, config, images_per)
    return Individual(
        index=index,
        identity=f"{species.name}_{index:04d}",
        species=species,
        shape=shape,
        coats=coats,
        dates=dates,
        photo_encounters=encounters,
    )


def _schedule(
    rng: np.random.Generator, config: SynthConfig, images_per: int
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Distinct ascending encounter dates; every encounter gets at least one photo."""
    low, high = config.encounters
    count = min(images_per, int(rng.integers(low, high + 1)), config.date_span_days)
    days = np.sort(rng.choice(config.date_span_days, size=count, replace=False))
    first = dt.date.fromisoformat(config.first_date)
    dates = tuple((first + dt.timedelta(days=int(d))).isoformat() for d in days)
    extra = rng.integers(0, count, size=images_per - count)
    encounters = np.sort(np.concatenate([np.arange(count), extra]))
    return dates, tuple(int(e) for e in encounters)
