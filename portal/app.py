"""Assembles the application: routes, middleware, and the lifespan (database, scheduler)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from tortoise.contrib.starlette import RegisterTortoise

from portal.accounts import views as accounts_views
from portal.accounts.throttle import LoginThrottle
from portal.admin import views as admin_views
from portal.api import views as api_views
from portal.content import views as content_views
from portal.db import tortoise_config
from portal.jobs.scheduler import JobScheduler
from portal.leaderboard import api as leaderboard_api
from portal.leaderboard import views as leaderboard_views
from portal.ledger import views as ledger_views
from portal.notifications import views as notification_views
from portal.pages import views as pages_views
from portal.play import api as play_api
from portal.play import views as play_views
from portal.settings import Settings
from portal.web import errors
from portal.web.auth import SessionMiddleware
from portal.web.csrf import CsrfProtection
from portal.web.templating import STATIC_DIR

log = logging.getLogger("portal")


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            scheduler = JobScheduler(settings) if settings.scheduler_enabled else None
            if scheduler is not None:
                scheduler.start()
            try:
                yield
            finally:
                if scheduler is not None:
                    await scheduler.stop()

    api = Starlette(
        routes=[*api_views.routes, *play_api.routes, *leaderboard_api.routes],
        exception_handlers={
            api_views.ApiError: api_views.api_error_handler,
            **errors.exception_handlers,
        },
    )
    app = Starlette(
        debug=settings.debug,
        routes=[
            *pages_views.routes,
            *accounts_views.routes,
            *ledger_views.routes,
            *admin_views.routes,
            *play_views.routes,
            *content_views.routes,
            *notification_views.routes,
            *leaderboard_views.routes,
            Mount("/api/v1", app=api, name="api"),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
            Mount("/media", app=StaticFiles(directory=settings.media_dir, check_dir=False),
                  name="media"),
        ],
        middleware=[
            Middleware(errors.SecurityHeadersMiddleware),
            # CSRF on every unsafe request. The API answers bearer tokens only, never the
            # cookie, so it is skipped; sign-in is protected even before any cookie exists.
            Middleware(
                CsrfProtection,
                signing_secret=settings.secret_key.get_secret_value(),
                always_protect=SignInPaths(),
                skip_if_scope=_is_api,
            ),
            Middleware(SessionMiddleware, settings=settings),
        ],
        exception_handlers=errors.exception_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    api.state.settings = settings
    api.state.openapi = api_views.schema_generator(
        [*api_views.MODELS, *play_api.MODELS, *leaderboard_api.MODELS])
    throttle = LoginThrottle(
        per_address=settings.login_limit_per_address,
        per_account_address=settings.login_limit_per_account_address,
        per_account=settings.login_limit_per_account,
        storage=settings.rate_limit_storage,
    )
    app.state.login_throttle = throttle
    api.state.login_throttle = throttle
    return app


class SignInPaths:
    """Paths that sign someone in: checked for CSRF even when no cookie came with the
    request, so another site cannot sign a visitor into an account of its choosing."""

    def __contains__(self, path: object) -> bool:
        return path == "/login" or str(path).startswith("/invite/")


def _is_api(scope: Scope) -> bool:
    return str(scope["path"]).startswith("/api/")
