"""Answer submission under load: simulated players playing through the JSON API.

``python -m tests.bench.game BASE --players 200 --password P --quiz-prefix TITLE``
signs every player in (``POST /api/v1/auth/login``) and starts their game on the first
live quiz whose English title begins with TITLE, then runs them all at once: each loops
``GET .../question`` then ``POST .../answer`` (choice 0) until the question endpoint
answers 204, then starts the next such quiz. After a warm-up, answer POSTs that complete
within the measured window are counted and timed.

``python -m tests.bench.game BASE --bare --players 200`` is the same client against the
bare app (``tests/bench/bare.py``): each player only POSTs ``BASE/answer``, the ceiling.

``--twin TWIN --twin-prefix TITLE2`` first plays the quizzes titled TITLE2 against the raw
twin (``tests/bench/rawdb.py --twin-port``) the same way, with the same players and
tokens: games are started through the portal at BASE (idle meanwhile), questions and
answers go to TWIN. Its figures come under ``"twin"`` in the result.

It prints ``BENCH_RESULT {json}`` like ``loadgen.py`` does; ``statuses`` counts every
answer POST, warm-up included. Any other failure (a sign-in, a start or a question that
is not what the game promises) ends it with exit status 1.

Bounded: 127.0.0.1/localhost only, a fixed warm-up and duration, a per-request timeout,
an overall deadline and at most ``--max-answers`` answer POSTs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import ssl
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.bench.players import player_email

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SIGN_IN_CONCURRENCY = 8  # the server verifies argon2 hashes one at a time anyway


class DriverError(Exception):
    """The players could not play as the game promises; the message says why."""


@dataclass
class Window:
    """The measured window, on the monotonic clock."""

    start: float
    end: float

    def over(self) -> bool:
        return time.monotonic() >= self.end


@dataclass
class Stats:
    window: Window
    max_answers: int
    latencies_us: list[int] = field(default_factory=list)  # answers done in the window
    question_us: list[int] = field(default_factory=list)  # GET question, in the window
    statuses: Counter[int] = field(default_factory=Counter)  # every answer POST
    other: Counter[str] = field(default_factory=Counter)  # "GET question 200", ...
    errors: Counter[str] = field(default_factory=Counter)
    error_detail: Counter[str] = field(default_factory=Counter)  # "POST start: ReadError"
    in_window: int = 0  # every request of the game completed in the window
    finished_players: int = 0
    last_done: float = 0.0

    def sent_enough(self) -> bool:
        return sum(self.statuses.values()) >= self.max_answers

    def record(self, started: float, ended: float, status: int | None,
               answer: bool, question: bool = False) -> None:
        inside = self.window.start <= ended <= self.window.end
        if inside:
            self.in_window += 1
        if answer and status is not None:
            self.statuses[status] += 1
            if inside:
                self.latencies_us.append(int((ended - started) * 1e6))
        elif question and status == 200 and inside:
            self.question_us.append(int((ended - started) * 1e6))


async def _timed(stats: Stats, label: str, answer: bool,
                 request: Awaitable[httpx.Response]) -> httpx.Response | None:
    """One request (not yet started); counted, and None on a transport error."""
    started = time.monotonic()
    try:
        response = await request
    except httpx.TransportError as exc:
        kind = ("timeout" if isinstance(exc, httpx.TimeoutException) else
                "connect" if isinstance(exc, httpx.ConnectError) else "read")
        stats.errors[kind] += 1
        stats.error_detail[f"{label}: {type(exc).__name__}"] += 1
        return None
    stats.record(started, time.monotonic(), response.status_code, answer,
                 label == "GET question")
    if not answer:
        stats.other[f"{label} {response.status_code}"] += 1
    return response


async def _sign_in_all(clients: list[httpx.AsyncClient], emails: list[str],
                       password: str) -> list[str]:
    """Every player's bearer token, signed in a few at a time (the server checks one
    argon2 hash at a time anyway) over ``clients``."""
    tokens: dict[str, str] = {}
    queue = list(reversed(emails))

    async def sign_in(client: httpx.AsyncClient) -> None:
        while queue:
            email = queue.pop()
            response = await client.post("/api/v1/auth/login",
                                         json={"email": email, "password": password})
            if response.status_code != 200:
                raise DriverError(f"sign-in of {email} answered {response.status_code}: "
                                  f"{response.text[:300]}")
            tokens[email] = str(response.json()["token"])

    await asyncio.gather(*(sign_in(client) for client in clients))
    return [tokens[email] for email in emails]


async def _quiz_ids(client: httpx.AsyncClient, token: str, prefix: str) -> list[int]:
    response = await client.get("/api/v1/play/month",
                                headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        raise DriverError(f"GET /api/v1/play/month answered {response.status_code}")
    items = [item for item in response.json()["items"]
             if item["kind"] == "quiz" and item["title"].startswith(prefix)]
    if not items:
        raise DriverError(f"no live quiz titled {prefix!r}... is open to players")
    return [int(item["id"]) for item in sorted(items, key=lambda item: item["title"])]


async def _start(client: httpx.AsyncClient, token: str, quiz_id: int,
                 stats: Stats) -> int | None:  # client: the portal's
    """Starts the player's game on this quiz: its id, or None on a transport error."""
    started = await _timed(stats, "POST start", False, client.post(
        f"/api/v1/play/quizzes/{quiz_id}/start",
        headers={"Authorization": f"Bearer {token}"}))
    if started is None:
        return None
    if started.status_code != 200:
        raise DriverError(f"POST start of quiz {quiz_id} answered "
                          f"{started.status_code}: {started.text[:300]}")
    return int(started.json()["game_id"])


