"""The photoid web service: REST API under ``/api/v1`` (OpenAPI at ``/docs`` and ``/redoc``,
their scripts served from the installed fastapi-offline package, so they work offline), the
review web pages, and optionally the background worker computing match candidates for uploads.

    app = create_app(Settings(data_dir=Path("photoid-data")))
    uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from photoid.catalog import open_catalog
from photoid.catalog.calibration import GalleryCalibration
from photoid.catalog.sessions import LIFETIME
from photoid.service import accounts, api, changes, images, web
from photoid.service.auth import LoginRequired
from photoid.service.errors import install_error_handlers
from photoid.service.headers import SecurityHeaders, docs_policy
from photoid.service.limits import Allowance, BodyLimit
from photoid.service.offload import install_cpu_pool
from photoid.service.settings import Settings, load_secret

STATIC = Path(__file__).resolve().parent / "static"
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
DOCS_ASSETS_URL = "/docs/assets"
SESSION_COOKIE = "photoid_session"
UPLOAD_ROUTES = (("POST", "/api/v1/encounters"), ("POST", "/upload"))


async def _to_login(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc`` with their scripts, styles and icon served
    from :data:`DOCS_ASSETS` under ``/docs/assets`` (FastAPI's defaults load them from a CDN)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    favicon = f"{DOCS_ASSETS_URL}/favicon.png"

    def with_policy(page: HTMLResponse) -> HTMLResponse:
        page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body).decode("utf-8"))
        return page

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
        )
        return with_policy(page)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
        return with_policy(page)


def create_app(settings: Settings) -> FastAPI:
    """The service over the catalog in ``settings.data_dir`` (opened, and migrated, now).

    ``app.state`` holds ``catalog``, ``settings`` and ``worker`` (the running
    :class:`~photoid.catalog.matching.MatchWorker`, or None without ``start_worker``). The
    catalog closes and the worker stops when the app shuts down.
    """
    catalog = open_catalog(settings.data_dir, settings.database_url)
    secret = load_secret(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.start_worker:
            from photoid.catalog.gallery import CatalogGallery
            from photoid.catalog.matching import MatchWorker

            # The gallery saved at the last run (or an empty one): the worker syncs it with the
            # catalog in its own thread before each job, extracting only the photos attached
            # since, so startup never waits for features to be extracted.
            gallery = CatalogGallery.open(
                settings.engine_dir, settings.checkpoint, device=settings.device
            )
            detector = None
            if settings.detector is not None:
                from photoid.detect.run import Detector

                detector = Detector.load(settings.detector).use_device(settings.device)
            app.state.worker = MatchWorker(
                catalog,
                gallery,
                calibration=GalleryCalibration(),
                lease_s=settings.job_lease_s,
                detector=detector,
            )
            app.state.worker.start()
        try:
            yield
        finally:
            if app.state.worker is not None:
                app.state.worker.stop()
            catalog.close()

    app = FastAPI(
        title="photoid",
        summary="Photo-identification of individual animals: catalog, matching and review.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.catalog = catalog
    app.state.settings = settings
    app.state.worker = None
    install_error_handlers(app)
    install_cpu_pool(app, settings.cpu_threads)
    app.add_exception_handler(LoginRequired, _to_login)
    app.include_router(api.router)
    app.include_router(accounts.router)
    app.include_router(changes.router)
    app.include_router(images.router)
    app.include_router(web.router)
    _add_docs(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # The cookie holds only the server-side session's token and the CSRF token.
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=int(LIFETIME.total_seconds()),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    upload = Allowance(settings.max_body_bytes, "send fewer or smaller photos")
    app.add_middleware(
        BodyLimit,
        default=Allowance(settings.max_form_bytes),
        routes=dict.fromkeys(UPLOAD_ROUTES, upload),
    )
    app.add_middleware(SecurityHeaders)  # outermost: refusals of the body limit get them too
    return app
