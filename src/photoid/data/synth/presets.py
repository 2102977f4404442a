"""Named settings of the synthetic generator (``photoid synth --preset NAME``).

- ``default``: :class:`SynthConfig` as it is: small 256 px frames the animal fills 40-85% of,
  each photo with a background of its own. The demo, the tests and the ``synthetic`` benchmark.
- ``field``: photos like a field survey's: 1,024-2,560 px 3:2 frames in which the animal fills
  10-50% of the width, in cluttered scenery (rocks with lichen, tree trunks, logs, bushes). An
  encounter happens with chance 0.6 at one of 6 sites shared by every individual, so photos of
  different animals share rocks and trees, while an individual's other encounters are elsewhere:
  a keypoint matcher that matches the scenery instead of the animal is caught out. ``size``
  (1,536) sets only the detail of the animal's texture here.
- ``wide``: wide scenes for training and measuring a detector (``photoid detector train``):
  768 x 512 px frames in which the animal is small (12-35% of the width, under a fifth
  of the frame's area) and anywhere, in the field preset's cluttered, shared scenery: lichen on
  rocks, trunks and logs are the distractor texture a detector must learn to ignore and a
  whole-frame matcher latches onto. Rendered at one size, so a few thousand photos take minutes.
"""

from __future__ import annotations

from dataclasses import replace

from photoid.data.synth.config import SynthConfig

_FIELD = SynthConfig(
    size=1536,
    size_range=(1024, 2560),
    aspect=2 / 3,
    jpeg_quality=(80, 95),
    encounters=(2, 4),
    animal_scale=(0.10, 0.50),
    truncation_prob=0.1,
    habitat_change=0.2,
    sites=6,
    site_prob=0.6,
    clutter=10.0,
    background_blur=(0.0, 0.3),
    blur_sigma=(0.0, 0.2),
    motion_blur_prob=0.05,
    motion_blur_length=(1.0, 2.0),
    noise_sigma=(0.01, 0.03),
    occlusion_prob=0.4,
)

PRESETS: dict[str, SynthConfig] = {
    "default": SynthConfig(),
    "field": _FIELD,
    "wide": replace(
        _FIELD, size=768, size_range=None, animal_scale=(0.12, 0.35), truncation_prob=0.05
    ),
}
