"""Several workers (issue 14, goal 5): ``portal web --workers 2`` next to one worker.

``python -m tests.bench.workers --workdir DIR --postgres ADMIN_URL [--sqlite]`` loads the
demo data into a scratch database (``portal demo``; on PostgreSQL a database it creates
on that server and drops again), serves it with ``portal web --workers 1`` and
``--workers 2`` side by side, and puts the same load on each in turn (``wrk``, one
thread, the same connections, warm-up and duration; ``--rounds`` turns each, the best
kept): ``GET /api/v1/me`` with a bearer token and ``GET /`` (the dashboard) with a
session cookie. The raw twins of both (``tests/bench/bare.py``: the same bytes from the
least SQL on the raw driver) run the same way at one and two workers, so their ratio, the
most two workers can add to so little Python work beside the database on the same cores,
is measured in the same run. It prints req/s and p99 for each, the ratio of two workers to
one (the goal: at least 1.5 on PostgreSQL on this two-core machine), and how evenly the work
spread: each worker's established connections, counted from ``/proc`` in the middle of
the measured run, and its share of the CPU time the workers used during it. The last
column says where the machine's two cores went during the run (on average, in cores):
the workers, PostgreSQL's processes, and the rest (``wrk``, and anything else running):
two workers can only be faster than one by what one left idle.

It prints the tables, then ``BENCH_RESULT {json}`` (``problems`` lists every non-2xx
answer or socket error; a benchmark of error pages is worthless).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from tests.bench.run import (
    BIN,
    HOST,
    BenchError,
    Result,
    Server,
    Target,
    _check_once,
    _format,
    _free_port,
    _load,
    _portal_env,
    _ratio,
    _run_step,
    _sign_in_api,
    _sign_in_web,
    running,
)

GOAL = 1.5
PORTAL, TWIN = "portal", "raw twin"
KINDS = (PORTAL, TWIN)
ENDPOINTS = ("GET /api/v1/me", "GET / (dashboard)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- which worker holds what, from /proc ---------------------------------------------------


def worker_pids(server_pid: int) -> list[int]:
    """The processes that serve: the workers under a supervisor, or the server itself."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    workers = [int(pid) for pid in children
               if b"resource_tracker" not in _cmdline(int(pid))]
    return workers or [server_pid]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _sockets(port: int, state: str) -> set[str]:
    """The TCP sockets on local ``port`` in ``state`` (01 established, 0A listening), as
    a process's ``/proc/PID/fd`` links name them."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, inode = fields[1], fields[9]
            if fields[3] == state and int(local.rsplit(":", 1)[1], 16) == port:
                found.add(f"socket:[{inode}]")
    return found


def listeners(port: int) -> int:
    """How many sockets listen on ``port``: one per worker that has started."""
    return len(_sockets(port, "0A"))


def wait_for_listeners(port: int, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while listeners(port) < count:
        if time.monotonic() > deadline:
            raise BenchError(f"{count} workers did not all listen on {port} in {seconds} s")
        time.sleep(0.1)


def connections_by_process(port: int, pids: Iterable[int]) -> dict[int, int]:
    """How many established TCP connections to local ``port`` each process holds."""
    established = _sockets(port, "01")
    counts = {}
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                held += os.readlink(fd) in established
            except OSError:
                continue  # closed while we looked
        counts[pid] = held
    return counts


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (every core, every process)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process (the server's backends do the queries)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended while we looked
        if text.split("(", 1)[1].startswith("postgres)"):
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


# -- the measurement -----------------------------------------------------------------------


@dataclass
class Run:
    """One endpoint under load at one worker count."""

    result: Result
    connections: list[int]  # per worker, mid-run
    cpu_shares: list[float]  # per worker, of the workers' CPU during the measured run
    cores: dict[str, float]  # cores kept busy on average: workers, postgres, the rest


@contextmanager
def _sampled(port: int, pids: list[int], at: float) -> Iterator[dict[int, int]]:
    """Counts each worker's connections ``at`` seconds into the block."""
    found: dict[int, int] = {}

    def sample() -> None:
        found.update(connections_by_process(port, pids))

    timer = threading.Timer(at, sample)
    timer.start()
    try:
        yield found
    finally:
        timer.cancel()
        timer.join()


