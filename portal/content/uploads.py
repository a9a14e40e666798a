"""Packs uploaded as zip files in the marketing workspace: checked, previewed, published."""

from __future__ import annotations

import asyncio
import re
import secrets
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path, PurePosixPath

from portal.accounts.models import Person
from portal.content import schema, service
from portal.content.models import PackUpload
from portal.i18n import N_, Refusal

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_FILES = 500
_TOKEN = re.compile(r"[0-9a-f]{32}")


class UploadRefused(Refusal):
    status = 400


class TooLarge(UploadRefused):
    status = 413

    def __init__(self) -> None:
        super().__init__(N_("The zip is larger than 20 MB."))


class UploadNotFound(UploadRefused):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("This upload does not exist."))


@contextmanager
def unpacked(data: bytes) -> Iterator[Path]:
    """The zip unpacked into a temporary folder: the folder that holds pack.yaml."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadRefused(N_("This file is not a zip archive.")) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise UploadRefused(N_("The zip holds more than %(n)s files."), n=MAX_FILES)
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise UploadRefused(N_("The zip unpacks to more than 60 MB."))
    for member in members:
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or "\\" in member.filename:
            raise UploadRefused(N_("The zip holds a file outside its folder: %(name)s"),
                                name=member.filename)
    with tempfile.TemporaryDirectory(prefix="pack-") as temporary:
        root = Path(temporary)
        try:
            archive.extractall(root)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, OSError,
                EOFError):
            # Damaged, encrypted or oddly compressed members.
            raise UploadRefused(N_("The zip is damaged, encrypted or uses an unsupported "
                                   "compression.")) from None
        packs = sorted(p.parent for p in root.rglob("pack.yaml")
                       if "__MACOSX" not in p.parts)
        if not packs:
            raise UploadRefused(N_("The zip has no pack.yaml."))
        yield packs[0]


async def store(person: Person, *, filename: str, data: bytes, media_dir: Path,
                now: datetime) -> PackUpload:
    """Keeps the upload with its validation report; images go to the media folder so the
    preview shows them."""
    if len(data) > MAX_ZIP_BYTES:
        raise UploadRefused(N_("The zip is larger than 20 MB."))
    slug, problems = "", []
    with unpacked(data) as folder:
        try:
            # Parsing is CPU work: off the event loop, so other requests go on meanwhile.
            pack = await asyncio.to_thread(schema.read_pack, folder)
        except schema.PackInvalid as exc:
            problems = [problem.stored() for problem in exc.problems]
        else:
            slug = pack.meta.id
            try:
                await service.publish(pack, media_dir=media_dir, now=now, dry_run=True)
            except schema.PackInvalid as exc:
                problems = [problem.stored() for problem in exc.problems]
            else:
                service.store_media(pack, media_dir)
    return await PackUpload.create(token=secrets.token_hex(16), filename=filename[:200],
                                   data=data, created_at=now, created_by_id=person.id,
                                   pack_slug=slug, problems=problems)


async def find(token: str) -> PackUpload:
    # Tokens are 32 hex digits; anything else (too long for the column, a NUL PostgreSQL
    # cannot take) is not looked up, it simply does not exist.
    upload = await PackUpload.get_or_none(token=token) if _TOKEN.fullmatch(token) else None
    if upload is None:
        raise UploadNotFound()
    return upload


async def publish(upload: PackUpload, *, media_dir: Path, now: datetime
                  ) -> service.PublishReport:
    if upload.problems:
        raise UploadRefused(N_("Fix the problems in the pack and upload it again."))
    with unpacked(upload.data) as folder:
        pack = schema.read_pack(folder)
        report = await service.publish(pack, media_dir=media_dir, now=now)
    await PackUpload.filter(id=upload.id).update(published_at=now)
    return report


# -- preview ------------------------------------------------------------------------------


@dataclass
class PreviewQuestion:
    text: str
    type: str
    image: str | None
    choices: list[tuple[str, bool]]  # (text, correct): the preview shows the answers
    explanation: str
    image_alt: str = ""


@dataclass
class PreviewItem:
    kind: str
    id: str
    title: str
    description: str
    rules: str
    # title, html, image, what the image shows
    lessons: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    questions: list[PreviewQuestion] = field(default_factory=list)


@dataclass
class Preview:
    pack_id: str
    title: str
    live_from: datetime
    live_until: datetime
    items: list[PreviewItem]


def preview(data: bytes, language: str) -> Preview:
    """Every quiz and lesson of a valid upload, as a player reading ``language`` sees it."""
    with unpacked(data) as folder:
        pack = schema.read_pack(folder)
        media = {name: service.media_name(path) for name, path in pack.images.items()}
    default = pack.meta.default_language

    def text(value: dict[str, str] | None) -> str:
        return service.localized(service.texts(value, default), language, default)

    def questions(rules: schema.QuizRules) -> list[PreviewQuestion]:
        shown = []
        for question in rules.questions:
            choices = [(text(choice["text"]), bool(choice["correct"]))
                       for choice in service.choices_of(question, default)]
            shown.append(PreviewQuestion(text(question.text), question.type,
                                         media.get(question.image or ""), choices,
                                         text(question.explanation), text(question.image_alt)))
        return shown

    def rules_line(rules: schema.QuizRules) -> str:
        if isinstance(rules, schema.QuizIn) and rules.survey:
            return (f"survey: {len(rules.questions)} questions · {rules.time_limit} s each · "
                    f"{rules.points or 0} points for finishing · every answer accepted")
        return (f"{len(rules.questions)} questions · {rules.time_limit} s each · "
                f"{rules.base_points} points · {rules.scoring} scoring · "
                f"{rules.attempts} attempt(s)")

    items = [PreviewItem("quiz", quiz.id, text(quiz.title), text(quiz.description),
                         rules_line(quiz), questions=questions(quiz))
             for quiz in pack.quizzes]
    for course in pack.courses:
        bodies = pack.bodies
        lessons = [(text(lesson.title),
                    service.render_markdown(service.localized(
                        service.texts(bodies[(course.id, lesson.id)].by_language, default),
                        language, default)),
                    media.get(lesson.image or ""), text(lesson.image_alt))
                   for lesson in course.lessons]
        items.append(PreviewItem(
            "course", course.id, text(course.title), text(course.description),
            f"{course.points} points · pass mark {course.final_quiz.pass_mark}% · "
            + rules_line(course.final_quiz),
            lessons=lessons, questions=questions(course.final_quiz)))
    return Preview(pack.meta.id, text(pack.meta.title), pack.meta.live_from,
                   pack.meta.live_until, items)


# -- the workspace ------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    packs: list[service.PublishedPack]
    waiting: list[PackUpload]  # uploads not published yet, newest first


async def workspace(*, now: datetime) -> Workspace:
    """The marketing content page: every published pack with its state, and the uploads
    still waiting to be published."""
    return Workspace(packs=await service.published_packs(now=now),
                     waiting=await PackUpload.filter(published_at__isnull=True).limit(10))
