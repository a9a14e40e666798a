"""The programme pages: marketing's home (figures, charts, the teams table, an outlet's
staff), what the network does not know yet (questions), and every table as CSV or XLSX.

Marketing and admins see everything; a partner manager sees their own company (its
outlets and staff) and nothing else; players see none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.service import SignedIn
from portal.accounts.sessions import require_person
from portal.analytics import charts, service
from portal.analytics.service import Grouping, Scope, ScopeKind
from portal.web.exports import Cell, csv_download, xlsx_download
from portal.web.pagination import page_number
from portal.web.templating import render

STAFF = (Role.MARKETING, Role.ADMIN)
PAGE = 50


@dataclass(frozen=True)
class Asked:
    """What a programme request asks for, once allowed: the scope, month and table."""

    scope: Scope
    month: str
    by: Grouping
    sort: str
    descending: bool
    page: int
    now: datetime


async def _asked(request: Request, who: SignedIn) -> Asked:
    now = datetime.now(UTC)
    query = request.query_params
    scope = await service.scope_for(who.person, query.get("scope", ""),
                                    sees_all=bool(who.roles.intersection(STAFF)))
    default_by = Grouping.COMPANY if scope.kind in (ScopeKind.NETWORK, ScopeKind.REGION) \
        else Grouping.OUTLET
    try:
        by = Grouping(query.get("by") or default_by)
    except ValueError:
        raise HTTPException(400, i18n.gettext("Group by region, company or outlet.")) from None
    return Asked(scope, service.month_of(query.get("month", ""), now=now), by,
                 query.get("sort") or "share_active", query.get("dir") == "desc",
                 page_number(request), now)


async def programme(request: Request) -> Response:
    who = require_person(request, Role.MANAGER, *STAFF)
    asked = await _asked(request, who)
    found = await service.programme(asked.scope, asked.month, now=asked.now)
    teams, members, total = await _listed(asked, who)
    return render(request, "analytics/programme.html", asked=asked, found=found, teams=teams,
                  members=members, total=total, pages=max(1, -(-total // PAGE)),
                  months=await service.months(now=asked.now), **_charts(found),
                  staff_view=Role.ADMIN in who.roles, sorts=service.SORTS,
                  is_staff=bool(who.roles.intersection(STAFF)))


async def _listed(asked: Asked, who: SignedIn
                  ) -> tuple[list[service.Team], list[service.StaffMember], int]:
    """The page's table: an outlet's staff, or the scope's regions, companies or outlets
    (one page of each, and how many there are in all)."""
    if asked.scope.kind is ScopeKind.OUTLET:
        members, total = await service.staff(
            asked.scope.id, asked.month, with_emails=Role.ADMIN in who.roles,
            offset=(asked.page - 1) * PAGE, limit=PAGE)
        return [], members, total
    every = await service.teams(asked.scope, asked.month, by=asked.by, sort=asked.sort,
                                descending=asked.descending)
    return every[(asked.page - 1) * PAGE:asked.page * PAGE], [], len(every)


def _charts(found: service.Programme) -> dict[str, Any]:
    return {"visits_chart": charts.columns([(d.day[8:], d["visits"]) for d in found.days]),
            "games_chart": charts.columns([(d.day[8:], d["games_finished"])
                                           for d in found.days]),
            "flow": charts.bars(_flow(found))}


def _flow(found: service.Programme) -> list[tuple[str, float, str, str]]:
    month = found.month
    rows = [(i18n.gettext("Earned"), month["earned"], "in"),
            (i18n.gettext("Spent in the catalog"), month["spent"], "out"),
            (i18n.gettext("Donated"), month["donated"], "out"),
            (i18n.gettext("Won in auctions"), month["captured"], "out"),
            (i18n.gettext("Burned for inactivity"), month["burned_inactivity"], "burn"),
            (i18n.gettext("Burned with abandoned games"), month["burned_games"], "burn")]
    return [(label, value, i18n.points(value), kind) for label, value, kind in rows]


async def questions(request: Request) -> Response:
    require_person(request, *STAFF)
    now = datetime.now(UTC)
    month = service.month_of(request.query_params.get("month", ""), now=now)
    known = await service.knowledge(month, language=i18n.current_language())
    page = page_number(request)
    shown = known.questions[(page - 1) * PAGE:page * PAGE]
    hardest = charts.bars(
        [(q.text, 100 * (q.answers.share_correct or 0),
          f"{100 * (q.answers.share_correct or 0):.0f} %", "share") for q in shown[:15]],
        most=100, links=[f"{request.url_for('analytics.question', question_id=q.question_id)}"
                         f"?month={month}" for q in shown[:15]])
    return render(request, "analytics/questions.html", known=known, shown=shown,
                  hardest=hardest, month=month, months=await service.months(now=now),
                  page=page, pages=max(1, -(-len(known.questions) // PAGE)))


async def question(request: Request) -> Response:
    require_person(request, *STAFF)
    month = service.month_of(request.query_params.get("month", ""), now=datetime.now(UTC))
    report = await service.question_report(request.path_params["question_id"], month,
                                           language=i18n.current_language())
    times = charts.columns([(str(s), report.answers.times.get(s, 0))
                            for s in range(0, max(report.answers.times, default=20) + 1)])
    return render(request, "analytics/question.html", report=report, month=month,
                  times=times)


# -- exports --------------------------------------------------------------------------------


def _percent(value: float | None) -> Cell:
    return None if value is None else round(100 * value, 1)


def _number(value: float | None) -> Cell:
    return None if value is None else round(value, 2)


async def export(request: Request) -> Response:
    """One of the page's tables as CSV or XLSX, for the same month and scope."""
    who = require_person(request, Role.MANAGER, *STAFF)
    table, fmt = request.path_params["table"], request.path_params["format"]
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404)
    if table in ("questions", "quizzes", "packs"):
        require_person(request, *STAFF)
    asked = await _asked(request, who)
    header, rows = await _table(table, asked, who)
    name = f"{table}-{asked.scope.key.replace(':', '-')}-{asked.month}.{fmt}"
    if fmt == "csv":
        return csv_download(name, header, rows)
    return xlsx_download(name, table, header, rows)


