"""``make bench``: requests per second and p99 latency of the portal next to its ceiling.

One run measures, on 127.0.0.1 against real server processes:

* a bare Starlette endpoint (``tests/bench/bare.py``) served by uvicorn exactly as
  ``portal web`` serves the portal: the ceiling;
* ``GET /api/v1/me`` with a bearer token;
* ``GET /`` (the dashboard) with a signed-in session cookie;
* each page's raw twin (``tests/bench/bare.py``): the same bytes from the least SQL the
  response needs on the raw driver, in a bare Starlette app; the bench checks the twin's
  body equals the portal's before measuring, and prints the portal's req/s over its
  twin's (goal 2 of issue 14: at least 0.5);

each with a warm-up, then a fixed duration at a fixed concurrency, driven by ``wrk`` (one
thread: the machine has two cores and the server needs one) or, without wrk, by
``tests/bench/loadgen.py`` in its own process. It prints req/s, p99 and the ratio of
req/s to the ceiling, and exits non-zero if any measured response was not 2xx or any
socket error occurred: a benchmark of error pages is worthless.

Then, in the same run:

* **answer submission under load** (``tests/bench/game.py``, its own process): 200
  players (``PORTAL_BENCH_PLAYERS``) sign in through the JSON API and play a live
  benchmark pack (2 quizzes of 60 questions, published with ``portal publish``) at
  the same time, question after question, first on the raw twin of the question and the
  answer (``tests/bench/rawdb.py --twin-port``: the same paths and JSON from the least
  SQL on the raw driver, its own pack of the same shape), then on the portal; questions
  and answers per second and their p50/p99, each next to the twin's as ratios (issue 14,
  goal 2: at least 0.50 of the twin's rate, an answer's p99 at most 2.00 times the
  twin's), with two ceilings: (a) the same client POSTing JSON to the bare app, and (b)
  single-row INSERT transactions per second on the same database. Every answer must be
  a 200;
* **publishing a pack of 500 questions** (``tests/bench/publish.py``, in-process with the
  portal's functions): validation, publishing and republishing the unchanged pack, next
  to a raw 500-row INSERT in one transaction on the same database;
* **the rewards catalog** (``tests/bench/catalog.py``, its own processes): 200 players
  (``PORTAL_BENCH_CATALOG_PLAYERS``) racing from 4 processes for a pool of half as many
  codes, orders and attempts per second next to the same writes in raw SQL (a guarded
  balance UPDATE and a conditional code claim per transaction); importing a 10,000-code
  file next to a raw bulk INSERT of 10,000 rows;
* **auctions** (``tests/bench/auctions.py``): bids per second from 200 bidders
  (``PORTAL_BENCH_BIDDERS``) on one hot lot in four processes, and the p99 of a bid, next
  to the raw conditional lot update plus guarded hold in one transaction;
* **leaderboards and the inactivity burn at scale** (``tests/bench/scale.py``, its own
  process, last): a million players and ten million ledger entries generated in bulk in
  SQLite and PostgreSQL, ``board()`` query by query next to raw SQL over the score table,
  the board page under wrk next to the bare endpoint, and ``burn_inactive`` over 100,000
  and 1,000,000 accounts next to one raw UPDATE. Its sizes and databases are set by
  ``PORTAL_BENCH_SCALE_*`` (see that module; ``PORTAL_BENCH_SCALE_DATABASES=none`` skips
  it); it needs PostgreSQL at ``PORTAL_BENCH_SCALE_POSTGRES_URL`` unless told not to;
* **several workers** (``tests/bench/workers.py``): ``portal web --workers 1`` and
  ``--workers 2`` under the same load on a scratch database on that PostgreSQL server
  and on SQLite, the ratio of two to one (goal 5 of issue 14: at least 1.5 on
  PostgreSQL), and how the connections and the CPU spread over the workers;
* **the monthly rush** (``tests/bench/rush.py``): ``PORTAL_BENCH_RUSH_PLAYERS`` (default
  1,000) players arriving within ``PORTAL_BENCH_RUSH_WITHIN`` seconds (default 60) sign
  in, start this month's quiz and play it through; sign-ins per second and each step's
  p50/p99, next to a twin doing only the argon2 verify; ``PORTAL_BENCH_RUSH_WORKERS``
  (default 1) sets the portal's workers.

Ratios are always "how close to the ceiling": req/s over the ceiling's req/s, or the
ceiling's time over the measured time; 1.00 is as fast as the ceiling.

The database is a fresh SQLite file in a temporary directory, loaded with ``portal demo``;
set ``PORTAL_BENCH_DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/bench``) to
measure PostgreSQL instead: demo data, bench players and bench packs are then loaded into
that database (it is safe to repeat, but do not point it at a database you care about).

Knobs: ``PORTAL_BENCH_DURATION`` (seconds, default 10), ``PORTAL_BENCH_WARMUP``
(default 2), ``PORTAL_BENCH_CONNECTIONS`` (default 32), ``PORTAL_BENCH_LOADGEN``
(``wrk`` or ``python``; default wrk when installed), ``PORTAL_BENCH_PLAYERS`` (default
200), ``PORTAL_BENCH_ONLY`` (the sections to run, comma-separated, of ``me``,
``dashboard``, ``answer``, ``publish``, ``catalog``, ``auctions``, ``workers``, ``rush``,
``scale``; default all).
Every other ``PORTAL_*`` variable of the calling shell is dropped for the servers, so
runs compare.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from portal.web import masking
from tests.bench.packs import write_pack

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
LUA_SCRIPT = HERE / "report.lua"
DEMO_EMAIL = "player@example.com"
DEMO_PASSWORD = "portal-demo"
STARTUP_TIMEOUT = 60.0
PLAYER_PASSWORD = "bench-player-password"
# The game packs (one for the portal, one for its raw twin): enough questions that few
# players finish a quiz within the measured window.
GAME_QUIZZES = 2
GAME_QUESTIONS = 60
RAW_INSERT_SECONDS = 3
# The scale sections generate and time several gigabytes of data; aim: under 10 minutes.
SCALE_TIMEOUT = 40 * 60
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SECTIONS = ("me", "dashboard", "answer", "publish", "catalog", "auctions", "workers", "rush",
            "scale")
# The Host both a page and its twin are asked with when their bodies are compared: the
# dashboard's links are absolute.
COMPARE_HOST = "portal.bench"


class BenchError(Exception):
    """The bench could not measure what it set out to; the message says why."""


@dataclass
class Target:
    label: str
    url: str
    headers: list[str] = field(default_factory=list)


@dataclass
class Result:
    target: Target
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    only_status: str | None = None  # when set, any other status is a failure
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def problems(self) -> list[str]:
        found = []
        if self.only_status:
            bad = {code: n for code, n in self.statuses.items() if code != self.only_status}
            if bad:
                found.append(f"responses other than {self.only_status} " +
                             ", ".join(f"{c}: {n}" for c, n in bad.items()))
        else:
            bad = {code: n for code, n in self.statuses.items() if not code.startswith("2")}
            if bad:
                found.append("non-2xx responses " +
                             ", ".join(f"{c}: {n}" for c, n in bad.items()))
        socket_errors = {k: n for k, n in self.errors.items() if n and k != "status"}
        if socket_errors:
            found.append("socket errors " + ", ".join(f"{k}: {n}" for k, n in
                                                      socket_errors.items()))
        if self.requests == 0:
            found.append("no request completed")
        return found


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BenchError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise BenchError(f"{name} must be positive")
    return value


def _sections() -> set[str]:
    """``PORTAL_BENCH_ONLY``: the sections to run (all when unset)."""
    raw = os.environ.get("PORTAL_BENCH_ONLY", "")
    chosen = {name.strip() for name in raw.split(",") if name.strip()} or set(SECTIONS)
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise BenchError(f"PORTAL_BENCH_ONLY: no section {', '.join(sorted(unknown))} "
                         f"(sections: {', '.join(SECTIONS)})")
    return chosen


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Server:
    """A server process of ours: started in its own session, always stopped by its id."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path,
                 port: int, ready_path: str) -> None:
        self.name, self.argv, self.env, self.log = name, list(argv), env, log
        self.port, self.ready_path = port, ready_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode} while "
                                 f"starting; its log:\n{_tail(self.log)}")
            try:
                if httpx.get(self.base + self.ready_path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer {self.ready_path} within "
                         f"{STARTUP_TIMEOUT:.0f} s; its log:\n{_tail(self.log)}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _load(target: Target, duration: float, connections: int, loadgen: str,
          log: Path) -> Result:
    """One bounded load run from a separate process; its BENCH_RESULT line parsed."""
    seconds = max(1, round(duration))
    if loadgen == "wrk":
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                "--timeout", "5s", "-s", str(LUA_SCRIPT)]
        for header in target.headers:
            argv += ["-H", header]
        argv.append(target.url)
    else:
        argv = [sys.executable, "-m", "tests.bench.loadgen", target.url,
                "--connections", str(connections), "--duration", str(seconds)]
        for header in target.headers:
            argv += ["-H", header]
    data = _bench_result(argv, f"the load generator on {target.label}", log,
                         timeout=seconds + 30)
    return _result(target, data)


