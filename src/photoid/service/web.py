"""The review web pages: log in (throttled), the queue of encounters awaiting review, the
review page of one encounter, individuals and their photo history, and the upload form.

Links to an individual's page percent-encode its code whole (``/`` too), so codes holding
``/``, ``?``, ``#`` or ``..`` reach their page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from photoid.catalog import AlreadyDecided, decide, images_of, logins
from photoid.catalog.matching import enqueue_sync
from photoid.catalog.users import MAX_PASSWORD
from photoid.errors import PhotoidError
from photoid.service import queries
from photoid.service.api import CodePath, Offset, upload_encounter
from photoid.service.auth import (
    Principal,
    authenticated,
    catalog_of,
    check_csrf,
    client_address,
    csrf_token,
    log_in,
    log_out,
    require_page,
)
from photoid.service.errors import ApiError
from photoid.service.offload import run_blocking, run_cpu
from photoid.service.reviewing import Undoable, last_decision, verdict_label
from photoid.service.schemas import (
    MAX_CODE,
    MAX_ID,
    MAX_NOTES,
    MAX_TEXT,
    MAX_USER,
    ONE_LINE,
    IdPath,
    chance_in_words,
    score_kind,
)
from photoid.service.uploads import encounter_form

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
TEMPLATES.env.filters["segment"] = lambda text: quote(str(text), safe="")
PAGE_SIZE = 50
router = APIRouter(include_in_schema=False)
Viewer = Annotated[Principal, Depends(require_page("viewer"))]
Reviewer = Annotated[Principal, Depends(require_page("reviewer"))]


def render(
    request: Request, template: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the user, their CSRF token and the role helpers every template uses."""
    context.update(
        user=who,
        csrf=csrf_token(request),
        score_kind=score_kind,
        in_words=chance_in_words,
        verdict_label=verdict_label,
    )
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
    username: Annotated[str, Form(max_length=MAX_USER)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Check the password and start a fresh server-side session (401 with the form again if
    wrong; 429 with ``Retry-After`` after too many failures for the name or the address)."""
    await check_csrf(request)
    try:
        done = await run_cpu(
            request,
            logins.log_in,
            catalog_of(request),
            username,
            password,
            client_address(request),
        )
    except logins.LoginThrottled as exc:
        error = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        page = render(request, "login.html", None, 429, next=_safe_next(next), error=error)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if done is None:
        error = "Wrong user name or password."
        return render(request, "login.html", None, 401, next=_safe_next(next), error=error)
    log_in(request, done.token)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    """End the session on the server and go back to the login form."""
    if await authenticated(request) is not None:
        await check_csrf(request)
    await run_blocking(log_out, request)
    return RedirectResponse("/login", status_code=303)


@router.get("/review")
def queue(
    request: Request,
    who: Viewer,
    offset: Offset = 0,
    done: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """Encounters awaiting review, oldest first; ``done`` names the one just decided."""
    page = queries.list_encounters(catalog_of(request), "awaiting", PAGE_SIZE, offset)
    decided = queries.encounter_view(catalog_of(request), done, top=0) if done else None
    thumbnails = queries.first_images(catalog_of(request), [e.id for e in page.items])
    return render(
        request,
        "queue.html",
        who,
        page=page,
        decided=decided,
        thumbnails=thumbnails,
        undoable=_undoable(request, who),
    )


def _undoable(request: Request, who: Principal) -> Undoable | None:
    """The decision the page's undo button would reverse (None for a viewer)."""
    return last_decision(catalog_of(request), who.name) if who.can("reviewer") else None


def _review(
    request: Request, who: Principal, view: queries.EncounterView, status: int, error: str | None
) -> HTMLResponse:
    """The review page of ``view``: its photos, candidates, decision buttons, the encounter
    that skipping opens and the decision that undo would reverse."""
    following = queries.next_awaiting(catalog_of(request), view.encounter.id)
    return render(
        request,
        "review.html",
        who,
        status,
        view=view,
        error=error,
        skip_to=f"/review/{following}" if following else "/review",
        undoable=_undoable(request, who),
    )


@router.get("/review/{encounter_id:int}")
def review_page(request: Request, encounter_id: IdPath, who: Viewer) -> HTMLResponse:
    """The query photos beside the top candidates, with the decision form for reviewers."""
    view = queries.encounter_view(catalog_of(request), encounter_id)
    if view is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    return _review(request, who, view, 200, None)


@router.post("/review/{encounter_id:int}", response_model=None)
def review_decide(
    request: Request,
    encounter_id: IdPath,
    who: Reviewer,
    verdict: Annotated[str, Form(max_length=16)],
    individual: Annotated[str | None, Form(max_length=MAX_CODE, pattern=ONE_LINE)] = None,
    new_code: Annotated[str | None, Form(max_length=MAX_CODE, pattern=ONE_LINE)] = None,
    notes: Annotated[str, Form(max_length=MAX_NOTES)] = "",
) -> Response:
    """Record the reviewer's decision, then open the next encounter awaiting review.
    ``verdict``: a catalog verdict (see :func:`photoid.catalog.decide`); the page again, with
    the reason, when it is refused (409 when the encounter was already decided)."""
    catalog = catalog_of(request)
    view = queries.encounter_view(catalog, encounter_id)
    if view is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    chosen = {"same": individual, "new": new_code}.get(verdict)
    try:
        decide(catalog, encounter_id, verdict, chosen or None, who.name, who.user_id, notes)
    except AlreadyDecided as exc:
        return _review(request, who, view, 409, str(exc))
    except PhotoidError as exc:
        return _review(request, who, view, 400, str(exc))
    enqueue_sync(catalog)
    following = queries.next_awaiting(catalog, encounter_id)
    target = f"/review/{following}" if following else f"/review?done={encounter_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/individuals")
def individuals_page(
    request: Request,
    who: Viewer,
    q: Annotated[str | None, Query(max_length=MAX_TEXT)] = None,
    offset: Offset = 0,
) -> HTMLResponse:
    """Individuals by code, searchable by code, name or species."""
    page = queries.search_individuals(catalog_of(request), q, False, PAGE_SIZE, offset)
    return render(request, "individuals.html", who, page=page, q=q or "")


@router.get("/individuals/{code:path}")
def individual_page(
    request: Request,
    code: CodePath,
    who: Viewer,
) -> HTMLResponse:
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
async def upload(request: Request, who: Reviewer) -> Response:
    """Store an uploaded encounter and open its review page (the form again on refusal). The
    form is read only once the sender is known to be a reviewer."""
    try:
        photos, form = await encounter_form(request)
        encounter, _ = await upload_encounter(request, who, photos, form.info())
    except ApiError as exc:
        return render(request, "upload.html", who, exc.status, error=exc.message)
    except PhotoidError as exc:
        return render(request, "upload.html", who, 422, error=str(exc))
    return RedirectResponse(f"/review/{encounter.id}", status_code=303)