async def _table(table: str, asked: Asked, who: SignedIn
                 ) -> tuple[list[str], Sequence[Sequence[Cell]]]:
    _ = i18n.gettext
    if table == "figures":
        found = await service.programme(asked.scope, asked.month, now=asked.now)
        return ([_("Figure"), asked.month, _("Previous month")],
                [[f.name, _percent(f.value) if f.share else _number(f.value),
                  _percent(f.previous) if f.share else _number(f.previous)]
                 for f in found.figures])
    if table == "days":
        days = await service.days(asked.scope, asked.month)
        columns = service.DAY_COLUMNS
        return [_("Day"), *columns], [[d.day, *(d[c] for c in columns)] for d in days]
    if table == "teams":
        teams = await service.teams(asked.scope, asked.month, by=asked.by, sort=asked.sort,
                                    descending=asked.descending)
        return ([_("Name"), _("Registered"), _("Active"), _("Share active"),
                 _("Finished a game"), _("Share finishing a game"), _("Share with five tasks"),
                 _("Points earned"), _("Points per active player")],
                [[t.name, t.registered, t.active, _percent(t.share_active), t.with_game,
                  _percent(t.share_with_game), _percent(t.share_with_five), t.earned,
                  _number(t.points_per_active)] for t in teams])
    if table == "staff" and asked.scope.kind is ScopeKind.OUTLET:
        with_emails = Role.ADMIN in who.roles
        members, _total = await service.staff(asked.scope.id, asked.month,
                                              with_emails=with_emails, limit=100_000)
        header = [_("Name"), *([_("E-mail")] if with_emails else []), _("Days with a visit"),
                  _("Games finished"), _("Points earned")]
        return header, [[m.name, *([m.email] if with_emails else []), m.visit_days, m.games,
                         m.earned] for m in members]
    if table in ("questions", "quizzes", "packs"):
        known = await service.knowledge(asked.month, language=i18n.current_language())
        stats = [_("Answered"), _("Share correct"), _("Median answer time, s")]
        if table == "questions":
            return ([_("Question"), _("Quiz"), _("Pack"), *stats, _("Wrong choice picked most"),
                     _("Times picked")],
                    [[q.text, q.quiz, q.pack, q.answers.answered,
                      _percent(q.answers.share_correct), q.answers.median_seconds,
                      q.misconception, q.misconception_count] for q in known.questions])
        items = known.quizzes if table == "quizzes" else known.packs
        return ([_("Quiz") if table == "quizzes" else _("Pack"), *stats],
                [[i.title, i.answers.answered, _percent(i.answers.share_correct),
                  i.answers.median_seconds] for i in items])
    raise HTTPException(404)


routes = [
    Route("/analytics", programme, methods=["GET"], name="analytics.programme"),
    Route("/analytics/questions", questions, methods=["GET"], name="analytics.questions"),
    Route("/analytics/questions/{question_id:id}", question, methods=["GET"],
          name="analytics.question"),
    Route("/analytics/export/{table}.{format}", export, methods=["GET"],
          name="analytics.export"),
]
