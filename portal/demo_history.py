"""Demo history for the programme pages: a few months of a small network, made through
the real services with past moments (people join, visit, play the month's quizzes, spend,
donate and lose idle points), then folded into the rollups, so marketing's page tells a
story: one company keeps growing, one lags, and a few questions trip most players up.

Loaded once: a second run finds the history's first company and does nothing.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from portal.accounts import service as accounts
from portal.accounts.models import Company, Outlet, Person, Region, Role
from portal.analytics import rollups
from portal.content import schema
from portal.content import service as content
from portal.content.models import Question, Quiz
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.ledger.reasons import Reason
from portal.members import service as members
from portal.play import games
from portal.play.errors import PlayError
from portal.play.models import Game
from portal.seasons import previous_season, season_bounds, season_of

PASSWORD = "portal-demo"  # noqa: S105 - the demo's published password
MONTHS_BACK = 3
RULES = games.Rules(grace_seconds=2, extra_minutes=15, welcome_bonus=0)
QUESTIONS_PER_QUIZ = 3
# Company, its outlets (name, region) and how keen their staff are (0..1).
NETWORK = [
    ("Blue River Plumbing", [("Blue River Central", "North"), ("Blue River Harbour", "East")],
     0.9),
    ("Hydro Home Centre", [("Hydro Home Mall", "South"), ("Hydro Home Depot", "East")], 0.6),
    ("Pump Point", [("Pump Point Market", "West")], 0.15),
]
STAFF_PER_OUTLET = 3
FIRST_NAMES = ["Alexei", "Bahar", "Cahya", "Daria", "Eko", "Fatma", "Gleb", "Hana", "Irina",
               "Joko", "Kemal", "Lina", "Maxim", "Nur", "Oksana", "Putri", "Rustam", "Selin",
               "Taufik", "Ulyana", "Vera", "Wulan", "Yusuf", "Zeynep"]


def _month_starts(now: datetime) -> list[str]:
    months = [season_of(now)]
    for _ in range(MONTHS_BACK):
        months.append(previous_season(season_bounds(months[-1])[0]))
    return list(reversed(months))


async def load_history(*, media_dir: Path, pack_folder: Path | None,
                       now: datetime | None = None) -> int:
    """Makes the history (once) and folds it; returns how many games were played."""
    moment = now or datetime.now(UTC)
    first_company = NETWORK[0][0]
    if pack_folder is None or await Company.exists(name=first_company):
        return 0
    rng = random.Random(12)
    months = _month_starts(moment)
    password_hash = await accounts.hash_password(PASSWORD)
    staff: list[tuple[Person, float]] = []
    names = iter(FIRST_NAMES)
    for company_name, outlets, keenness in NETWORK:
        company = await members.create_company(name=company_name, kind="retailer")
        for outlet_name, region_name in outlets:
            region = await Region.get_or_none(name=region_name) or \
                await accounts.create_region(region_name)
            outlet: Outlet = await accounts.create_outlet(company, name=outlet_name,
                                                          region_id=region.id)
            for n in range(STAFF_PER_OUTLET):
                first = next(names)
                person = await members.create_person(
                    email=f"{first.lower()}.{outlet.id}@example.com", password=PASSWORD,
                    password_hash=password_hash, full_name=f"{first} {outlet_name.split()[0]}",
                    roles={Role.PLAYER}, outlet_id=outlet.id)
                # Staff join over the months: the first two from the start, then one a month.
                joined = season_bounds(months[min(n, len(months) - 1) if n >= 2 else 0])[0]
                await Person.filter(id=person.id).update(created_at=joined)
                staff.append((person, keenness))
    quizzes = {month: await _month_quizzes(month, media_dir, pack_folder, moment)
               for month in months}
    cause = await ledger.system_account("demo-history:cause", name="Clean water (demo)")
    played = 0
    for index, month in enumerate(months):
        start, end = season_bounds(month)
        end = min(end, moment - timedelta(hours=1))
        # Interest grows month by month, as in the case the programme follows.
        lift = 0.1 * index
        for person, keenness in staff:
            person = await Person.get(id=person.id)
            if person.created_at > end:
                continue
            eager = min(0.95, keenness + lift)
            played += await _month_of(person, eager, quizzes[month], rng, start, end, cause)
    await rollups.fold(moment, settle=timedelta(0))
    return played


async def _month_quizzes(month: str, media_dir: Path, pack_folder: Path,
                         now: datetime) -> list[Quiz]:
    """The quizzes live in ``month``: the demo pack itself for this month, and for a past
    month a copy of it (first questions only) published with that month's window."""
    start, end = season_bounds(month)
    if month == season_of(now):
        return list(await Quiz.filter(pack__live_from__lte=now, pack__live_until__gt=now,
                                      course_id__isnull=True).order_by("id"))
    pack = schema.read_pack(pack_folder)
    meta = pack.meta.model_copy(update={
        "id": f"history-{month}", "live_from": start, "live_until": end,
        "title": {"en": f"Monthly pack {month}", "ru": f"Пакет месяца {month}"}})
    quizzes = [quiz.model_copy(update={"questions": quiz.questions[:QUESTIONS_PER_QUIZ]})
               for quiz in pack.quizzes]
    copy = dataclasses.replace(pack, meta=meta, quizzes=quizzes, courses=[])
    await content.publish(copy, media_dir=media_dir, now=start)
    return list(await Quiz.filter(pack__slug=f"history-{month}").order_by("id"))