async def _play(client: httpx.AsyncClient, token: str, quiz_ids: list[int],
                first_game: int | None, stats: Stats,
                starter: httpx.AsyncClient | None = None) -> None:
    """Plays the first quiz's game (already started), then starts and plays the others
    (started through ``starter``, the portal, when ``client`` plays the twin)."""
    headers = {"Authorization": f"Bearer {token}"}
    for number, quiz_id in enumerate(quiz_ids):
        if stats.window.over():
            return
        game = first_game if number == 0 else await _start(starter or client, token,
                                                            quiz_id, stats)
        if game is None:
            return
        question_url = f"/api/v1/play/games/{game}/question"
        answer_url = f"/api/v1/play/games/{game}/answer"
        while not stats.window.over() and not stats.sent_enough():
            shown = await _timed(stats, "GET question", False,
                                 client.get(question_url, headers=headers))
            if shown is None:
                return
            if shown.status_code == 204:
                break
            if shown.status_code != 200:
                raise DriverError(f"GET question answered {shown.status_code}: "
                                  f"{shown.text[:300]}")
            body = {"question_id": shown.json()["question_id"], "choices": [0]}
            answered = await _timed(stats, "POST answer", True,
                                    client.post(answer_url, json=body, headers=headers))
            if answered is None or answered.status_code != 200:
                return  # counted in statuses; the run fails on it
        else:
            return  # time is up (or the answer budget): this player has not finished
    stats.finished_players += 1
    stats.last_done = max(stats.last_done, time.monotonic())


async def _post_bare(client: httpx.AsyncClient, stats: Stats) -> None:
    body = {"question_id": 1, "choices": [0]}
    while not stats.window.over() and not stats.sent_enough():
        answered = await _timed(stats, "POST answer", True,
                                client.post("/answer", json=body))
        if answered is None or answered.status_code != 200:
            return


def _summary(stats: Stats, players: int, sign_in_seconds: float) -> dict[str, Any]:
    window = stats.window
    end = window.end
    if stats.finished_players == players and stats.last_done < window.end:
        end = stats.last_done  # everyone finished early: rate over the time they played
    elapsed = max(0.0, end - window.start)
    latencies = sorted(stats.latencies_us) or [0]
    questions = sorted(stats.question_us) or [0]

    def percentile(p: float, among: list[int] = latencies) -> int:
        return among[min(len(among) - 1, int(len(among) * p / 100))]

    return {
        "requests": len(stats.latencies_us),
        "duration_us": int(elapsed * 1e6),
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "mean_us": sum(latencies) / len(latencies),
        "max_us": latencies[-1],
        "questions": len(stats.question_us),
        "question_p50_us": percentile(50, questions),
        "question_p99_us": percentile(99, questions),
        "statuses": {str(code): n for code, n in stats.statuses.items()},
        "errors": {kind: stats.errors[kind] for kind in ("connect", "read", "timeout")},
        "players": players,
        "answers_total": sum(stats.statuses.values()),
        "requests_in_window": stats.in_window,
        "finished_players": stats.finished_players,
        "sign_in_s": round(sign_in_seconds, 3),
        "other_statuses": dict(stats.other),
        "error_detail": dict(stats.error_detail),
    }


def _clients(base: str, count: int, timeout: float,
             tls: ssl.SSLContext) -> list[httpx.AsyncClient]:
    # One client (one keep-alive connection) per player, as players are separate devices;
    # one shared pool of 200 connections costs httpcore ten times more per request. The
    # TLS context, unused on http://, is made once instead of once per client.
    return [httpx.AsyncClient(base_url=base, verify=tls, timeout=timeout,
                              limits=httpx.Limits(max_connections=1,
                                                  max_keepalive_connections=1),
                              follow_redirects=False)
            for _ in range(count)]


