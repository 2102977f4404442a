"""The review web pages: log in, the queue of encounters awaiting review, the review page of
one encounter, individuals and their photo history, and the upload form."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from photoid.catalog import EncounterInfo, decide, images_of, verify_password
from photoid.catalog.matching import enqueue_sync
from photoid.errors import PhotoidError
from photoid.service import queries
from photoid.service.api import upload_encounter
from photoid.service.auth import (
    Principal,
    authenticate,
    catalog_of,
    check_csrf,
    csrf_token,
    log_in,
    log_out,
    require_page,
)
from photoid.service.errors import ApiError
from photoid.service.schemas import score_kind

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
PAGE_SIZE = 50
router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_page("viewer"))]
Reviewer = Annotated[Principal, Depends(require_page("reviewer"))]


def render(
    request: Request, template: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the user, their CSRF token and the role helpers every template uses."""
    context.update(user=who, csrf=csrf_token(request), score_kind=score_kind)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def _safe_next(path: str | None) -> str:
    """``path`` when it is a path on this site, else the queue (no open redirects)."""
    local = path is not None and path.startswith("/") and not path.startswith(("//", "/\\"))
    return path if local and path is not None else "/review"


@router.get("/")
def home() -> RedirectResponse:
    """The review queue is the home page."""
    return RedirectResponse("/review", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/review") -> HTMLResponse:
    """The login form (its CSRF token starts the session)."""
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login", response_model=None)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form()] = "/review",
) -> Response:
    """Check the password and start a fresh session (401 with the form again if wrong)."""
    await check_csrf(request)
    user = verify_password(catalog_of(request), username, password)
    if user is None:
        error = "Wrong user name or password."
        return render(request, "login.html", None, 401, next=_safe_next(next), error=error)
    log_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    """End the session and go back to the login form."""
    if authenticate(request) is not None:
        await check_csrf(request)
    log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/review")
def queue(request: Request, who: Viewer, offset: int = 0, done: int | None = None) -> HTMLResponse:
    """Encounters awaiting review, oldest first; ``done`` names the one just decided."""
    page = queries.list_encounters(catalog_of(request), "awaiting", PAGE_SIZE, max(offset, 0))
    decided = queries.encounter_view(catalog_of(request), done, top=0) if done else None
    return render(request, "queue.html", who, page=page, decided=decided)


@router.get("/review/{encounter_id:int}")
def review_page(request: Request, encounter_id: int, who: Viewer) -> HTMLResponse:
    """The query photos beside the top candidates, with the decision form for reviewers."""
    view = queries.encounter_view(catalog_of(request), encounter_id)
    if view is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    return render(request, "review.html", who, view=view, error=None)


@router.post("/review/{encounter_id:int}", response_model=None)
def review_decide(
    request: Request,
    encounter_id: int,
    who: Reviewer,
    verdict: Annotated[str, Form()],
    individual: Annotated[str | None, Form(max_length=200)] = None,
    new_code: Annotated[str | None, Form(max_length=200)] = None,
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Record the reviewer's decision, then open the next encounter awaiting review."""
    catalog = catalog_of(request)
    view = queries.encounter_view(catalog, encounter_id)
    if view is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    chosen = {"same": individual, "new": new_code}.get(verdict)
    try:
        decide(catalog, encounter_id, verdict, chosen or None, who.name, who.user_id, notes)
    except PhotoidError as exc:
        return render(request, "review.html", who, 400, view=view, error=str(exc))
    enqueue_sync(catalog)
    following = queries.next_awaiting(catalog, encounter_id)
    target = f"/review/{following}" if following else f"/review?done={encounter_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/individuals")
def individuals_page(
    request: Request, who: Viewer, q: str | None = None, offset: int = 0
) -> HTMLResponse:
    """Individuals by code, searchable by code, name or species."""
    page = queries.search_individuals(catalog_of(request), q, False, PAGE_SIZE, max(offset, 0))
    return render(request, "individuals.html", who, page=page, q=q or "")


@router.get("/individuals/{code}")
def individual_page(request: Request, code: str, who: Viewer) -> HTMLResponse:
    """An individual's sightings and photo history."""
    catalog = catalog_of(request)
    individual = queries.find_individual(catalog, code)
    if individual is None:
        raise ApiError(404, f"no individual with code {code!r} in the catalog")
    merged = queries.codes_of(catalog, {individual.merged_into_id})
    return render(
        request,
        "individual.html",
        who,
        individual=individual,
        merged_into=merged.get(individual.merged_into_id or 0),
        images=images_of(catalog, code),
        sightings=queries.sightings_of(catalog, individual.id),
    )


@router.get("/upload")
def upload_page(request: Request, who: Reviewer) -> HTMLResponse:
    """The form to upload an encounter's photos."""
    return render(request, "upload.html", who, error=None)


@router.post("/upload", response_model=None)
async def upload(
    request: Request,
    who: Reviewer,
    photos: list[UploadFile],
    date: Annotated[str, Form(max_length=40)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    observer: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Store an uploaded encounter and open its review page (the form again on refusal)."""
    try:
        when = datetime.fromisoformat(date) if date else None
    except ValueError:
        return render(request, "upload.html", who, 422, error=f"{date!r} is not a date")
    info = EncounterInfo(when, location or None, observer or None, notes)
    try:
        encounter, _ = await upload_encounter(request, who, photos, info)
    except ApiError as exc:
        return render(request, "upload.html", who, exc.status, error=exc.message)
    except PhotoidError as exc:
        return render(request, "upload.html", who, 422, error=str(exc))
    return RedirectResponse(f"/review/{encounter.id}", status_code=303)
