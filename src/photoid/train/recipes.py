"""Training recipes the benchmarks use: the from-scratch CPU recipe and its per-dataset changes.

Each recipe is a list of ``key=value`` training settings for
:func:`photoid.train.config.resolve_config` (later entries win), so a command line's ``--set``
overrides can follow it.
"""

from __future__ import annotations

# The from-scratch CPU recipe: a small, fast backbone (MobileNetV3-small trains at ~230 img/s
# at 128 px on 2 cores, ResNet-18 at ~40) on the animal crops, plain softmax over the
# identities on the BN-neck features (the Turtle Recall winner's formulation; margin heads
# converged slower from scratch), light augmentation (the heavy policy's blur and noise wipe out
# spots a few pixels wide: 0.575 top-1 against 0.812 at 160 px), 192 px (0.841; spots need
# resolution), one learning rate for all parameters, 0.004 (0.869 against 0.841 at 0.002 and
# 0.794 at 0.006 on benchmarks/deep_synthetic.py's earlier 40 x 50 data).
FROM_SCRATCH: tuple[str, ...] = (
    "backbone=mobilenetv3_small_100",
    "image_size=192",
    "embedding_size=256",
    "head=softmax",
    "policy=light",
    "identities_per_batch=16",
    "images_per_identity=4",
    "lr=0.004",
    "head_lr_multiplier=1",
    "epochs=38",
    "workers=2",
    "checkpoint_every_steps=0",
    "max_minutes=10",
)

# What differs per dataset (keyed by the dataset's folder name).
DATASET_SETTINGS: dict[str, tuple[str, ...]] = {
    # 10 and 9 training identities: 8 per batch with 8 photos each.
    "CTai_subset": ("identities_per_batch=8", "images_per_identity=8"),
    # Its bbox column is in video-frame coordinates, not in the stored crops: use them whole.
    "KoiVideo": ("use_bbox=false", "identities_per_batch=8", "images_per_identity=8"),
}


def recipe_for(name: str, minutes: float) -> list[str]:
    """The from-scratch recipe for dataset ``name`` (a folder name such as ``"LionData"``; other
    names get the plain recipe) with a wall-time budget of ``minutes`` (``max_minutes``)."""
    return [*FROM_SCRATCH, *DATASET_SETTINGS.get(name, ()), f"max_minutes={minutes:g}"]
