"""The programme's figures, read from the rollups only (never the ledger or the answers).

A scope is the whole network, a region, a company or an outlet; a month is ``YYYY-MM``.
Every figure comes with the previous month's beside it. "Players" are people holding the
player role; a share of players is of those registered by the month's end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.functions import Sum

from portal.accounts.models import Company, Outlet, Person, Region
from portal.analytics.models import (
    CompanyMonth,
    DayOutlet,
    HeldNow,
    MonthOutlet,
    PlayerMonth,
    QuestionMonth,
    QuestionSlot,
)
from portal.analytics.rollups import COMPANY_COLUMNS, MONTH_COLUMNS, NETWORK_ROW, month_days
from portal.content.models import Pack, Question, Quiz
from portal.content.service import localized
from portal.i18n import N_, Refusal
from portal.seasons import previous_season, season_bounds, season_of

TASKS_GOAL = 5  # "share reaching five tasks a month"
INTO = ("earned", "adjusted_in", "received_other", "refunded")
OUT_OF = ("spent", "donated", "captured", "burned_inactivity", "burned_other", "adjusted_out",
          "sent_other")
DAY_COLUMNS = ("visits", "games_finished", "earned", "spent", "donated", "captured", "burned")


class ScopeKind(StrEnum):
    NETWORK = "network"
    REGION = "region"
    COMPANY = "company"
    OUTLET = "outlet"


COLUMN_OF = {ScopeKind.REGION: "region_id", ScopeKind.COMPANY: "company_id",
             ScopeKind.OUTLET: "outlet_id"}


class AnalyticsRefused(Refusal):
    """A month, scope or sort the figures cannot be given for."""

    status = 400


class NotFound(AnalyticsRefused):
    status = 404


class NotAllowed(AnalyticsRefused):
    status = 403


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: int = 0
    name: str = ""
    company_id: int = 0  # an outlet's company (for a manager's check and the breadcrumb)
    company_name: str = ""
    region_id: int = 0

    @property
    def key(self) -> str:
        return "network" if self.kind is ScopeKind.NETWORK else f"{self.kind.value}:{self.id}"

    def filters(self) -> dict[str, int]:
        """The rollup rows of this scope: the network's own row, or the scope's outlets'."""
        if self.kind is ScopeKind.NETWORK:
            return {"outlet_id": NETWORK_ROW}
        return {COLUMN_OF[self.kind]: self.id}


NETWORK = Scope(ScopeKind.NETWORK)


async def scope_of(key: str) -> Scope:
    """The scope a ``network`` / ``region:3`` / ``company:4`` / ``outlet:5`` key names,
    with its name; refused when it is malformed or names nothing."""
    if key in ("", "network"):
        return NETWORK
    kind_text, _, id_text = key.partition(":")
    try:
        kind = ScopeKind(kind_text)
    except ValueError:
        kind = None
    if kind is None or kind is ScopeKind.NETWORK or not (id_text.isascii() and id_text.isdigit()):
        raise AnalyticsRefused(N_("Unknown scope %(scope)s: use network, region:ID, company:ID "
                                  "or outlet:ID."), scope=key[:40])
    number = int(id_text)
    if kind is ScopeKind.REGION and (region := await Region.get_or_none(id=number)):
        return Scope(kind, number, region.name, region_id=number)
    if kind is ScopeKind.COMPANY and (company := await Company.get_or_none(id=number)):
        return Scope(kind, number, company.name, company_id=number)
    if kind is ScopeKind.OUTLET and (
            outlet := await Outlet.get_or_none(id=number).select_related("company")):
        return Scope(kind, number, outlet.name, company_id=outlet.company_id,
                     company_name=outlet.company.name, region_id=outlet.region_id)
    raise NotFound(N_("There is no %(scope)s."), scope=key[:40])


async def scope_for(person: Person, key: str, *, sees_all: bool) -> Scope:
    """The scope ``key`` names, as this person may see it: marketing and admins
    (``sees_all``) any; a partner manager their own company (also when asking for the
    network) or one of its outlets, and another's is not found."""
    scope = await scope_of(key)
    if sees_all:
        return scope
    company_id = await company_of(person)
    if company_id is None:
        raise NotAllowed(N_("This page is not part of your role."))
    if scope.kind is ScopeKind.NETWORK:
        return await scope_of(f"company:{company_id}")
    if scope.kind in (ScopeKind.COMPANY, ScopeKind.OUTLET) and scope.company_id == company_id:
        return scope
    raise NotFound(N_("There is no %(scope)s."), scope=key[:40])


