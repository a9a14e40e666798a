"""The ceilings: a bare Starlette app, served exactly as ``portal web`` is.

``GET /`` answers "ok"; ``POST /answer`` parses a JSON body and answers JSON, the shape
of the game's answer endpoint without any of its work (the ceiling of the answer bench).

With ``PORTAL_DATABASE_URL`` set it also serves the raw twins of the portal's hot pages:
the same response from the least SQL it needs, sent with the raw driver (aiosqlite with
the portal's pragmas, or an asyncpg pool the size of Tortoise's whose connections go back
without a reset query, as the portal's do), no ORM, no middleware:

* ``GET /twin/me``: ``GET /api/v1/me``'s JSON, byte for byte, from ONE query joining the
  session, the person (with outlet, company and region) and the account (with the
  season's score), the session's ``last_seen_at`` touched at most once a minute as the
  portal does;
* ``GET /twin/dashboard``: ``GET /``'s HTML, byte for byte, rendered from the portal's
  own template with the portal's own formatting (reasons, dates, points), from four
  set-based queries: the session with the person, account, season score and when points
  last arrived; the five newest transfers; this month's live quizzes and courses with the
  player's games and course progress; the rewards the player can see and afford with the
  pinned goal.

The twins refuse (401 or 303) what the portal refuses; they do nothing the response does
not need, so the gap between a twin and its portal page is the portal's own overhead.

``python -m tests.bench.bare --port N`` runs it with the same ``uvicorn.run`` arguments as
``portal.cli._serve`` (one worker, uvicorn's default loop and HTTP parser: uvloop and
httptools where installed, as ``uvicorn[standard]`` does); ``--workers N`` runs N workers
as ``portal web --workers N`` does, each on its own socket (``portal.serving``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.burns.service import Outlook as BurnOutlook
from portal.burns.service import burn_moment, notice_period
from portal.catalog.models import ItemKind
from portal.catalog.service import Card as RewardCard
from portal.catalog.service import Outlook as RewardOutlook
from portal.catalog.service import Threshold
from portal.content.service import localized
from portal.ledger.idle import burn_due
from portal.ledger.models import TransferKind
from portal.ledger.reads import Entry, Summary
from portal.ledger.reasons import Reason
from portal.play.month import Card
from portal.play.scoring import is_survey
from portal.seasons import season_of
from portal.settings import Settings
from portal.web import masking
from portal.web.templating import environment, url_path

SEEN_RESOLUTION = timedelta(minutes=1)  # as portal.accounts.service


async def hello(request: Request) -> Response:
    return PlainTextResponse("ok")


async def answer(request: Request) -> Response:
    body = json.loads(await request.body())
    return JSONResponse({"question_id": body.get("question_id"), "correct": True,
                         "chosen_positions": body.get("choices", [])})


# -- the raw driver ------------------------------------------------------------------------


class Db:
    """SQL with ``?`` placeholders on aiosqlite or asyncpg; rows as dicts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgres", "asyncpg"))
        self.conn: Any = None
        self.pool: Any = None

    async def open(self) -> None:
        if self.postgres:
            import asyncpg

            dsn = urlsplit(self.url)._replace(scheme="postgres", query="").geturl()
            from portal.db import PooledConnection

            # Tortoise's asyncpg pool: minsize 1, maxsize 5, no reset query (portal.db).
            self.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5,
                                                  connection_class=PooledConnection)
            return
        import aiosqlite

        from tests.bench.rawdb import sqlite_pragmas

        path, pragmas = sqlite_pragmas(self.url)
        self.conn = await aiosqlite.connect(path, isolation_level=None)
        self.conn.row_factory = aiosqlite.Row
        for name, value in pragmas.items():
            await self.conn.execute(f"PRAGMA {name}={value}")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.conn is not None:
            await self.conn.close()

    def _sql(self, sql: str) -> str:
        if not self.postgres:
            return sql
        parts = sql.split("?")
        return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]

    def param(self, moment: datetime) -> Any:
        """A timestamp as each driver compares it (Tortoise's SQLite text form)."""
        return moment if self.postgres else moment.isoformat(" ")

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.postgres:
            return [dict(row) for row in await self.pool.fetch(self._sql(sql), *args)]
        async with self.conn.execute(sql, args) as cursor:
            return [dict(row) for row in await cursor.fetchall()]

    async def execute(self, sql: str, *args: Any) -> None:
        if self.postgres:
            await self.pool.execute(self._sql(sql), *args)
        else:
            await self.conn.execute(sql, args)


