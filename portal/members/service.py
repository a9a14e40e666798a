"""Joining the programme and being in it: a person or company together with its points
account, invites accepted, and a person's profile with their points.

These rules span accounts (who people are) and the ledger (what they hold), so they live
above both; accounts never imports the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError

from portal.accounts import service as accounts
from portal.accounts.models import Company, Person, Role
from portal.db import placeholders, write_transaction
from portal.ledger import service as ledger
from portal.ledger.reads import Points
from portal.seasons import season_of


async def create_person(
    *,
    email: str,
    password: str,
    full_name: str,
    display_name: str | None = None,
    roles: set[Role] | frozenset[Role] = frozenset({Role.PLAYER}),
    outlet_id: int | None = None,
    language: str = "en",
    password_hash: str | None = None,
) -> Person:
    """A person with their points account and roles, in one transaction; EmailTaken or
    UnknownOutlet when the e-mail has an account or the outlet does not exist.

    ``password_hash`` (from ``accounts.hash_password``) spares hashing ``password`` again
    when many people get the same one, as the demo's do.
    """
    password_hash = password_hash or await accounts.hash_password(password)
    try:
        async with write_transaction() as conn:
            person = await accounts.insert_person(
                conn, email=email, password_hash=password_hash, full_name=full_name,
                display_name=display_name, roles=roles, outlet_id=outlet_id,
                language=language)
            await ledger.open_person_account(person.id, name=full_name, conn=conn)
            return person
    except IntegrityError:
        refusal = await accounts.why_person_refused(email, outlet_id)
        if refusal is None:
            raise
        raise refusal from None


async def create_company(*, name: str, kind: str) -> Company:
    """A company with its own points account, in one transaction."""
    try:
        async with write_transaction() as conn:
            company = await accounts.insert_company(conn, name=name, kind=kind)
            await ledger.open_company_account(company.id, name=company.name, conn=conn)
    except IntegrityError:
        raise accounts.company_name_taken(name) from None
    return company


async def accept_invite(
    token: str, *, full_name: str, display_name: str, password: str, language: str,
    now: datetime | None = None,
) -> Person:
    """Claims the invite and creates the person with their points account in one
    transaction: all or nothing."""
    found = await accounts.find_invite(token, now=now)
    password_hash = await accounts.hash_password(password)
    try:
        async with write_transaction() as conn:
            await accounts.claim_invite(conn, found, now=now)
            person = await accounts.insert_person(
                conn, email=found.email, password_hash=password_hash, full_name=full_name,
                display_name=display_name, roles={Role.PLAYER}, outlet_id=found.outlet_id,
                language=language)
            await ledger.open_person_account(person.id, name=full_name, conn=conn)
            return person
    except IntegrityError:
        raise accounts.EmailTaken(found.email) from None


async def join(
    token: str, *, full_name: str, display_name: str, password: str, language: str,
    lifetime: timedelta, now: datetime | None = None,
) -> accounts.NewSession:
    """Accepts the invite and signs the new person in on this browser."""
    person = await accept_invite(token, full_name=full_name, display_name=display_name,
                                 password=password, language=language, now=now)
    session_token, session = await accounts.start_session(person, lifetime=lifetime, now=now)
    return accounts.NewSession(person, session_token, session.expires_at)


@dataclass(frozen=True)
class Profile:
    """A person as they see themselves: roles, where they work, and their points."""

    person: Person
    roles: frozenset[Role]
    company: str | None
    outlet: str | None
    region: str | None
    points: Points


async def company_zone(person: Person, *, default: str) -> str:
    """The time zone a person who chose none reads times in: their company's, else
    ``default`` (the portal's)."""
    company = (await Company.filter(outlets__id=person.outlet_id).first()
               if person.outlet_id else None)
    return (company.time_zone if company else None) or default


def profile_columns(*, now: datetime | None = None) -> accounts.Also:
    """What ``GET /api/v1/me`` reads in the session's own statement (it is asked on every
    call): the outlet, company and region names, and the points as ``ledger.points``
    reads them, this season's score included."""
    season = season_of(now if now is not None else datetime.now(UTC))
    mark = placeholders(connections.get("default"), 1)
    return accounts.Also(
        columns=", o.name AS me_outlet, c.name AS me_company, r.name AS me_region, "
                "a.balance AS me_balance, a.held AS me_held, "
                "COALESCE(ss.earned, 0) AS me_earned",
        joins=" LEFT JOIN region r ON r.id = o.region_id "
              "JOIN account a ON a.person_id = p.id LEFT JOIN season_score ss "
              f"ON ss.account_id = a.id AND ss.season = {mark[0]}",
        params=(season,))


def profile(who: accounts.SignedIn, *, now: datetime | None = None) -> Profile:
    """The signed-in person as they see themselves, from the session read with
    ``profile_columns`` (the same ``now``)."""
    row = who.row
    balance, held = int(row["me_balance"]), int(row["me_held"])
    season = season_of(now if now is not None else datetime.now(UTC))
    return Profile(who.person, who.roles, company=row["me_company"], outlet=row["me_outlet"],
                   region=row["me_region"],
                   points=Points(balance=balance, held=held, available=balance - held,
                                 earned_this_season=int(row["me_earned"]), season=season))
