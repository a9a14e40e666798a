"""The monthly rush (issue 14, goal 4): a thousand players sign in and start this month's
quiz within one minute, then play it through.

``python -m tests.bench.rush run --workdir DIR [--database-url URL] [--players 1000]
[--workers N] [--password-hashing owasp|rfc9106-low-memory]`` publishes a live pack of
one quiz (``portal publish``), creates the players (``tests/bench/players.py``), then
plays the rush twice with the same driver, each time against a server of its own:

* the **twin**: a bare Starlette app (``rush twin``, served by uvicorn as ``portal web``
  is) answering the same five requests at the same paths with the least work each
  needs: sign-in verifies the player's argon2 password hash at the cost the portal's
  settings choose (``PORTAL_PASSWORD_HASHING``; off the event loop, as the portal does: it
  is the cost that cannot go), the others answer fixed JSON with no database;
* the **portal**: ``portal web --workers N`` (``--workers``, default 1).

The driver (``rush drive``, its own process) lets player *i* arrive ``i/N`` of the way
through the arrival window (``--within``, 60 s): signs in (``POST /api/v1/auth/login``),
starts the quiz (``POST .../start``), then for each question reads it (``GET
.../question``), thinks (``--think`` seconds, uniformly 0 to twice that) and answers
(``POST .../answer``), and reads the result (``GET /api/v1/play/games/{id}``). Each player
is a device of their own: one keep-alive connection.

It reports sign-ins per second (players over the time from the first arrival to the last
completed sign-in), when the last player had started, and the p50/p99 of each step, the
portal next to the twin. Any error (a status other than the one the game promises, a
refused or broken connection) or a request slower than ``--timeout`` fails the run.

argon2 is slow on purpose: about 20 ms of CPU per sign-in on this machine with the
portal's default profile ("owasp", OWASP's argon2id minimum), 160 ms with
"rfc9106-low-memory" (argon2-cffi's default), with which a thousand sign-ins need more
CPU than two cores have in a minute. Sign-ins per second are bounded by the cores, for
the twin as for the portal; the table says so rather than hiding it behind a cheaper
hash than the portal's.

Bounded: 127.0.0.1 only, every request has a timeout, every player a fixed number of
requests, and the whole drive an overall deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import ssl
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.accounts.service import DEFAULT_PASSWORD_PROFILE, PASSWORD_PROFILES
from tests.bench.players import player_email

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
STEPS = ("sign-in", "start", "question", "answer", "result")
PASSWORD = "bench-player-password"
QUIZ_PREFIX = "Rush"


class RushError(Exception):
    """The rush could not be measured; the message says why."""


# -- the driver ----------------------------------------------------------------------------


@dataclass
class Stats:
    latencies_us: dict[str, list[int]] = field(
        default_factory=lambda: {step: [] for step in STEPS})
    errors: Counter[str] = field(default_factory=Counter)  # "sign-in: 429", "start: timeout"
    first_arrival: float = 0.0
    signed_in: list[float] = field(default_factory=list)  # when each sign-in completed
    started: list[float] = field(default_factory=list)
    finished: int = 0


async def _step(stats: Stats, step: str, request: Awaitable[httpx.Response],
                expected: set[int]) -> httpx.Response | None:
    """One timed request; None (and an error counted) unless its status is expected."""
    began = time.monotonic()
    try:
        response = await request
    except httpx.TransportError as exc:
        kind = "timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
        stats.errors[f"{step}: {kind}"] += 1
        return None
    stats.latencies_us[step].append(int((time.monotonic() - began) * 1e6))
    if response.status_code not in expected:
        stats.errors[f"{step}: {response.status_code}"] += 1
        return None
    return response


async def _player(client: httpx.AsyncClient, email: str, quiz_id: int, arrive_at: float,
                  think: float, stats: Stats, rng: random.Random) -> None:
    await asyncio.sleep(max(0.0, arrive_at - time.monotonic()))
    signed = await _step(stats, "sign-in", client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}), {200})
    if signed is None:
        return
    stats.signed_in.append(time.monotonic())
    client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
    started = await _step(stats, "start",
                          client.post(f"/api/v1/play/quizzes/{quiz_id}/start"), {200})
    if started is None:
        return
    stats.started.append(time.monotonic())
    game = f"/api/v1/play/games/{started.json()['game_id']}"
    while True:
        shown = await _step(stats, "question", client.get(f"{game}/question"), {200, 204})
        if shown is None:
            return
        if shown.status_code == 204:
            break
        await asyncio.sleep(rng.uniform(0, 2 * think))
        body = {"question_id": shown.json()["question_id"], "choices": [0]}
        if await _step(stats, "answer", client.post(f"{game}/answer", json=body),
                       {200}) is None:
            return
    if await _step(stats, "result", client.get(game), {200}) is not None:
        stats.finished += 1


async def drive(base: str, *, players: int, quiz_id: int, within: float, think: float,
                request_timeout: float, deadline: float) -> dict[str, Any]:
    parts = urlsplit(base)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise RushError(f"the rush only plays on this machine's loopback, not {base}")
    tls = ssl.create_default_context()  # unused on http://; made once, not per client
    clients = [httpx.AsyncClient(base_url=base, verify=tls, timeout=request_timeout,
                                 limits=httpx.Limits(max_connections=1,
                                                     max_keepalive_connections=1))
               for _ in range(players)]
    stats = Stats()
    rng = random.Random(14)
    stats.first_arrival = time.monotonic() + 0.5
    try:
        await asyncio.wait_for(asyncio.gather(*(
            _player(client, player_email(index), quiz_id,
                    stats.first_arrival + within * index / players, think, stats, rng)
            for index, client in enumerate(clients))), deadline)
    except TimeoutError:
        raise RushError(f"the players were still playing {deadline:.0f} s after the "
                        "start") from None
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return _summary(stats, players)


def _percentile(values: list[int], p: float) -> float:
    ordered = sorted(values) or [0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] / 1000


def _summary(stats: Stats, players: int) -> dict[str, Any]:
    since = stats.first_arrival
    last_sign_in = max(stats.signed_in, default=since) - since
    return {
        "players": players,
        "signed_in": len(stats.signed_in),
        "sign_ins_per_s": len(stats.signed_in) / last_sign_in if last_sign_in else 0.0,
        "last_sign_in_s": last_sign_in,
        "last_start_s": max(stats.started, default=since) - since,
        "finished": stats.finished,
        "steps": {step: {"count": len(values), "p50_ms": _percentile(values, 50),
                         "p99_ms": _percentile(values, 99)}
                  for step, values in stats.latencies_us.items()},
        "errors": dict(stats.errors),
    }


# -- the twin ------------------------------------------------------------------------------


def twin_app(questions: int) -> Any:
    """The rush's five requests with the least work each needs (see the module's doc)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from portal.accounts.service import password_hasher
    from portal.settings import Settings

    hasher = password_hasher(Settings.from_env().password_hashing)  # the portal's cost
    stored = hasher.hash(PASSWORD)
    games = count(1)
    shown: Counter[int] = Counter()

    async def sign_in(request: Request) -> Response:
        body = await request.json()
        await asyncio.to_thread(hasher.verify, stored, body["password"])
        return JSONResponse({"token": secrets.token_urlsafe(32)})

    async def start(request: Request) -> Response:
        return JSONResponse({"game_id": next(games)})

    async def question(request: Request) -> Response:
        game = request.path_params["game"]
        if shown[game] == questions:
            return Response(status_code=204)
        shown[game] += 1
        return JSONResponse({"question_id": shown[game], "position": shown[game],
                             "choices": ["A", "B", "C", "D"]})

    async def answer(request: Request) -> Response:
        body = await request.json()
        return JSONResponse({"question_id": body["question_id"], "correct": True})

    async def result(request: Request) -> Response:
        return JSONResponse({"game_id": request.path_params["game"], "correct": questions})

    return Starlette(routes=[
        Route("/api/v1/auth/login", sign_in, methods=["POST"]),
        Route("/api/v1/play/quizzes/{quiz:int}/start", start, methods=["POST"]),
        Route("/api/v1/play/games/{game:int}/question", question, methods=["GET"]),
        Route("/api/v1/play/games/{game:int}/answer", answer, methods=["POST"]),
        Route("/api/v1/play/games/{game:int}", result, methods=["GET"]),
        Route("/health", lambda request: JSONResponse({"ok": True}), methods=["GET"]),
    ])