async def company_of(person: Person) -> int | None:
    """The company of the outlet a person works at (a partner manager's company)."""
    if person.outlet_id is None:
        return None
    outlet = await Outlet.get_or_none(id=person.outlet_id)
    return outlet.company_id if outlet else None


def month_of(text: str, *, now: datetime) -> str:
    """The month asked for (this one when none): ``YYYY-MM``, not in the future."""
    if not text:
        return season_of(now)
    try:
        start, _ = season_bounds(text)
    except ValueError:
        start = None
    if start is None or len(text) != 7 or season_of(start) != text:
        raise AnalyticsRefused(N_("A month is written YYYY-MM, e.g. %(example)s."),
                               example=season_of(now))
    if text > season_of(now):
        raise AnalyticsRefused(N_("%(month)s has not happened yet."), month=text)
    return text


async def months(*, now: datetime) -> list[str]:
    """The months with figures, newest first (this month always)."""
    first = await MonthOutlet.all().order_by("month").limit(1).values_list("month", flat=True)
    current = season_of(now)
    oldest = str(first[0]) if first else current
    found: list[str] = []
    month = current
    while month >= oldest and len(found) < 120:
        found.append(month)
        month = previous_season(season_bounds(month)[0])
    return found


# -- the programme --------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """One scope's month: the rollups' sums and what follows from them."""

    month: str
    values: dict[str, int]
    registered: int  # players registered by the month's end
    liability: int  # points people held at the month's end

    def __getitem__(self, name: str) -> int:
        return self.values.get(name, 0)

    @property
    def burned(self) -> int:
        return self["burned_inactivity"] + self["burned_other"] + self["burned_games"]

    @property
    def adjusted(self) -> int:
        return self["adjusted_in"] - self["adjusted_out"]

    def share(self, name: str) -> float | None:
        return self[name] / self.registered if self.registered else None

    @property
    def visits_per_active(self) -> float | None:
        active = self["active_players"]
        return self["visits"] / active if active else None

    @property
    def points_per_active(self) -> float | None:
        active = self["active_players"]
        return self["earned"] / active if active else None


@dataclass(frozen=True)
class CompanyPoints:
    """The companies' own points accounts in a month (one company's, or every one's)."""

    month: str
    values: dict[str, int]
    held: int  # what the companies held at the month's end

    def __getitem__(self, name: str) -> int:
        return self.values.get(name, 0)


@dataclass(frozen=True)
class Day:
    day: str
    values: dict[str, int]

    def __getitem__(self, name: str) -> int:
        return self.values.get(name, 0)


@dataclass(frozen=True)
class Programme:
    scope: Scope
    month: Month
    previous: Month
    days: list[Day]
    held_now: int | None  # points in open bids now: this month only
    company: CompanyPoints | None  # the network's or a company's own accounts, else None
    company_previous: CompanyPoints | None
    figures: list[Figure] = field(default_factory=list)


@dataclass(frozen=True)
class Figure:
    name: str  # a stable key, for exports and the API
    value: float | None
    previous: float | None
    share: bool = False


async def programme(scope: Scope, month: str, *, now: datetime) -> Programme:
    before = previous_season(season_bounds(month)[0])
    by_month = await _months(scope, month)
    this, last = _month(by_month, month), _month(by_month, before)
    held = await held_now(scope) if month == season_of(now) else None
    company = company_last = None
    if scope.kind in (ScopeKind.NETWORK, ScopeKind.COMPANY):
        by_company_month = await _company_months(scope, month)
        company = _company_month(by_company_month, month)
        company_last = _company_month(by_company_month, before)
    rows = figures(this, last, held)
    if company is not None and company_last is not None:
        rows += company_figures(company, company_last)
    return Programme(scope=scope, month=this, previous=last, days=await days(scope, month),
                     held_now=held, company=company, company_previous=company_last,
                     figures=rows)