def _result(target: Target, data: dict[str, Any]) -> Result:
    return Result(target=target, requests=int(data["requests"]),
                  seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                  p99_ms=data["p99_us"] / 1000, mean_ms=data["mean_us"] / 1000,
                  statuses={str(k): int(v) for k, v in data["statuses"].items()},
                  errors={str(k): int(v) for k, v in data["errors"].items()})


def _bench_result(argv: Sequence[str], what: str, log: Path, *, timeout: float,
                  env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs a bench process of ours to its end; its BENCH_RESULT line, parsed."""
    try:
        done = subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what} did not finish within {timeout:.0f} s") from None
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise BenchError(f"{what} failed (exit {done.returncode}):\n"
                         f"{done.stdout}{done.stderr}")
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _run_step(argv: Sequence[str], what: str, env: dict[str, str], log: Path,
              timeout: float = 180) -> None:
    """A set-up command of ours (``portal publish``, creating players) that must succeed."""
    try:
        done = subprocess.run(list(argv), env=env, cwd=ROOT, text=True, capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what} did not finish within {timeout:.0f} s") from None
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise BenchError(f"{what} failed:\n{done.stdout}{done.stderr}")


def measure(target: Target, *, warmup: float, duration: float, connections: int,
            loadgen: str, log: Path) -> Result:
    _check_once(target)
    print(f"  {target.label}: warm-up {warmup:.0f} s, then {duration:.0f} s ...", flush=True)
    warm = _load(target, warmup, connections, loadgen, log)
    if warm.problems:
        raise BenchError(f"{target.label} during warm-up: {'; '.join(warm.problems)}")
    return _load(target, duration, connections, loadgen, log)


def _check_once(target: Target) -> None:
    """One request as the load generator will send it: it must be a 200, not a redirect."""
    headers = dict(h.split(": ", 1) for h in target.headers)
    response = httpx.get(target.url, headers=headers, timeout=10.0, follow_redirects=False)
    if response.status_code != 200:
        raise BenchError(f"{target.label} answered {response.status_code} before the load "
                         f"(location: {response.headers.get('location')}):\n"
                         f"{response.text[:500]}")


def _sign_in_api(base: str) -> str:
    response = httpx.post(base + "/api/v1/auth/login", timeout=30.0,
                          json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    if response.status_code != 200:
        raise BenchError(f"API sign-in answered {response.status_code}: {response.text}")
    return str(response.json()["token"])


def _sign_in_web(base: str, *, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD
                 ) -> str:
    """Signs in through the form; returns the Cookie header a browser would then send."""
    with httpx.Client(base_url=base, timeout=30.0, follow_redirects=False) as client:
        page = client.get("/login")
        found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
        csrf_cookie = client.cookies.get("csrftoken")
        if page.status_code != 200 or found is None or csrf_cookie is None:
            raise BenchError(f"GET /login gave no CSRF token (status {page.status_code})")
        response = client.post("/login", data={
            "csrftoken": found.group(1), "email": email, "password": password})
        session = response.cookies.get("portal_session")
        if response.status_code != 303 or not session:
            raise BenchError(f"POST /login answered {response.status_code} without a "
                             f"session cookie:\n{response.text[:500]}")
        return f"csrftoken={csrf_cookie}; portal_session={session}"


def _portal_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_DEBUG": "false",
        # The bench signs in twice per run; generous limits keep repeated runs working.
        "PORTAL_LOGIN_LIMIT_PER_ACCOUNT": "1000 per 1 minute",
        "PORTAL_LOGIN_LIMIT_PER_ADDRESS": "1000 per 1 minute",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _format(rows: Sequence[Sequence[str]]) -> str:
    """A text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                         strict=True)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


