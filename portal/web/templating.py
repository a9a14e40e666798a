"""Jinja2 set-up (autoescape on, i18n) and the ``render`` helper every handler uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import jinja2
from babel.dates import format_timedelta
from starlette.datastructures import URL, URLPath
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Router
from starlette.templating import Jinja2Templates

from portal import i18n
from portal.settings import PROJECT_ROOT
from portal.web import masking
from portal.web.pictures import card_thumbnail
from portal.web.static import static_url

TEMPLATE_DIR = PROJECT_ROOT / "templates"
HTMX_FILE = "htmx-2.0.11.min.js"


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        # Escape everything but plain-text e-mail bodies, not only .html files.
        autoescape=jinja2.select_autoescape(disabled_extensions=("txt",),
                                            default_for_string=True, default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["points"] = i18n.points
    env.filters["day"] = i18n.day
    env.filters["when"] = i18n.when
    env.filters["moment"] = i18n.moment
    env.filters["time_left"] = time_left
    env.globals["kind_label"] = i18n.kind_label
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    env.globals["current_language"] = i18n.current_language
    env.globals["htmx_file"] = HTMX_FILE
    env.globals["static_url"] = static_url
    env.globals["thumbnail"] = card_thumbnail
    env.globals["url_for"] = url_for
    return env


_PATHS_KEPT = 4096


def url_path(router: Router, name: str, /, **params: Any) -> URLPath:
    """``router.url_path_for``, remembered by the router: Starlette finds a route's path by
    asking every route in turn, each refusal an exception, and a page asks for a dozen
    links. Routes never change once the app is built; ids make a few thousand entries."""
    paths: dict[tuple[str, tuple[tuple[str, Any], ...]], URLPath] = vars(router).setdefault(
        "portal_url_paths", {})
    key = (name, tuple(params.items()))
    found = paths.get(key)
    if found is None:
        found = router.url_path_for(name, **params)
        if len(paths) >= _PATHS_KEPT:
            paths.clear()
        paths[key] = found
    return found


@jinja2.pass_context
def url_for(context: dict[str, Any], name: str, /, **params: Any) -> URL:
    """Starlette's ``url_for`` for templates (an absolute URL), through ``url_path``."""
    request: Request = context["request"]
    router = request.scope.get("router") or request.scope["app"]
    return url_path(router, name, **params).make_absolute_url(base_url=request.base_url)


def time_left(moment: datetime, now: datetime) -> str:
    """How long until a moment, in whole units of the reader's language ("19 hours",
    "3 days"); a moment past is "0 seconds"."""
    return format_timedelta(max(moment - now, timedelta(0)), threshold=1,
                            locale=i18n.current_language())


environment = build_environment()
templates = Jinja2Templates(env=environment)

ContextProcessor = Callable[[Request], dict[str, Any]]
_context_processors: list[ContextProcessor] = []


def use_context_processors(*processors: ContextProcessor) -> None:
    """What every page sees besides its handler's context (who is signed in, say): given
    by app.py, so this layer names no capability. A handler's own values win."""
    _context_processors[:] = processors


def csrf_token(request: Request) -> str:
    """The CSRF token for this page, masked afresh (see ``portal.web.masking``)."""
    get_token = request.scope.get("csrftoken")
    return masking.mask(get_token()) if get_token else ""


def render(
    request: Request, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    shared: dict[str, Any] = {}
    for processor in _context_processors:
        shared.update(processor(request))
    response = templates.TemplateResponse(
        request, name, {**shared, "csrf_token": csrf_token(request), **context},
        status_code=status_code,
    )
    # One URL may serve a page or, to HTMX, only its fragment.
    response.headers.append("Vary", "HX-Request")
    return response