def figures(this: Month, last: Month, held: int | None) -> list[Figure]:
    """The programme's key figures in order, as exports and the API give them."""
    def pair(name: str, value: Any, previous: Any, share: bool = False) -> Figure:
        return Figure(name, value, previous, share)

    rows = [
        pair("registered_players", this.registered, last.registered),
        pair("new_players", this["new_players"], last["new_players"]),
        pair("active_players", this["active_players"], last["active_players"]),
        pair("share_active", this.share("active_players"), last.share("active_players"), True),
        pair("players_with_game", this["players_with_game"], last["players_with_game"]),
        pair("share_with_game", this.share("players_with_game"),
             last.share("players_with_game"), True),
        pair("share_with_five_tasks", this.share("players_with_five"),
             last.share("players_with_five"), True),
        pair("visits", this["visits"], last["visits"]),
        pair("visit_days_per_active_player", this.visits_per_active, last.visits_per_active),
        pair("games_finished", this["games_finished"], last["games_finished"]),
        pair("games_abandoned", this["games_abandoned"], last["games_abandoned"]),
        pair("points_earned", this["earned"], last["earned"]),
        pair("points_spent_in_catalog", this["spent"], last["spent"]),
        pair("points_refunded", this["refunded"], last["refunded"]),
        pair("points_donated", this["donated"], last["donated"]),
        pair("points_captured_in_auctions", this["captured"], last["captured"]),
        pair("points_burned_inactivity", this["burned_inactivity"], last["burned_inactivity"]),
        pair("points_burned_abandoned_games", this["burned_games"], last["burned_games"]),
        pair("points_burned_other", this["burned_other"], last["burned_other"]),
        pair("points_adjusted", this.adjusted, last.adjusted),
        pair("points_held_by_players", this.liability, last.liability),
    ]
    if held is not None:
        rows.append(pair("points_held_in_open_bids", held, None))
    return rows


def company_figures(this: CompanyPoints, last: CompanyPoints) -> list[Figure]:
    """The companies' own points, apart from their staff's."""
    return [Figure(f"company_points_{name}", this[name], last[name])
            for name in ("credited", "shared", "refunded", "spent", "removed")] + [
        Figure("company_points_held", this.held, last.held)]


def _sums(columns: tuple[str, ...]) -> dict[str, Any]:
    return {f"s_{c}": Sum(c) for c in columns}


async def _months(scope: Scope, through: str) -> dict[str, dict[str, int]]:
    """Every month up to ``through``: its sums over the scope (a few rows per month of
    history, whatever the number of outlets in the database)."""
    rows = await (MonthOutlet.filter(month__lte=through, **scope.filters())
                  .annotate(**_sums(MONTH_COLUMNS)).group_by("month")
                  .values("month", *[f"s_{c}" for c in MONTH_COLUMNS]))
    return {row["month"]: {c: int(row[f"s_{c}"] or 0) for c in MONTH_COLUMNS} for row in rows}


def _month(by_month: dict[str, dict[str, int]], month: str) -> Month:
    registered = liability = 0
    for name, values in by_month.items():
        if name <= month:
            registered += values["new_players"]
            liability += sum(values[c] for c in INTO) - sum(values[c] for c in OUT_OF)
    return Month(month, by_month.get(month, {}), registered, liability)


async def days(scope: Scope, month: str) -> list[Day]:
    every = month_days(month)
    rows = await (DayOutlet.filter(day__gte=every[0], day__lte=every[-1], **scope.filters())
                  .annotate(**_sums(DAY_COLUMNS)).group_by("day")
                  .values("day", *[f"s_{c}" for c in DAY_COLUMNS]))
    found = {row["day"]: {c: int(row[f"s_{c}"] or 0) for c in DAY_COLUMNS} for row in rows}
    return [Day(day, found.get(day, {})) for day in every]


async def held_now(scope: Scope) -> int:
    """Points people hold in open bids, as the fold last counted them (``HeldNow``: a
    row per outlet with open bids, never the accounts)."""
    rows = await HeldNow.filter(**scope.filters()).values("held")
    return sum(int(row["held"]) for row in rows)


async def _company_months(scope: Scope, through: str) -> dict[str, dict[str, int]]:
    """Every month up to ``through`` of the network's or a company's own accounts."""
    company = NETWORK_ROW if scope.kind is ScopeKind.NETWORK else scope.id
    rows = await CompanyMonth.filter(company_id=company, month__lte=through).values(
        "month", *COMPANY_COLUMNS)
    return {row["month"]: {c: int(row[c]) for c in COMPANY_COLUMNS} for row in rows}


def _company_month(by_month: dict[str, dict[str, int]], month: str) -> CompanyPoints:
    held = sum(values["credited"] + values["shared"] + values["refunded"]
               + values["received_other"] - values["spent"] - values["removed"]
               for name, values in by_month.items() if name <= month)
    return CompanyPoints(month, by_month.get(month, {}), held)


# -- regions, companies, outlets ----------------------------------------------------------


class Grouping(StrEnum):
    REGION = "region"
    COMPANY = "company"
    OUTLET = "outlet"


SORTS = ("name", "registered", "active", "share_active", "with_game", "share_with_game",
         "share_with_five", "earned", "points_per_active")