def _ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "-"


def _table(results: list[Result], ceiling: Result) -> str:
    """Each page after its raw twin; ``vs twin`` is the page's req/s over its twin's."""
    rows = [("endpoint", "req/s", "p50 ms", "p99 ms", "vs bare", "vs twin")]
    twin: Result | None = None
    for r in results:
        is_twin = r.target.label.startswith("raw twin")
        rows.append((r.target.label, f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                     _ratio(r.rps, ceiling.rps),
                     "1.00" if is_twin else (_ratio(r.rps, twin.rps) if twin else "-")))
        twin = r if is_twin else None
    return _format(rows)


# -- the pages and their raw twins ----------------------------------------------------------


_MASKED_TOKEN = re.compile(r'(name="csrftoken" value="|"x-csrftoken": ")([A-Za-z0-9_-]+)')


def _same_body(page: Target, twin: Target) -> None:
    """The twin must answer the page's bytes (asked with one Host: links are absolute)."""
    bodies = []
    for target in (page, twin):
        headers = dict(h.split(": ", 1) for h in target.headers)
        response = httpx.get(target.url, timeout=10.0, follow_redirects=False,
                             headers={**headers, "Host": COMPARE_HOST})
        # The CSRF token is masked afresh on every page: compare what it carries.
        bodies.append(_MASKED_TOKEN.sub(lambda m: m[1] + masking.unmask(m[2]), response.text))
    if bodies[0] != bodies[1]:
        at = next((i for i, (a, b) in enumerate(zip(*bodies, strict=False)) if a != b),
                  min(map(len, bodies)))
        raise BenchError(f"{twin.label} does not answer {page.label}'s body; they part at "
                         f"character {at}:\n  page: {bodies[0][max(0, at - 80):at + 120]!r}"
                         f"\n  twin: {bodies[1][max(0, at - 80):at + 120]!r}")


