"""``portal serve --workers N`` in real processes: the connections spread over every
worker, the scheduler catches up from the supervisor, and SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from portal.jobs.scheduler import JOBS
from portal.settings import PROJECT_ROOT
from tests.bench.workers import connections_by_process, wait_for_listeners, worker_pids

WORKERS = 2
CONNECTIONS = 64  # hashed over two sockets: fewer than 16 on one is a 1-in-30,000 event


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _portal(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": "serving-test-secret", "PORTAL_MEDIA_DIR": str(tmp_path),
            "PORTAL_OUTBOX_DIR": str(tmp_path / "outbox")}


def _ask(port: int) -> socket.socket:
    """A keep-alive connection that has had one answer (so a worker has accepted it)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(b"GET /health HTTP/1.1\r\nHost: portal\r\n\r\n")
    assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    return conn


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            _ask(port).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the workers did not answer within 60 s")


def _finished_runs(database_url: str) -> int:
    sql = "SELECT count(*) FROM job_run WHERE finished_at IS NOT NULL AND error = ''"
    if database_url.startswith("sqlite://"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as db:
            return int(db.execute(sql).fetchone()[0])

    async def count() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(sql))
        finally:
            await conn.close()

    return asyncio.run(count())


async def test_serve_spreads_connections_over_its_workers_and_schedules_from_the_supervisor(
        any_db_url: str, tmp_path: Path) -> None:
    await asyncio.to_thread(_serve_with_workers, any_db_url, tmp_path)


def _serve_with_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--workers", str(WORKERS),
         "--port", str(port), "--no-access-log"],
        cwd=PROJECT_ROOT, env=_environment(database_url, tmp_path), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    open_connections: list[socket.socket] = []
    workers: list[int] = []
    try:
        _wait_for_port(port, server)
        wait_for_listeners(port, WORKERS)
        workers = worker_pids(server.pid)
        assert len(workers) == WORKERS and server.pid not in workers
        open_connections = [_ask(port) for _ in range(CONNECTIONS)]
        held = connections_by_process(port, [server.pid, *workers])
        assert held[server.pid] == 0  # the supervisor serves nothing itself
        assert sum(held.values()) == CONNECTIONS
        assert min(held[pid] for pid in workers) >= CONNECTIONS // 4, held
        deadline = time.monotonic() + 30
        while _finished_runs(database_url) < len(JOBS) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _finished_runs(database_url) == len(JOBS), "the scheduler did not catch up"
    finally:
        for conn in open_connections:
            conn.close()
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Traceback" not in err, err
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived its supervisor"


@pytest.mark.parametrize(("count", "message"), [
    ("0", "argument --workers: must be from 1 to 64, not 0"),
    ("65", "argument --workers: must be from 1 to 64, not 65"),
    ("two", "argument --workers: 'two' is not a whole number"),
])
def test_a_worker_count_out_of_range_is_refused(count: str, message: str,
                                                 tmp_path: Path) -> None:
    result = _portal("web", "--workers", count,
                     env=_environment(f"sqlite://{tmp_path / 'portal.sqlite3'}", tmp_path))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "portal.sqlite3").exists()  # refused before anything started
