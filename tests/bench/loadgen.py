"""Fallback load generator for when ``wrk`` is not installed: a separate process.

``python -m tests.bench.loadgen URL --connections 32 --duration 10 [-H 'Name: value']``
keeps N keep-alive HTTP/1.1 connections busy on one event loop for a fixed time and prints
the same ``BENCH_RESULT {json}`` line as ``report.lua`` does for wrk. It speaks just enough
HTTP/1.1 (Content-Length and chunked bodies) to be much cheaper per request than a full
client, but one Python process still tops out far below wrk: with it the bare ceiling is
partly the load generator's own ceiling, and the run says so.

Bounded: only 127.0.0.1/localhost URLs, a fixed duration, a per-request timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Stats:
    def __init__(self) -> None:
        self.latencies_us: list[int] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Reads one response; returns its status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    keep = headers.get("connection", "").lower() != "close"
    return status, keep


async def _worker(host: str, port: int, request: bytes, deadline: float,
                  request_timeout: float, stats: Stats) -> None:
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while time.monotonic() < deadline:
        try:
            if writer is None:
                try:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(host, port), request_timeout)
                except (OSError, TimeoutError):
                    stats.errors["connect"] += 1
                    await asyncio.sleep(0.05)
                    continue
            assert reader is not None and writer is not None
            started = time.perf_counter_ns()
            writer.write(request)
            status, keep = await asyncio.wait_for(_read_response(reader), request_timeout)
            stats.latencies_us.append((time.perf_counter_ns() - started) // 1000)
            stats.statuses[status] += 1
            if not keep:
                writer.close()
                writer = None
        except TimeoutError:
            stats.errors["timeout"] += 1
            if writer is not None:
                writer.close()
            writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            stats.errors["read"] += 1
            if writer is not None:
                writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def run(url: str, connections: int, duration: float, headers: Sequence[str],
              request_timeout: float) -> dict[str, object]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or host not in LOOPBACK:
        raise SystemExit(f"loadgen only drives http:// on this machine's loopback, not {url}")
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    stats = Stats()
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(
        _worker(host, port, request, deadline, request_timeout, stats)
        for _ in range(connections)
    ))
    elapsed = time.monotonic() - started
    latencies = sorted(stats.latencies_us) or [0]

    def percentile(p: float) -> int:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))]

    return {
        "requests": len(stats.latencies_us),
        "duration_us": int(elapsed * 1e6),
        "p50_us": percentile(50),
        "p99_us": percentile(99),
        "mean_us": sum(latencies) / len(latencies),
        "max_us": latencies[-1],
        "statuses": {str(code): n for code, n in stats.statuses.items()},
        "errors": {kind: stats.errors[kind]
                   for kind in ("connect", "read", "write", "status", "timeout")}
                  | {"status": sum(n for code, n in stats.statuses.items() if code > 399)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.loadgen", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    result = runner(run(args.url, args.connections, args.duration, args.header, args.timeout))
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
