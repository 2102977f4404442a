"""Take the screenshots of docs/review.md: the review queue, a review page zoomed in with the
matched keypoints shown, and a decided encounter's page.

Builds a small catalog from synthetic photos, runs the local-feature engine on the photos
awaiting review (real keypoints), serves it on a free port and drives headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from fastapi import FastAPI
from playwright.sync_api import Page, ViewportSize, sync_playwright

from photoid.catalog import Catalog, add_user, import_dataset
from photoid.catalog.gallery import CatalogGallery
from photoid.catalog.matching import MatchWorker, enqueue_encounter
from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.synth import generate
from photoid.service import queries
from photoid.service.app import create_app
from photoid.service.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
from browser_support import PASSWORD, launch, log_in, serving

USER = "rita"
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


def build_app(folder: Path) -> FastAPI:
    """The service over a catalog in ``folder``: four individuals with two labelled photos
    each and their third photo awaiting review, its candidates found by the local-feature
    engine."""
    metadata = generate(folder / "synth", individuals=4, images_per=3, seed=3, size=320)
    table = read_metadata_csv(metadata)
    held = table.groupby("identity").cumcount() == 2
    table.loc[held, "identity"] = "unknown"
    table["encounter"] = [f"e{row}" for row in range(len(table))]
    write_metadata_csv(table, metadata)
    app = create_app(Settings(data_dir=folder / "data", start_worker=False))
    catalog: Catalog = app.state.catalog
    import_dataset(catalog, folder / "synth")
    add_user(catalog, USER, "reviewer", PASSWORD)
    worker = MatchWorker(catalog, CatalogGallery.build(catalog))
    for encounter in queries.list_encounters(catalog, "awaiting", 50, 0).items:
        enqueue_encounter(catalog, encounter.id)
    while worker.run_once() is not None:
        pass
    return app


def shoot(page: Page, base: str, out: Path) -> None:
    """Log in and save queue.png, review.png and decided.png into ``out``."""
    log_in(page, base, USER)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "queue.png", full_page=True)
    first = page.locator("table a[href^='/review/']").first.get_attribute("href")
    page.goto(f"{base}{first}")
    page.wait_for_function("document.getElementById('candidate-view').naturalWidth > 0")
    for key in ("p", "+", "+", "Shift+ArrowLeft"):
        page.keyboard.press(key)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "review.png", full_page=True)
    page.keyboard.press("0")
    with page.expect_navigation():
        page.keyboard.press("s")
    page.goto(f"{base}{first}")
    page.wait_for_function("document.getElementById('candidate-view').naturalWidth > 0")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "decided.png", full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        serving(build_app(Path(folder))) as base,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        try:
            shoot(browser.new_page(viewport=VIEWPORT), base, out)
        finally:
            browser.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