# -- the run: set-up, twin, portal, table --------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from tests.bench.packs import write_pack
    from tests.bench.run import (
        BIN,
        HOST,
        BenchError,
        Server,
        _bench_result,
        _format,
        _free_port,
        _portal_env,
        _run_step,
        running,
    )

    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite://{workdir / 'rush.sqlite3'}"
    env = _portal_env(database_url)
    env["PORTAL_MEDIA_DIR"] = str(workdir / "media")
    # The players, the twin and the portal all hash at this cost (the portal's default
    # unless --password-hashing names another profile).
    env["PORTAL_PASSWORD_HASHING"] = args.password_hashing
    # Every player signs in from 127.0.0.1: the per-address limit would stop a rush that
    # real players, each from their own address, never meet.
    env["PORTAL_LOGIN_LIMIT_PER_ADDRESS"] = f"{args.players * 2} per 1 minute"
    log = workdir / "rush.log"
    now = datetime.now(UTC)
    tag = secrets.token_hex(3)
    write_pack(workdir / "rush-pack", pack_id=f"bench-rush-{tag}", title=f"{QUIZ_PREFIX} {tag}",
               quizzes=1, questions=args.questions, live_from=now - timedelta(hours=1),
               live_until=now + timedelta(days=1), attempts=1, time_limit=60)
    try:
        print(f"  rush set-up: a live quiz of {args.questions} questions, {args.players} "
              "players ...", flush=True)
        _run_step([str(BIN / "portal"), "publish", str(workdir / "rush-pack")],
                  "portal publish of the rush pack", env, log)
        _run_step([sys.executable, "-m", "tests.bench.players", "--count", str(args.players),
                   "--password", PASSWORD], "creating the rush players", env, log,
                  timeout=60 + args.players * 0.5)
        drive_argv = ["--players", str(args.players), "--within", str(args.within),
                      "--think", str(args.think), "--timeout", str(args.timeout)]
        deadline = args.within + args.players * 1.0 + 120  # sign-ins queue behind argon2
        results = {}
        for name in ("twin", "portal"):
            port = _free_port()
            if name == "twin":
                argv = [sys.executable, "-m", "tests.bench.rush", "twin", "--port", str(port),
                        "--questions", str(args.questions)]
                quiz_id = 1
            else:
                argv = [str(BIN / "portal"), "web", "--host", HOST, "--port", str(port),
                        "--workers", str(args.workers), "--no-access-log"]
            server = Server(f"rush {name}", argv, env, workdir / f"rush-{name}.log", port,
                            "/health")
            with running(server):
                if name == "portal":
                    quiz_id = _quiz_id(server.base, env, f"{QUIZ_PREFIX} {tag}")
                print(f"  rush on the {name}: {args.players} players arriving within "
                      f"{args.within:.0f} s, {args.questions} questions each ...",
                      flush=True)
                results[name] = _bench_result(
                    [sys.executable, "-m", "tests.bench.rush", "drive", server.base,
                     "--quiz-id", str(quiz_id), "--deadline", str(deadline), *drive_argv],
                    f"the rush driver on the {name}", log, timeout=deadline + 60)
    except BenchError as exc:
        print(f"rush bench failed: {exc}", file=sys.stderr)
        return 1
    table = _table(results, args, _format)
    problems = [f"{name}: {kind} x {times}" for name, result in results.items()
                for kind, times in result["errors"].items()]
    problems += [f"{name}: {result['finished']} of {result['players']} players finished"
                 for name, result in results.items() if result["finished"] != args.players]
    print()
    print(table)
    print("BENCH_RESULT " + json.dumps({"table": table, "results": results,
                                        "problems": problems}), flush=True)
    return 0