def measure_pages(portal: Server, pages: Sequence[str], env: dict[str, str], workdir: Path, *,
                  warmup: float, duration: float, connections: int, loadgen: str,
                  log: Path) -> list[Result]:
    """Each chosen page's twin, then the page, signed in as the demo player (the portal
    serves the sign-ins and idles while its twin is measured)."""
    token = _sign_in_api(portal.base)
    cookie = _sign_in_web(portal.base)
    port = _free_port()
    twins = Server("raw twins", [sys.executable, "-m", "tests.bench.bare", "--host", HOST,
                                 "--port", str(port)],
                   env, workdir / "twins.log", port, "/")
    results = []
    with running(twins):
        for name in pages:
            auth = ([f"Authorization: Bearer {token}"] if name == "me"
                    else [f"Cookie: {cookie}"])
            label, path, twin_path = (("GET /api/v1/me", "/api/v1/me", "/twin/me")
                                      if name == "me" else
                                      ("GET / (dashboard)", "/", "/twin/dashboard"))
            twin = Target(f"raw twin of {label}", twins.base + twin_path, auth)
            page = Target(label, portal.base + path, auth)
            _same_body(page, twin)
            for target in (twin, page):
                results.append(measure(target, warmup=warmup, duration=duration,
                                       connections=connections, loadgen=loadgen, log=log))
    return results


# -- answer submission under load -----------------------------------------------------------


@dataclass
class RawCeilings:
    """``tests/bench/rawdb.py``'s figures: the database with no portal in the way."""

    engine: str
    commits: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bulk_rows: int
    bulk_s: float  # median

    @property
    def commits_per_second(self) -> float:
        return self.commits / self.seconds if self.seconds else 0.0


def measure_raw_database(database_url: str, env: dict[str, str], log: Path) -> RawCeilings:
    print(f"  raw database: single-row INSERT commits for {RAW_INSERT_SECONDS} s, "
          "500-row INSERTs ...", flush=True)
    data = _bench_result([sys.executable, "-m", "tests.bench.rawdb", database_url,
                          "--seconds", str(RAW_INSERT_SECONDS)],
                         "the raw database ceiling", log, timeout=RAW_INSERT_SECONDS + 60,
                         env=env)
    return RawCeilings(engine=data["engine"], commits=int(data["commits"]),
                       seconds=float(data["seconds"]), p50_ms=data["p50_us"] / 1000,
                       p99_ms=data["p99_us"] / 1000, bulk_rows=int(data["bulk_rows"]),
                       bulk_s=statistics.median(data["bulk_s"]))


def measure_players(label: str, base: str, *, players: int, warmup: float, duration: float,
                    log: Path, quiz_prefix: str | None = None,
                    twin: tuple[str, str] | None = None) -> Result:
    """The game driver against ``base``: playing quizzes, or (no prefix) the bare POST.
    With ``twin`` (its base URL and its quizzes' prefix) the raw twin is played first; its
    figures are in the result's ``extra["twin"]``, a Result of its own."""
    what = "playing" if quiz_prefix else "POSTing"
    print(f"  {label}: {players} players {what}, warm-up {warmup:.0f} s, then "
          f"{duration:.0f} s ...", flush=True)
    argv = [sys.executable, "-m", "tests.bench.game", base, "--players", str(players),
            "--warmup", str(warmup), "--duration", str(duration)]
    if quiz_prefix is None:
        argv.append("--bare")
    else:
        argv += ["--password", PLAYER_PASSWORD, "--quiz-prefix", quiz_prefix]
    if twin is not None:
        argv += ["--twin", twin[0], "--twin-prefix", twin[1]]
    # Sign-ins: argon2 verifies on the server, ~20 ms of CPU each at the default cost.
    data = _bench_result(argv, f"the game driver on {label}", log,
                         timeout=2 * (warmup + duration) + players * 0.5 + 180)
    return _player_result(Target(label, base), data)


