"""A training-free global appearance engine: colour histograms compared by the Hellinger kernel.

It needs no weights and little time, so it gives the fused engine a global score where no deep
model exists. What it sees is the colour of the whole photo, the animal and its surroundings:
photos of one encounter (same light, same background) score high together, which makes it a
strong cue within a field season and a weak one across seasons. Its hue-saturation variant
leaves brightness out, so a change of light moves it less.
"""

from photoid.appearance.descriptor import BINS, HUE_SATURATION_BINS, colour_histogram
from photoid.appearance.engine import ColourEngine

__all__ = ["BINS", "HUE_SATURATION_BINS", "ColourEngine", "colour_histogram"]
