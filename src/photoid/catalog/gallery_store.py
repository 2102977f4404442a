"""A catalog gallery kept in a folder between restarts, so that a restarted service extracts
only the photos attached since the last save.

``FOLDER/gallery.json`` says what the folder holds: this module's format, the engine store's
format (:data:`photoid.engines.store.FORMAT`), the engine method, the settings the gallery was
built with and their fingerprint, and how many images it holds. ``FOLDER/gallery.pkl`` holds
the fitted engine and, for every catalog image it was given, the image's content hash and box
(so that an image id the database now gives to another photo is noticed, not matched with the
features of the old one); ``FOLDER/stores/`` the local engine's features on disk, appended
to in place as images are added (rows past the count a saved pickle knows are never read, and
overwritten by the next append). Both files are written to temporary names and renamed; the pickle
repeats the format and fingerprint, so a crash between the two renames is noticed too.

Loading checks the format and settings before touching the pickle: anything that differs is a
:class:`PhotoidError` saying why, and the caller starts a fresh gallery. Like every pickle, the
folder runs code when loaded: keep it inside the catalog's data folder.
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
from photoid.core import Box
from photoid.engines.base import Engine, EngineOptions
from photoid.engines.store import FORMAT as ENGINE_FORMAT
from photoid.errors import PhotoidError
from photoid.files import atomic_write
from photoid.local.storage import loading_from, prune_stores, saving_into

FORMAT = 1
"""Bumped whenever what ``gallery.pkl`` holds changes shape."""
MANIFEST = "gallery.json"
STATE = "gallery.pkl"

Signature = tuple[str, Box | None]
"""A catalog image as the engine saw it: its content hash (sha256, hex) and its box."""


@dataclass(frozen=True)
class SavedGallery:
    """What :func:`load_gallery` reads back: the engine, and the signature of every catalog
    image it was given (by image id; unreadable ones included, the engine skipped them)."""

    engine: Engine
    indexed: dict[int, Signature]


def gallery_settings(method: str, options: EngineOptions, wide: int) -> dict[str, Any]:
    """The settings that decide what a gallery holds, as plain JSON data: the method, the engine
    options (but the fused engine's, which a catalog gallery never uses), the feature cache,
    ``wide``, and each model by content (a checkpoint retrained in place changes them; one
    moved does not)."""
    from photoid.local.cache import content_hash

    described = options.describe()
    described.pop("fused", None)
    described["models"] = [
        content_hash(model) if model.is_file() else str(model) for model in options.models
    ]
    plain: dict[str, Any] = json.loads(
        json.dumps(
            {
                "method": method,
                "options": described,
                "cache_dir": None if options.cache_dir is None else str(options.cache_dir),
                "wide": wide,
            },
            default=str,
        )
    )
    return plain


def fingerprint(settings: dict[str, Any]) -> str:
    """sha256 (hex) of the settings and of both formats."""
    text = json.dumps([FORMAT, ENGINE_FORMAT, settings], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def save_gallery(
    folder: Path, engine: Engine, indexed: dict[int, Signature], settings: dict[str, Any]
) -> Path:
    """Write the gallery into ``folder`` (created if needed); returns the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint(settings)
    state = {"format": FORMAT, "fingerprint": stamp, "engine": engine, "indexed": indexed}
    manifest = {
        "format": FORMAT,
        "engine_format": ENGINE_FORMAT,
        "photoid": __version__,
        "method": engine.method,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fingerprint": stamp,
        "settings": settings,
        "images": len(indexed),
        "engine_photos": len(engine.images),
    }
    with saving_into(folder) as stores:  # stored features move into folder/stores, once
        data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write(folder / STATE, data)
    prune_stores(folder, stores)
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2).encode())
    return folder / MANIFEST


def load_gallery(folder: Path, settings: dict[str, Any]) -> SavedGallery:
    """The gallery saved in ``folder`` with exactly these ``settings`` by this format; a
    :class:`PhotoidError` saying why not otherwise (none saved, another format, other
    settings, an unreadable file)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise PhotoidError(f"no saved gallery in {folder}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        formats = (int(manifest["format"]), int(manifest["engine_format"]))
        saved_settings = manifest["settings"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PhotoidError(f"{path}: not a gallery manifest ({exc})") from None
    if formats != (FORMAT, ENGINE_FORMAT):
        raise PhotoidError(
            f"{folder}: gallery saved in format {formats[0]} (engine format {formats[1]}, "
            f"photoid {manifest.get('photoid', '?')}); this photoid reads format {FORMAT} "
            f"(engine format {ENGINE_FORMAT})"
        )
    stamp = fingerprint(settings)
    if manifest.get("fingerprint") != stamp:
        changed = _differences(saved_settings, settings)
        raise PhotoidError(
            f"{folder}: gallery saved with other settings ({', '.join(changed) or 'fingerprint'})"
        )
    try:
        with (folder / STATE).open("rb") as handle, loading_from(folder):
            state = pickle.load(handle)
    except FileNotFoundError:
        raise PhotoidError(f"{folder / STATE}: missing") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise PhotoidError(f"{folder / STATE}: cannot be read ({exc})") from None
    if (
        not isinstance(state, dict)
        or state.get("format") != FORMAT
        or state.get("fingerprint") != stamp
        or not isinstance(state.get("engine"), Engine)
        or not isinstance(state.get("indexed"), dict)
    ):
        raise PhotoidError(f"{folder / STATE}: does not match its manifest")
    return SavedGallery(state["engine"], state["indexed"])


def _differences(saved: object, wanted: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the settings that differ (for the message)."""
    if not isinstance(saved, dict):
        return [prefix.rstrip(".") or "settings"]
    out: list[str] = []
    for key in sorted(set(saved) | set(wanted)):
        mine, theirs = saved.get(key), wanted.get(key)
        if isinstance(mine, dict) and isinstance(theirs, dict):
            out += _differences(mine, theirs, f"{prefix}{key}.")
        elif mine != theirs:
            out.append(f"{prefix}{key}")
    return out
