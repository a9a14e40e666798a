"""The content pack format, and reading a pack folder into validated objects.

A pack is a folder: ``pack.yaml`` (title, live window, default language) and one YAML file
per quiz or course, Markdown lesson bodies and images beside them. Reading never stops at
the first problem: every problem is reported with its file, line and path, and a pack
with any problem is refused whole (see ``quizzes/README.md``).

Whatever a file holds (any YAML, any bytes), reading ends in a Pack or in PackInvalid:
YAML is read into plain values only (text, numbers, true/false, null, lists, mappings),
with bounded size and depth, and pydantic checks every field's type and length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
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

from portal import i18n
from portal.i18n import N_
from portal.settings import LANGUAGES, Language
from portal.web.forms import refusal as _no

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_YAML_BYTES = 1024 * 1024  # a quiz of 100 long questions in two languages is ~250 KB
MAX_DEPTH = 20  # a course's choice texts sit 7 levels deep
MAX_VALUES = 50_000  # keys, values, lists, mappings; 100 questions of 8 choices: ~10,000
MAX_PROBLEMS = 100  # a report longer than this is not read; the rest is counted

# Longest texts, in characters, per language (quizzes/README.md lists them).
TITLE_CHARS = 120
DESCRIPTION_CHARS = 1_000
QUESTION_CHARS = 500
CHOICE_CHARS = 200
EXPLANATION_CHARS = 1_000
LESSON_CHARS = 50_000  # a lesson's Markdown file
FILE_NAME_CHARS = 200
IMAGE_ALT_CHARS = 300  # what an image shows, read aloud by a screen reader
VIDEO_CHARS = 500  # the column's size
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
# "\0" and lone surrogates ("\ud800" in the pure-Python parser) can be written in YAML
# but cannot be stored: PostgreSQL refuses both in text and in JSON.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise _no(N_("use lower-case letters, digits and dashes (at most 60)"))
    return value


def _shown(value: object, width: int = 60) -> str:
    """``value`` as it may appear in a problem: quoted, and cut short."""
    text = repr(value)
    return text if len(text) <= width else f"{text[:width - 1]}…"


def _text(limit: int) -> Callable[[object], dict[str, str]]:
    """A text in several languages, each at most ``limit`` characters: a plain string is
    the pack's default language."""

    def check(value: object) -> dict[str, str]:
        if isinstance(value, str):
            value = {"": value}
        if not isinstance(value, dict):
            raise _no(N_("write a text (in quotes if it looks like a number or true/false), "
                         "or one text per language (en: ..., ru: ...)"))
        unknown = [code for code in value
                   if not isinstance(code, str) or (code and code not in LANGUAGES)]
        if unknown:
            raise _no(N_("unknown language %(code)s (use %(languages)s)"),
                      code=_shown(unknown[0]), languages=", ".join(LANGUAGES))
        if not all(isinstance(v, str) for v in value.values()):
            raise _no(N_("each translation must be a text (in quotes if it looks like a "
                         "number or true/false), not a list or a mapping"))
        if not all(v.strip() for v in value.values()):
            raise _no(N_("every translation needs some text"))
        texts = {code: text.strip() for code, text in value.items()}
        for code, text in texts.items():
            if len(text) > limit:
                if code:
                    raise _no(N_("the %(code)s text is too long: %(length)s characters, at "
                                 "most %(most)s"), code=code, length=len(text), most=limit)
                raise _no(N_("the text is too long: %(length)s characters, at most %(most)s"),
                          length=len(text), most=limit)
        return texts

    return check


