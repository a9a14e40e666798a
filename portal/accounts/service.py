"""Rules for people: passwords, sessions, invites, profiles, roles and the organisation."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Case, F, Q, When
from tortoise.fields import DatetimeField

from portal.accounts.models import (
    Company,
    Invite,
    Outlet,
    Person,
    Region,
    Role,
    Session,
)
from portal.accounts.throttle import LoginThrottle
from portal.db import placeholders, write_transaction
from portal.i18n import N_, Refusal

_T = TypeVar("_T")

# The argon2id costs a deployment chooses from (PORTAL_PASSWORD_HASHING; the README's
# security section says why "owasp" is the default). A stored hash made with other
# parameters is rehashed at its owner's next sign-in.
PASSWORD_PROFILES: dict[str, Parameters] = {
    # OWASP Password Storage Cheat Sheet's argon2id minimum: 19 MiB, 2 passes, 1 lane.
    "owasp": Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=2,
                        memory_cost=19 * 1024, parallelism=1),
    # RFC 9106's second recommended option (argon2-cffi's own default): 64 MiB, 3 passes,
    # 4 lanes; about eight times the CPU of "owasp" per sign-in.
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
}
DEFAULT_PASSWORD_PROFILE = "owasp"  # noqa: S105 - a profile's name, not a secret
_hasher = PasswordHasher.from_parameters(PASSWORD_PROFILES[DEFAULT_PASSWORD_PROFILE])
_pinned = False  # use_password_hasher was called: the settings no longer choose
# Hashing gets its own threads, one fewer than the cores: a rush of sign-ins then queues
# here instead of taking every core from the event loop that serves the games.
_hashing = ThreadPoolExecutor(max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2")
# Verified against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# last_seen_at is written at most this often, so reading a page is not a write.
_SEEN_RESOLUTION = timedelta(minutes=1)


def password_hasher(profile: str) -> PasswordHasher:
    """The hasher for one of :data:`PASSWORD_PROFILES`."""
    return PasswordHasher.from_parameters(PASSWORD_PROFILES[profile])


def use_password_profile(profile: str) -> None:
    """Hashes with ``profile`` from now on (the app and the commands call it with
    ``PORTAL_PASSWORD_HASHING`` as they start), unless :func:`use_password_hasher` pinned
    a hasher for this process."""
    if not _pinned:
        _swap(password_hasher(profile))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Pins the hasher for this process, whatever the settings say: the test suite uses
    argon2's cheapest parameters to stay fast, and a bench hashes each password once."""
    global _pinned
    _pinned = True
    _swap(hasher)


def _swap(hasher: PasswordHasher) -> None:
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not-a-real-password")


class AccountError(Refusal):
    """A request about people was refused; the message says why, in plain words."""


class InvalidCredentials(AccountError):
    def __init__(self) -> None:
        super().__init__(N_("The e-mail or password is not right."))


class EmailTaken(AccountError):
    def __init__(self, email: str) -> None:
        super().__init__(N_("%(email)s already has an account."), email=email)


class InvalidInvite(AccountError):
    pass


class NotAllowed(AccountError):
    pass


class TooManyAttempts(AccountError):
    status = 429

    def __init__(self) -> None:
        super().__init__(N_("Too many sign-in attempts. Wait 15 minutes and try again."))


class UnknownPerson(AccountError):
    def __init__(self) -> None:
        super().__init__(N_("Nobody has this e-mail address."))


class UnknownOutlet(AccountError):
    def __init__(self) -> None:
        super().__init__(N_("Choose one of the offered options."))


