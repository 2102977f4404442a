"""The catalog: individuals, encounters, images, match candidates and decisions in a database
(SQLite file by default, PostgreSQL by URL), image files content-addressed under the data
folder, and an audit trail from which every change can be undone.

    catalog = open_catalog("data")
    encounter, images = add_encounter(catalog, [ImageUpload(data, "photo.jpg")])
    record_candidates(catalog, images[0].id, "deep", [("ID-0001", 0.82)])
    decision = decide(catalog, encounter.id, "same", individual="ID-0001", decided_by="ana")
    undo(catalog, audit_id)

Every function takes the open :class:`Catalog` first and returns detached model rows.
Background identification (the job queue's worker and the engines' gallery) lives in
:mod:`photoid.catalog.matching` and :mod:`photoid.catalog.gallery`, imported on demand since
they load the engines.
"""

from photoid.catalog.audit import history, undo
from photoid.catalog.candidates import Evidence, candidates_for, record_candidates
from photoid.catalog.db import Catalog, open_catalog, upgrade
from photoid.catalog.decisions import AlreadyDecided, decide
from photoid.catalog.encounters import (
    EncounterInfo,
    ImageUpload,
    add_encounter,
    encounter_images,
)
from photoid.catalog.individuals import (
    add_individual,
    get_individual,
    images_of,
    list_individuals,
    merge_individuals,
    split_individual,
)
from photoid.catalog.jobs import (
    claim,
    complete,
    enqueue,
    fail,
    get_job,
    job_counts,
    list_jobs,
    requeue_stale,
)
from photoid.catalog.maintenance import check, gc
from photoid.catalog.transfer import ImportSummary, export_dataset, import_dataset
from photoid.catalog.users import (
    add_user,
    create_token,
    revoke_token,
    verify_password,
    verify_token,
)

__all__ = [
    "AlreadyDecided",
    "Catalog",
    "EncounterInfo",
    "Evidence",
    "ImageUpload",
    "ImportSummary",
    "add_encounter",
    "add_individual",
    "add_user",
    "candidates_for",
    "check",
    "claim",
    "complete",
    "create_token",
    "decide",
    "encounter_images",
    "enqueue",
    "export_dataset",
    "fail",
    "gc",
    "get_individual",
    "get_job",
    "history",
    "images_of",
    "import_dataset",
    "job_counts",
    "list_individuals",
    "list_jobs",
    "merge_individuals",
    "open_catalog",
    "record_candidates",
    "requeue_stale",
    "revoke_token",
    "split_individual",
    "undo",
    "upgrade",
    "verify_password",
    "verify_token",
]
