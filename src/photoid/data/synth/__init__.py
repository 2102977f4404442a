"""Synthetic photo-ID datasets: procedurally marked animals photographed in procedural scenes.

Species (``SynthConfig.species``): ``spotted`` (leopard-like flank spots), ``striped``
(zebra-like stripes) and ``finned`` (dolphin dorsal fin with trailing-edge notches and scars).
Identity lives in the marking geometry; palette and body plan are shared within a species.

Viewpoint column: ``left`` or ``right`` flank. Without ``asymmetric`` every photo shows the left
flank. With it, about half the photos show the right flank, which carries its own independent
markings (same identity); the right flank is rendered head-to-the-right. A mirrored photo is
therefore NOT a photo of the same individual: do not use horizontal flips as a same-identity
augmentation on asymmetric data, and match left against left, right against right.
"""

from photoid.data.synth.config import SynthConfig
from photoid.data.synth.generate import generate
from photoid.data.synth.individual import Individual, make_individual
from photoid.data.synth.render import Photo, render_photo

__all__ = [
    "Individual",
    "Photo",
    "SynthConfig",
    "generate",
    "make_individual",
    "render_example",
    "render_photo",
]


def render_example(
    seed: int, individual: int, photo: int, images_per: int, config: SynthConfig | None = None
) -> Photo:
    """Photo ``photo`` of individual ``individual`` exactly as :func:`generate` renders it
    (before file encoding), with its animal mask: for tests and inspection."""
    settings = config or SynthConfig()
    return render_photo(
        make_individual(settings, seed, individual, images_per), photo, seed, settings
    )
