"""Logging in with a password, behind a throttle: after too many failed logins for one user
name, or from one client address, within a window, further attempts are refused (even with the
right password) until the oldest failure leaves the window.

Failures are kept in the database (``login_failures``), not in the server's memory: every
process serving the catalog (several workers, or several hosts on one PostgreSQL) counts the
same failures, and restarting the service does not reset the count. Only failures are
written; rows older than the window are deleted as new ones come.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select

from photoid.catalog.db import Catalog
from photoid.catalog.models import LoginFailure, User, utcnow
from photoid.catalog.sessions import start_session
from photoid.catalog.users import MAX_NAME, get_user, set_password, verify_password
from photoid.errors import PhotoidError

MAX_ADDRESS = 100


@dataclass(frozen=True)
class Throttle:
    """At most ``per_name`` failed logins for one user name and ``per_address`` from one
    client address (higher: a field station's users may share one address) in ``window``."""

    per_name: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


THROTTLE = Throttle()


class LoginThrottled(PhotoidError):
    """Too many failed logins: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        super().__init__(
            f"too many failed logins; try again in {minutes} minute{'s' if minutes > 1 else ''}"
        )
        self.retry_after = retry_after


class WrongPassword(PhotoidError):
    """The current password given to change it was wrong."""


@dataclass(frozen=True)
class Login:
    """A successful login: the user and the token of their new browser session."""

    user: User
    token: str


def _wait(
    catalog: Catalog, where: ColumnElement[bool], limit: int, throttle: Throttle, now: datetime
) -> float:
    """Seconds until fewer than ``limit`` failures matching ``where`` lie in the window."""
    with catalog.session() as session:
        recent = list(
            session.scalars(
                select(LoginFailure.at)
                .where(where, LoginFailure.at > now - throttle.window)
                .order_by(LoginFailure.at.desc())
                .limit(limit)
            )
        )
    if len(recent) < limit:
        return 0.0
    return (recent[-1] + throttle.window - now).total_seconds()


def retry_after(
    catalog: Catalog,
    name: str,
    address: str,
    throttle: Throttle = THROTTLE,
    now: datetime | None = None,
) -> int:
    """Seconds before user name ``name`` may try to log in from ``address`` (0: now)."""
    now = now or utcnow()
    waits = (
        _wait(catalog, LoginFailure.user_name == name[:MAX_NAME], throttle.per_name, throttle, now),
        _wait(
            catalog,
            LoginFailure.address == address[:MAX_ADDRESS],
            throttle.per_address,
            throttle,
            now,
        ),
    )
    return math.ceil(max(waits))


def _record_failure(
    catalog: Catalog, name: str, address: str, throttle: Throttle, now: datetime
) -> None:
    with catalog.session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - throttle.window))
        session.add(LoginFailure(user_name=name[:MAX_NAME], address=address[:MAX_ADDRESS], at=now))


def _checked(
    catalog: Catalog, name: str, password: str, address: str, throttle: Throttle, now: datetime
) -> User | None:
    """The user if ``password`` is theirs; a failure is recorded otherwise. Raises
    LoginThrottled, before checking anything, while the throttle holds."""
    wait = retry_after(catalog, name, address, throttle, now)
    if wait > 0:
        raise LoginThrottled(wait)
    user = verify_password(catalog, name, password)
    if user is None:
        _record_failure(catalog, name, address, throttle, now)
        return None
    with catalog.session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.user_name == name))
    return user


def log_in(
    catalog: Catalog,
    name: str,
    password: str,
    address: str,
    throttle: Throttle = THROTTLE,
    now: datetime | None = None,
) -> Login | None:
    """Check ``password`` for user ``name`` logging in from client ``address`` and start a
    browser session; None when the name or password is wrong (a failure is recorded; a
    success clears the name's failures). Raises LoginThrottled while the throttle holds."""
    now = now or utcnow()
    user = _checked(catalog, name, password, address, throttle, now)
    if user is None:
        return None
    return Login(user, start_session(catalog, user.id, now=now))


def change_password(
    catalog: Catalog,
    name: str,
    old: str,
    new: str,
    address: str,
    keep_session: int | None = None,
    throttle: Throttle = THROTTLE,
) -> int:
    """User ``name`` changes their own password, proving it with the ``old`` one (a wrong one
    counts as a failed login, so this cannot be used to guess it). Ends their other browser
    sessions but ``keep_session``; returns how many ended."""
    get_user(catalog, name)
    if _checked(catalog, name, old, address, throttle, utcnow()) is None:
        raise WrongPassword("the current password is wrong")
    return set_password(catalog, name, new, keep_session)
