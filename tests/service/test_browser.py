"""End to end in headless Chromium (Playwright): a reviewer logs in, uploads an encounter,
matching runs, the reviewer confirms the right candidate with the keyboard and sees the
individual's page list the new sighting; a viewer sees no decision buttons and a forged
decision is refused. Nothing on the way breaks the pages' Content-Security-Policy, and the API
documentation renders under its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import PASSWORD, csp_violations, launch, log_in, require_chromium, serving
from playwright.sync_api import sync_playwright

from photoid.catalog import Catalog, add_user, images_of, import_dataset
from photoid.catalog.gallery import CatalogGallery
from photoid.catalog.matching import MatchWorker
from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.synth import generate
from photoid.service.app import create_app
from photoid.service.settings import Settings


@dataclass
class Running:
    base: str
    catalog: Catalog
    upload: Path
    identity: str


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """The service on a free port over a catalog imported from a tiny synthetic dataset; the
    last photo of one individual is held back to be uploaded."""
    require_chromium()
    dataset = tmp_path / "synth"
    metadata = generate(dataset, individuals=3, images_per=3, seed=0, size=160)
    table = read_metadata_csv(metadata)
    held = table.index[table["identity"] == "striped_0001"][-1]
    upload = tmp_path / "upload.jpg"
    shutil.copyfile(dataset / table.loc[held, "image"], upload)
    write_metadata_csv(table.drop(index=held), metadata)
    app = create_app(Settings(data_dir=tmp_path / "data", start_worker=False))
    catalog: Catalog = app.state.catalog
    import_dataset(catalog, dataset)
    add_user(catalog, "rita", "reviewer", PASSWORD)
    add_user(catalog, "vera", "viewer", PASSWORD)
    with serving(app) as base:
        yield Running(base, catalog, upload, "striped_0001")


def test_review_in_chromium(running: Running) -> None:
    base, catalog = running.base, running.catalog
    before = len(images_of(catalog, running.identity))
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context().new_page()
            violations = csp_violations(page)
            log_in(page, base, "rita")
            page.goto(f"{base}/upload")
            page.set_input_files("input[name=photos]", str(running.upload))
            page.fill("input[name=date]", "2024-05-01")
            page.fill("input[name=location]", "North reef")
            page.click("form[action='/upload'] button[type=submit]")
            page.wait_for_url(f"{base}/review/*")
            encounter = int(page.url.rsplit("/", 1)[1])
            assert "No candidates yet" in page.content()

            job = MatchWorker(catalog, CatalogGallery.build(catalog)).run_once()
            assert job is not None and job.status == "done", job and job.error
            page.reload()
            codes = page.locator("li.candidate").evaluate_all("els => els.map(e => e.dataset.code)")
            assert running.identity in codes, codes
            assert page.locator(".score-kind").first.inner_text().lower() == "raw score"
            # The candidate's gallery photo has its synthetic box: framed over the photo.
            page.wait_for_function(
                "document.querySelectorAll('#overlay rect.animal-box').length === 1"
            )
            framed = page.locator("#overlay rect.animal-box").bounding_box()
            pane = page.locator(".pane").nth(1).bounding_box()
            assert framed is not None and pane is not None
            assert (
                pane["x"] <= framed["x"]
                and framed["x"] + framed["width"] <= pane["x"] + pane["width"] + 1
            )
            key = str(codes.index(running.identity) + 1)
            page.keyboard.press(key)
            assert page.locator(f"input[data-key='{key}']").is_checked()
            page.keyboard.press("s")
            page.wait_for_url(f"{base}/review?done={encounter}")
            page.click(f"a[href='/individuals/{running.identity}']")
            page.wait_for_url(f"{base}/individuals/{running.identity}")
            sightings = page.locator("table.sightings").inner_text()
            assert "North reef" in sightings and "2024-05-01" in sightings
            assert len(images_of(catalog, running.identity)) == before + 1
            assert violations == []

            viewer = browser.new_context()
            seen = viewer.new_page()
            log_in(seen, base, "vera")
            seen.goto(f"{base}/review/{encounter}")
            assert seen.locator("button[value=same]").count() == 0
            assert seen.locator("#decision").count() == 0
            csrf = seen.locator("input[name=csrf_token]").first.get_attribute("value")
            forged = viewer.request.post(
                f"{base}/review/{encounter}",
                form={"verdict": "new", "csrf_token": csrf or ""},
            )
            assert forged.status == 403
            assert forged.json()["error"]["code"] == "forbidden"
        finally:
            browser.close()
    assert len(images_of(catalog, running.identity)) == before + 1


def test_api_docs_render_under_their_policy_in_chromium(running: Running) -> None:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_context().new_page()
            violations = csp_violations(page)
            page.goto(f"{running.base}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            assert "photoid" in page.locator(".swagger-ui .info .title").inner_text()
            page.goto(f"{running.base}/redoc")
            page.wait_for_selector("redoc h1", timeout=20_000)
            assert "photoid" in page.locator("redoc h1").first.inner_text()
            # ReDoc's attempt to fetch its logo from its CDN is blocked, as it should be
            assert [v for v in violations if "https://cdn.redoc.ly/" not in v] == []
        finally:
            browser.close()