def measure(server: Server, target: Target, *, warmup: float, duration: float,
            connections: int, log: Path) -> Run:
    assert server.proc is not None
    pids = worker_pids(server.proc.pid)
    _check_once(target)
    warm = _load(target, warmup, connections, "wrk", log)
    if warm.problems:
        raise BenchError(f"{target.label} during warm-up: {'; '.join(warm.problems)}")
    before = [cpu_seconds(pid) for pid in pids]
    machine, postgres, began = machine_cpu_seconds(), postgres_cpu_seconds(), time.monotonic()
    with _sampled(server.port, pids, duration / 2) as held:
        result = _load(target, duration, connections, "wrk", log)
    wall = time.monotonic() - began
    used = [cpu_seconds(pid) - start for pid, start in zip(pids, before, strict=True)]
    postgres = postgres_cpu_seconds() - postgres
    machine = machine_cpu_seconds() - machine
    total = sum(used) or 1.0
    cores = {"workers": sum(used) / wall, "postgres": postgres / wall,
             "rest": max(0.0, machine - sum(used) - postgres) / wall}
    return Run(result, [held.get(pid, 0) for pid in pids], [u / total for u in used], cores)


def measure_database(label: str, database_url: str, workdir: Path, *, warmup: float,
                     duration: float, connections: int, rounds: int) -> dict[str, Any]:
    """Both servers run side by side (the idle one costs nothing) and take turns under the
    load, ``rounds`` times; each keeps its best round, so that a burst of other work on
    the machine during one round does not decide the ratio."""
    env = _portal_env(database_url)
    env["PORTAL_MEDIA_DIR"] = str(workdir / "media")
    log = workdir / f"workers-{label}.log"
    print(f"  workers on {label}: portal demo ...", flush=True)
    _run_step([str(BIN / "portal"), "demo"], "portal demo", env, log, timeout=600)
    servers: dict[tuple[str, int], Server] = {}
    for kind in KINDS:
        for workers in (1, 2):
            port = _free_port()
            argv = ([str(BIN / "portal"), "web", "--no-access-log"] if kind == PORTAL
                    else [sys.executable, "-m", "tests.bench.bare"])
            servers[kind, workers] = Server(
                f"{kind} --workers {workers}",
                [*argv, "--host", HOST, "--port", str(port), "--workers", str(workers)],
                env, workdir / f"{kind.replace(' ', '-')}-{label}-{workers}.log", port,
                "/health" if kind == PORTAL else "/")
    runs: dict[tuple[str, int], dict[str, Run]] = {key: {} for key in servers}
    with ExitStack() as stack:
        for server in servers.values():
            stack.enter_context(running(server))
        portal = servers[PORTAL, 1]
        token, cookie = _sign_in_api(portal.base), _sign_in_web(portal.base)
        targets = {}
        for (kind, workers), server in servers.items():
            wait_for_listeners(server.port, workers)
            me, dashboard = (("/api/v1/me", "/") if kind == PORTAL
                             else ("/twin/me", "/twin/dashboard"))
            targets[kind, workers] = [
                Target(ENDPOINTS[0], server.base + me, [f"Authorization: Bearer {token}"]),
                Target(ENDPOINTS[1], server.base + dashboard, [f"Cookie: {cookie}"])]
        for index in range(len(ENDPOINTS)):
            for round_number in range(1, rounds + 1):
                for (kind, workers), server in servers.items():
                    target = targets[kind, workers][index]
                    print(f"  {label}, {kind}, {workers} worker(s), {target.label}, round "
                          f"{round_number}: warm-up {warmup:.0f} s, then {duration:.0f} s ...",
                          flush=True)
                    run = measure(server, target, warmup=warmup, duration=duration,
                                  connections=connections, log=log)
                    best = runs[kind, workers].get(target.label)
                    if best is None or run.result.rps > best.result.rps:
                        runs[kind, workers][target.label] = run
    return _summary(label, runs, connections, rounds)