@dataclass(frozen=True)
class Team:
    """A region's, company's or outlet's line in the table."""

    grouping: Grouping
    id: int
    name: str
    registered: int
    active: int
    with_game: int
    with_five: int
    earned: int

    def _share(self, count: int) -> float | None:
        return count / self.registered if self.registered else None

    @property
    def share_active(self) -> float | None:
        return self._share(self.active)

    @property
    def share_with_game(self) -> float | None:
        return self._share(self.with_game)

    @property
    def share_with_five(self) -> float | None:
        return self._share(self.with_five)

    @property
    def points_per_active(self) -> float | None:
        return self.earned / self.active if self.active else None

    @property
    def scope_key(self) -> str:
        return f"{self.grouping.value}:{self.id}"


async def teams(scope: Scope, month: str, *, by: Grouping, sort: str = "share_active",
                descending: bool = False) -> list[Team]:
    """The scope's regions, companies or outlets with their month, sorted by any column
    (laggards first by default: the lowest share of active staff). People without an
    outlet (marketing, admins) are left out."""
    if sort not in SORTS:
        raise AnalyticsRefused(N_("Unknown column to sort by: %(sort)s."), sort=sort[:40])
    column = f"{by.value}_id"
    within = {} if scope.kind is ScopeKind.NETWORK else scope.filters()
    base = MonthOutlet.filter(outlet_id__gt=0, **within)
    registered = {int(r[column]): int(r["n"] or 0) for r in await (
        base.filter(month__lte=month).annotate(n=Sum("new_players")).group_by(column)
        .values(column, "n"))}
    sums = ("active_players", "players_with_game", "players_with_five", "earned")
    current = {int(r[column]): r for r in await (
        base.filter(month=month).annotate(**_sums(sums)).group_by(column)
        .values(column, *[f"s_{c}" for c in sums]))}
    ids = sorted(set(registered) | set(current))
    model = {Grouping.REGION: Region, Grouping.COMPANY: Company, Grouping.OUTLET: Outlet}[by]
    names = dict(await model.filter(id__in=ids).values_list("id", "name"))
    rows = []
    for team_id in ids:
        got = current.get(team_id, {})
        rows.append(Team(by, team_id, str(names.get(team_id, f"#{team_id}")),
                         registered.get(team_id, 0), int(got.get("s_active_players") or 0),
                         int(got.get("s_players_with_game") or 0),
                         int(got.get("s_players_with_five") or 0),
                         int(got.get("s_earned") or 0)))

    def key(team: Team) -> tuple[bool, Any, str]:
        value = getattr(team, sort)
        missing = value is None
        return (missing, value if not missing else 0, team.name.lower())

    rows.sort(key=key, reverse=descending)
    if descending:  # teams without a value stay last either way
        rows.sort(key=lambda team: getattr(team, sort) is None)
    return rows


@dataclass(frozen=True)
class StaffMember:
    person_id: int
    name: str
    email: str | None  # for admins only
    visit_days: int
    games: int
    earned: int


async def staff(outlet_id: int, month: str, *, with_emails: bool, offset: int = 0,
                limit: int = 50) -> tuple[list[StaffMember], int]:
    """An outlet's players with their month, by name; and how many there are."""
    people = Person.filter(outlet_id=outlet_id, roles__contains="player", is_active=True)
    total = await people.count()
    page = await people.order_by("full_name", "id").offset(offset).limit(limit)
    months = {m.person_id: m for m in await PlayerMonth.filter(
        month=month, person_id__in=[p.id for p in page])}
    members = []
    for person in page:
        got = months.get(person.id)
        members.append(StaffMember(person.id, person.full_name,
                                   person.email if with_emails else None,
                                   got.visit_days if got else 0, got.games if got else 0,
                                   got.earned if got else 0))
    return members, total


