"""The matching worker with a detector: an uploaded photo without a box gets the detector's
box before it is matched (an audited change the undo history shows), a photo with a box keeps
it, and a photo with no animal stays whole."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from photoid.catalog import Catalog, ImageUpload, add_encounter, add_individual, history
from photoid.catalog.encounters import encounter_images
from photoid.catalog.gallery import CatalogGallery
from photoid.catalog.matching import MatchWorker, enqueue_encounter
from photoid.detect.config import DetectorConfig
from photoid.detect.run import Detector
from photoid.local.config import LocalConfig


class OneBox(nn.Module):
    """Sees one animal at detector pixels (2, 1)-(8, 5) in a photo whose first pixel is not
    black, none in the others."""

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        out = []
        for image in images:
            seen = bool(image[:, 0, 0].sum() > 0)
            out.append(
                {
                    "boxes": torch.tensor([[2.0, 1.0, 8.0, 5.0]]) if seen else torch.zeros(0, 4),
                    "scores": torch.tensor([0.9]) if seen else torch.zeros(0),
                    "labels": torch.ones(1 if seen else 0, dtype=torch.int64),
                }
            )
        return out


def _black_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 16)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_uploads_get_the_detectors_box_before_matching(
    catalog: Catalog, tmp_path: Path, make_png: Callable[..., bytes]
) -> None:
    png_bytes = make_png
    add_individual(catalog, "ID-A")
    add_encounter(catalog, [ImageUpload(png_bytes(1, (24, 16)), "a.png")], individual="ID-A")
    uploads = [
        ImageUpload(png_bytes(2, (24, 16)), "raw.png"),  # no box: detected
        ImageUpload(png_bytes(3, (24, 16)), "boxed.png", bbox=(1.0, 1.0, 5.0, 5.0)),  # kept
        ImageUpload(_black_png(), "empty.png"),  # no animal: stays whole
    ]
    encounter, _ = add_encounter(catalog, uploads)
    # 24 px wide photos are shrunk to the detector's 12 px: a detector pixel is 2 stored ones.
    detector = Detector(OneBox(), DetectorConfig(image_size=12), "one box")
    gallery = CatalogGallery.build(catalog, config=LocalConfig(max_side=64), cache_dir=tmp_path)
    worker = MatchWorker(catalog, gallery, detector=detector)
    enqueue_encounter(catalog, encounter.id)
    job = worker.run_once()
    assert job is not None and job.status == "done", job and job.error
    boxes = [image.bbox for image in encounter_images(catalog, encounter.id)]
    assert boxes == [(4.0, 2.0, 12.0, 8.0), (1.0, 1.0, 5.0, 5.0), None]
    detected = [entry for entry in history(catalog) if entry.action == "detect"]
    assert len(detected) == 1 and "in 1 images" in detected[0].summary
