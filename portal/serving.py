"""Serving the portal: one uvicorn process, or several workers under uvicorn's supervisor.

Several workers on one shared listening socket share its connections badly: every worker
is woken for each new connection and the first to call ``accept`` takes all that wait, so
a burst of keep-alive connections (a load balancer's pool, a rush of phones) lands mostly
on one worker while the other idles, for as long as the connections live. Here each worker
binds a socket of its own to the same address with ``SO_REUSEPORT``, and the kernel
spreads new connections over the workers' sockets by a hash of their addresses, evenly.

The scheduler runs once: inside the app with one worker (``portal serve``), and with
several in the supervising process, beside the workers, never inside them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from functools import partial
from typing import Any, cast

import uvicorn
from tortoise import Tortoise
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from portal.app import create_app
from portal.db import tortoise_config
from portal.settings import Settings

log = logging.getLogger(__name__)

SCHEDULER_STOP_SECONDS = 30.0


def serve(settings: Settings, *, host: str, port: int, workers: int, scheduler: bool,
          access_log: bool) -> None:
    """Serves until stopped (Ctrl+C, SIGTERM); the database must be migrated already."""
    options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": True,
                               "log_level": "info", "access_log": access_log}
    if workers == 1:
        uvicorn.run(create_app(settings.model_copy(update={"scheduler_enabled": scheduler})),
                    **options)
        return
    web = settings.model_copy(update={"scheduler_enabled": False})
    # Each worker is a fresh interpreter (spawned) that builds its own app from the same
    # settings: nothing of this process's state, connections or event loop is inherited.
    config = uvicorn.Config(partial(create_app, web), factory=True, workers=workers,
                            **options)
    own_socket = cast(socket.socket, OwnSocket(host, port, config.backlog))
    logging.getLogger("uvicorn.error").info(
        "Serving http://%s:%d with %d workers, each on its own socket", host, port, workers)
    with scheduler_thread(settings) if scheduler else nullcontext():
        Multiprocess(config, sockets=[own_socket]).run()


class OwnSocket:
    """Stands in uvicorn's list of sockets for the socket each worker binds itself.

    uvicorn's supervisor hands its sockets to every worker it starts (or restarts) by
    pickling them; this one pickles as "bind a listening socket to this address with
    ``SO_REUSEPORT``", so each worker, as it starts, opens its own.
    """

    def __init__(self, host: str, port: int, backlog: int) -> None:
        self.host, self.port, self.backlog = host, port, backlog

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return bind_reuse_port, (self.host, self.port, self.backlog)


def bind_reuse_port(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket on ``host:port`` that shares the port with the other workers'."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        print(f"error: a worker cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        # uvicorn's supervisor stops, rather than restarting the worker again and again.
        raise SystemExit(STARTUP_FAILURE) from exc
    sock.set_inheritable(True)
    return sock


async def run_scheduler(settings: Settings, stop: asyncio.Event) -> None:
    """The scheduled jobs, on this event loop, until ``stop`` is set."""
    from portal.jobs.scheduler import JobScheduler

    await Tortoise.init(config=tortoise_config(settings.database_url))
    scheduler = JobScheduler(settings)
    scheduler.start()
    try:
        await stop.wait()
    finally:
        await scheduler.stop()
        await Tortoise.close_connections()


@contextmanager
def scheduler_thread(settings: Settings) -> Iterator[None]:
    """The scheduler on an event loop of its own in a thread of this process, while the
    block runs (the supervisor's main thread only waits on its workers and signals)."""
    started = threading.Event()
    loop_and_stop: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def main() -> None:
        stop = asyncio.Event()
        loop_and_stop.append((asyncio.get_running_loop(), stop))
        started.set()
        await run_scheduler(settings, stop)

    def run() -> None:
        try:
            asyncio.run(main())
        except Exception:
            log.exception("the scheduler stopped on an error")
        finally:
            started.set()

    thread = threading.Thread(target=run, name="portal-scheduler", daemon=True)
    thread.start()
    started.wait()
    try:
        yield
    finally:
        if loop_and_stop:
            loop, stop = loop_and_stop[0]
            with suppress(RuntimeError):  # the loop has already ended (on an error)
                loop.call_soon_threadsafe(stop.set)
        thread.join(SCHEDULER_STOP_SECONDS)
