"""Demo data: one company with two outlets in two regions, a dozen players with some
history, and one person per role. Safe to load again: what exists is reused."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.content import schema
from portal.content import service as content
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.reasons import Reason
from portal.members import service as members
from portal.settings import Settings

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


# -- charity ------------------------------------------------------------------------------

CAUSES = [  # title, summary, description, goal, brand's match (%), own minimum, colours
    ("Clean water for village schools", "Wells and filters for three rural schools",
     "Every school gets a well and a filter system our installers fit for free.\n\n"
     "The brand doubles every euro your points turn into.", 5_000, 100, None,
     ((14, 116, 184), (125, 211, 252))),
    ("Forests along the rivers", "A tree on the riverbank for every 500 points",
     "Trees hold the banks and keep the water clean downstream.", 3_000, 0, 200,
     ((21, 128, 61), (187, 247, 208))),
    ("Warm meals for seniors", "Hot lunches delivered through the winter",
     "Volunteers cook and deliver lunches to people living alone.", 2_000, 50, None,
     ((194, 65, 12), (254, 215, 170))),
]


def _demo_picture(colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> bytes:
    """A plain gradient with soft circles: a picture for a demo cause, made here."""
    import io

    from PIL import Image, ImageDraw

    top, bottom = colours
    image = Image.new("RGB", (800, 600), top)
    draw = ImageDraw.Draw(image)
    for y in range(600):
        mix = y / 599
        draw.line([(0, y), (800, y)], fill=tuple(round(a + (b - a) * mix)
                                                 for a, b in zip(top, bottom, strict=True)))
    for x, y, r in ((180, 380, 120), (520, 250, 170), (690, 470, 90)):
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=10)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def load_demo_causes(*, media_dir: Path, now: datetime | None = None) -> int:
    """The demo causes, with pictures, and some donations from the demo players (again:
    nothing new). Returns how many causes there are."""
    from contextlib import suppress

    from portal.charity import service as charity
    from portal.charity.models import Cause
    from portal.web.pictures import store_picture

    moment = now or datetime.now(UTC)
    marketing = await Person.get(email="marketing@example.com")
    causes: list[Cause] = []
    for position, (title, summary, description, goal, match, least, colours) in enumerate(
            CAUSES):
        cause = await Cause.get_or_none(title=title)
        if cause is None:
            cause = await charity.create_cause(marketing, charity.CauseInput(
                title=title, summary=summary, description=description, goal=goal,
                points_per_unit=100, currency="EUR", match_percent=match, min_donation=least,
                is_open=True, position=position), picture=store_picture(
                    _demo_picture(colours), media_dir), now=moment)
        causes.append(cause)
    rng = random.Random(7)
    for name in PLAYERS:
        person = await Person.get(email=f"{name.split()[0].lower()}@example.com")
        if rng.random() < 0.4:
            continue
        cause = rng.choice(causes)
        with suppress(ledger.NotEnoughPoints):  # a player who spent it all gives nothing
            await charity.donate(person, cause.id, amount=rng.choice((200, 250, 300, 400)),
                                 key=f"demo:{person.email}", minimum=100,
                                 now=moment - timedelta(days=1))
    return len(causes)


# -- rewards catalog ----------------------------------------------------------------------

Colours = tuple[tuple[int, int, int], tuple[int, int, int]]
# title, kind, price, picture label, colours, codes or units, a code's value, extras
DemoReward = tuple[str, str, int, str, Colours, int, str, dict[str, Any]]
CATALOG: dict[str, list[DemoReward]] = {
    "Gift cards": [
        ("Supermarket gift card 25 EUR", "certificate", 2500, "25 EUR",
         ((3, 105, 161), (125, 211, 252)), 20, "25 EUR", {}),
        ("Coffee shop card 10 EUR", "certificate", 1000, "10 EUR",
         ((120, 53, 15), (253, 186, 116)), 30, "10 EUR", {}),
        ("Online shop gift card 50 EUR", "certificate", 4800, "50 EUR",
         ((67, 56, 202), (196, 181, 253)), 10, "50 EUR", {}),
    ],
    "Partner promo codes": [
        ("20% off at SportMart", "certificate", 600, "-20%",
         ((190, 18, 60), (253, 164, 175)), 40, "20%", {}),
        ("Free delivery at HomeGoods", "certificate", 300, "FREE",
         ((21, 128, 61), (187, 247, 208)), 40, "free delivery", {}),
    ],
    "Brand merchandise": [
        ("AquaFlow cap", "gift", 900, "CAP",
         ((8, 79, 132), (11, 111, 184)), 50, "", {}),
        ("AquaFlow steel bottle", "gift", 1500, "H2O",
         ((15, 118, 110), (153, 246, 228)), 30, "", {}),
        ("AquaFlow hoodie", "gift", 3500, "XL",
         ((51, 65, 85), (148, 163, 184)), 3, "", {"low_stock_at": 5}),
    ],
    "Hobbies and leisure": [
        ("Cinema for two", "certificate", 2200, "2x",
         ((88, 28, 135), (240, 171, 252)), 15, "2 tickets", {}),
        ("Climbing day pass", "certificate", 3000, "DAY",
         ((154, 52, 18), (251, 146, 60)), 8, "1 day", {"monthly_limit": 1}),
    ],
    "Training": [
        ("Online course: selling water treatment", "certificate", 4000, "PRO",
         ((30, 64, 175), (147, 197, 253)), 10, "1 seat", {}),
        ("Installer masterclass seat", "certificate", 2000, "VIP",
         ((161, 98, 7), (253, 224, 71)), 5, "1 seat", {"unlock": True}),
        ("Training voucher for your team", "certificate", 8000, "TEAM",
         ((30, 64, 175), (191, 219, 254)), 6, "5 seats", {"for_companies": True}),
    ],
    "Marketing support": [
        ("Co-marketing certificate 500 EUR", "certificate", 20000, "500 EUR",
         ((17, 94, 89), (94, 234, 212)), 5, "500 EUR", {"for_companies": True}),
        ("Team gift cards 10 × 25 EUR", "certificate", 15000, "10x25",
         ((3, 105, 161), (186, 230, 253)), 5, "250 EUR", {"for_companies": True}),
    ],
}
HOW_TO_USE = N_("Show the code at the till or enter it at checkout.")


def _reward_picture(label: str, colours: tuple[tuple[int, int, int], tuple[int, int, int]]
                    ) -> bytes:
    """A demo reward's picture: a gradient card with a big label, made here."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    top, bottom = colours
    image = Image.new("RGB", (800, 600), top)
    draw = ImageDraw.Draw(image)
    for y in range(600):
        mix = y / 599
        draw.line([(0, y), (800, y)], fill=tuple(round(a + (b - a) * mix)
                                                 for a, b in zip(top, bottom, strict=True)))
    font = ImageFont.load_default(size=150 if len(label) <= 4 else 105)
    draw.rounded_rectangle([90, 170, 710, 430], radius=40, fill=(255, 255, 255))
    draw.text((400, 300), label, fill=colours[0], font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def load_demo_catalog(*, media_dir: Path, settings: Settings,
                            now: datetime | None = None) -> int:
    """A stocked catalog with pictures, points for the demo player to redeem with, and a
    budget for the demo company (again: nothing new). Returns how many items there are."""
    from portal.catalog import service as catalog
    from portal.catalog.models import Category, Item, ItemKind
    from portal.content.models import Course
    from portal.ledger.models import Account
    from portal.web.pictures import store_picture

    moment = now or datetime.now(UTC)
    course = await Course.all().order_by("id").first()
    for position, (category_name, items) in enumerate(CATALOG.items()):
        category = await Category.get_or_none(name=category_name) or \
            await catalog.save_category(category_name, position=position)
        for title, kind, price, label, colours, count, value, extra in items:
            if await Item.exists(title=title):
                continue
            unlock = course.id if extra.get("unlock") and course else None
            made = await catalog.save_item(catalog.ItemFields(
                category_id=category.id, kind=ItemKind(kind), title=title, price=price,
                description=f"{title}: a reward of the AquaFlow Partner Club (demo).",
                how_to_use=HOW_TO_USE if kind == "certificate" else "",
                picture="/media/" + store_picture(_reward_picture(label, colours), media_dir),
                for_companies=bool(extra.get("for_companies")),
                stock=count if kind == "gift" else None,
                monthly_limit=extra.get("monthly_limit"),
                low_stock_at=extra.get("low_stock_at"), unlock_course_id=unlock), now=moment)
            if kind == "certificate":
                rng = random.Random(made.id)
                lines = ["code,value,expiry"] + [
                    f"DEMO{made.id:02d}-{i:03d}-{rng.randrange(16**6):06X},{value},"
                    for i in range(count)]
                await catalog.import_codes(made.id, "\n".join(lines).encode(),
                                           settings=settings, now=moment)
    player = await ledger.account_of_person((await Person.get(email="player@example.com")).id)
    await ledger.earn(player, amount=3000, reason=Reason(N_("Rewards launch bonus (demo)")),
                      reference="demo:catalog", key="demo:catalog-bonus", now=moment)
    company = await Company.get(name=COMPANY)
    budget = await Account.get(company_id=company.id)
    marketing = await Person.get(email="marketing@example.com")
    await ledger.adjust(budget, amount=40000, reason="Co-marketing budget for the year (demo)",
                        by_person_id=marketing.id, key="demo:company-budget", now=moment)
    return await Item.all().count()


# -- auctions and raffles -----------------------------------------------------------------

DEMO_LOT = "A day with the AquaFlow engineers"
DEMO_RAFFLE = "Winter raffle: three smart pumps"


async def load_demo_auctions(*, media_dir: Path, settings: Settings,
                             now: datetime | None = None) -> int:
    """One open auction with a first bid, and one raffle selling tickets (again: nothing
    new). Returns how many lots and raffles there are."""
    from contextlib import suppress

    from portal.auctions import raffles
    from portal.auctions import service as auctions
    from portal.auctions.models import Lot, Raffle
    from portal.web.pictures import store_picture

    moment = now or datetime.now(UTC)
    marketing = await Person.get(email="marketing@example.com")
    if not await Lot.exists(title=DEMO_LOT):
        lot = await auctions.create_lot(auctions.LotFields(
            title=DEMO_LOT, description="Meet the team that designs our pumps, see the test "
            "bench at work and have lunch with the engineers.",
            prize_text="A guided day at the AquaFlow factory for you and a colleague",
            prize_item_id=None, starts_at=moment - timedelta(hours=1),
            ends_at=moment + timedelta(days=3), starting_bid=500, increment=50,
            picture=store_picture(_reward_picture("Engineers", ((30, 64, 175),
                                                                (147, 197, 253))),
                                  media_dir)), by=marketing, settings=settings, now=moment)
        ivan = await Person.get(email="ivan@example.com")
        with suppress(ledger.NotEnoughPoints):  # a player short of points does not bid
            await auctions.place_bid(ivan, lot.id, amount=500, key="demo-first-bid",
                                     settings=settings, now=moment)
    if not await Raffle.exists(title=DEMO_RAFFLE):
        await raffles.create_raffle(raffles.RaffleFields(
            title=DEMO_RAFFLE, description="Every ticket is a chance; the draw is public and "
            "anyone can check it with its seed.", prize_text="A smart booster pump",
            prize_item_id=None, winners=3, ticket_price=100, per_person_limit=5,
            draw_at=moment + timedelta(days=7),
            picture=store_picture(_reward_picture("Raffle", ((126, 34, 206),
                                                             (233, 213, 255))),
                                  media_dir)), by=marketing, now=moment)
    return await Lot.all().count() + await Raffle.all().count()


async def load_demo_history(*, media_dir: Path, now: datetime | None = None) -> int:
    """A few months of a small network's history for the programme pages (once), made
    through the real services with past moments. Returns how many games it played."""
    from portal.demo_history import load_history

    moment = now or datetime.now(UTC)
    folders = demo_packs(moment)
    return await load_history(media_dir=media_dir, pack_folder=folders[0] if folders else None,
                              now=moment)