async def _month_of(person: Person, eager: float, quizzes: list[Quiz], rng: random.Random,
                    start: datetime, end: datetime, cause: Account) -> int:
    span = max(1, int((end - start).total_seconds() // 3600) - 2)
    book = rollups.VisitBook()
    if rng.random() > eager:
        return 0  # not seen this month
    for _ in range(rng.randint(1, 2 + int(eager * 5))):
        await book.record(person.id, now=start + timedelta(hours=rng.randrange(span)))
    played = 0
    for quiz in quizzes:
        if rng.random() > eager:
            continue
        begin = start + timedelta(hours=rng.randrange(span), minutes=rng.randrange(60))
        await book.record(person.id, now=begin)
        try:
            await _play(person, quiz, begin, rng, leave=rng.random() < 0.08)
        except PlayError:
            continue
        played += 1
    account = await ledger.account_of_person(person.id)
    if account.balance - account.held >= 150 and rng.random() < 0.35:
        await ledger.spend(account, amount=100,
                           reason=Reason(N_("E-gift certificate (demo history)")),
                           reference="demo-history", key=f"demo-history:spend:{person.id}:"
                           f"{season_of(start)}", now=end - timedelta(hours=2))
    elif account.balance - account.held >= 50 and rng.random() < 0.25:
        await ledger.donate(account, cause=cause, amount=50,
                            reason=Reason(N_("Donation: %(title)s"), title="Clean water"),
                            reference="demo-history", key=f"demo-history:donate:{person.id}:"
                            f"{season_of(start)}", now=end - timedelta(hours=3))
    await account.refresh_from_db()  # what the spend or the donation left
    if not played and account.balance - account.held > 0:
        await ledger.burn(account, amount=account.balance - account.held,
                          reason=Reason(N_("Points burned: no finished game or course "
                                           "(demo history)")),
                          reference="inactivity",
                          key=f"demo-history:burn:{person.id}:{season_of(start)}",
                          now=end - timedelta(hours=1))
    return played


async def _play(person: Person, quiz: Quiz, begin: datetime, rng: random.Random, *,
                leave: bool) -> None:
    game = await games.start(person, quiz.id, now=begin, rules=RULES)
    choice_order = (await Game.get(id=game.id)).choice_order  # fixed when a game starts
    questions = {q.id: q for q in await Question.filter(quiz_id=quiz.id)}
    clock = begin
    while (view := await games.current_question(person, game.id, now=clock,
                                                rules=RULES)) is not None:
        if leave and view.number > 1:
            await games.leave(person, game.id, now=clock)
            return
        question = questions[view.question_id]
        order = choice_order[str(question.id)]
        right = [i for i, c in enumerate(question.choices) if c["correct"]]
        wrong = [i for i, c in enumerate(question.choices) if not c["correct"]]
        # Some questions are hard, and their wrong answers mostly go to one choice.
        hardness = (question.id * 37 % 10) / 10
        if rng.random() < 0.45 + 0.5 * hardness and wrong:
            chosen = [wrong[0] if rng.random() < 0.7 else rng.choice(wrong)]
        else:
            chosen = right
        clock += timedelta(seconds=rng.uniform(2, 6 + 8 * hardness))
        await games.answer(person, game.id, view.question_id,
                           [order.index(c) for c in chosen], now=clock, rules=RULES)
