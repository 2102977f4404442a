"""The from-scratch recipe and its per-dataset settings."""

from __future__ import annotations

from photoid.train.config import resolve_config
from photoid.train.recipes import FROM_SCRATCH, recipe_for


def test_koivideo_uses_whole_crops_and_8x8_batches() -> None:
    recipe = recipe_for("KoiVideo", 5)
    assert recipe == [
        *FROM_SCRATCH,
        "use_bbox=false",
        "identities_per_batch=8",
        "images_per_identity=8",
        "max_minutes=5",
    ]
    config = resolve_config(None, recipe)
    assert (config.use_bbox, config.identities_per_batch, config.images_per_identity) == (
        False,
        8,
        8,
    )
    assert config.max_minutes == 5.0 and config.backbone == "mobilenetv3_small_100"


def test_other_datasets_get_the_plain_recipe_with_the_budget() -> None:
    assert recipe_for("LionData", 0.05) == [*FROM_SCRATCH, "max_minutes=0.05"]
    config = resolve_config(None, recipe_for("CTai_subset", 2.5))
    assert (config.identities_per_batch, config.images_per_identity) == (8, 8)
    assert config.use_bbox is True and config.max_minutes == 2.5
