"""The ceiling: a bare Starlette app, served exactly as ``portal web`` is.

``GET /`` answers "ok"; ``POST /answer`` parses a JSON body and answers JSON, the shape
of the game's answer endpoint without any of its work (the ceiling of the answer bench).

``python -m tests.bench.bare --port N`` runs it with the same ``uvicorn.run`` arguments as
``portal.cli._serve`` (one worker, uvicorn's default loop and HTTP parser: uvloop and
httptools where installed, as ``uvicorn[standard]`` does), so the gap between this and a
portal endpoint is the portal's own work: middleware, CSRF, session, queries, templates.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def hello(request: Request) -> Response:
    return PlainTextResponse("ok")


async def answer(request: Request) -> Response:
    body = json.loads(await request.body())
    return JSONResponse({"question_id": body.get("question_id"), "correct": True,
                         "chosen_positions": body.get("choices", [])})


app = Starlette(routes=[Route("/", hello, methods=["GET"]),
                        Route("/answer", answer, methods=["POST"])])


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m tests.bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    # Mirrors portal.cli._serve with --no-access-log.
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=True,
                log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
