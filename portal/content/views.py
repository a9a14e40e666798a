"""The marketing workspace for content: packs, uploads, validation reports, previews."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import i18n
from portal.accounts.models import Role
from portal.accounts.sessions import require_person
from portal.content import schema, uploads
from portal.content.models import Pack, PackUpload
from portal.i18n import N_
from portal.settings import LANGUAGES
from portal.web.templating import render

STAFF = (Role.MARKETING, Role.ADMIN)


def _media_dir(request: Request) -> Path:
    return Path(request.app.state.settings.media_dir)


async def packs(request: Request) -> Response:
    require_person(request, *STAFF)
    return await _render_packs(request)


async def _render_packs(request: Request, *, status_code: int = 200, error: str = ""
                        ) -> Response:
    workspace = await uploads.workspace(now=datetime.now(UTC))
    return render(request, "content/packs.html", status_code=status_code,
                  packs=workspace.packs, waiting=workspace.waiting, error=error,
                  language=i18n.current_language())


async def _zip_of(request: Request) -> tuple[str, bytes]:
    """The uploaded zip's file name and bytes, refused when there is none or the header
    already says it is too large."""
    if int(request.headers.get("content-length") or 0) > uploads.MAX_ZIP_BYTES + 64 * 1024:
        raise uploads.TooLarge()
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("pack")
        if not isinstance(file, UploadFile) or not file.filename:
            raise uploads.UploadRefused(N_("Choose a zip file with the pack."))
        return file.filename, await file.read(uploads.MAX_ZIP_BYTES + 1)


async def upload(request: Request) -> Response:
    who = require_person(request, *STAFF)
    try:
        filename, data = await _zip_of(request)
        stored = await uploads.store(who.person, filename=filename, data=data,
                                     media_dir=_media_dir(request), now=datetime.now(UTC))
    except uploads.UploadRefused as exc:
        return await _render_packs(request, status_code=exc.status, error=exc.translated())
    target = request.url_for("content.upload", token=stored.token)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": str(target)})
    return RedirectResponse(target, status_code=303)


async def upload_report(request: Request) -> Response:
    require_person(request, *STAFF)
    found = await uploads.find(request.path_params["token"])
    language = request.query_params.get("lang", i18n.current_language())
    if language not in LANGUAGES:
        raise HTTPException(400, i18n.gettext("Unknown language."))
    preview = None if found.problems else await asyncio.to_thread(
        uploads.preview, found.data, language)
    existing = await Pack.get_or_none(slug=found.pack_slug) if found.pack_slug else None
    return render(request, "content/upload.html", upload=found, preview=preview,
                  language=language, existing=existing, report=None, error="",
                  now=datetime.now(UTC), problems=_problems(found))


async def publish(request: Request) -> Response:
    require_person(request, *STAFF)
    found = await uploads.find(request.path_params["token"])
    error = ""
    try:
        report = await uploads.publish(found, media_dir=_media_dir(request),
                                       now=datetime.now(UTC))
    except uploads.UploadRefused as exc:
        error = exc.translated()
    except schema.PackInvalid as exc:
        found.problems = [problem.stored() for problem in exc.problems]
    else:
        return render(request, "content/published.html", report=report, upload=found)
    return render(request, "content/upload.html", status_code=409, upload=found,
                  preview=None, language=i18n.current_language(), existing=None,
                  report=None, error=error, now=datetime.now(UTC), problems=_problems(found))


def _problems(upload: PackUpload) -> list[str]:
    """The upload's problems in the reader's language."""
    return [schema.Problem.from_stored(problem).text() for problem in upload.problems]


routes = [
    Route("/marketing/content", packs, methods=["GET"], name="content.packs"),
    Route("/marketing/content/upload", upload, methods=["POST"], name="content.upload_pack"),
    Route("/marketing/content/uploads/{token}", upload_report, methods=["GET"],
          name="content.upload"),
    Route("/marketing/content/uploads/{token}/publish", publish, methods=["POST"],
          name="content.publish"),
]
