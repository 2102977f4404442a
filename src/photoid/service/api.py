"""The REST API under ``/api/v1``: each route checks its role, then makes one catalog call.

Individual codes may hold ``/``: the routes take the rest of the path as the code, so both
``/individuals/M/23`` and ``/individuals/M%2F23`` reach individual ``M/23`` (codes come from
imported datasets and field conventions, so refusing them would strand existing individuals).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from photoid.catalog import (
    AlreadyDecided,
    EncounterInfo,
    add_encounter,
    candidates_for,
    decide,
    encounter_images,
    export_dataset,
    images_of,
    merge_individuals,
    split_individual,
)
from photoid.catalog.matching import MatchFilter, enqueue_encounter, enqueue_sync
from photoid.catalog.models import Encounter, Image, Individual
from photoid.service import queries
from photoid.service.auth import Admin, Principal, Reviewer, Viewer, catalog_of
from photoid.service.errors import ApiError
from photoid.service.offload import run_blocking, run_cpu
from photoid.service.schemas import (
    MAX_CODE,
    MAX_ID,
    MAX_TEXT,
    CandidateOut,
    DecisionIn,
    DecisionOut,
    EncounterDetailOut,
    EncounterOut,
    IdPath,
    ImageOut,
    IndividualDetailOut,
    IndividualOut,
    MeOut,
    MergeIn,
    PageOut,
    SightingOut,
    SplitIn,
)
from photoid.service.settings import Settings
from photoid.service.uploads import checked_uploads, encounter_form, form_openapi

router = APIRouter(prefix="/api/v1")
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]
CodePath = Annotated[str, PathParam(min_length=1, max_length=MAX_CODE)]
EncounterSearch = Annotated[
    str | None, Query(max_length=MAX_TEXT, description="Part of location/label/observer.")
]
IndividualSearch = Annotated[
    str | None, Query(max_length=MAX_TEXT, description="Part of code/name/species.")
]


def images_out(request: Request, images: list[Image]) -> list[ImageOut]:
    """The API shape of ``images`` with their individuals' codes."""
    codes = queries.codes_of(catalog_of(request), {i.individual_id for i in images})
    return [ImageOut.of(i, codes.get(i.individual_id or 0)) for i in images]


def encounter_or_404(request: Request, encounter_id: int) -> Encounter:
    found = queries.get_encounter(catalog_of(request), encounter_id)
    if found is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    return found


def individual_or_404(request: Request, code: str) -> Individual:
    found = queries.find_individual(catalog_of(request), code)
    if found is None:
        raise ApiError(404, f"no individual with code {code!r} in the catalog")
    return found


def individuals_out(request: Request, individuals: list[Individual]) -> list[IndividualOut]:
    """The API shape of ``individuals`` with the codes of those they were merged into."""
    merged = queries.codes_of(catalog_of(request), {i.merged_into_id for i in individuals})
    return [IndividualOut.of(i, merged.get(i.merged_into_id or 0)) for i in individuals]


async def upload_encounter(
    request: Request,
    who: Principal,
    photos: list[UploadFile],
    info: EncounterInfo,
    filters: MatchFilter | None = None,
) -> tuple[Encounter, list[Image]]:
    """Check and store an uploaded encounter (in the CPU pool), then queue its photos for
    matching (candidates restricted by ``filters`` when given)."""
    settings: Settings = request.app.state.settings
    uploads = await checked_uploads(request, photos)
    catalog = catalog_of(request)

    def store() -> tuple[Encounter, list[Image]]:
        encounter, images = add_encounter(
            catalog, uploads, info, actor=who.name, max_pixels=settings.max_pixels
        )
        enqueue_encounter(catalog, encounter.id, filters)
        return encounter, images

    return await run_cpu(request, store)


@router.get("/health")
async def health() -> dict[str, str]:
    """Whether the service answers (no credentials needed, no database call)."""
    return {"status": "ok"}


@router.get("/me")
def me(who: Viewer) -> MeOut:
    """Who the credentials belong to."""
    return MeOut(name=who.name, role=who.role, via=who.via)


@router.post("/encounters", status_code=201, openapi_extra=form_openapi())
async def post_encounter(request: Request, who: Reviewer) -> EncounterDetailOut:
    """Upload an encounter: its photos in ``photos`` and its facts in form fields (read only
    once the caller is known to be a reviewer). Match candidates are computed in the
    background, restricted to individuals matching the ``filter_*`` fields when given."""
    photos, form = await encounter_form(request)
    encounter, images = await upload_encounter(request, who, photos, form.info(), form.filters())
    return EncounterDetailOut(
        **EncounterOut.of(encounter).model_dump(),
        images=await run_blocking(images_out, request, images),
        decisions=[],
    )