def _player_result(target: Target, data: dict[str, Any]) -> Result:
    result = _result(target, data)
    result.only_status = "200"
    result.extra = {k: data[k] for k in ("players", "answers_total", "requests_in_window",
                                         "finished_players", "sign_in_s", "other_statuses",
                                         "error_detail")}
    questions = data.get("questions", 0)
    result.extra["questions"] = Result(
        target=Target("GET question", target.url), requests=questions,
        seconds=result.seconds, p50_ms=data.get("question_p50_us", 0) / 1000,
        p99_ms=data.get("question_p99_us", 0) / 1000, mean_ms=0.0, statuses={}, errors={})
    if data.get("twin"):
        result.extra["twin"] = _player_result(Target("raw twin", target.url), data["twin"])
    return result


def prepare_game(workdir: Path, env: dict[str, str], players: int, log: Path
                 ) -> tuple[str, str]:
    """Publishes two live benchmark packs of the same shape with ``portal publish`` (one
    played on the portal, one on its raw twin) and creates the players; returns the title
    prefixes of their quizzes, the portal's first."""
    now = datetime.now(UTC)
    print(f"  set-up: portal publish of two live packs ({GAME_QUIZZES} quizzes x "
          f"{GAME_QUESTIONS} questions), {players} player accounts ...", flush=True)
    prefixes = []
    for name in ("portal", "twin"):
        tag = secrets.token_hex(3)
        folder = workdir / f"game-pack-{name}"
        write_pack(folder, pack_id=f"bench-game-{tag}", title=f"Bench {tag}",
                   quizzes=GAME_QUIZZES, questions=GAME_QUESTIONS,
                   live_from=now - timedelta(hours=1), live_until=now + timedelta(days=1),
                   attempts=1, time_limit=60)
        _run_step([str(BIN / "portal"), "publish", str(folder)],
                  "portal publish of a game pack", env, log)
        prefixes.append(f"Bench {tag} quiz")
    _run_step([sys.executable, "-m", "tests.bench.players", "--count", str(players),
               "--password", PLAYER_PASSWORD], "creating the bench players", env, log)
    return prefixes[0], prefixes[1]


def _answer_table(bare: Result, raw: RawCeilings, answers: Result) -> str:
    """The game's rows: the ceilings, then the raw twin's question and answer next to the
    portal's, with the ratios of issue 14's goal 2: throughput over the twin's (at least
    0.50) and the answer's p99 over the twin's (at most 2.00)."""
    engine = "SQLite" if raw.engine == "sqlite" else "PostgreSQL"
    rows = [("measurement", "per s", "p50 ms", "p99 ms", "vs twin", "p99 / twin",
             "vs bare POST"),
            ("bare starlette POST /answer (ceiling a)", f"{bare.rps:,.0f}",
             f"{bare.p50_ms:.1f}", f"{bare.p99_ms:.1f}", "-", "-", "1.00"),
            (f"raw {engine} INSERT, 1 row per commit (ceiling b)",
             f"{raw.commits_per_second:,.0f}", f"{raw.p50_ms:.2f}", f"{raw.p99_ms:.2f}", "-",
             "-", "-")]
    twin: Result | None = answers.extra.get("twin")
    pairs = [("GET .../question", answers.extra["questions"],
              twin.extra["questions"] if twin else None),
             ("POST .../answer", answers, twin)]
    for label, portal, raw_twin in pairs:
        if raw_twin is not None:
            rows.append((f"raw twin {label}", f"{raw_twin.rps:,.0f}",
                         f"{raw_twin.p50_ms:.1f}", f"{raw_twin.p99_ms:.1f}", "1.00", "1.00",
                         _ratio(raw_twin.rps, bare.rps)))
        rows.append((f"portal {label}", f"{portal.rps:,.0f}", f"{portal.p50_ms:.1f}",
                     f"{portal.p99_ms:.1f}",
                     _ratio(portal.rps, raw_twin.rps) if raw_twin else "-",
                     _ratio(portal.p99_ms, raw_twin.p99_ms) if raw_twin else "-",
                     _ratio(portal.rps, bare.rps)))
    extra = answers.extra
    in_window = extra["requests_in_window"] / answers.seconds if answers.seconds else 0.0
    return "\n".join([
        _format(rows),
        f"  portal: {answers.requests:,} answers in the {answers.seconds:.0f} s window, "
        f"{extra['answers_total']:,} in all; {in_window:,.0f} game requests/s counting "
        f"GET .../question; {extra['finished_players']} of {extra['players']} players "
        f"finished; {extra['players']} sign-ins took {extra['sign_in_s']:.1f} s",
    ])


