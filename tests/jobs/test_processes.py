"""The scheduler in real processes: start-up never starves the web, a stop is clean, and
a run is judged alive by its lock, whatever the clock says."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from portal.jobs.models import JobRun
from portal.jobs.scheduler import JOBS
from portal.jobs.tasks import Outcome, record_run
from portal.settings import PROJECT_ROOT, Settings

STARTS = 6  # the hang this guards against struck in most starts, not all
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def test_a_live_run_in_another_process_is_busy_and_a_killed_one_is_resumed(
        any_db: str, tmp_path: Path) -> None:
    settings = Settings(secret_key="x")
    marker = tmp_path / "working"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.jobs.job_worker", any_db, "demo", "p4", str(marker),
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    async def quick(now: datetime, settings: Settings) -> int:
        return 1

    try:
        for _ in range(300):
            if marker.exists() or worker.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert marker.exists(), await worker.communicate()
        busy = await record_run("demo", quick, settings, period="p4", now=NOW)
        assert busy.outcome is Outcome.BUSY  # alive an hour or a second: not ours to take
        assert (await JobRun.get(job="demo", period="p4")).finished_at is None
    finally:
        worker.kill()
        await worker.wait()

    resumed = await record_run("demo", quick, settings, period="p4", now=NOW)
    assert resumed.outcome is Outcome.DONE  # killed: resumed at once, not in an hour
    assert resumed.run is not None and resumed.run.result == "1 done"
    done = await record_run("demo", quick, settings, period="p4", now=NOW)
    assert done.outcome is Outcome.ALREADY_DONE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": "process-test-secret", "PORTAL_MEDIA_DIR": str(tmp_path),
            "PORTAL_OUTBOX_DIR": str(tmp_path / "outbox")}


async def _finished_runs(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM job_run WHERE finished_at IS NOT NULL AND error = ''"))
    finally:
        await conn.close()


async def _forget_runs(database_url: str) -> None:
    """So that every start has every job to catch up, as on a new deployment."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM job_run")
    finally:
        await conn.close()


async def _wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.1)
    return False


async def _start(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "portal.cli", *args, cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def _stop(process: asyncio.subprocess.Process, what: str) -> None:
    if process.returncode is not None:
        pytest.fail(f"{what}: exited early: {(await process.communicate())[1].decode()}")
    process.send_signal(signal.SIGTERM)
    try:
        _, err = await asyncio.wait_for(process.communicate(), 10)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
        pytest.fail(f"{what}: SIGTERM did not stop it within 10 s:\n{err.decode()}")
    # uvicorn re-raises the signal once it has shut down gracefully, as a service manager
    # expects; the scheduler alone exits 0.
    assert process.returncode in (0, -signal.SIGTERM), err.decode()
    assert b"Traceback" not in err, err.decode()


async def test_serve_on_postgres_answers_at_once_every_start_and_stops_cleanly(
        postgres_url: str, tmp_path: Path) -> None:
    env = _environment(postgres_url, tmp_path)
    for start in range(STARTS):
        await _forget_runs(postgres_url)
        port = _free_port()
        process = await _start("serve", "--port", str(port), "--no-access-log", env=env)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                         timeout=3) as client:

                async def api_answers() -> bool:
                    try:  # the bearer token is looked up in the database
                        reply = await client.get("/api/v1/me",
                                                 headers={"Authorization": "Bearer nobody"})
                    except httpx.ConnectError:
                        return False  # not listening yet
                    return reply.status_code == 401

                # A request that connects but gets no answer in 3 s fails the test here.
                assert await _wait_for(api_answers, 15), f"start {start}: no answer"

                async def caught_up() -> bool:
                    return await _finished_runs(postgres_url) == len(JOBS)

                assert await _wait_for(caught_up, 15), f"start {start}: catch-up stuck"
                assert await api_answers()
        finally:
            await _stop(process, f"serve, start {start}")


async def test_the_scheduler_alone_on_postgres_catches_up_every_start_and_stops_cleanly(
        postgres_url: str, tmp_path: Path) -> None:
    env = _environment(postgres_url, tmp_path)
    for start in range(STARTS):
        await _forget_runs(postgres_url)
        process = await _start("scheduler", env=env)
        try:

            async def caught_up() -> bool:
                return await _finished_runs(postgres_url) == len(JOBS)

            assert await _wait_for(caught_up, 20), f"start {start}: catch-up stuck"
        finally:
            await _stop(process, f"scheduler, start {start}")


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _environment(f"sqlite://{tmp_path / 'portal.sqlite3'}", tmp_path)
        result = subprocess.run(
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT, env=env, text=True, capture_output=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot serve on 127.0.0.1:{port}: the port is already in use; stop the "
        "other server or choose another port (PORT=8001 make run, or --port 8001)"]


def test_serve_takes_its_port_from_the_environment(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**_environment(f"sqlite://{tmp_path / 'portal.sqlite3'}", tmp_path),
               "PORT": str(port)}
        result = subprocess.run([sys.executable, "-m", "portal.cli", "serve"],
                                cwd=PROJECT_ROOT, env=env, text=True, capture_output=True,
                                timeout=60)
    assert f"127.0.0.1:{port}" in result.stderr and result.returncode == 1


def test_a_port_that_is_not_a_number_is_refused() -> None:
    result = subprocess.run([sys.executable, "-m", "portal.cli", "serve"], cwd=PROJECT_ROOT,
                            env={**os.environ, "PORT": "eighty"}, text=True,
                            capture_output=True, timeout=60)
    assert result.returncode == 2
    assert "--port: invalid int value: 'eighty'" in result.stderr

