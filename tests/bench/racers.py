"""Worker processes released together on one hot row: what the auction and catalog benches
(``tests/bench/auctions.py``, ``tests/bench/catalog.py``) share.

The parent side, ``race``, starts one process per call (``python -m WORKER DB_URL CALL``),
waits until each has connected and prepared and printed ``ready``, releases them all with
one line on their standard input, and collects the one JSON line each prints at the end.
The worker side, ``worker_main``, is that protocol around the worker's own ``ready``
function (set-up, then the coroutine to run at the release), stamping when it finished.
``rounds`` repeats a measurement and keeps the median, so one noisy run on a busy
two-core machine does not decide the ratio.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise import Tortoise

from portal.db import tortoise_config
from portal.settings import PROJECT_ROOT

Outcome = dict[str, Any]
Ready = Callable[[dict[str, Any]], Awaitable[Callable[[], Awaitable[Outcome]]]]


class RaceError(Exception):
    pass


def race(worker: str, database_url: str, calls: Sequence[dict[str, Any]], *,
         timeout: float = 1800) -> tuple[list[Outcome], float]:
    """Runs ``worker`` once per call, all released at the same moment. Returns each
    worker's outcome and the wall time from the release to the last one finished."""
    workers = [subprocess.Popen(
        [sys.executable, "-m", worker, database_url, json.dumps(call)], cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for call in calls]
    try:
        for process in workers:
            assert process.stdout is not None
            if process.stdout.readline() != "ready\n":
                raise RaceError(f"a {worker} process did not start: "
                                f"{process.communicate(timeout=60)[1]}")
        released = time.time()
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = []
        for process in workers:
            out, err = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise RaceError(f"a {worker} process failed: {err}")
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outcomes, max(o["finished"] for o in outcomes) - released


def latencies(seconds: Sequence[float]) -> dict[str, float]:
    """The p50 and p99 of one operation, in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0}
    return {"p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]}


def rounds(count: int, measure: Callable[[int], dict[str, Any]], *, by: str
           ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``measure`` run ``count`` times (its argument: the round); returns the round with
    the median ``by`` (the lower middle one for an even count) and every round."""
    done = [measure(n) for n in range(count)]
    ordered = sorted(done, key=lambda result: result[by])
    return ordered[(len(ordered) - 1) // 2], done


def worker_main(ready: Ready) -> None:
    """A race worker's whole life: ``python -m WORKER DB_URL CALL`` connects, awaits
    ``ready(call)`` (the set-up), prints "ready", waits for the release line, runs what
    ``ready`` returned and prints its outcome as one JSON line with ``finished``."""

    async def main(database_url: str, call: dict[str, Any]) -> Outcome:
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            go = await ready(call)
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            outcome = await go()
            outcome["finished"] = time.time()
        finally:
            await Tortoise.close_connections()
        return outcome

    print(json.dumps(asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))), flush=True)
