"""Play's awards: their ledger keys and reasons (once per item and person, whatever is
retried, said in the reader's language), and crediting one (``credit``).

A key names what the points are for (a quiz, a course, the welcome bonus) and whom, so a
replayed finish pays nothing more. It is built here only: by the games and courses that
credit, and by a game's result, which asks the ledger what was credited under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from tortoise.backends.base.client import BaseDBAsyncClient

from portal.accounts.models import Outlet, Person
from portal.content.models import Course, Quiz
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.models import Account
from portal.ledger.reasons import Reason

WELCOME: Final = "welcome"  # the onboarding bonus: once per person, ever


def award_key(person_id: int, item: Quiz | Course | Literal["welcome"]) -> str:
    if isinstance(item, Quiz):
        return f"quiz:{item.id}:person:{person_id}"
    if isinstance(item, Course):
        return f"course:{item.id}:person:{person_id}"
    return f"{WELCOME}:person:{person_id}"


def _titles(texts: dict[str, str], default: str) -> dict[str, str]:
    """A content title in every language it has, the pack's default language first (the
    one shown to a reader whose language the title lacks, English aside)."""
    return dict(sorted(texts.items(), key=lambda item: item[0] != default))


def quiz_reason(quiz: Quiz, *, default_language: str, correct: int, total: int) -> Reason:
    return Reason(N_("Quiz: %(title)s (%(correct)s of %(total)s correct)"),
                  title=_titles(quiz.title, default_language), correct=correct, total=total)


def survey_reason(quiz: Quiz, *, default_language: str) -> Reason:
    return Reason(N_("Survey completed: %(title)s"),
                  title=_titles(quiz.title, default_language))


def course_reason(course: Course, *, default_language: str) -> Reason:
    return Reason(N_("Course completed: %(title)s"),
                  title=_titles(course.title, default_language))


WELCOME_REASON: Final = Reason(N_("Welcome bonus: onboarding courses completed"))


async def credit(conn: BaseDBAsyncClient, person: Person, account: Account, *, amount: int,
                 key: str, reason: Reason, reference: str, now: datetime,
                 share_percent: int) -> None:
    """Credits an award to the player and, with a company share set
    (``PORTAL_COMPANY_SHARE_PERCENT``), the player's company its share, rounded down: both
    in the caller's transaction, each once per award key. The one place an award is paid."""
    await ledger.earn(account, amount=amount, key=key, reason=reason, reference=reference,
                      now=now, conn=conn)
    cut = amount * share_percent // 100
    if cut <= 0 or person.outlet_id is None:
        return
    outlet = await Outlet.filter(id=person.outlet_id).using_db(conn).get()
    company = await Account.filter(company_id=outlet.company_id).using_db(conn).first()
    if company is None:
        return
    await ledger.share(
        company, amount=cut, key=f"{key}:company-share", reference=reference, now=now,
        reason=Reason(N_("%(percent)s%% of %(points)s points %(name)s earned"),
                      percent=share_percent, points=amount, name=person.display_name),
        conn=conn)
