"""Logging in with a password, behind a throttle that bounds password guessing without letting
anyone lock other people out.

Three counts of failed logins within a window:

- one user name from one client address (``per_name``): past it, that address's attempts at
  that name are refused before the password is checked. One client can guess one account only
  this often, and cannot lock its owner (on another address) out.
- one user name from every address (``per_name_anywhere``, higher): past it, every attempt at
  that name is refused before the password is checked. Guessing spread over many addresses is
  bounded too; locking a user out this way takes failures from at least
  ``per_name_anywhere / per_name`` addresses at once (10 by default), and only for the window.
- one client address for every name (``per_address``): past it, that address's wrong passwords
  are answered "throttled" (429) so that it backs off, but a right password still logs in, so
  the users sharing an address with a guesser (a field station's NAT) are not locked out.

The client address must be the client's own: behind a TLS proxy, run ``photoid serve
--forwarded-allow-ips`` with the proxy's address, or every client has the proxy's.

An attempt is written as a failure *before* its password is checked and removed again when it
succeeds or is refused, so parallel guesses all count against each other: at most ``per_name``
of them get their password checked, however many arrive at once.

Failures are kept in the database (``login_failures``), not in the server's memory: every
process serving the catalog (several workers, or several hosts on one PostgreSQL) counts the
same failures, and restarting the service does not reset the count. Rows older than the window
are deleted as new ones come.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select

from photoid.catalog.db import Catalog
from photoid.catalog.models import LoginFailure, User, utcnow
from photoid.catalog.sessions import start_session
from photoid.catalog.users import MAX_NAME, get_user, set_password, verify_password
from photoid.errors import PhotoidError

MAX_ADDRESS = 100


@dataclass(frozen=True)
class Throttle:
    """At most ``per_name`` failed logins for one user name from one client address,
    ``per_name_anywhere`` for one name from all addresses and ``per_address`` from one address
    (a wrong password only: see the module) in ``window``."""

    per_name: int = 5
    per_name_anywhere: int = 50
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


def _name_wait(
    catalog: Catalog, name: str, address: str, throttle: Throttle, now: datetime, extra: int
) -> float:
    """Seconds before ``name`` may be tried from ``address``, with ``extra`` of the failures
    being the attempt itself (already written)."""
    named = LoginFailure.user_name == name
    return max(
        _wait(
            catalog,
            and_(named, LoginFailure.address == address),
            throttle.per_name + extra,
            throttle,
            now,
        ),
        _wait(catalog, named, throttle.per_name_anywhere + extra, throttle, now),
    )


def retry_after(
    catalog: Catalog,
    name: str,
    address: str,
    throttle: Throttle = THROTTLE,
    now: datetime | None = None,
) -> int:
    """Seconds before user name ``name`` may try to log in from ``address`` (0: now)."""
    now = now or utcnow()
    return math.ceil(_name_wait(catalog, name[:MAX_NAME], address[:MAX_ADDRESS], throttle, now, 0))


def _record_attempt(
    catalog: Catalog, name: str, address: str, throttle: Throttle, now: datetime
) -> int:
    """Write an attempt as a failure (committed, so parallel attempts see it); its row id."""
    with catalog.session() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - throttle.window))
        attempt = LoginFailure(user_name=name, address=address, at=now)
        session.add(attempt)
        session.flush()
        return attempt.id


def _forget(catalog: Catalog, where: ColumnElement[bool]) -> None:
    with catalog.session() as session:
        session.execute(delete(LoginFailure).where(where))


def _checked(
    catalog: Catalog, name: str, password: str, address: str, throttle: Throttle, now: datetime
) -> User | None:
    """The user if ``password`` is theirs; the attempt stays recorded as a failure otherwise.
    Raises LoginThrottled before checking the password while the name is throttled (for this
    address or for all), and after checking a wrong one while the address is throttled."""
    name, address = name[:MAX_NAME], address[:MAX_ADDRESS]
    attempt = _record_attempt(catalog, name, address, throttle, now)
    wait = _name_wait(catalog, name, address, throttle, now, 1)
    if wait > 0:
        _forget(catalog, LoginFailure.id == attempt)
        raise LoginThrottled(math.ceil(wait))
    user = verify_password(catalog, name, password)
    if user is not None:
        # only this address's failures go: a guesser's elsewhere still count against them
        _forget(
            catalog,
            or_(
                LoginFailure.id == attempt,
                and_(LoginFailure.user_name == name, LoginFailure.address == address),
            ),
        )
        return user
    wait = _wait(catalog, LoginFailure.address == address, throttle.per_address + 1, throttle, now)
    if wait > 0:
        raise LoginThrottled(math.ceil(wait))
    return None


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
    success clears the name's failures from ``address``). Raises LoginThrottled while the
    throttle holds (see the module for when a right password is refused: never for the
    address's failures alone)."""
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
