"""Worker processes released at the same moment, for the cross-process race tests.

A worker (tests/ledger/race_worker.py, tests/burns/burn_worker.py) connects, prints
"ready" and waits for a line on standard input. Once every worker is ready, all are
released together, so their writes race instead of running one after another: within
one process Tortoise hands SQLite's one connection to one transaction at a time.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from portal.settings import PROJECT_ROOT


async def race(module: str, *arguments: list[str]) -> list[str]:
    """Runs ``python -m module`` once per argument list, all released together; returns
    the last line each printed (each must exit 0)."""
    return await asyncio.to_thread(_race, module, arguments)


def _race(module: str, arguments: tuple[list[str], ...]) -> list[str]:
    workers = [subprocess.Popen([sys.executable, "-m", module, *args], cwd=PROJECT_ROOT,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for args in arguments]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline() == "ready\n", \
                worker.communicate(timeout=120)[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        lines = []
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            lines.append(out.strip().splitlines()[-1])
        return lines
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