# -- publishing ------------------------------------------------------------------------------


def measure_publish(workdir: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    print("  publish: validate, publish and republish a 500-question pack, 3 rounds ...",
          flush=True)
    return _bench_result([sys.executable, "-m", "tests.bench.publish", str(workdir)],
                         "the publish bench", log, timeout=180, env=env)


def _publish_table(publish: dict[str, Any], raw: RawCeilings) -> str:
    engine = "SQLite" if raw.engine == "sqlite" else "PostgreSQL"
    validate = statistics.median(publish["validate_s"])
    first = statistics.median(publish["publish_s"])
    again = statistics.median(publish["republish_s"])
    ceiling = raw.bulk_s
    rows = [(f"pack of {publish['questions']} questions ({publish['quizzes']} quizzes), "
             "median of 3", "ms", "vs ceiling"),
            (f"raw {engine} INSERT of {raw.bulk_rows} rows, one transaction (ceiling)",
             f"{ceiling * 1000:,.1f}", "1.00"),
            ("validate (schema.read_pack)", f"{validate * 1000:,.1f}", "-"),
            ("publish, new pack (service.publish)", f"{first * 1000:,.1f}",
             _ratio(ceiling, first)),
            ("validate + publish (portal publish less start-up)",
             f"{(validate + first) * 1000:,.1f}", _ratio(ceiling, validate + first)),
            ("republish unchanged", f"{again * 1000:,.1f}", _ratio(ceiling, again))]
    return _format(rows)


# -- the rewards catalog ---------------------------------------------------------------------


def measure_catalog(workdir: Path, env: dict[str, str], log: Path, players: int
                    ) -> dict[str, Any]:
    print(f"  catalog: {players} players racing for {players // 2} codes in 4 processes, "
          "then a 10,000-code import, 3 rounds ...", flush=True)
    return _bench_result([sys.executable, "-m", "tests.bench.catalog", str(workdir),
                          "--players", str(players)], "the catalog bench", log,
                         timeout=900, env=env)


def _catalog_table(catalog: dict[str, Any], raw: RawCeilings) -> str:
    engine = "SQLite" if raw.engine == "sqlite" else "PostgreSQL"
    race, ceiling = catalog["portal"], catalog["raw"]
    rows = [(f"{catalog['players']} players race for {catalog['codes']} codes, "
             f"{catalog['processes']} processes", "orders/s", "attempts/s", "vs ceiling"),
            (f"raw {engine}: guarded UPDATE + code claim per transaction (ceiling)",
             f"{ceiling['per_second']:,.1f}", f"{ceiling['attempts_per_second']:,.1f}", "1.00"),
            ("catalog.redeem (claim, order owing its e-mail, spend)",
             f"{race['per_second']:,.1f}", f"{race['attempts_per_second']:,.1f}",
             _ratio(race["attempts_per_second"], ceiling["attempts_per_second"])),
            (f"{catalog['import_codes']:,}-code file, median of "
             f"{len(catalog['import_s'])}", "ms", "", ""),
            (f"raw {engine} INSERT of {catalog['import_codes']:,} prepared rows (ceiling)",
             f"{catalog['raw_bulk_median_s'] * 1000:,.1f}", "", "1.00"),
            ("catalog.import_codes (read, check, seal, write)",
             f"{catalog['import_median_s'] * 1000:,.1f}", "",
             _ratio(catalog["raw_bulk_median_s"], catalog["import_median_s"]))]
    return _format(rows)


# -- auctions --------------------------------------------------------------------------------


def measure_auctions(workdir: Path, env: dict[str, str], log: Path, bidders: int
                     ) -> dict[str, Any]:
    print(f"  auctions: {bidders} bidders on one hot lot, 5 bids each, in 4 processes ...",
          flush=True)
    return _bench_result([sys.executable, "-m", "tests.bench.auctions", str(workdir),
                          "--bidders", str(bidders)], "the auction bench", log,
                         timeout=1800, env=env)


def _auctions_table(auctions: dict[str, Any], raw: RawCeilings) -> str:
    engine = "SQLite" if raw.engine == "sqlite" else "PostgreSQL"
    race, ceiling = auctions["portal"], auctions["raw"]
    rows = [(f"{auctions['bidders']} bidders x {auctions['bids_each']} bids on one lot, "
             f"{auctions['processes']} processes", "bids/s", "led/s", "p50 ms", "p99 ms",
             "vs ceiling"),
            (f"raw {engine}: lot UPDATE + guarded hold per transaction (ceiling)",
             f"{ceiling['attempts_per_second']:,.1f}", f"{ceiling['led_per_second']:,.1f}",
             f"{ceiling['p50_ms']:.1f}", f"{ceiling['p99_ms']:.1f}", "1.00"),
            ("auctions.place_bid (holds moved, bid, soft close, outbid told)",
             f"{race['attempts_per_second']:,.1f}", f"{race['led_per_second']:,.1f}",
             f"{race['p50_ms']:.1f}", f"{race['p99_ms']:.1f}",
             _ratio(race["attempts_per_second"], ceiling["attempts_per_second"]))]
    return _format(rows)


# -- at scale --------------------------------------------------------------------------------


def measure_workers(workdir: Path, *, warmup: float, duration: float, connections: int
                    ) -> dict[str, Any]:
    print("  workers: portal web --workers 1 and 2 on PostgreSQL and SQLite ...", flush=True)
    postgres = os.environ.get("PORTAL_BENCH_SCALE_POSTGRES_URL") or PG_ADMIN_URL
    return _bench_result([sys.executable, "-m", "tests.bench.workers", "--workdir",
                          str(workdir / "workers"), "--postgres", postgres, "--sqlite",
                          "--warmup", str(warmup), "--duration", str(duration),
                          "--connections", str(connections)],
                         "the workers bench", workdir / "load.log", timeout=1800)


def measure_rush(workdir: Path, database_url: str) -> dict[str, Any]:
    players = int(_env_number("PORTAL_BENCH_RUSH_PLAYERS", 1000))
    within = _env_number("PORTAL_BENCH_RUSH_WITHIN", 60)
    workers = int(_env_number("PORTAL_BENCH_RUSH_WORKERS", 1))
    print(f"  rush: {players} players arriving within {within:.0f} s ...", flush=True)
    return _bench_result([sys.executable, "-m", "tests.bench.rush", "run", "--workdir",
                          str(workdir / "rush"), "--database-url", database_url,
                          "--players", str(players), "--within", str(within),
                          "--workers", str(workers)],
                         "the rush bench", workdir / "load.log",
                         timeout=within + players * 2.5 + 600)


def measure_scale(workdir: Path) -> dict[str, Any]:
    """``tests/bench/scale.py`` in its own process (its progress shows as it goes; it reads
    its ``PORTAL_BENCH_SCALE_*`` knobs from this environment); its tables and failures."""
    result = workdir / "scale.json"
    argv = [sys.executable, "-m", "tests.bench.scale", "--workdir", str(workdir / "scale"),
            "--result", str(result)]
    proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        code = proc.wait(timeout=SCALE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the scale bench did not finish within {SCALE_TIMEOUT} s") from None
    finally:
        if proc.poll() is None:  # it drops its scratch databases on SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    if not result.exists():
        raise BenchError(f"the scale bench failed (exit {code}) before writing its result")
    data: dict[str, Any] = json.loads(result.read_text())
    return data


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers get stopped


def main() -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    duration = _env_number("PORTAL_BENCH_DURATION", 10)
    warmup = _env_number("PORTAL_BENCH_WARMUP", 2)
    connections = int(_env_number("PORTAL_BENCH_CONNECTIONS", 32))
    players = int(_env_number("PORTAL_BENCH_PLAYERS", 200))
    loadgen = os.environ.get("PORTAL_BENCH_LOADGEN") or ("wrk" if shutil.which("wrk")
                                                         else "python")
    if loadgen not in {"wrk", "python"}:
        raise BenchError("PORTAL_BENCH_LOADGEN must be wrk or python")
    only = _sections()
    pages = [name for name in ("me", "dashboard") if name in only]

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    database_url = (os.environ.get("PORTAL_BENCH_DATABASE_URL")
                    or f"sqlite://{workdir / 'portal.sqlite3'}")
    database = "PostgreSQL" if database_url.startswith(("postgres", "asyncpg")) else "SQLite"
    env = _portal_env(database_url)
    env["PORTAL_MEDIA_DIR"] = str(workdir / "media")
    load_log = workdir / "load.log"
    ok = False
    try:
        generator = "wrk, 1 thread" if loadgen == "wrk" else "Python load generator"
        print(f"portal bench: {generator}, {connections} connections, "
              f"{warmup:.0f} s warm-up + {duration:.0f} s per endpoint, {database}, "
              f"logs in {workdir}", flush=True)
        if loadgen == "python":
            print("  note: without wrk, the load generator's own ceiling may cap the bare "
                  "figure (install wrk for comparable runs)", flush=True)
        _run_step([str(BIN / "portal"), "demo"], "portal demo", env, load_log)

        results: list[Result] = []
        port = _free_port()
        bare = Server("bare starlette", [sys.executable, "-m", "tests.bench.bare",
                                         "--host", HOST, "--port", str(port)],
                      env, workdir / "bare.log", port, "/")
        with running(bare):
            results.append(measure(Target("bare starlette", bare.base + "/"),
                                   warmup=warmup, duration=duration,
                                   connections=connections, loadgen=loadgen, log=load_log))
            bare_post = (measure_players("bare starlette POST /answer", bare.base,
                                         players=players, warmup=warmup, duration=duration,
                                         log=load_log) if "answer" in only else None)

        # No server runs now: the database has this process's full attention.
        raw = (measure_raw_database(database_url, env, load_log)
               if only & {"answer", "publish", "catalog", "auctions"} else None)
        publish = measure_publish(workdir, env, load_log) if "publish" in only else None
        catalog = (measure_catalog(workdir, env, load_log,
                                   int(_env_number("PORTAL_BENCH_CATALOG_PLAYERS", 200)))
                   if "catalog" in only else None)
        auctions = (measure_auctions(workdir, env, load_log,
                                     int(_env_number("PORTAL_BENCH_BIDDERS", 200)))
                    if "auctions" in only else None)

        port = _free_port()
        portal = Server("portal web", [str(BIN / "portal"), "web", "--host", HOST,
                                       "--port", str(port), "--no-access-log"],
                        env, workdir / "portal.log", port, "/health")
        answers = None
        with running(portal) if pages or "answer" in only else nullcontext():
            if pages:
                results += measure_pages(portal, pages, env, workdir, warmup=warmup,
                                         duration=duration, connections=connections,
                                         loadgen=loadgen, log=load_log)
            if "answer" in only:
                # After the pages above, so they measure the same data as before this bench.
                prefix, twin_prefix = prepare_game(workdir, env, players, load_log)
                port = _free_port()
                twin = Server("raw game twin", [sys.executable, "-m", "tests.bench.rawdb",
                                                database_url, "--twin-port", str(port)],
                              env, workdir / "game-twin.log", port, "/")
                with running(twin):  # the twin plays first; the portal idles meanwhile
                    answers = measure_players("POST /api/v1/play/games/{id}/answer",
                                              portal.base, players=players, warmup=warmup,
                                              duration=duration, log=load_log,
                                              quiz_prefix=prefix,
                                              twin=(twin.base, twin_prefix))

        many = (measure_workers(workdir, warmup=warmup, duration=duration,
                                connections=connections) if "workers" in only else None)
        rush = measure_rush(workdir, database_url) if "rush" in only else None
        # Last, with no server of ours running: it loads the machine for minutes.
        scale = measure_scale(workdir) if "scale" in only else None

        print()
        print(_table(results, results[0]))
        if bare_post is not None and raw is not None and answers is not None:
            print()
            print(f"answer submission: {players} concurrent players, one asyncio + httpx "
                  "process")
            print(_answer_table(bare_post, raw, answers))
        if publish is not None and raw is not None:
            print()
            print("publishing, in-process (portal.content.schema.read_pack, service.publish)")
            print(_publish_table(publish, raw))
        if catalog is not None and raw is not None:
            print()
            print("the rewards catalog (tests/bench/catalog.py)")
            print(_catalog_table(catalog, raw))
        if auctions is not None and raw is not None:
            print()
            print("auctions, a hot lot (tests/bench/auctions.py)")
            print(_auctions_table(auctions, raw))
        for table in [*(many or {}).get("tables", []), (rush or {}).get("table")]:
            if table:
                print()
                print(table)
        for table in scale["tables"] if scale else []:
            print()
            print(table)
        game_twin = answers.extra.get("twin") if answers is not None else None
        measured = [r for r in [*results, bare_post, game_twin, answers] if r is not None]
        failed = [(r.target.label, p) for r in measured for p in r.problems]
        failed += [("at scale", problem) for problem in (scale or {}).get("failures", [])]
        failed += [("catalog", problem) for problem in (catalog or {}).get("problems", [])]
        failed += [("auctions", problem) for problem in (auctions or {}).get("problems", [])]
        failed += [("workers", problem) for problem in (many or {}).get("problems", [])]
        failed += [("rush", problem) for problem in (rush or {}).get("problems", [])]
        for label, problem in failed:
            print(f"FAILED {label}: {problem}", file=sys.stderr)
        for r in (bare_post, answers):
            if r is not None and r.problems and r.extra.get("error_detail"):
                print(f"  {r.target.label}: {r.extra['error_detail']}", file=sys.stderr)
        ok = not failed
        return 0 if ok else 1
    finally:
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"(logs kept in {workdir})", file=sys.stderr)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