@router.get("/encounters")
def get_encounters(
    request: Request,
    _who: Viewer,
    status: queries.EncounterStatus = "all",
    q: EncounterSearch = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[EncounterOut]:
    """Encounters, paged; ``status=awaiting`` is the review queue, ``q`` searches location,
    label and observer."""
    page = queries.list_encounters(catalog_of(request), status, limit, offset, q)
    return PageOut(
        items=[EncounterOut.of(e) for e in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/encounters/{encounter_id:int}")
def get_encounter(request: Request, encounter_id: IdPath, _who: Viewer) -> EncounterDetailOut:
    """One encounter with its photos and decisions."""
    view = queries.encounter_view(catalog_of(request), encounter_id)
    if view is None:
        raise ApiError(404, f"no encounter {encounter_id} in the catalog")
    codes = queries.codes_of(catalog_of(request), {d.individual_id for d in view.decisions})
    return EncounterDetailOut(
        **EncounterOut.of(view.encounter).model_dump(),
        images=images_out(request, view.images),
        decisions=[DecisionOut.of(d, codes.get(d.individual_id or 0)) for d in view.decisions],
    )


@router.get("/encounters/{encounter_id:int}/candidates")
def get_candidates(request: Request, encounter_id: IdPath, _who: Viewer) -> list[CandidateOut]:
    """Every engine's ranked candidates for each photo of the encounter."""
    catalog = catalog_of(request)
    encounter_or_404(request, encounter_id)
    images = encounter_images(catalog, encounter_id)
    rows = [row for image in images for row in candidates_for(catalog, image.id)]
    codes = queries.codes_of(catalog, {row.individual_id for row in rows})
    return [CandidateOut.of(row, codes[row.individual_id]) for row in rows]


@router.post("/encounters/{encounter_id:int}/decision", status_code=201)
def post_decision(
    request: Request, encounter_id: IdPath, body: DecisionIn, who: Reviewer
) -> DecisionOut:
    """Decide that the encounter shows a known individual, a new one, none of the candidates
    (``no_match``), photos that cannot be compared (``not_comparable``), or that you are not
    sure. 409 when the encounter already has a decision other than ``not_sure``: undo it first."""
    encounter_or_404(request, encounter_id)
    try:
        decision = decide(
            catalog_of(request),
            encounter_id,
            body.verdict,
            body.individual or None,
            decided_by=who.name,
            user_id=who.user_id,
            notes=body.notes,
        )
    except AlreadyDecided as exc:
        raise ApiError(409, str(exc), "already_decided") from exc
    enqueue_sync(catalog_of(request))
    code = queries.codes_of(catalog_of(request), {decision.individual_id})
    return DecisionOut.of(decision, code.get(decision.individual_id or 0))


@router.get("/individuals")
def get_individuals(
    request: Request,
    _who: Viewer,
    q: IndividualSearch = None,
    include_merged: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[IndividualOut]:
    """Individuals by code, paged; ``q`` searches code, name and species."""
    page = queries.search_individuals(catalog_of(request), q, include_merged, limit, offset)
    return PageOut(
        items=individuals_out(request, page.items),
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/individuals/{code:path}")
def get_individual(request: Request, code: CodePath, _who: Viewer) -> IndividualDetailOut:
    """One individual with its photos and sightings (newest first)."""
    individual = individual_or_404(request, code)
    catalog = catalog_of(request)
    sightings = queries.sightings_of(catalog, individual.id)
    return IndividualDetailOut(
        **individuals_out(request, [individual])[0].model_dump(),
        images=images_out(request, images_of(catalog, code)),
        sightings=[
            SightingOut(encounter=EncounterOut.of(s.encounter), image_ids=[i.id for i in s.images])
            for s in sightings
        ],
    )


@router.post("/individuals/{code:path}/merge")
def post_merge(request: Request, code: CodePath, body: MergeIn, who: Reviewer) -> IndividualOut:
    """Merge individual ``absorb`` into this one (its photos move here)."""
    individual_or_404(request, code)
    individual_or_404(request, body.absorb)
    kept = merge_individuals(catalog_of(request), code, body.absorb, actor=who.name)
    enqueue_sync(catalog_of(request))
    return IndividualOut.of(kept)


@router.post("/individuals/{code:path}/split", status_code=201)
def post_split(request: Request, code: CodePath, body: SplitIn, who: Reviewer) -> IndividualOut:
    """Move some photos of this individual to a new individual; returns the new one."""
    individual_or_404(request, code)
    new = split_individual(
        catalog_of(request), code, body.image_ids, body.new_code or None, actor=who.name
    )
    enqueue_sync(catalog_of(request))
    return IndividualOut.of(new)


@router.get("/export")
def get_export(request: Request, _who: Admin) -> FileResponse:
    """The whole catalog as a zip of a native dataset (metadata.csv + images)."""
    folder = Path(tempfile.mkdtemp(prefix="photoid-export-"))
    try:
        export_dataset(catalog_of(request), folder / "dataset")
        archive = shutil.make_archive(str(folder / "photoid-export"), "zip", folder / "dataset")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename="photoid-export.zip",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
