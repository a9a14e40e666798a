"""The content pack format, and reading a pack folder into validated objects.

A pack is a folder: ``pack.yaml`` (title, live window, default language) and one YAML file
per quiz or course, Markdown lesson bodies and images beside them. Reading never stops at
the first problem: every problem is reported with its file, line and path, and a pack
with any problem is refused whole (see ``quizzes/README.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from portal.settings import LANGUAGES

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError("use lower-case letters, digits and dashes (at most 60)")
    return value


def _text(value: object) -> dict[str, str]:
    """A text in several languages: a plain string is the pack's default language."""
    if isinstance(value, str):
        value = {"": value}
    if not isinstance(value, dict):
        raise ValueError("write a text, or one text per language (en: ..., ru: ...)")
    unknown = [code for code in value if code and code not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language {unknown[0]!r} (use {', '.join(LANGUAGES)})")
    if not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise ValueError("every translation needs some text")
    return {code: text.strip() for code, text in value.items()}


Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[dict[str, str], BeforeValidator(_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceIn(_Strict):
    text: Text
    correct: bool = False


class QuestionIn(_Strict):
    id: Slug
    type: Literal["single", "multiple", "true_false"] = "single"
    text: Text
    image: str | None = None
    choices: list[ChoiceIn] | None = Field(default=None, min_length=2, max_length=8)
    answer: bool | None = None  # true_false only
    explanation: Text | None = None

    @model_validator(mode="after")
    def _answers(self) -> QuestionIn:
        if self.type == "true_false":
            if self.answer is None:
                raise ValueError("a true_false question needs `answer: true` or `answer: false`")
            if self.choices is not None:
                raise ValueError("a true_false question has no `choices`")
            return self
        if self.answer is not None:
            raise ValueError("`answer` is only for true_false questions; mark choices instead")
        if not self.choices:
            raise ValueError("the question needs `choices`")
        correct = sum(choice.correct for choice in self.choices)
        if self.type == "single" and correct != 1:
            hint = " (for several right answers say `type: multiple`)" if correct > 1 else ""
            raise ValueError(f"a single choice question needs exactly one correct choice, "
                             f"not {correct}{hint}")
        if self.type == "multiple" and correct == 0:
            raise ValueError("a multiple choice question needs at least one correct choice")
        return self


class QuizRules(_Strict):
    time_limit: int = Field(default=20, ge=5, le=120)  # seconds per question
    base_points: int = Field(default=100, ge=10, le=1000)
    scoring: Literal["speed", "accuracy"] = "speed"
    attempts: int = Field(default=1, ge=1, le=10)
    shuffle: bool = True
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_questions(self) -> QuizRules:
        _no_duplicates([q.id for q in self.questions], "question")
        return self


class QuizIn(QuizRules):
    kind: Literal["quiz"]
    id: Slug
    title: Text
    description: Text | None = None


class LessonIn(_Strict):
    id: Slug
    title: Text
    body: Text  # a Markdown file name, or one per language
    image: str | None = None
    video: str | None = None

    @field_validator("video")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("the video must be an https:// link")
        return value


class FinalQuizIn(QuizRules):
    attempts: int = Field(default=3, ge=1, le=10)
    pass_mark: int = Field(default=70, ge=1, le=100)  # percent of questions right


class CourseIn(_Strict):
    kind: Literal["course"]
    id: Slug
    title: Text
    description: Text | None = None
    mandatory: bool = False  # part of the onboarding path
    points: int = Field(default=200, ge=0, le=10_000)
    lessons: list[LessonIn] = Field(min_length=1, max_length=30)
    final_quiz: FinalQuizIn

    @model_validator(mode="after")
    def _unique_lessons(self) -> CourseIn:
        _no_duplicates([lesson.id for lesson in self.lessons], "lesson")
        return self


class PackIn(_Strict):
    id: Slug
    title: Text
    default_language: Literal["en", "ru"] = "en"
    live_from: datetime
    live_until: datetime

    @field_validator("live_from", "live_until")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with a zone, e.g. 2026-12-01T00:00:00Z")
        return value

    @field_validator("live_until")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("live_from")
        if start is not None and value <= start:
            raise ValueError("live_until must come after live_from")
        return value


def _no_duplicates(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"two {what}s have the id {item!r}")
        seen.add(item)


# -- reading files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


@dataclass(frozen=True)
class LessonBody:
    by_language: dict[str, str]  # Markdown text per language code ("" = default language)


@dataclass(frozen=True)
class Pack:
    """A pack read from disk, valid in every part."""

    folder: Path
    meta: PackIn
    quizzes: list[QuizIn]
    courses: list[CourseIn]
    bodies: dict[tuple[str, str], LessonBody]  # (course id, lesson id) -> Markdown
    images: dict[str, Path]  # name as written in the pack -> file


class PackInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the pack")
        self.problems = problems


# libyaml's parser when installed (many times faster), the pure-Python one otherwise;
# both are the safe loader: no Python objects from YAML tags.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader whose nodes remember where each mapping key and list item starts."""


class _Aliases(Exception):
    pass


def _load_yaml(text: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    # Anchors and aliases (&a, *a) let a few bytes expand into millions of nodes; packs
    # never need them, so they are refused before anything is built.
    if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=_SafeLoader)):
        raise _Aliases()
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[tuple[str | int, ...], int] = {}
        _record_lines(node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _record_lines(node: yaml.Node, path: tuple[str | int, ...],
                  lines: dict[tuple[str | int, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _record_lines(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*path, index), lines)


def _line_for(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int | None:
    # Pydantic adds union branch names to locations; keep only what exists in the file.
    path = tuple(part for part in loc if isinstance(part, int) or not str(part).startswith(
        ("str", "dict[", "function-")))
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _dotted(loc: tuple[str | int, ...]) -> str:
    parts = [str(p) for p in loc if isinstance(p, int) or not str(p).startswith(
        ("str", "dict[", "function-"))]
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _validate(model: type[BaseModel], data: Any, name: str,
              lines: dict[tuple[str | int, ...], int], problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            elif error["type"] == "missing":
                message = "this field is required"
            problems.append(Problem(name, _line_for(error["loc"], lines),
                                    _dotted(error["loc"]), message))
        return None


def read_pack(folder: Path) -> Pack:
    """The pack in ``folder``, or PackInvalid listing every problem found."""
    problems: list[Problem] = []
    if not (folder / "pack.yaml").is_file():
        raise PackInvalid([Problem("pack.yaml", None, "", "the pack has no pack.yaml")])

    documents: dict[str, tuple[Any, dict[tuple[str | int, ...], int]]] = {}
    for path in sorted(folder.rglob("*.y*ml")):
        name = path.relative_to(folder).as_posix()
        try:
            documents[name] = _load_yaml(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(name, None, "", "the file is not UTF-8 text"))
        except _Aliases:
            problems.append(Problem(name, None, "", "YAML anchors and aliases (& and *) "
                                                    "are not allowed in a pack"))
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            hint = ""
            if "mapping values are not allowed" in str(exc.problem):
                hint = " (a text that contains ': ' must be in quotes)"
            problems.append(Problem(name, line, "", f"not valid YAML: {exc.problem}{hint}"))
        except yaml.YAMLError as exc:
            problems.append(Problem(name, None, "", f"not valid YAML: {exc}"))

    meta = None
    if "pack.yaml" in documents:
        data, lines = documents.pop("pack.yaml")
        meta = _validate(PackIn, data, "pack.yaml", lines, problems)

    quizzes: list[QuizIn] = []
    courses: list[CourseIn] = []
    where: dict[str, str] = {}
    for name, (data, lines) in documents.items():
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind not in {"quiz", "course"}:
            problems.append(Problem(name, lines.get(("kind",), 1), "kind",
                                    "say `kind: quiz` or `kind: course`"))
            continue
        item = _validate(QuizIn if kind == "quiz" else CourseIn, data, name, lines, problems)
        if item is None:
            continue
        if item.id in where:
            problems.append(Problem(name, lines.get(("id",)), "id",
                                    f"the id {item.id!r} is already used in {where[item.id]}"))
            continue
        where[item.id] = name
        (quizzes if kind == "quiz" else courses).append(item)

    # Files are checked on the raw documents, so a missing image is reported even in a
    # quiz that has other problems.
    # A course's final quiz is stored as "<course id>-final": that id is taken.
    for course in courses:
        final = f"{course.id}-final"
        if final in where:
            problems.append(Problem(where[final], None, "id",
                                    f"the id {final!r} is reserved for the final quiz of "
                                    f"course {course.id!r}"))

    images: dict[str, Path] = {}
    markdown: dict[str, str] = {}
    for name, (data, lines) in documents.items():
        for loc, kind, value in _file_references(data):
            _check_file(folder, name, lines, loc, kind, value, images, markdown, problems)
    bodies = {
        (course.id, lesson.id): LessonBody({code: markdown[file] for code, file in
                                            lesson.body.items() if file in markdown})
        for course in courses for lesson in course.lessons
    }

    if problems or meta is None:
        raise PackInvalid(problems)
    if not quizzes and not courses:
        raise PackInvalid([Problem("pack.yaml", None, "", "the pack has no quiz or course")])
    return Pack(folder, meta, quizzes, courses, bodies, images)


def _inside(folder: Path, name: str) -> Path | None:
    """The file ``name`` inside the pack folder, or None if it points outside."""
    candidate = (folder / name).resolve()
    return candidate if candidate.is_relative_to(folder.resolve()) else None


def _file_references(data: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(path, "image" or "markdown", file name) for every file a document names."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                child = (*path, str(key))
                if key == "image" and isinstance(value, str):
                    found.append((child, "image", value))
                elif key == "body" and len(path) >= 2 and path[-2] == "lessons":
                    if isinstance(value, str):
                        found.append((child, "markdown", value))
                    elif isinstance(value, dict):
                        found.extend(((*child, str(code)), "markdown", file)
                                     for code, file in value.items() if isinstance(file, str))
                else:
                    walk(value, child)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*path, index))

    walk(data, ())
    return found


def _check_file(folder: Path, name: str, lines: dict[tuple[str | int, ...], int],
                loc: tuple[str | int, ...], kind: str, file: str, images: dict[str, Path],
                markdown: dict[str, str], problems: list[Problem]) -> None:
    def problem(message: str) -> None:
        problems.append(Problem(name, _line_for(loc, lines), _dotted(loc), message))

    path = _inside(folder, file)
    if kind == "markdown":
        if path is None or path.suffix != ".md" or not path.is_file():
            problem(f"no Markdown file {file!r} in the pack")
            return
        try:
            markdown[file] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problem(f"{file!r} is not UTF-8 text")
        return
    if path is None or not path.is_file():
        problem(f"no image {file!r} in the pack")
    elif path.suffix.lower() not in IMAGE_SUFFIXES:
        problem(f"{file!r} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    elif path.stat().st_size > MAX_IMAGE_BYTES:
        problem(f"{file!r} is larger than 2 MB")
    else:
        images[file] = path