@dataclass(frozen=True)
class Also:
    """What a caller reads in the session's own statement (see ``resume_session``):
    ``columns`` (each starting with a comma) and ``joins`` may use the session ``s``, the
    person ``p``, their outlet ``o`` and company ``c``; ``params`` fill their markers,
    made with ``portal.db.placeholders`` starting at 1, in the order they appear."""

    columns: str
    joins: str = ""
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SignedIn:
    person: Person
    roles: frozenset[Role]
    session_hash: str
    company_zone: str | None = None  # the person's company's, read with the session
    # The row the session was read in, with the columns a caller asked for (``Also``).
    row: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def time_zone(self, default: str) -> str:
        """The zone this person reads times in: their own, their company's, or ``default``
        (the portal's)."""
        return self.person.time_zone or self.company_zone or default


@dataclass(frozen=True)
class NewSession:
    """A session just started: the token for the cookie or bearer header, and when it
    ends at the latest."""

    person: Person
    token: str
    expires_at: datetime


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# -- people -------------------------------------------------------------------------------


async def _in_hashing_thread(work: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hashing, work, *args)


async def hash_password(password: str) -> str:
    return await _in_hashing_thread(_hasher.hash, password)


async def insert_person(
    conn: BaseDBAsyncClient, *, email: str, password_hash: str, full_name: str,
    display_name: str | None = None,
    roles: set[Role] | frozenset[Role] = frozenset({Role.PLAYER}),
    outlet_id: int | None = None, language: str = "en",
) -> Person:
    """Writes the person inside ``conn``'s transaction; whoever calls it opens their points
    account in the same transaction (``portal.members`` does both). An IntegrityError
    from it is explained, after the transaction, by :func:`why_person_refused`."""
    return await Person.create(
        email=normalize_email(email),
        password_hash=password_hash,
        full_name=full_name.strip(),
        display_name=(display_name or full_name.split()[0]).strip()[:60],
        outlet_id=outlet_id,
        language=language,
        roles=Person.encode_roles(roles),
        using_db=conn,
    )


async def why_person_refused(email: str, outlet_id: int | None) -> AccountError | None:
    """Why inserting this person broke a constraint: EmailTaken or UnknownOutlet.

    Told apart only on failure, so creating many people costs no extra queries.
    """
    email = normalize_email(email)
    if await Person.exists(email=email):
        return EmailTaken(email)
    if outlet_id is not None and not await Outlet.exists(id=outlet_id):
        return UnknownOutlet()
    return None


async def find_by_email(email: str) -> Person:
    """The person with this e-mail address, however it is written; UnknownPerson if none."""
    person = await Person.get_or_none(email=normalize_email(email))
    if person is None:
        raise UnknownPerson()
    return person


async def roles_of(person_id: int) -> frozenset[Role]:
    return (await Person.get(id=person_id)).role_set


async def set_roles(person: Person, roles: set[Role]) -> None:
    person.roles = Person.encode_roles(roles)
    await person.save(update_fields=["roles"])


async def set_company_zone(company: Company, time_zone: str) -> None:
    """``time_zone``: an IANA zone (checked by ``zones.check_zone``), "" for the portal's."""
    company.time_zone = time_zone or None
    await company.save(update_fields=["time_zone"])


async def update_profile(person: Person, *, display_name: str, language: str,
                         email_burn_warnings: bool | None = None,
                         email_news: bool | None = None,
                         time_zone: str | None = None) -> Person:
    """``time_zone``: an IANA zone (checked by ``zones.check_zone``), "" for the company's,
    None to leave it as it is."""
    person.display_name = display_name.strip()
    person.language = language
    if email_burn_warnings is not None:
        person.email_burn_warnings = email_burn_warnings
    if email_news is not None:
        person.email_news = email_news
    if time_zone is not None:
        person.time_zone = time_zone or None
    await person.save(update_fields=["display_name", "language", "email_burn_warnings",
                                     "email_news", "time_zone"])
    return person


