"""End to end in headless Chromium (Playwright): a reviewer logs in, uploads an encounter,
matching runs, the reviewer confirms the right candidate with the keyboard and sees the
individual's page list the new sighting; a viewer sees no decision buttons and a forged
decision is refused. Nothing on the way breaks the pages' Content-Security-Policy, and the API
documentation renders under its own."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from photoid.catalog import Catalog, add_user, images_of, import_dataset
from photoid.catalog.gallery import CatalogGallery
from photoid.catalog.matching import MatchWorker
from photoid.data.csvio import read_metadata_csv, write_metadata_csv
from photoid.data.synth import generate
from photoid.service.app import create_app
from photoid.service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse"


def _require_chromium() -> None:
    reason = ""
    if not CHROMIUM.is_file():
        reason = f"Chromium not installed at {CHROMIUM} (Debian package 'chromium')"
    elif not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is not executable"
    if reason:
        if os.environ.get("PHOTOID_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (PHOTOID_REQUIRE_SHARED=1 forbids skipping)")
        pytest.skip(reason)


@dataclass
class Running:
    base: str
    catalog: Catalog
    upload: Path
    identity: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """The service on a free port over a catalog imported from a tiny synthetic dataset; the
    last photo of one individual is held back to be uploaded."""
    _require_chromium()
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
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start in 20 s"
        time.sleep(0.05)
    yield Running(f"http://127.0.0.1:{port}", catalog, upload, "striped_0001")
    server.should_exit = True
    thread.join(10)


def _csp_violations(page: Page) -> list[str]:
    """The console messages of ``page`` about its Content-Security-Policy (filled as it runs)."""
    found: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", note)
    return found


def _log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/review")
    assert "/login" in page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url(f"{base}/review")


def test_review_in_chromium(running: Running) -> None:
    base, catalog = running.base, running.catalog
    before = len(images_of(catalog, running.identity))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            page = browser.new_context().new_page()
            violations = _csp_violations(page)
            _log_in(page, base, "rita")
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
            _log_in(seen, base, "vera")
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
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            page = browser.new_context().new_page()
            violations = _csp_violations(page)
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