def _summary(label: str, runs: dict[tuple[str, int], dict[str, Run]], connections: int,
             rounds: int) -> dict[str, Any]:
    rows = [(f"{label}, {connections} connections, best of {rounds}", "workers", "req/s", "p99 ms",
             "2 vs 1", "connections per worker", "CPU share per worker",
             "cores busy: workers + postgres + rest")]
    ratios: dict[str, dict[str, float]] = {kind: {} for kind in KINDS}
    problems = []
    for endpoint, kind in ((endpoint, kind) for endpoint in ENDPOINTS for kind in KINDS):
        one, two = runs[kind, 1][endpoint], runs[kind, 2][endpoint]
        ratios[kind][endpoint] = two.result.rps / one.result.rps if one.result.rps else 0.0
        name = endpoint if kind == PORTAL else f"  its {kind}"
        for workers, run in ((1, one), (2, two)):
            rows.append((name if workers == 1 else "", str(workers),
                         f"{run.result.rps:,.0f}", f"{run.result.p99_ms:.1f}",
                         _ratio(two.result.rps, one.result.rps) if workers == 2 else "",
                         " / ".join(str(n) for n in run.connections),
                         " / ".join(f"{share:.0%}" for share in run.cpu_shares),
                         " + ".join(f"{run.cores[part]:.2f}"
                                    for part in ("workers", "postgres", "rest"))))
            problems += [f"{label}, {kind}, {workers} worker(s), {endpoint}: {problem}"
                         for problem in run.result.problems]
    return {"label": label, "table": _format(rows), "ratios": ratios[PORTAL],
            "twin_ratios": ratios[TWIN], "problems": problems}


# -- databases -----------------------------------------------------------------------------


async def _admin(admin_url: str, sql: str) -> None:
    dsn = urlsplit(admin_url)._replace(scheme="postgres", query="").geturl()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    name = f"portal_bench_workers_{secrets.token_hex(3)}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.workers",
                                     description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--postgres", help="a PostgreSQL server's URL to create a scratch "
                                           "database on")
    parser.add_argument("--sqlite", action="store_true", help="SQLite too")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.postgres and not args.sqlite:
        parser.error("name --postgres, --sqlite or both")
    args.workdir.mkdir(parents=True, exist_ok=True)
    options = {"warmup": args.warmup, "duration": args.duration,
               "connections": args.connections, "rounds": args.rounds}
    summaries = []
    try:
        if args.postgres:
            with scratch_postgres(args.postgres) as url:
                summaries.append(measure_database("PostgreSQL", url, args.workdir,
                                                  **options))
        if args.sqlite:
            url = f"sqlite://{args.workdir / 'workers.sqlite3'}"
            summaries.append(measure_database("SQLite", url, args.workdir, **options))
    except BenchError as exc:
        print(f"workers bench failed: {exc}", file=sys.stderr)
        return 1
    for summary in summaries:
        print()
        print(summary["table"])
        for endpoint, ratio in summary["ratios"].items():
            if summary["label"] == "PostgreSQL":
                verdict = "meets" if ratio >= GOAL else "MISSES"
                print(f"  {endpoint}: two workers give {ratio:.2f}x one "
                      f"({verdict} the goal of {GOAL}x); its raw twin "
                      f"{summary['twin_ratios'][endpoint]:.2f}x")
    print("BENCH_RESULT " + json.dumps({
        "tables": [summary["table"] for summary in summaries],
        "ratios": {summary["label"]: summary["ratios"] for summary in summaries},
        "twin_ratios": {summary["label"]: summary["twin_ratios"] for summary in summaries},
        "problems": [problem for summary in summaries for problem in summary["problems"]],
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