async def _close(clients: list[httpx.AsyncClient]) -> None:
    await asyncio.gather(*(client.aclose() for client in clients))


async def _measure(args: argparse.Namespace, base: str, tokens: list[str],
                   quiz_ids: list[int], sign_in_seconds: float, tls: ssl.SSLContext,
                   starter: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """One measured window of every player at once against ``base``."""
    clients = _clients(base, args.players, args.timeout, tls)
    try:
        stats = Stats(Window(math.inf, math.inf), args.max_answers)
        first_games: list[int | None] = []
        if not args.bare:
            # Every player starts the first quiz before the clock runs: 200 starts at
            # once are set-up, like signing in; starting the next quiz is part of the game.
            first_games = list(await asyncio.gather(*(
                _start(starter or client, token, quiz_ids[0], stats)
                for client, token in zip(clients, tokens, strict=True))))
        now = time.monotonic()
        window = stats.window = Window(now + args.warmup, now + args.warmup + args.duration)
        if args.bare:
            players = [_post_bare(client, stats) for client in clients]
        else:
            players = [_play(client, token, quiz_ids, game, stats, starter)
                       for client, token, game in zip(clients, tokens, first_games,
                                                      strict=True)]
        deadline = args.warmup + args.duration + args.timeout + 10
        try:
            await asyncio.wait_for(asyncio.gather(*players), deadline)
        except TimeoutError:
            raise DriverError(f"the players were still busy {deadline:.0f} s after the "
                              "start") from None
    finally:
        await _close(clients)
    if not args.bare and stats.finished_players == args.players and (
            stats.last_done <= window.start):
        raise DriverError("every player finished during the warm-up: give the quizzes "
                          "more questions")
    return _summary(stats, args.players, sign_in_seconds)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    parts = urlsplit(args.base)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise DriverError(f"the driver only plays on this machine's loopback, not {args.base}")
    if args.twin and urlsplit(args.twin).hostname not in LOOPBACK:
        raise DriverError(f"the driver only plays on this machine's loopback, not {args.twin}")
    tls = ssl.create_default_context()
    tokens: list[str] = []
    quiz_ids: list[int] = []
    twin_quiz_ids: list[int] = []
    sign_in_started = time.monotonic()
    if not args.bare:
        # Separate connections for signing in: a player's connection left idle while the
        # others sign in would meet the server's keep-alive timeout on its first move.
        signing = _clients(args.base, SIGN_IN_CONCURRENCY, args.timeout, tls)
        try:
            tokens = await _sign_in_all(signing, [player_email(index)
                                                  for index in range(args.players)],
                                        args.password)
            quiz_ids = await _quiz_ids(signing[0], tokens[0], args.quiz_prefix)
            if args.twin:
                twin_quiz_ids = await _quiz_ids(signing[0], tokens[0], args.twin_prefix)
        finally:
            await _close(signing)
    sign_in_seconds = time.monotonic() - sign_in_started
    twin = None
    if args.twin:
        starter = httpx.AsyncClient(base_url=args.base, verify=tls, timeout=args.timeout,
                                    limits=httpx.Limits(max_connections=SIGN_IN_CONCURRENCY))
        try:
            twin = await _measure(args, args.twin, tokens, twin_quiz_ids, sign_in_seconds,
                                  tls, starter)
        finally:
            await starter.aclose()
    found = await _measure(args, args.base, tokens, quiz_ids, sign_in_seconds, tls)
    if twin is not None:
        found["twin"] = twin
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.game", description=__doc__)
    parser.add_argument("base", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--bare", action="store_true",
                        help="POST BASE/answer (the bare app) instead of playing")
    parser.add_argument("--password", default="")
    parser.add_argument("--quiz-prefix", default="")
    parser.add_argument("--twin", default="", help="the raw twin's base URL")
    parser.add_argument("--twin-prefix", default="", help="the quizzes played on the twin")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--max-answers", type=int, default=500_000)
    args = parser.parse_args(argv)
    if not args.bare and not (args.password and args.quiz_prefix):
        parser.error("--password and --quiz-prefix are needed unless --bare")
    if args.twin and not args.twin_prefix:
        parser.error("--twin needs --twin-prefix")
    try:
        import uvloop
    except ImportError:
        runner: Callable[[Coroutine[Any, Any, dict[str, Any]]], dict[str, Any]] = (
            asyncio.run)
    else:
        runner = uvloop.run
    try:
        result = runner(run(args))
    except DriverError as exc:
        print(f"game driver failed: {exc}", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
