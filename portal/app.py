"""Assembles the application: routes, middleware, and the lifespan (database, scheduler)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from portal.accounts import api as accounts_api
from portal.accounts import service as accounts_service
from portal.accounts import sessions
from portal.accounts import views as accounts_views
from portal.accounts.throttle import LoginThrottle
from portal.admin import views as admin_views
from portal.analytics import api as analytics_api
from portal.analytics import views as analytics_views
from portal.analytics.rollups import VisitBook
from portal.analytics.visits import VisitMiddleware
from portal.auctions import api as auctions_api
from portal.auctions import views as auctions_views
from portal.catalog import api as catalog_api
from portal.catalog import views as catalog_views
from portal.catalog import workspace as catalog_workspace
from portal.charity import api as charity_api
from portal.charity import views as charity_views
from portal.content import views as content_views
from portal.db import tortoise_config
from portal.jobs.scheduler import JobScheduler
from portal.leaderboard import api as leaderboard_api
from portal.leaderboard import views as leaderboard_views
from portal.ledger import api as ledger_api
from portal.ledger import views as ledger_views
from portal.members import api as members_api
from portal.members import views as members_views
from portal.notifications import views as notification_views
from portal.pages import views as pages_views
from portal.play import api as play_api
from portal.play import views as play_views
from portal.settings import Settings
from portal.web import api as web_api
from portal.web import errors
from portal.web.csrf import CsrfProtection
from portal.web.static import STATIC_DIR, CachedStaticFiles
from portal.web.templating import use_context_processors

log = logging.getLogger("portal")


# Each capability's pages and JSON API: a new capability adds its modules here.
PAGE_MODULES: list[ModuleType] = [
    pages_views, accounts_views, members_views, ledger_views, admin_views, play_views,
    content_views, notification_views, leaderboard_views,
    catalog_views, catalog_workspace, analytics_views, charity_views, auctions_views,
]
API_MODULES: list[ModuleType] = [
    accounts_api, members_api, ledger_api, web_api, play_api, leaderboard_api,
    catalog_api, charity_api, auctions_api, analytics_api,
]


def create_app(settings: Settings) -> Starlette:
    # Each worker builds its own app, and hashes passwords as the settings say.
    accounts_service.use_password_profile(settings.password_hashing)

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

    # The JSON API and the site are mounted apart, each with its own error handlers (JSON
    # or pages) and middleware, so nothing asks which one a path belongs to.
    visits = VisitBook()
    api = Starlette(
        routes=[route for module in API_MODULES for route in module.routes],
        exception_handlers=web_api.exception_handlers,
        # A call by a signed-in person counts as a visit too (analytics), in the same book.
        middleware=[Middleware(VisitMiddleware, book=visits)],
    )
    site = Starlette(
        debug=settings.debug,
        routes=[route for module in PAGE_MODULES for route in module.routes],
        middleware=[
            # CSRF on every unsafe request (the API, answering bearer tokens only, never the
            # cookie, needs none); sign-in is protected even before any cookie exists.
            # The session first: a refused form's page knows who asks and their language.
            Middleware(sessions.SessionMiddleware, settings=settings),
            Middleware(
                CsrfProtection,
                signing_secret=settings.secret_key.get_secret_value(),
                always_protect=sessions.SignInPaths(),
            ),
            # After the session: a signed-in person's day is recorded once (analytics).
            Middleware(VisitMiddleware, book=visits),
        ],
        exception_handlers=errors.exception_handlers,
    )
    app = Starlette(
        debug=settings.debug,
        routes=[
            Mount("/api/v1", app=api, name="api"),
            Mount("/static", app=CachedStaticFiles(directory=STATIC_DIR), name="static"),
            Mount("/media", app=StaticFiles(directory=settings.media_dir, check_dir=False),
                  name="media"),
            Mount("", app=site),
        ],
        # Pages, the API's JSON and the static files go out gzipped (a page is a fifth of
        # its size on a slow phone network); tiny answers are not worth it.
        middleware=[Middleware(GZipMiddleware, minimum_size=500, compresslevel=6),
                    Middleware(errors.SecurityHeadersMiddleware)],
        exception_handlers={HTTPException: errors.http_error},
        lifespan=lifespan,
    )
    use_context_processors(sessions.template_context)
    api.state.openapi = web_api.schema_generator(
        [model for module in API_MODULES for model in module.MODELS])
    throttle = LoginThrottle(
        per_address=settings.login_limit_per_address,
        per_account_address=settings.login_limit_per_account_address,
        per_account=settings.login_limit_per_account,
        storage=settings.rate_limit_storage,
    )
    for part in (app, site, api):
        part.state.settings = settings
        part.state.login_throttle = throttle
    return app