def _quiz_id(base: str, env: dict[str, str], title: str) -> int:
    """The rush quiz's id, as a player's month page lists it."""
    from tests.bench.run import BenchError

    with httpx.Client(base_url=base, timeout=60) as client:
        signed = client.post("/api/v1/auth/login",
                             json={"email": player_email(0), "password": PASSWORD})
        if signed.status_code != 200:
            raise BenchError(f"the first rush player cannot sign in: {signed.status_code}")
        month = client.get("/api/v1/play/month",
                           headers={"Authorization": f"Bearer {signed.json()['token']}"})
    for item in month.json().get("items", []):
        if item["kind"] == "quiz" and item["title"].startswith(title):
            return int(item["id"])
    raise BenchError(f"no live quiz titled {title!r} is open to the rush players")


def _table(results: dict[str, dict[str, Any]], args: argparse.Namespace,
           format_rows: Callable[[Sequence[Sequence[str]]], str]) -> str:
    twin, portal = results["twin"], results["portal"]
    rows = [("step", "twin p50", "twin p99", "portal p50", "portal p99", "p99 vs twin")]
    for step in STEPS:
        ours, floor = portal["steps"][step], twin["steps"][step]
        rows.append((f"{step} (ms, {ours['count']:,} requests)", f"{floor['p50_ms']:.1f}",
                     f"{floor['p99_ms']:.1f}", f"{ours['p50_ms']:.1f}",
                     f"{ours['p99_ms']:.1f}",
                     f"{ours['p99_ms'] / floor['p99_ms']:.2f}x" if floor["p99_ms"] else "-"))
    rows.append(("sign-ins per second", f"{twin['sign_ins_per_s']:.1f}", "",
                 f"{portal['sign_ins_per_s']:.1f}", "", ""))
    rows.append(("last sign-in / last start, s after the first arrival",
                 f"{twin['last_sign_in_s']:.0f}", f"{twin['last_start_s']:.0f}",
                 f"{portal['last_sign_in_s']:.0f}", f"{portal['last_start_s']:.0f}", ""))
    return (f"monthly rush: {args.players} players arriving within {args.within:.0f} s, "
            f"{args.questions} questions each, about {args.think:.1f} s to answer; "
            f"portal web --workers {args.workers}, passwords hashed with "
            f"{args.password_hashing!r}\n" + format_rows(rows))


