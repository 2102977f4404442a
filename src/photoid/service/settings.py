"""Service settings: where the catalog lives, the session secret, the request limits and the
size of the pool doing CPU-heavy work."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from photoid.devices import check_device_name
from photoid.errors import PhotoidError

SECRET_FILE = "service-secret.key"
ENGINE_DIR = "engine"
"""The matching worker's gallery, kept across restarts: ``data_dir/engine``."""
MIB = 1024 * 1024
KIB = 1024


@dataclass(frozen=True)
class Settings:
    """How to run the service.

    ``data_dir``: the catalog's data folder; ``database_url``: None for the SQLite file in it.
    ``secret_key``: signs session cookies; None reads (or creates) ``data_dir/service-secret.key``.
    ``max_file_bytes``: largest photo accepted (bytes); ``max_files``: photos per upload;
    ``max_pixels``: width x height above which a photo is refused. ``max_form_bytes``: largest
    body of every request but an upload (login, JSON). ``cpu_threads``: how many CPU-heavy
    tasks of requests (decoding photos, drawing match pictures, hashing passwords) run at
    once, off the event loop. ``start_worker``: compute match candidates for uploads in a
    background thread, with the deep engine of the training ``checkpoint`` when given, else the
    local-feature engine; its gallery is kept in :attr:`engine_dir` across restarts.
    ``device``: where the deep engine's embedder runs (``auto``: a CUDA GPU when there is one).
    ``job_lease_s``: how long a matching job stays claimed by its worker without a heartbeat
    (the worker renews it while it runs); a crashed worker's job is taken over after it.
    ``secure_cookies``: send the session cookie over HTTPS only (turn on behind TLS).
    ``detector``: a detector run or weights file; the worker finds the animal in each uploaded
    photo without a box before matching it.
    """

    data_dir: Path
    database_url: str | None = None
    secret_key: str | None = None
    max_file_bytes: int = 20 * MIB
    max_files: int = 20
    max_pixels: int = 50_000_000
    max_form_bytes: int = 64 * KIB
    cpu_threads: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))
    start_worker: bool = True
    job_lease_s: float = 60.0
    checkpoint: Path | None = None
    device: str = "auto"
    secure_cookies: bool = False
    detector: Path | None = None

    def __post_init__(self) -> None:
        check_device_name(self.device, "device")
        if self.job_lease_s <= 0:
            raise PhotoidError("job_lease_s must be positive")
        for name in ("max_file_bytes", "max_files", "max_pixels", "max_form_bytes", "cpu_threads"):
            if getattr(self, name) < 1:
                raise PhotoidError(f"service setting {name} must be at least 1")

    @property
    def engine_dir(self) -> Path:
        """Where the matching worker keeps its gallery: ``data_dir/engine``."""
        return Path(self.data_dir) / ENGINE_DIR

    @property
    def max_body_bytes(self) -> int:
        """Largest upload body: every allowed photo at full size plus 1 MiB of form fields."""
        return self.max_files * self.max_file_bytes + MIB


def load_secret(settings: Settings) -> str:
    """The session-signing secret: the configured one, else the one stored in the data folder
    (created with 0600 permissions, 256 random bits, on first use)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    if path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if text:
            return text
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)
    return secret