Slug = Annotated[str, AfterValidator(_slug)]
Title = Annotated[dict[str, str], BeforeValidator(_text(TITLE_CHARS))]
Description = Annotated[dict[str, str], BeforeValidator(_text(DESCRIPTION_CHARS))]
QuestionText = Annotated[dict[str, str], BeforeValidator(_text(QUESTION_CHARS))]
ChoiceText = Annotated[dict[str, str], BeforeValidator(_text(CHOICE_CHARS))]
Explanation = Annotated[dict[str, str], BeforeValidator(_text(EXPLANATION_CHARS))]
FileNames = Annotated[dict[str, str], BeforeValidator(_text(FILE_NAME_CHARS))]
FileName = Annotated[str, Field(max_length=FILE_NAME_CHARS)]
ImageAlt = Annotated[dict[str, str], BeforeValidator(_text(IMAGE_ALT_CHARS))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Pictured(_Strict):
    """An item that may show an image, which then needs its text alternative."""

    image: FileName | None = None
    image_alt: ImageAlt | None = None

    @model_validator(mode="after")
    def _alt_for_the_image(self) -> _Pictured:
        if self.image is not None and not self.image_alt:
            raise _no(N_("the image needs `image_alt`: what it shows, in words, for "
                         "someone who cannot see it"))
        if self.image is None and self.image_alt:
            raise _no(N_("`image_alt` describes an `image`, and there is none"))
        return self


class ChoiceIn(_Strict):
    text: ChoiceText
    correct: bool = False


class QuestionIn(_Pictured):
    id: Slug
    type: Literal["single", "multiple", "true_false"] = "single"
    text: QuestionText
    choices: list[ChoiceIn] | None = Field(default=None, min_length=2, max_length=8)
    answer: bool | None = None  # true_false only
    explanation: Explanation | None = None

    @model_validator(mode="after")
    def _answers(self, info: ValidationInfo) -> QuestionIn:
        if (info.context or {}).get("survey"):
            return self._survey_question()
        if self.type == "true_false":
            if self.answer is None:
                raise _no(N_("a true_false question needs `answer: true` or `answer: false`"))
            if self.choices is not None:
                raise _no(N_("a true_false question has no `choices`"))
            return self
        if self.answer is not None:
            raise _no(N_("`answer` is only for true_false questions; mark choices instead"))
        if not self.choices:
            raise _no(N_("the question needs `choices`"))
        correct = sum(choice.correct for choice in self.choices)
        if self.type == "single" and correct != 1:
            if correct > 1:
                raise _no(N_("a single choice question needs exactly one correct choice, not "
                             "%(correct)s (for several right answers say `type: multiple`)"),
                          correct=correct)
            raise _no(N_("a single choice question needs exactly one correct choice, not "
                         "%(correct)s"), correct=correct)
        if self.type == "multiple" and correct == 0:
            raise _no(N_("a multiple choice question needs at least one correct choice"))
        return self

    def _survey_question(self) -> QuestionIn:
        """A survey's question asks an opinion: every choice is accepted, none is right."""
        if self.type == "true_false":
            raise _no(N_("a survey has no true_false questions: give `choices` "
                         "(`type: single` or `multiple`)"))
        if self.explanation is not None:
            raise _no(N_("a survey question has no `explanation`: there is no right "
                         "answer to explain"))
        if not self.choices:
            raise _no(N_("the question needs `choices`"))
        if any(choice.correct for choice in self.choices):
            raise _no(N_("a survey question has no right answer: remove `correct` from "
                         "its choices"))
        return self


class QuizRules(_Strict):
    time_limit: int = Field(default=20, ge=5, le=120)  # seconds per question
    base_points: int = Field(default=100, ge=10, le=1000)
    # A survey (``scoring: survey``) has no right answers: every answer is accepted and
    # recorded, and finishing it earns its ``points``.
    scoring: Literal["speed", "accuracy", "survey"] = "speed"
    attempts: int = Field(default=1, ge=1, le=10)
    shuffle: bool = True
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_questions(self) -> QuizRules:
        _no_duplicates([q.id for q in self.questions], N_("two questions have the id %(id)s"))
        return self


class QuizIn(QuizRules):
    kind: Literal["quiz"]
    id: Slug
    title: Title
    description: Description | None = None
    points: int | None = Field(default=None, ge=0, le=10_000)  # surveys: for finishing

    @model_validator(mode="after")
    def _survey_points(self) -> QuizIn:
        survey = self.scoring == "survey"
        if survey and "base_points" in self.model_fields_set:
            raise _no(N_("a survey earns its `points` for finishing, not `base_points` "
                         "per answer"))
        if not survey and self.points is not None:
            raise _no(N_("`points` is for surveys (`scoring: survey`); a quiz's answers "
                         "earn `base_points`"))
        return self

    @property
    def survey(self) -> bool:
        return self.scoring == "survey"

    @property
    def points_per_answer(self) -> int:
        """What the quiz row keeps as ``base_points``: for a survey, its points for
        finishing (no answer earns anything of its own)."""
        return (self.points or 0) if self.survey else self.base_points


class LessonIn(_Pictured):
    id: Slug
    title: Title
    body: FileNames  # a Markdown file name, or one per language
    video: Annotated[str, Field(max_length=VIDEO_CHARS)] | None = None

    @field_validator("video")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise _no(N_("the video must be an https:// link"))
        return value


class FinalQuizIn(QuizRules):
    scoring: Literal["speed", "accuracy"] = "speed"  # a course's test has right answers
    attempts: int = Field(default=3, ge=1, le=10)
    pass_mark: int = Field(default=70, ge=1, le=100)  # percent of questions right


class CourseIn(_Strict):
    kind: Literal["course"]
    id: Slug
    title: Title
    description: Description | None = None
    mandatory: bool = False  # part of the onboarding path
    points: int = Field(default=200, ge=0, le=10_000)
    lessons: list[LessonIn] = Field(min_length=1, max_length=30)
    final_quiz: FinalQuizIn

    @field_validator("id")
    @classmethod
    def _room_for_final(cls, value: str) -> str:
        # The final quiz is stored as "<id>-final", in the same 60 characters as any id.
        if len(value) > 60 - len("-final"):
            raise _no(N_("a course id has at most 54 characters (its final quiz's id "
                         "is the course id and -final)"))
        return value

    @model_validator(mode="after")
    def _unique_lessons(self) -> CourseIn:
        _no_duplicates([lesson.id for lesson in self.lessons],
                       N_("two lessons have the id %(id)s"))
        return self


class PackIn(_Strict):
    id: Slug
    title: Title
    default_language: Language = "en"
    live_from: datetime
    live_until: datetime

    @field_validator("live_from", "live_until")
    @classmethod
    def _zoned(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise _no(N_("give the time with a zone, e.g. 2026-12-01T00:00:00Z"))
        # Year 1 or 9999 in a zone other than UTC is no moment a database can store.
        if not 2000 <= value.year <= 2099:
            raise _no(N_("give a year from 2000 to 2099"))
        return value

    @field_validator("live_until")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("live_from")
        if start is not None and value <= start:
            raise _no(N_("live_until must come after live_from"))
        return value


def _no_duplicates(ids: list[str], what: str) -> None:
    """``what``: the refusal, naming the repeated ``id``."""
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise _no(what, id=repr(item))
        seen.add(item)


# -- reading files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Where a pack is wrong and what is wrong there. ``message`` is English marked with
    ``N_`` and filled with ``params``, said in the reader's language by ``text``;
    ``params`` None: a text kept as it was written (a report stored before messages had
    ids). ``str()`` is the English, as the command line prints it."""

    file: str
    line: int | None
    path: str
    message: str
    params: dict[str, Any] | None = field(default_factory=dict)

    def __str__(self) -> str:
        with i18n.language("en"):
            return self.text()

    def text(self) -> str:
        """The problem in the current language, with its file, line and path."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (f"{where + ': ' if where else ''}{self.path + ': ' if self.path else ''}"
                f"{said(self.message, self.params)}")

    def stored(self) -> dict[str, Any]:
        """The problem as an upload's report keeps it (JSON)."""
        return {"file": self.file, "line": self.line, "path": self.path,
                "message": self.message, "params": self.params}

    @classmethod
    def from_stored(cls, value: object) -> Problem:
        if isinstance(value, dict):
            return cls(str(value.get("file", "")), value.get("line"), str(value.get("path", "")),
                       str(value.get("message", "")), value.get("params"))
        return cls("", None, "", str(value), None)  # a report kept as English text


def said(message: str, params: dict[str, Any] | None) -> str:
    """``message`` in the current language, numbers written as the language writes them;
    a translation that does not fit its parameters falls back to the English."""
    if params is None:
        return message
    shown = {name: i18n.points(value) if isinstance(value, int) and not isinstance(
        value, bool) else value for name, value in params.items()}
    for template in (i18n.gettext(message), message):
        try:
            return template % shown if shown else template
        except (KeyError, ValueError, TypeError):
            continue
    return message


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
_TAG = "tag:yaml.org,2002:"
# Dates stay text, read by pydantic where a field is a date: an impossible one
# (2026-02-30, a zone of +25:00) is then a problem, not an exception from the YAML
# library, and a text or an id that looks like a date is still a text. "=" and "<<" are
# text too: packs use no YAML merge keys.
_PLAIN_RESOLVERS = {
    first: [(tag, pattern) for tag, pattern in resolvers
            if tag not in {f"{_TAG}timestamp", f"{_TAG}value", f"{_TAG}merge"}]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}


class _LineLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader that builds plain values only (text, numbers, true/false, null, lists,
    mappings) and whose nodes remember where each mapping key and list item starts."""

    yaml_implicit_resolvers = _PLAIN_RESOLVERS


def _checked(construct: Callable[[Any, yaml.ScalarNode], Any], what: str
             ) -> Callable[[Any, yaml.ScalarNode], Any]:
    # An explicit tag on a value that is not one (`!!int abc`, `!!bool maybe`) or a number
    # longer than Python converts (4,300 digits) fails inside PyYAML with a bare error.
    def construct_checked(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, IndexError):
            raise _YamlRefused(node.start_mark, what, value=_shown(node.value, 40)) from None

    return construct_checked


def _string(loader: Any, node: yaml.ScalarNode) -> str:
    value = str(loader.construct_scalar(node))
    if _UNSTORABLE.search(value):
        raise _YamlRefused(node.start_mark, N_(
            "not valid YAML: a text holds a NUL (\\0) or a lone surrogate (\\ud800 to "
            "\\udfff): neither can be stored"))
    return value


def _refused(loader: Any, node: yaml.Node) -> Any:
    raise _YamlRefused(node.start_mark,
                       N_("not valid YAML: the tag %(tag)s is not allowed in a pack"),
                       tag=node.tag.replace(_TAG, "!!"))


for _tag, _what in (("int", N_("not valid YAML: %(value)s cannot be read as a whole number")),
                    ("float", N_("not valid YAML: %(value)s cannot be read as a number")),
                    ("bool", N_("not valid YAML: %(value)s cannot be read as true or false"))):
    _LineLoader.add_constructor(f"{_TAG}{_tag}", _checked(
        getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{_tag}"), _what))
for _tag in ("str", "timestamp"):
    _LineLoader.add_constructor(f"{_TAG}{_tag}", _string)
for _tag in ("binary", "set", "omap", "pairs"):
    _LineLoader.add_constructor(f"{_TAG}{_tag}", _refused)


class _Refused(Exception):
    """YAML that packs never need and that could exhaust the reader."""

    def __init__(self, line: int, message: str, **params: Any) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.params = params


class _YamlRefused(yaml.constructor.ConstructorError):  # type: ignore[misc]
    """A value the loader refuses, with the message's id and parameters."""

    def __init__(self, mark: Any, message: str, **params: Any) -> None:
        super().__init__(None, None, message % params if params else message, mark)
        self.message = message
        self.params = params


def _load_yaml(text: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    # One pass over the parser's events first, building nothing. Anchors and aliases
    # (&a, *a) let a few bytes expand into millions of nodes; deep nesting makes the
    # composer, the line map and the validator recurse until Python gives up; a megabyte
    # of `[0,0,0,...` takes seconds to build and check. Packs need none of these, so they
    # are refused before anything is built.
    depth = values = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark.line + 1, N_("YAML anchors and aliases (& and *) "
                                                         "are not allowed in a pack"))
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            values += 1
            if values > MAX_VALUES:
                raise _Refused(event.start_mark.line + 1,
                               N_("the file holds more than %(most)s values"), most=MAX_VALUES)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(event.start_mark.line + 1,
                               N_("lists and mappings nested more than %(most)s levels deep"),
                               most=MAX_DEPTH)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[tuple[str | int, ...], int] = {}
        _record_lines(loader, node, (), lines)
        return loader.construct_document(node), lines
    finally:
        loader.dispose()


def _record_lines(loader: Any, node: yaml.Node, path: tuple[str | int, ...],
                  lines: dict[tuple[str | int, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            # A list or mapping as a key is refused when the document is built.
            child = (*path, _key_part(loader.construct_object(key))
                     if isinstance(key, yaml.ScalarNode) else "?")
            lines[child] = key.start_mark.line + 1
            _record_lines(loader, value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(loader, item, (*path, index), lines)


def _key_part(key: object) -> str | int:
    """A mapping key as pydantic names it in an error's location."""
    return int(key) if isinstance(key, int) else str(key)


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
        if len(part) > 40:  # an unknown field's name, as long as the file allows
            part = f"{part[:39]}…"
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _validate(model: type[BaseModel], data: Any, name: str,
              lines: dict[tuple[str | int, ...], int], problems: list[Problem]) -> Any:
    # A survey's questions have no right answers: its questions are checked knowing that.
    survey = isinstance(data, dict) and data.get("kind") == "quiz" and data.get(
        "scoring") == "survey"
    try:
        return model.model_validate(data, context={"survey": survey})
    except ValidationError as exc:
        for error in exc.errors():
            message, params = _said_by_pydantic(error)
            problems.append(Problem(name, _line_for(error["loc"], lines),
                                    _dotted(error["loc"]), message, params))
        return None


# Pydantic's own messages, as message ids with the parameters its error gives: the
# English is pydantic's, word for word (checked below), the other languages translate it.
_PYDANTIC = {
    "string_type": N_("Input should be a valid string"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "literal_error": N_("Input should be %(expected)s"),
}


def _said_by_pydantic(error: Any) -> tuple[str, dict[str, Any] | None]:
    """An error's message id and parameters; one of pydantic's own that is not known
    here is kept as its English text."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "refused":  # ours, raised with _no
        return ctx["message"], ctx["params"]
    if kind == "extra_forbidden":
        return N_("unknown field"), {}
    if kind == "missing":
        return N_("this field is required"), {}
    if kind in {"datetime_parsing", "datetime_from_date_parsing"}:
        return N_("not a date and time (%(reason)s): write it like 2026-12-01T00:00:00Z, or "
                  "with a zone from -23:59 to +23:59 like 2026-12-01T00:00:00+03:00"), {
                      "reason": str(ctx.get("error", ""))}
    if kind in _PYDANTIC:
        params = {name: str(value) for name, value in ctx.items()}
        try:
            if _PYDANTIC[kind] % params == error["msg"]:
                return _PYDANTIC[kind], params
        except (KeyError, ValueError, TypeError):
            pass
    return str(error["msg"]).removeprefix("Value error, "), None


_NOT_FIELDS = {
    True: N_("the file is empty"),
    False: N_("the file must hold fields, one per line (such as `id: ...`), not a list or a "
              "single value"),
}


def _read_document(path: Path, name: str, problems: list[Problem]
                   ) -> tuple[Any, dict[tuple[str | int, ...], int]] | None:
    """The YAML document in ``path`` with the line of each part, or None after adding
    the reason it cannot be read to ``problems``."""
    def problem(line: int | None, message: str, **params: Any) -> None:
        problems.append(Problem(name, line, "", message, params))

    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            problem(None, N_("the file is larger than %(most)s MB"),
                    most=MAX_YAML_BYTES // 1024 // 1024)
            return None
        data = path.read_bytes()
    except OSError as exc:
        problem(None, N_("the file cannot be read (%(reason)s)"), reason=str(exc.strerror))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem(data.count(b"\n", 0, exc.start) + 1, N_("the file is not UTF-8 text"))
        return None
    try:
        return _load_yaml(text)
    except _Refused as exc:
        problem(exc.line, exc.message, **exc.params)
    except _YamlRefused as exc:
        problem(exc.problem_mark.line + 1, exc.message, **exc.params)
    except yaml.MarkedYAMLError as exc:
        # The YAML library's own words (English) are a parameter.
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        if "mapping values are not allowed" in str(exc.problem):
            problem(line, N_("not valid YAML: %(problem)s (a text that contains ': ' must be "
                             "in quotes)"), problem=str(exc.problem))
        else:
            problem(line, N_("not valid YAML: %(problem)s"), problem=str(exc.problem))
    except yaml.reader.ReaderError as exc:
        # libyaml reports the character's code, the pure-Python reader the character.
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem(text.count("\n", 0, exc.position) + 1,
                N_("not valid YAML: %(problem)s (U+%(code)s)"), problem=str(exc.reason),
                code=f"{code:04X}")
    except yaml.YAMLError as exc:
        problem(None, N_("not valid YAML: %(problem)s"), problem=str(exc))
    return None


def read_pack(folder: Path) -> Pack:
    """The pack in ``folder``, or PackInvalid listing every problem found."""
    problems: list[Problem] = []
    if not (folder / "pack.yaml").is_file():
        raise PackInvalid([Problem("pack.yaml", None, "", N_("the pack has no pack.yaml"))])

    documents: dict[str, tuple[Any, dict[tuple[str | int, ...], int]]] = {}
    for path in sorted(folder.rglob("*.y*ml")):
        if not path.is_file():  # a folder named like a YAML file
            continue
        name = path.relative_to(folder).as_posix()
        document = _read_document(path, name, problems)
        if document is None:
            continue
        if not isinstance(document[0], dict):
            problems.append(Problem(name, 1, "", _NOT_FIELDS[document[0] is None]))
            continue
        documents[name] = document

    meta = None
    if "pack.yaml" in documents:
        data, lines = documents.pop("pack.yaml")
        meta = _validate(PackIn, data, "pack.yaml", lines, problems)

    quizzes: list[QuizIn] = []
    courses: list[CourseIn] = []
    where: dict[str, str] = {}
    for name, (data, lines) in documents.items():
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in {"quiz", "course"}:
            problems.append(Problem(name, lines.get(("kind",), 1), "kind",
                                    N_("say `kind: quiz` or `kind: course`")))
            continue
        item = _validate(QuizIn if kind == "quiz" else CourseIn, data, name, lines, problems)
        if item is None:
            continue
        if item.id in where:
            problems.append(Problem(name, lines.get(("id",)), "id",
                                    N_("the id %(id)s is already used in %(file)s"),
                                    {"id": repr(item.id), "file": where[item.id]}))
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
                                    N_("the id %(id)s is reserved for the final quiz of "
                                       "course %(course)s"),
                                    {"id": repr(final), "course": repr(course.id)}))

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
        raise PackInvalid(_at_most(problems, MAX_PROBLEMS))
    if not quizzes and not courses:
        raise PackInvalid([Problem("pack.yaml", None, "", N_("the pack has no quiz or course"))])
    return Pack(folder, meta, quizzes, courses, bodies, images)


def _at_most(problems: list[Problem], limit: int) -> list[Problem]:
    if len(problems) <= limit:
        return problems
    more = len(problems) - limit
    return [*problems[:limit], Problem("", None, "", N_("... and %(more)s more problem(s)"),
                                       {"more": more})]


def _pack_file(folder: Path, name: str) -> Path | None:
    """The file ``name`` inside the pack folder, or None if there is no such file there
    (it points outside, is a folder, or is no possible file name at all)."""
    try:
        candidate = (folder / name).resolve()
        inside = candidate.is_relative_to(folder.resolve())
        return candidate if inside and candidate.is_file() else None
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return None


def _file_references(data: Any) -> list[tuple[tuple[str | int, ...], str, str]]:
    """(path, "image" or "markdown", file name) for every file a document names."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                child = (*path, _key_part(key))
                if key == "image" and isinstance(value, str):
                    found.append((child, "image", value))
                elif key == "body" and len(path) >= 2 and path[-2] == "lessons":
                    if isinstance(value, str):
                        found.append((child, "markdown", value))
                    elif isinstance(value, dict):
                        found.extend(((*child, _key_part(code)), "markdown", file)
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
    shown = _shown(file)

    def problem(message: str, **params: Any) -> None:
        problems.append(Problem(name, _line_for(loc, lines), _dotted(loc), message,
                                {"file": shown, **params}))

    path = _pack_file(folder, file)
    if kind == "markdown":
        if path is None or path.suffix != ".md":
            problem(N_("no Markdown file %(file)s in the pack"))
            return
        # UTF-8 takes at most 4 bytes a character: a larger file is too long unread.
        if path.stat().st_size > 4 * LESSON_CHARS:
            problem(N_("%(file)s is too long: at most %(most)s characters"), most=LESSON_CHARS)
            return
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problem(N_("%(file)s is not UTF-8 text"))
            return
        if len(text) > LESSON_CHARS:
            problem(N_("%(file)s is too long: %(length)s characters, at most %(most)s"),
                    length=len(text), most=LESSON_CHARS)
            return
        markdown[file] = text
        return
    if path is None:
        problem(N_("no image %(file)s in the pack"))
    elif path.suffix.lower() not in IMAGE_SUFFIXES:
        problem(N_("%(file)s is not an image (%(suffixes)s)"),
                suffixes=", ".join(sorted(IMAGE_SUFFIXES)))
    elif path.stat().st_size > MAX_IMAGE_BYTES:
        problem(N_("%(file)s is larger than 2 MB"))
    else:
        images[file] = path