# -- the command ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.rush", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    whole = commands.add_parser("run", help="set up, then the twin and the portal")
    whole.add_argument("--workdir", type=Path, required=True)
    whole.add_argument("--database-url", default="")
    whole.add_argument("--workers", type=int, default=1)
    whole.add_argument("--questions", type=int, default=5)
    whole.add_argument("--password-hashing", choices=sorted(PASSWORD_PROFILES),
                       default=DEFAULT_PASSWORD_PROFILE,
                       help="the argon2id profile (PORTAL_PASSWORD_HASHING)")
    for sub in (whole, commands.add_parser("drive", help="the players, against BASE")):
        sub.add_argument("--players", type=int, default=1000)
        sub.add_argument("--within", type=float, default=60.0,
                         help="seconds over which the players arrive")
        sub.add_argument("--think", type=float, default=1.0,
                         help="mean seconds a player takes to answer")
        sub.add_argument("--timeout", type=float, default=60.0,
                         help="seconds any one request may take")
    drive_command = commands.choices["drive"]
    drive_command.add_argument("base")
    drive_command.add_argument("--quiz-id", type=int, required=True)
    drive_command.add_argument("--deadline", type=float, default=1200.0)
    twin = commands.add_parser("twin", help="serve the twin")
    twin.add_argument("--port", type=int, required=True)
    twin.add_argument("--questions", type=int, default=5)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "twin":
        import uvicorn

        uvicorn.run(twin_app(args.questions), host="127.0.0.1", port=args.port,
                    log_level="warning", access_log=False)
        return 0
    try:
        import uvloop
    except ImportError:
        runner: Callable[[Coroutine[Any, Any, dict[str, Any]]], dict[str, Any]] = (
            asyncio.run)
    else:
        runner = uvloop.run
    try:
        result = runner(drive(args.base, players=args.players, quiz_id=args.quiz_id,
                              within=args.within, think=args.think, request_timeout=args.timeout,
                              deadline=args.deadline))
    except RushError as exc:
        print(f"rush driver failed: {exc}", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
