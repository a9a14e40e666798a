"""Demo data: one company with two outlets in two regions, a dozen players with some
history, and one person per role. Safe to load again: what exists is reused."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.content import schema
from portal.content import service as content
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.reasons import Reason
from portal.members import service as members

QUIZZES = Path(__file__).resolve().parent.parent / "quizzes"
DEMO_PASSWORD = "portal-demo"  # noqa: S105 - published in the README for the demo
COMPANY = "AquaFlow Dealers Ltd"
OUTLETS = (("AquaFlow North", "North"), ("AquaFlow South", "South"))
LOGINS = {
    "player@example.com": ("Pat Player", {Role.PLAYER}, 0),
    "manager@example.com": ("Morgan Manager", {Role.MANAGER, Role.PLAYER}, 0),
    "marketing@example.com": ("Mia Marketing", {Role.MARKETING}, None),
    "admin@example.com": ("Alex Admin", {Role.ADMIN}, None),
}
PLAYERS = [
    "Ivan Petrov", "Olga Smirnova", "Aylin Demir", "Budi Santoso", "Emre Kaya",
    "Siti Rahma", "Dmitri Volkov", "Anna Kuznetsova", "Mehmet Yilmaz", "Dewi Lestari",
    "Sergei Orlov",
]
ACTIVITIES = [  # ledger reasons, said in each reader's language
    N_("Quiz: Pump basics (demo history)"), N_("Quiz: Filter cartridges (demo history)"),
    N_("Course: Installing a booster pump (demo history)"),
    N_("Quiz: Water hardness (demo history)"),
    N_("Course: Selling the service plan (demo history)"),
]


def demo_packs(now: datetime) -> list[Path]:
    """This month's pack folder under quizzes/, and next month's when it exists."""
    this_month = now.strftime("%Y-%m")
    following = (now.replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    return [QUIZZES / name for name in (this_month, following) if (QUIZZES / name).is_dir()]


async def publish_demo_packs(*, media_dir: Path, now: datetime) -> list[str]:
    """Publishes the demo packs; republishing an unchanged pack changes nothing."""
    published = []
    for folder in demo_packs(now):
        report = await content.publish(schema.read_pack(folder), media_dir=media_dir, now=now)
        published.append(report.pack)
    return published


async def load_demo(*, now: datetime | None = None) -> list[str]:
    """Creates whatever demo data is missing; returns the sign-in e-mails."""
    moment = now or datetime.now(UTC)
    company = await Company.get_or_none(name=COMPANY) or await members.create_company(
        name=COMPANY, kind="dealer"
    )
    outlets: list[Outlet] = []
    for outlet_name, region_name in OUTLETS:
        region = await Region.get_or_none(name=region_name) or await accounts.create_region(
            region_name
        )
        outlet = await Outlet.get_or_none(company_id=company.id, name=outlet_name)
        outlets.append(outlet or await accounts.create_outlet(
            company, name=outlet_name, region_id=region.id))

    password_hash = await accounts.hash_password(DEMO_PASSWORD)  # once, not per person
    for email, (name, roles, outlet_index) in LOGINS.items():
        await _person(email, name, roles, outlets[outlet_index] if outlet_index is not None
                      else None, password_hash)
    players = [
        await _person(f"{name.split()[0].lower()}@example.com", name, {Role.PLAYER},
                      outlets[i % 2], password_hash)
        for i, name in enumerate(PLAYERS)
    ]
    players.insert(0, await Person.get(email="player@example.com"))

    rng = random.Random(2026)  # the same history every time, so reloading changes nothing
    for person in players:
        account = await ledger.account_of_person(person.id)
        for day in reversed(range(rng.randint(3, 8))):  # oldest first, as in real life
            activity = rng.choice(ACTIVITIES)
            await ledger.earn(
                account,
                amount=rng.randrange(50, 400, 10),
                reason=Reason(activity),
                reference=f"demo:{day}",
                key=f"demo:earn:{person.email}:{day}",
                now=moment - timedelta(days=day * 3 + 1),
            )
        if rng.random() < 0.5:
            await ledger.spend(
                account, amount=100, reason=Reason(N_("E-gift certificate (demo history)")),
                reference="demo:catalog", key=f"demo:spend:{person.email}",
                now=moment - timedelta(days=2),
            )
    return list(LOGINS)


async def _person(email: str, name: str, roles: set[Role], outlet: Outlet | None,
                  password_hash: str) -> Person:
    existing = await Person.get_or_none(email=email)
    if existing is not None:
        return existing
    return await members.create_person(
        email=email, password=DEMO_PASSWORD, password_hash=password_hash, full_name=name,
        roles=roles, outlet_id=outlet.id if outlet else None,
    )