def _dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Twins:
    db: Db
    settings: Settings
    router: Any  # the portal's, for the same links

    async def signed_in(self, token: str | None, kind: str, now: datetime,
                        extra: str = "", args: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The session's row joined with the person and their account, or None."""
        if not token or len(token) > 100:
            return None
        rows = await self.db.fetch(  # extra: the caller's own subqueries, no input
            "SELECT s.id_hash, s.last_seen_at, s.expires_at, p.id, p.full_name, "  # noqa: S608
            "p.display_name, p.email, p.language, p.time_zone, p.roles, p.is_active, "
            "o.name AS outlet, c.name AS company, c.time_zone AS company_zone, "
            "r.name AS region, a.id AS account_id, a.balance, a.held, a.created_at, "
            "a.last_active_at, COALESCE(ss.earned, 0) AS earned" + extra +
            " FROM session s JOIN person p ON p.id = s.person_id "
            "JOIN account a ON a.person_id = p.id "
            "LEFT JOIN outlet o ON o.id = p.outlet_id "
            "LEFT JOIN company c ON c.id = o.company_id "
            "LEFT JOIN region r ON r.id = o.region_id "
            "LEFT JOIN season_score ss ON ss.account_id = a.id AND ss.season = ? "
            "WHERE s.id_hash = ? AND s.kind = ?",
            *args, season_of(now), hashlib.sha256(token.encode()).hexdigest(), kind)
        if not rows:
            return None
        row = rows[0]
        seen = _dt(row["last_seen_at"])
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        if _dt(row["expires_at"]) <= now or seen + idle <= now or not row["is_active"]:
            return None
        if now - seen > SEEN_RESOLUTION:
            await self.db.execute("UPDATE session SET last_seen_at = ? WHERE id_hash = ?",
                                  self.db.param(now), row["id_hash"])
        return row

    def zone(self, row: dict[str, Any]) -> str:
        return row["time_zone"] or row["company_zone"] or self.settings.time_zone

    async def me(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        now = datetime.now(UTC)
        row = await self.signed_in(token, "api", now)
        if row is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        roles = sorted(role for role in row["roles"].split(",") if role)
        return JSONResponse({
            "id": row["id"], "full_name": row["full_name"],
            "display_name": row["display_name"], "email": row["email"],
            "language": row["language"], "time_zone": self.zone(row), "roles": roles,
            "company": row["company"], "outlet": row["outlet"], "region": row["region"],
            "balance": row["balance"], "held": row["held"],
            "available": row["balance"] - row["held"], "earned_this_season": row["earned"],
            "season": season_of(now)})

    async def dashboard(self, request: Request) -> Response:
        now = datetime.now(UTC)
        # When points last arrived (the burn's notice), in the same query.
        row = await self.signed_in(
            request.cookies.get("portal_session"), "web", now,
            ", (SELECT t.created_at FROM transfer t WHERE t.target_id = a.id "
            "ORDER BY t.id DESC LIMIT 1) AS credited, (SELECT MAX(h.resolved_at) FROM hold h "
            "WHERE h.account_id = a.id AND h.status = 'released') AS released")
        if row is None:
            return Response(status_code=303, headers={"location": "/login"})
        roles = frozenset(Role(role) for role in row["roles"].split(",") if role)
        if Role.PLAYER not in roles:
            return Response("not a player", status_code=403)
        zone = self.zone(row)
        with i18n.language(row["language"]), i18n.time_zone(zone):
            context = await self._dashboard_context(request, row, roles, now, zone)
            html = environment.get_template("pages/dashboard.html").render(context)
        return HTMLResponse(html, headers={"vary": "HX-Request"})

    async def _dashboard_context(self, request: Request, row: dict[str, Any],
                                 roles: frozenset[Role], now: datetime, zone: str
                                 ) -> dict[str, Any]:
        account, person = row["account_id"], row["id"]
        available = row["balance"] - row["held"]
        last_activity = _dt(row["last_active_at"] or row["created_at"])
        due = None
        if available > 0:
            due = burn_due(last_activity, *(_dt(v) if v else None for v in
                                            (row["credited"], row["released"])),
                           idle_days=self.settings.burn_after_days,
                           notice=notice_period(self.settings))
        summary = Summary(balance=row["balance"], held=row["held"], available=available,
                          earned_this_season=row["earned"], earned_total=0,
                          last_activity=last_activity, burn_due=due)
        at = burn_moment(due, now=now) if due is not None else None
        burn = BurnOutlook(summary, at, i18n.days_apart(now, at, zone) if at else None)
        recent = [
            Entry(id=t["id"], kind=TransferKind(t["kind"]),
                  amount=t["amount"] if t["target_id"] == account else -t["amount"],
                  reason=Reason.stored(t["reason_message"], _json(t["reason_params"]),
                                       t["reason"]).translated(),
                  reason_message=None, reason_params=None, reference="",
                  created_at=_dt(t["created_at"]))
            for t in await self.db.fetch(
                "SELECT id, kind, amount, target_id, reason, reason_message, reason_params, "
                "created_at FROM transfer WHERE source_id = ? OR target_id = ? "
                "ORDER BY id DESC LIMIT 5", account, account)]
        cards = await self._cards(person, row["language"], now)
        css_url = self._url_for(request)
        return {
            # The dashboard's own path: the template marks the tab and keeps the path.
            "request": Request({**request.scope, "path": "/"}), "url_for": css_url,
            "me": _Person(row["display_name"], row["full_name"]), "roles": roles,
            "csrf_token": masking.mask(request.cookies.get("csrftoken", "")),
            "points": summary, "burn": burn, "zone": zone, "recent": recent,
            "welcome": request.query_params.get("welcome"), "now": now,
            "waiting": [card for card in cards if card.open], "live_count": len(cards),
            "rewards": await self._rewards(person, available),
        }

    def _url_for(self, request: Request) -> Any:
        base = request.base_url

        def url_for(name: str, /, **params: Any) -> Any:
            return url_path(self.router, name, **params).make_absolute_url(base)
        return url_for

    async def _cards(self, person: int, language: str, now: datetime) -> list[Card]:
        live = self.db.param(now)
        items = await self.db.fetch(
            "SELECT 0 AS k, q.id, q.title, q.description, q.base_points AS points, q.scoring, "
            "q.attempts, FALSE AS mandatory, q.position, p.live_from, p.live_until, "
            "p.default_language, (SELECT COUNT(*) FROM question x WHERE x.quiz_id = q.id) AS n "
            "FROM quiz q JOIN pack p ON p.id = q.pack_id "
            "WHERE p.live_from <= ? AND p.live_until > ? AND q.course_id IS NULL "
            "UNION ALL SELECT 1, c.id, c.title, c.description, c.points, '', 0, c.mandatory, "
            "c.position, p.live_from, p.live_until, p.default_language, "
            "(SELECT COUNT(*) FROM lesson x WHERE x.course_id = c.id) "
            "FROM course c JOIN pack p ON p.id = c.pack_id "
            "WHERE p.live_from <= ? AND p.live_until > ? "
            "ORDER BY 10, 1, 9", live, live, live, live)
        state = await self.db.fetch(
            "SELECT 0 AS k, g.quiz_id AS item, g.id, g.status, g.deadline, g.points, "
            "g.correct, g.attempt FROM game g JOIN quiz q ON q.id = g.quiz_id "
            "JOIN pack p ON p.id = q.pack_id WHERE g.person_id = ? AND p.live_from <= ? "
            "AND p.live_until > ? UNION ALL SELECT 1, cp.course_id, cp.id, "
            "CASE WHEN cp.completed_at IS NULL THEN 'started' ELSE 'completed' END, NULL, 0, "
            "0, 0 FROM course_progress cp JOIN course c ON c.id = cp.course_id "
            "JOIN pack p ON p.id = c.pack_id WHERE cp.person_id = ? AND p.live_from <= ? "
            "AND p.live_until > ? ORDER BY 8", person, live, live, person, live, live)
        games: dict[int, list[dict[str, Any]]] = {}
        progress: dict[int, str] = {}
        for found in state:
            if found["k"] == 0:
                games.setdefault(found["item"], []).append(found)
            else:
                progress[found["item"]] = found["status"]
        cards = []
        for item in items:
            default = item["default_language"]
            title = localized(_json(item["title"]), language, default)
            description = localized(_json(item["description"]), language, default)
            closes = _dt(item["live_until"])
            if item["k"] == 1:
                course = progress.get(item["id"])
                cards.append(Card(
                    kind="course", id=item["id"], title=title, description=description,
                    state={"completed": "done", "started": "in_progress"}.get(course or "",
                                                                             "new"),
                    questions=item["n"], points_at_stake=item["points"], score=None,
                    correct=None, game_id=None, closes_at=closes,
                    mandatory=bool(item["mandatory"])))
                continue
            played = games.get(item["id"], [])
            active = next((g for g in played if g["status"] == "active"
                           and _dt(g["deadline"]) > now), None)
            finished = [g for g in played if g["status"] == "finished"]
            best = max(finished, key=lambda g: g["points"]) if finished else None
            survey = is_survey(item["scoring"])
            cards.append(Card(
                kind="quiz", id=item["id"], title=title, description=description,
                state="in_progress" if active else (
                    "done" if best or len(played) >= item["attempts"] else "new"),
                questions=item["n"],
                points_at_stake=item["points"] if survey else item["n"] * item["points"],
                score=best["points"] if best else None,
                correct=best["correct"] if best else None,
                game_id=active["id"] if active else (best["id"] if best else None),
                closes_at=closes, survey=survey))
        return cards

    async def _rewards(self, person: int, available: int, limit: int = 3) -> RewardOutlook:
        # The pinned goal first (if the player may see it), then the dearest affordable.
        rows = await self.db.fetch(
            "SELECT i.id, i.title, i.description, i.how_to_use, i.picture, i.price, i.kind, "
            "i.category_id, cat.name AS category, i.for_companies, i.stock, "
            "i.monthly_limit, (SELECT COUNT(*) FROM catalog_code x WHERE x.item_id = i.id "
            "AND x.status = 'available') AS codes, CASE WHEN g.id IS NULL THEN 0 ELSE 1 END "
            "AS goal FROM catalog_item i JOIN catalog_category cat ON cat.id = i.category_id "
            "LEFT JOIN catalog_goal g ON g.item_id = i.id AND g.person_id = ? "
            "WHERE i.active = ? AND i.for_companies = ? AND (i.price <= ? OR g.id IS NOT NULL) "
            "AND (i.unlock_quiz_id IS NULL OR EXISTS (SELECT 1 FROM game x "
            "WHERE x.person_id = ? AND x.quiz_id = i.unlock_quiz_id AND x.status = 'finished')) "
            "AND (i.unlock_course_id IS NULL OR EXISTS (SELECT 1 FROM course_progress x "
            "WHERE x.person_id = ? AND x.course_id = i.unlock_course_id "
            "AND x.completed_at IS NOT NULL)) "
            "ORDER BY 14 DESC, i.price DESC, i.id LIMIT ?",
            person, True, False, available, person, person, limit * 3 + 1)
        cards = [RewardCard(
            id=r["id"], title=r["title"], description=r["description"],
            how_to_use=r["how_to_use"], picture=r["picture"], price=r["price"],
            kind=ItemKind(r["kind"]), category_id=r["category_id"], category=r["category"],
            for_companies=bool(r["for_companies"]),
            left=r["codes"] if r["kind"] == ItemKind.CERTIFICATE else r["stock"],
            monthly_limit=r["monthly_limit"], available=available, goal=bool(r["goal"]))
            for r in rows]
        goal = next((card for card in cards if card.goal), None)
        affordable = sorted((card for card in cards if card.price <= available),
                            key=lambda card: (-card.price, card.id))[:limit * 3]
        now = [card for card in affordable if not card.sold_out][:limit]
        if goal is not None:  # the portal's goal card is its own, not one of these
            goal = RewardCard(**{**goal.__dict__, "goal": True})
        now = [RewardCard(**{**card.__dict__, "goal": False}) for card in now]
        return RewardOutlook(goal, now, Threshold(self.settings.redemption_threshold,
                                                  available))


@dataclass(frozen=True)
class _Person:
    display_name: str
    full_name: str


def build_app() -> Starlette:
    routes = [Route("/", hello, methods=["GET"]), Route("/answer", answer, methods=["POST"])]
    database_url = os.environ.get("PORTAL_DATABASE_URL")
    if not database_url:
        return Starlette(routes=routes)
    from portal.app import create_app

    settings = Settings.from_env()
    twins = Twins(Db(database_url), settings, create_app(settings).router)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await twins.db.open()
        try:
            yield
        finally:
            await twins.db.close()

    routes += [Route("/twin/me", twins.me, methods=["GET"]),
               Route("/twin/dashboard", twins.dashboard, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    # Mirrors portal.cli._serve with --no-access-log.
    options: dict[str, Any] = {"host": args.host, "port": args.port, "proxy_headers": True,
                               "log_level": "info", "access_log": False}
    if args.workers == 1:
        uvicorn.run(build_app(), **options)
        return 0
    from typing import cast

    from uvicorn.supervisors import Multiprocess

    from portal.serving import OwnSocket

    config = uvicorn.Config("tests.bench.bare:build_app", factory=True,
                            workers=args.workers, **options)
    own_socket = cast(socket.socket, OwnSocket(args.host, args.port, config.backlog))
    Multiprocess(config, sockets=[own_socket]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