async def change_password(
    person: Person, *, current: str, new: str, keep_session_hash: str | None
) -> None:
    """Sets a new password and signs out every other session of this person."""
    try:
        await _in_hashing_thread(_hasher.verify, person.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError(N_("The current password is not right.")) from None
    person.password_hash = await _in_hashing_thread(_hasher.hash, new)
    async with write_transaction() as conn:
        await person.save(update_fields=["password_hash"], using_db=conn)
        others = Session.filter(person_id=person.id).using_db(conn)
        if keep_session_hash:
            others = others.exclude(id_hash=keep_session_hash)
        await others.delete()


# -- signing in and sessions --------------------------------------------------------------


async def authenticate(email: str, password: str, *, now: datetime | None = None) -> Person:
    """The active person with this e-mail and password, or InvalidCredentials."""
    person = await Person.get_or_none(email=normalize_email(email), is_active=True)
    # argon2 is slow on purpose (tens of milliseconds of CPU): off the event loop, so one
    # sign-in never stalls everyone else's requests.
    hasher = _hasher
    try:
        await _in_hashing_thread(hasher.verify, person.password_hash if person else _DUMMY_HASH,
                                 password)
    except (VerificationError, InvalidHashError):
        raise InvalidCredentials() from None
    if person is None:
        raise InvalidCredentials()
    person.last_login_at = _now(now)
    verified = person.password_hash
    if not hasher.check_needs_rehash(verified):
        await person.save(update_fields=["last_login_at"])
        return person
    # Made with other parameters (PORTAL_PASSWORD_HASHING changed): rehashed with today's,
    # in the statement that records the sign-in, and only over the hash just verified, so
    # a password changed meanwhile is never put back.
    person.password_hash = await _in_hashing_thread(hasher.hash, password)
    await Person.filter(id=person.id).update(
        last_login_at=person.last_login_at,
        password_hash=Case(When(password_hash=verified, then=person.password_hash),
                           default=F("password_hash")))
    return person


async def start_session(
    person: Person, *, kind: str = "web", lifetime: timedelta, now: datetime | None = None
) -> tuple[str, Session]:
    """A new session; returns the token for the cookie or bearer header, and the row."""
    moment = _now(now)
    token = secrets.token_urlsafe(32)
    session = await Session.create(
        id_hash=_digest(token),
        person_id=person.id,
        kind=kind,
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + lifetime,
    )
    return token, session


async def resume_session(
    token: str, *, kind: str, idle: timedelta, now: datetime | None = None,
    also: Also | None = None,
) -> SignedIn | None:
    """The signed-in person for this token, or None if it is unknown or timed out; with
    ``also``, the caller's columns come in the same statement (``SignedIn.row``)."""
    if not token or len(token) > 100:
        return None
    moment = _now(now)
    # Every signed-in request asks this, so it is one hand-written statement (the ORM's
    # query building cost more than the query): the session, its person, and the
    # company's time zone, which is the person's when they chose none.
    also = also or Also("")
    conn = connections.get("default")
    mark = placeholders(conn, 2, start=len(also.params) + 1)
    rows = await conn.execute_query_dict(
        f"SELECT {_person_columns()}, s.id_hash AS session_hash, "  # noqa: S608
        "s.last_seen_at AS session_seen, s.expires_at AS session_expires, "
        f"c.time_zone AS company_zone{also.columns} FROM session s "
        "JOIN person p ON p.id = s.person_id LEFT JOIN outlet o ON o.id = p.outlet_id "
        f"LEFT JOIN company c ON c.id = o.company_id{also.joins} "
        f"WHERE s.id_hash = {mark[0]} AND s.kind = {mark[1]}",
        [*also.params, _digest(token), kind])
    if not rows:
        return None
    row = rows[0]
    seen, expires = _session_time(row["session_seen"]), _session_time(row["session_expires"])
    if expires <= moment or seen + idle <= moment:
        await Session.filter(id_hash=row["session_hash"]).delete()
        return None
    for column in _person_moments():  # as the session's own: faster than the model's parser
        if isinstance(row[column], str):
            row[column] = _session_time(row[column])
    person = Person._init_from_db(**row)
    if not person.is_active:
        return None
    if moment - seen > _SEEN_RESOLUTION:
        await Session.filter(id_hash=row["session_hash"]).update(last_seen_at=moment)
    return SignedIn(person, person.role_set, row["session_hash"], row["company_zone"], row)


@cache
def _person_columns() -> str:
    return ", ".join(f"p.{column}" for column in Person._meta.fields_db_projection.values())


@cache
def _person_moments() -> tuple[str, ...]:
    """The person's timestamp columns (SQLite gives them as text)."""
    return tuple(Person._meta.fields_db_projection[name]
                 for name, field in Person._meta.fields_map.items()
                 if isinstance(field, DatetimeField))


def _session_time(value: object) -> datetime:
    """A timestamp from a raw row (text on SQLite), as the model reads it (in
    UTC when stored without a zone). Every signed-in request reads four (the session's two,
    the person's two), so SQLite's text is read by ``datetime.fromisoformat``, several times
    faster than the model's parser."""
    if isinstance(value, str):
        found = datetime.fromisoformat(value)
        return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
    model: datetime = Session._meta.fields_map["last_seen_at"].to_python_value(value)
    return model


async def end_session(session_hash: str) -> None:
    """Signs out: the session ends on every instance at once."""
    await Session.filter(id_hash=session_hash).delete()


async def sign_in(
    email: str, *, password: str, address: str, throttle: LoginThrottle, lifetime: timedelta,
    kind: str = "web", replacing: str | None = None, now: datetime | None = None,
) -> NewSession:
    """Signs a person in from ``address``, as the sign-in page and the API both do.

    The attempt counts against the throttle before the password is checked (TooManyAttempts
    once a limit is used up), a wrong e-mail or password is InvalidCredentials either way,
    and the session ``replacing`` names (the browser's current one) ends: signing in
    again replaces a session, never adds one.
    """
    if not await throttle.allow(email=normalize_email(email), address=address):
        raise TooManyAttempts()
    person = await authenticate(email, password, now=now)
    if replacing is not None:
        await end_session(replacing)
    token, session = await start_session(person, kind=kind, lifetime=lifetime, now=now)
    return NewSession(person, token, session.expires_at)


async def purge_expired_sessions(now: datetime, *, idle: timedelta) -> int:
    return await Session.filter(expires_at__lte=now).delete() + await Session.filter(
        last_seen_at__lte=now - idle
    ).delete()


# -- invites ------------------------------------------------------------------------------


async def outlets_managed_by(manager: Person) -> list[Outlet]:
    """The outlets of the manager's own company."""
    if manager.outlet_id is None:
        return []
    outlet = await Outlet.get(id=manager.outlet_id)
    return await Outlet.filter(company_id=outlet.company_id).select_related("region")


async def invite(
    manager: Person, *, email: str, outlet_id: int, valid_for: timedelta,
    now: datetime | None = None,
) -> str:
    """An invite to one of the manager's outlets; returns the token for the link."""
    if outlet_id not in {o.id for o in await outlets_managed_by(manager)}:
        raise NotAllowed(N_("You can invite people only to your own company's outlets."))
    email = normalize_email(email)
    if await Person.exists(email=email):
        raise EmailTaken(email)
    moment = _now(now)
    token = secrets.token_urlsafe(32)
    await Invite.create(
        token_hash=_digest(token),
        email=email,
        outlet_id=outlet_id,
        invited_by_id=manager.id,
        created_at=moment,
        expires_at=moment + valid_for,
    )
    return token


async def find_invite(token: str, *, now: datetime | None = None) -> Invite:
    found = await Invite.get_or_none(token_hash=_digest(token)).select_related("outlet")
    if found is None or found.accepted_at is not None:
        raise InvalidInvite(N_("This invite link is not valid or was already used."))
    if found.expires_at <= _now(now):
        raise InvalidInvite(N_("This invite link has expired. Ask your manager for a new one."))
    return found


async def claim_invite(conn: BaseDBAsyncClient, invite: Invite, *,
                       now: datetime | None = None) -> None:
    """Marks the invite used inside ``conn``'s transaction. The conditional update claims
    it, so a double submit creates one person; InvalidInvite if it was used meanwhile."""
    claimed = await Invite.filter(id=invite.id, accepted_at__isnull=True).using_db(
        conn).update(accepted_at=_now(now))
    if claimed != 1:
        raise InvalidInvite(N_("This invite link is not valid or was already used."))


async def pending_invites(manager: Person) -> list[Invite]:
    outlet_ids = [o.id for o in await outlets_managed_by(manager)]
    return await Invite.filter(outlet_id__in=outlet_ids, accepted_at__isnull=True).select_related(
        "outlet"
    )


# -- organisation (admin) -----------------------------------------------------------------


@dataclass(frozen=True)
class Organisation:
    companies: list[Company]  # each with its outlets fetched
    regions: list[Region]


@dataclass(frozen=True)
class CompanyStaff:
    company: Company
    outlets: list[Outlet]  # each with its region
    people: list[Person]  # each with their outlet
    regions: list[Region]  # where a new outlet may be


async def organisation() -> Organisation:
    return Organisation(await Company.all().prefetch_related("outlets"), await Region.all())


async def company_staff(company: Company) -> CompanyStaff:
    return CompanyStaff(
        company,
        outlets=await Outlet.filter(company_id=company.id).select_related("region"),
        people=await Person.filter(outlet__company_id=company.id).select_related("outlet"),
        regions=await Region.all(),
    )


async def every_outlet() -> list[Outlet]:
    """Every outlet of every company (with its company), for an admin to choose from."""
    return await Outlet.all().select_related("company")


async def find_people(search: str, *, offset: int, limit: int) -> tuple[list[Person], bool]:
    """People whose e-mail or name contains ``search`` (everyone when it is empty), by
    name, with their outlet; and whether more follow."""
    found = Person.all()
    if search:
        found = found.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
    rows = await found.select_related("outlet").order_by("full_name").offset(offset).limit(
        limit + 1)
    return rows[:limit], len(rows) > limit


async def create_region(name: str) -> Region:
    try:
        return await Region.create(name=name.strip())
    except IntegrityError:
        raise AccountError(N_("A region named %(name)s already exists."), name=name) from None


async def insert_company(conn: BaseDBAsyncClient, *, name: str, kind: str) -> Company:
    """Writes the company inside ``conn``'s transaction; ``portal.members`` opens its
    points account in the same one."""
    return await Company.create(name=name.strip(), kind=kind, using_db=conn)


def company_name_taken(name: str) -> AccountError:
    return AccountError(N_("A company named %(name)s already exists."), name=name)


async def create_outlet(company: Company, *, name: str, region_id: int) -> Outlet:
    if not await Region.exists(id=region_id):
        raise AccountError(N_("Choose a region for the outlet."))
    try:
        return await Outlet.create(company_id=company.id, name=name.strip(), region_id=region_id)
    except IntegrityError:
        raise AccountError(
            N_("%(company)s already has an outlet named %(name)s."), company=company.name, name=name
        ) from None


async def change_access(admin: Person, person: Person, *, roles: set[Role], active: bool
                        ) -> None:
    """An admin sets a person's roles and whether they may sign in; never their own admin
    role or their own access, so the portal always keeps an admin who can sign in."""
    if person.id == admin.id and (Role.ADMIN not in roles or not active):
        raise NotAllowed(N_("You cannot remove your own admin role or deactivate yourself."))
    await set_roles(person, roles)
    await set_active(person, active=active)


async def set_active(person: Person, *, active: bool) -> None:
    async with write_transaction() as conn:
        person.is_active = active
        await person.save(update_fields=["is_active"], using_db=conn)
        if not active:
            await Session.filter(person_id=person.id).using_db(conn).delete()
