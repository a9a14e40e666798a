"""Static files a browser keeps: versioned URLs cached for a year, validators for the rest.

Pages link static files as ``static_url("portal.css")``, which adds a digest of the file's
content (``/static/portal.css?v=3f2a9c0d1e``). A request carrying the digest of the file as
it is now may be cached for a year without asking again (``immutable``): a changed file
gets another digest, so another URL. Any other request (an old digest, none at all, the
media a pack published) is answered with ``no-cache``: the browser keeps the copy and
asks again with the ETag and Last-Modified Starlette sends, getting a 304 while it holds.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from portal.settings import PROJECT_ROOT

STATIC_DIR = PROJECT_ROOT / "static"
FOR_A_YEAR = "public, max-age=31536000, immutable"
ASK_AGAIN = "no-cache"


@cache
def digest(path: str) -> str:
    """The first ten hex digits of the file's SHA-256 (read once per process: a deploy
    restarts the processes that serve the new files)."""
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    return f"/static/{path}?v={digest(path)}"


class CachedStaticFiles(StaticFiles):
    """Starlette's static files with the cache lifetime each request earns."""

    def file_response(self, full_path: os.PathLike[str] | str, stat_result: os.stat_result,
                      scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = (
            FOR_A_YEAR if self._versioned(Path(full_path), scope) else ASK_AGAIN)
        return response

    def _versioned(self, full_path: Path, scope: Scope) -> bool:
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [])
        if not asked or self.directory is None:
            return False
        relative = full_path.resolve().relative_to(Path(self.directory).resolve())
        return asked[0] == digest(relative.as_posix())
