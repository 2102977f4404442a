"""A fitted engine kept in a folder, and loaded from it.

``ENGINE/engine.json`` says what the folder holds: the format version, the photoid version, the
method, the options, the policy, the calibration summary, the command that fitted it, and the
gallery's digest (each photo's name, identity, box and content hash); ``ENGINE/engine.pkl``
holds the fitted engine itself (faiss indexes, calibrators, the new-individual policy,
models); ``ENGINE/stores/`` holds the local engines' keypoints and descriptors, memory-mapped
when loaded (:mod:`photoid.local.storage`), so move or copy the folder whole. Loading checks
the format before touching the pickle: a folder written by another format is refused with the
command that refits it, never read into wrong answers. Like every pickle (and every PyTorch
checkpoint), an engine folder runs code when loaded: load only folders you or your team wrote.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoid import __version__
from photoid.data.table import Dataset
from photoid.engines.base import Engine
from photoid.engines.registry import ENGINES
from photoid.errors import PhotoidError
from photoid.files import atomic_write
from photoid.local.storage import loading_from, prune_stores, saving_into

FORMAT = 2
"""Bumped whenever what ``engine.pkl`` holds changes shape."""
MANIFEST = "engine.json"
STATE = "engine.pkl"


@dataclass(frozen=True)
class Manifest:
    """What ``engine.json`` says of a saved engine."""

    format: int
    method: str
    digest: str
    photos: int
    identities: int
    data: dict[str, Any]


def gallery_digest(gallery: Dataset) -> str:
    """sha256 over each gallery row's image name, identity, box and the image's content hash:
    equal digests mean the same photos with the same labels."""
    from photoid.local.cache import content_hash

    digest = hashlib.sha256()
    boxes = gallery.cells("bbox") or [None] * len(gallery)
    rows = zip(
        gallery.table["image"], gallery.table["identity"], boxes, gallery.paths(), strict=True
    )
    for name, identity, box, path in sorted(rows, key=lambda r: str(r[0])):
        content = content_hash(path) if path.is_file() else "missing"
        digest.update(f"{name}\t{identity}\t{box}\t{content}\n".encode())
    return digest.hexdigest()


def save_engine(
    engine: Engine, folder: Path, gallery: Dataset, *, command: str = "", digest: str | None = None
) -> Path:
    """Write ``engine`` (fitted on ``gallery``) into ``folder``; returns the manifest's path.
    Both files are written to temporary names and renamed, so a killed save leaves the previous
    engine (or none), never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT,
        "photoid": __version__,
        "method": engine.method,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": command,
        "gallery": {
            "root": str(Path(gallery.root).resolve()),
            "photos": len(engine.identities),
            "identities": len(set(engine.identities)),
            "skipped": list(engine.skipped),
            "digest": digest or gallery_digest(gallery),
        },
        "options": engine.options.describe(),
        "new_individual": engine.policy.summary(),
        "calibration": engine.calibration,
    }
    with saving_into(folder) as stores:  # stored features move into folder/stores, once
        state = pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write(folder / STATE, state)
    prune_stores(folder, stores)
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2, default=str).encode())
    return folder / MANIFEST


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a saved engine, checked; a clear error when the folder holds none, or
    one of another format."""
    path = folder / MANIFEST
    if not path.is_file():
        raise PhotoidError(
            f"{folder}: no fitted engine here (no {MANIFEST}); make one with "
            "`photoid fit DATASET --method METHOD --out FOLDER`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = int(data["format"])
        method = str(data["method"])
        gallery = data["gallery"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PhotoidError(
            f"{path}: not a photoid engine manifest ({exc}); refit the engine"
        ) from None
    refit = data.get("command") or "photoid fit DATASET --method METHOD --out FOLDER"
    if found != FORMAT:
        raise PhotoidError(
            f"{folder}: engine saved in format {found} (photoid {data.get('photoid', '?')}); "
            f"this photoid reads format {FORMAT}. Refit it: {refit}"
        )
    if method not in ENGINES:
        raise PhotoidError(f"{path}: unknown method {method!r}; refit it: {refit}")
    return Manifest(
        found,
        method,
        str(gallery["digest"]),
        int(gallery["photos"]),
        int(gallery["identities"]),
        data,
    )


def stale_reason(folder: Path) -> str | None:
    """Why a saved engine may no longer match its gallery (its dataset's ``metadata.csv``
    changed after the engine was saved), with the command that refits it; None when nothing
    says so. Cheap: file times only (`photoid fit` compares image contents)."""
    manifest = read_manifest(folder)
    root = Path(str(manifest.data["gallery"].get("root", "")))
    table = root / "metadata.csv"
    if not table.is_file() or table.stat().st_mtime <= (folder / MANIFEST).stat().st_mtime:
        return None
    refit = manifest.data.get("command") or "photoid fit DATASET --out FOLDER"
    return f"{table} changed after the engine in {folder} was fitted; refit it: {refit}"


def load_engine(folder: Path, device: str = "auto", precision: str = "auto") -> Engine:
    """The fitted engine saved in ``folder`` (see the module docstring), its networks on
    ``device`` with ``precision`` (:meth:`Engine.use_device`)."""
    manifest = read_manifest(folder)
    path = folder / STATE
    try:
        with path.open("rb") as handle, loading_from(folder):
            engine = pickle.load(handle)
    except FileNotFoundError:
        raise PhotoidError(f"{path}: missing; refit the engine") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise PhotoidError(f"{path}: cannot be read ({exc}); refit the engine") from None
    if not isinstance(engine, Engine) or engine.method != manifest.method:
        raise PhotoidError(f"{path}: does not hold a {manifest.method} engine; refit it")
    return engine.use_device(device, precision)