# -- what the network does not know yet ------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """How something (a question, a quiz, a pack) was answered in a month."""

    answered: int
    correct: int
    wrong: int
    timed_out: int
    times: dict[int, int]  # whole seconds taken -> answers

    @property
    def share_correct(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def median_seconds(self) -> float | None:
        """The median time of the answers given (timeouts aside), from the one-second
        slots: within its slot, the median is placed as if answers were spread evenly."""
        count = sum(self.times.values())
        if not count:
            return None
        half, seen = count / 2, 0
        for second in sorted(self.times):
            here = self.times[second]
            if seen + here >= half:
                return round(second + (half - seen) / here, 1)
            seen += here
        return None  # pragma: no cover - the loop always reaches half


def _combined(parts: list[Answers]) -> Answers:
    times: dict[int, int] = defaultdict(int)
    for part in parts:
        for second, count in part.times.items():
            times[second] += count
    return Answers(sum(p.answered for p in parts), sum(p.correct for p in parts),
                   sum(p.wrong for p in parts), sum(p.timed_out for p in parts), dict(times))


@dataclass(frozen=True)
class QuestionLine:
    question_id: int
    quiz_id: int
    pack_id: int
    text: str
    quiz: str
    pack: str
    answers: Answers
    misconception: str | None  # the wrong choice picked most
    misconception_count: int


@dataclass(frozen=True)
class ItemLine:
    """A quiz's or a pack's month."""

    id: int
    title: str
    answers: Answers


@dataclass(frozen=True)
class Knowledge:
    month: str
    questions: list[QuestionLine]  # hardest first
    quizzes: list[ItemLine]
    packs: list[ItemLine]


async def knowledge(month: str, *, language: str) -> Knowledge:
    """Per question, quiz and pack: answered, share correct, median time, and the wrong
    choice picked most. The hardest questions (lowest share correct) first."""
    stats = await QuestionMonth.filter(month=month)
    ids = [s.question_id for s in stats]
    slots = await QuestionSlot.filter(month=month, question_id__in=ids) if ids else []
    times: dict[int, dict[int, int]] = defaultdict(dict)
    wrong: dict[int, dict[int, int]] = defaultdict(dict)
    for slot in slots:
        (times if slot.kind == "time" else wrong)[slot.question_id][slot.slot] = slot.count
    questions = {q.id: q for q in await Question.filter(id__in=ids).select_related(
        "quiz__pack")} if ids else {}
    lines: list[QuestionLine] = []
    for stat in stats:
        question = questions.get(stat.question_id)
        if question is None:
            continue
        default = question.quiz.pack.default_language
        picked = wrong.get(stat.question_id, {})
        top = max(picked, key=lambda c: (picked[c], -c)) if picked else None
        misconception = (localized(question.choices[top]["text"], language, default)
                         if top is not None and top < len(question.choices) else None)
        lines.append(QuestionLine(
            stat.question_id, stat.quiz_id, stat.pack_id,
            localized(question.text, language, default),
            localized(question.quiz.title, language, default),
            localized(question.quiz.pack.title, language, default),
            Answers(stat.answered, stat.correct, stat.wrong, stat.timed_out,
                    times.get(stat.question_id, {})),
            misconception, picked[top] if top is not None else 0))
    lines.sort(key=lambda q: (q.answers.share_correct if q.answers.share_correct is not None
                              else 2.0, -q.answers.answered, q.question_id))
    return Knowledge(month, lines, _items(lines, "quiz"), _items(lines, "pack"))


def _items(lines: list[QuestionLine], level: str) -> list[ItemLine]:
    parts: dict[int, list[QuestionLine]] = defaultdict(list)
    for line in lines:
        parts[line.quiz_id if level == "quiz" else line.pack_id].append(line)
    items = [ItemLine(item_id, group[0].quiz if level == "quiz" else group[0].pack,
                      _combined([q.answers for q in group])) for item_id, group in parts.items()]
    items.sort(key=lambda i: (i.answers.share_correct if i.answers.share_correct is not None
                              else 2.0, i.id))
    return items


@dataclass(frozen=True)
class ChoiceLine:
    text: str
    correct: bool
    picked_wrongly: int  # how often it was picked in a wrong answer


@dataclass(frozen=True)
class QuestionReport:
    question_id: int
    month: str
    text: str
    type: str
    image: str | None
    quiz: str
    pack: str
    choices: list[ChoiceLine]
    explanation: str
    answers: Answers


async def question_report(question_id: int, month: str, *, language: str) -> QuestionReport:
    question = await Question.get_or_none(id=question_id).select_related("quiz__pack")
    if question is None:
        raise NotFound(N_("There is no question %(id)s."), id=question_id)
    quiz: Quiz = question.quiz
    pack: Pack = quiz.pack
    default = pack.default_language
    stat = await QuestionMonth.get_or_none(month=month, question_id=question_id)
    slots = await QuestionSlot.filter(month=month, question_id=question_id)
    wrong = {s.slot: s.count for s in slots if s.kind == "choice"}
    times = {s.slot: s.count for s in slots if s.kind == "time"}
    answers = (Answers(stat.answered, stat.correct, stat.wrong, stat.timed_out, times)
               if stat else Answers(0, 0, 0, 0, {}))
    return QuestionReport(
        question.id, month, localized(question.text, language, default), question.type,
        question.image, localized(quiz.title, language, default),
        localized(pack.title, language, default),
        [ChoiceLine(localized(c["text"], language, default), bool(c.get("correct")),
                    wrong.get(i, 0)) for i, c in enumerate(question.choices)],
        localized(question.explanation, language, default), answers)
