"""Whatever a pack holds, checking it ends in a report: the pack, or its problems with file
and line. Never a traceback from `portal publish`, never a 500 from the upload."""

from __future__ import annotations

import copy
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from portal.content import schema
from portal.content.models import Pack, PackUpload
from portal.settings import PROJECT_ROOT
from tests.factories import People, SignIn, csrf

EXAMPLE = PROJECT_ROOT / "quizzes" / "example"


@dataclass(frozen=True)
class Bad:
    """One way to break the example pack: in ``file``, ``old`` becomes ``new`` (or the
    whole file becomes ``new`` when ``old`` is None). One problem holds every piece of
    ``expected``."""

    file: str
    old: str | None
    new: str | bytes
    expected: tuple[str, ...]

    def apply(self, folder: Path) -> None:
        path = folder / self.file
        if self.old is None:
            path.write_bytes(self.new if isinstance(self.new, bytes) else self.new.encode())
            return
        text = path.read_text(encoding="utf-8")
        assert self.old in text, f"{self.old!r} is not in {self.file}"
        assert isinstance(self.new, str)
        path.write_text(text.replace(self.old, self.new, 1), encoding="utf-8")

    def found_in(self, problems: list[str]) -> bool:
        return any(all(piece in problem for piece in self.expected) for problem in problems)


QUIZ, COURSE, PACK = "quiz-basics.yaml", "course-install.yaml", "pack.yaml"

BAD = {
    # A wrong type, anywhere.
    "kind is a list": Bad(QUIZ, "kind: quiz", "kind: [quiz]",
                          ("quiz-basics.yaml:1: kind: say `kind: quiz` or `kind: course`",)),
    "kind is a mapping": Bad(QUIZ, "kind: quiz", "kind: {quiz: yes}",
                             ("quiz-basics.yaml:1: kind: say `kind: quiz`",)),
    "an id is a mapping": Bad(QUIZ, "id: basics", "id: {name: basics}",
                              ("quiz-basics.yaml:2: id: Input should be a valid string",)),
    "a translation is a list": Bad(QUIZ, "  en: Pump basics", "  en: [Pump basics]",
                                   ("quiz-basics.yaml:3: title: each translation must be a "
                                    "text",)),
    "a lesson body is a list": Bad(COURSE, "body: lessons/connect.en.md",
                                   "body: [lessons/connect.en.md]",
                                   ("course-install.yaml:21: lessons[1].body: write a text",)),
    "a list as a key": Bad(QUIZ, "scoring: speed", "[scoring]: speed",
                           ("quiz-basics.yaml:11: not valid YAML: found unhashable key",)),
    "a number as a key": Bad(PACK, "default_language: en", "default_language: en\n1: one",
                             ("pack.yaml:7: [1]: Keys should be strings",)),
    # An impossible date.
    "month 13": Bad(PACK, "live_from: 2026-01-01T00:00:00Z", "live_from: 2026-13-01",
                    ("pack.yaml:7: live_from: not a date and time (month value is outside "
                     "expected range of 1-12)",)),
    "February 30": Bad(PACK, "live_from: 2026-01-01T00:00:00Z",
                       "live_from: 2026-02-30T00:00:00Z",
                       ("pack.yaml:7: live_from: not a date and time (day value is outside "
                        "expected range)",)),
    "a UTC offset of +25:00": Bad(PACK, "live_until: 2026-02-01T00:00:00Z",
                                  "live_until: 2026-02-01T00:00:00+25:00",
                                  ("pack.yaml:8: live_until: not a date and time",
                                   "a zone from -23:59 to +23:59")),
    "an explicit timestamp tag on February 30": Bad(
        PACK, "live_from: 2026-01-01T00:00:00Z", "live_from: !!timestamp 2026-02-30",
        ("pack.yaml:7: live_from: not a date and time (day value is outside",)),
    "a start in year 1": Bad(PACK, "live_from: 2026-01-01T00:00:00Z",
                             "live_from: 0001-01-01T00:00:00+01:00",
                             ("pack.yaml:7: live_from: give a year from 2000 to 2099",)),
    # Deep nesting.
    "10,000 nested lists": Bad(QUIZ, "scoring: speed",
                               "scoring: " + "[" * 10_000 + "]" * 10_000,
                               ("quiz-basics.yaml:11: ", "nest")),
    "10,000 nested mappings": Bad(QUIZ, "scoring: speed",
                                  "scoring: " + "{a: " * 10_000 + "b" + "}" * 10_000,
                                  ("quiz-basics.yaml:11: lists and mappings nested more than "
                                   "20 levels deep",)),
    "a list nested 25 levels deep in block style": Bad(
        QUIZ, "scoring: speed",
        "scoring:\n" + "".join(f"{'  ' * level}-\n" for level in range(1, 25)) + "  " * 25 + "- x",
        ("quiz-basics.yaml:31: lists and mappings nested more than 20 levels deep",)),
    # Files that are not a set of fields.
    "an empty quiz file": Bad(QUIZ, None, b"", ("quiz-basics.yaml:1: the file is empty",)),
    "a pack.yaml with only a comment": Bad(PACK, None, "# to do\n",
                                           ("pack.yaml:1: the file is empty",)),
    "a list as pack.yaml": Bad(PACK, None, "- id: example\n",
                               ("pack.yaml:1: the file must hold fields",)),
    "a single text as a quiz file": Bad(QUIZ, None, "just some words\n",
                                        ("quiz-basics.yaml:1: the file must hold fields",)),
    "two documents in one file": Bad(QUIZ, None, "kind: quiz\n---\nkind: quiz\n",
                                     ("quiz-basics.yaml:2: not valid YAML: but found another "
                                      "document",)),
    # Bytes that are not YAML text.
    "invalid UTF-8": Bad(QUIZ, None, b"kind: quiz\nid: basics\ntitle: \xff\xfe\n",
                         ("quiz-basics.yaml:3: the file is not UTF-8 text",)),
    "a UTF-16 file": Bad(QUIZ, None, "kind: quiz\n".encode("utf-16"),
                         ("quiz-basics.yaml:1: the file is not UTF-8 text",)),
    "a control character": Bad(QUIZ, None, b"kind: quiz\nid: bas\x07ics\n",
                               ("quiz-basics.yaml:2: not valid YAML: ", "(U+0007)")),
    "a NUL written as an escape": Bad(QUIZ, "  en: Pump basics", '  en: "Pump\\0 basics"',
                                      ("quiz-basics.yaml:4: not valid YAML: a text holds a "
                                       "NUL",)),
    # Numbers and tags.
    "a 5,000-digit number": Bad(QUIZ, "time_limit: 20", "time_limit: " + "9" * 5_000,
                                ("quiz-basics.yaml:9: not valid YAML: '9999",
                                 "cannot be read as a whole number")),
    "a googol": Bad(QUIZ, "time_limit: 20", "time_limit: 1" + "0" * 100,
                    ("quiz-basics.yaml:9: time_limit: Input should be less than or equal to "
                     "120",)),
    "a bool tag on a word": Bad(QUIZ, "shuffle: true", "shuffle: !!bool maybe",
                                ("quiz-basics.yaml:13: not valid YAML: 'maybe' cannot be read "
                                 "as true or false",)),
    "a float tag on a word": Bad(QUIZ, "time_limit: 20", "time_limit: !!float twenty",
                                 ("quiz-basics.yaml:9: not valid YAML: 'twenty' cannot be "
                                  "read as a number",)),
    "a binary tag": Bad(QUIZ, "scoring: speed", "scoring: !!binary c3BlZWQ=",
                        ("quiz-basics.yaml:11: not valid YAML: the tag !!binary is not "
                         "allowed in a pack",)),
    "a python tag": Bad(QUIZ, "scoring: speed", "scoring: !!python/object/apply:os.system [ls]",
                        ("quiz-basics.yaml:11: not valid YAML: could not determine a "
                         "constructor",)),
    # Images say what they show.
    "a question image without its text alternative": Bad(
        QUIZ, '    image_alt: {en: "A pump impeller', '    # {en: "A pump impeller',
        ("quiz-basics.yaml:", "questions[0]", "the image needs `image_alt`: what it shows")),
    "a lesson image without its text alternative": Bad(
        COURSE, '    image_alt: {en: "A pump impeller', '    # {en: "A pump impeller',
        ("course-install.yaml:", "lessons[0]", "the image needs `image_alt`")),
    "a text alternative without an image": Bad(
        QUIZ, "    image: images/impeller.svg\n", "",
        ("quiz-basics.yaml:", "questions[0]", "`image_alt` describes an `image`, and there "
         "is none")),
    # Names and sizes.
    "an image name too long for the file system": Bad(
        QUIZ, "image: images/impeller.svg", "image: images/" + "я" * 150,
        ("quiz-basics.yaml:20: questions[0].image: no image 'images/яяя",)),
    "a course id with no room for its final quiz": Bad(
        COURSE, "id: install", "id: " + "i" * 55,
        ("course-install.yaml:2: id: a course id has at most 54 characters",)),
    "a question text of 501 characters": Bad(
        QUIZ, "en: What does a centrifugal pump use to move water?", "en: " + "w" * 501,
        ("quiz-basics.yaml:17: questions[0].text: the en text is too long: 501 characters, "
         "at most 500",)),
    "a file of 60,000 numbers": Bad(QUIZ, "scoring: speed", "scoring: [" + "0, " * 60_000 + "]",
                                    ("quiz-basics.yaml:11: the file holds more than 50,000 "
                                     "values",)),
    "a quiz file over 1 MB": Bad(QUIZ, "scoring: speed",
                                 "scoring: speed\n" + ("# padding\n" * 110_000),
                                 ("quiz-basics.yaml: the file is larger than 1 MB",)),
}


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(EXAMPLE, folder)
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(schema.PackInvalid) as refused:
        schema.read_pack(folder)
    return [str(problem) for problem in refused.value.problems]


# -- the service --------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_shape_is_a_problem_with_its_file_and_line(pack_dir: Path, case: str) -> None:
    BAD[case].apply(pack_dir)
    problems = problems_of(pack_dir)
    assert BAD[case].found_in(problems), problems


def test_a_date_where_a_text_or_an_id_goes_is_text(pack_dir: Path) -> None:
    Bad(QUIZ, "  en: Pump basics", "  en: 2026-02-30", ()).apply(pack_dir)
    Bad(QUIZ, "id: basics", "id: 2026-12-01", ()).apply(pack_dir)
    pack = schema.read_pack(pack_dir)
    assert pack.quizzes[0].id == "2026-12-01"
    assert pack.quizzes[0].title["en"] == "2026-02-30"


def test_a_folder_named_like_a_yaml_file_is_not_read_as_one(pack_dir: Path) -> None:
    (pack_dir / "quiz-folder.yaml").mkdir()
    assert schema.read_pack(pack_dir).quizzes


def test_a_report_lists_a_hundred_problems_and_counts_the_rest(pack_dir: Path) -> None:
    unknown = "".join(f"colour{n}: red\n" for n in range(150))
    Bad(QUIZ, "scoring: speed", f"scoring: speed\n{unknown}", ()).apply(pack_dir)
    problems = problems_of(pack_dir)
    assert len(problems) == 101
    assert problems[-1] == "... and 50 more problem(s)"


def test_a_very_long_field_name_is_cut_short_in_the_report(pack_dir: Path) -> None:
    Bad(QUIZ, "scoring: speed", f"scoring: speed\n? {'x' * 100_000}\n: red", ()).apply(pack_dir)
    problems = problems_of(pack_dir)
    assert problems == [f"quiz-basics.yaml:12: {'x' * 39}…: unknown field"]


# -- size limits --------------------------------------------------------------------------

TOO_LONG = {
    "a pack title": Bad(PACK, "  en: Example pack", "  en: " + "t" * 121,
                        ("pack.yaml:3: title: the en text is too long: 121 characters, at "
                         "most 120",)),
    "a quiz title": Bad(QUIZ, "  ru: Основы насосов", "  ru: " + "т" * 121,
                        ("quiz-basics.yaml:3: title: the ru text is too long: 121 characters",)),
    "a quiz description": Bad(QUIZ, "  en: Three quick questions about how a pump works.",
                              "  en: " + "d" * 1_001,
                              ("quiz-basics.yaml:6: description: the en text is too long: "
                               "1,001 characters, at most 1,000",)),
    "a question text": Bad(QUIZ, "en: What does a centrifugal pump use to move water?",
                           "en: " + "q" * 501,
                           ("quiz-basics.yaml:17: questions[0].text: the en text is too "
                            "long: 501 characters, at most 500",)),
    "a choice": Bad(QUIZ, "{en: A piston, ru: Поршень}", "{en: A piston, ru: " + "п" * 201 + "}",
                    ("quiz-basics.yaml:25: questions[0].choices[1].text: the ru text is too "
                     "long: 201 characters, at most 200",)),
    "an explanation": Bad(QUIZ, "en: The impeller spins and throws the water outwards.",
                          "en: " + "e" * 1_001,
                          ("quiz-basics.yaml:27: questions[0].explanation: the en text is "
                           "too long: 1,001 characters, at most 1,000",)),
    "a course description": Bad(COURSE, "  en: Two short lessons and a final quiz.",
                                "  en: " + "d" * 1_001,
                                ("course-install.yaml:6: description: the en text is too "
                                 "long: 1,001 characters",)),
    "a lesson title": Bad(COURSE, "{en: Connecting it, ru: Подключение}", "x" * 121,
                          ("course-install.yaml:20: lessons[1].title: the text is too long: "
                           "121 characters, at most 120",)),
    "a final quiz question": Bad(COURSE, "en: What goes on the pump's inlet side?",
                                 "en: " + "q" * 501,
                                 ("course-install.yaml:30: final_quiz.questions[0].text: the "
                                  "en text is too long",)),
    "a lesson in Markdown": Bad("lessons/place.ru.md", None, "м" * 50_001,
                                ("course-install.yaml:16: lessons[0].body.ru: "
                                 "'lessons/place.ru.md' is too long: 50,001 characters, at "
                                 "most 50,000",)),
    "a lesson in Markdown of a megabyte": Bad("lessons/connect.en.md", None, "m" * 1_000_000,
                                              ("course-install.yaml:21: lessons[1].body: "
                                               "'lessons/connect.en.md' is too long: at most "
                                               "50,000 characters",)),
    "an image name": Bad(QUIZ, "image: images/impeller.svg", "image: " + "i" * 201,
                         ("quiz-basics.yaml:20: questions[0].image: String should have at "
                          "most 200 characters",)),
    "a video link": Bad(COURSE, "video: https://example.com/videos/connect",
                        "video: https://example.com/" + "v" * 481,
                        ("course-install.yaml:22: lessons[1].video: String should have at "
                         "most 500 characters",)),
}


@pytest.mark.parametrize("case", list(TOO_LONG))
def test_a_text_over_its_limit_is_named_with_file_and_line(pack_dir: Path, case: str) -> None:
    TOO_LONG[case].apply(pack_dir)
    problems = problems_of(pack_dir)
    assert TOO_LONG[case].found_in(problems), problems


def test_texts_at_their_limits_are_accepted(pack_dir: Path) -> None:
    for case, bad in TOO_LONG.items():
        if case in {"an image name", "a lesson in Markdown of a megabyte"}:
            continue
        assert isinstance(bad.new, str)
        if bad.old is None:  # a Markdown file
            Bad(bad.file, None, bad.new[:-1], ()).apply(pack_dir)
            continue
        # One character less: the last filler, before the closing brace of a flow mapping.
        at_limit = bad.new[:-2] + "}" if bad.new.endswith("}") else bad.new[:-1]
        Bad(bad.file, bad.old, at_limit, ()).apply(pack_dir)
    pack = schema.read_pack(pack_dir)
    assert len(pack.quizzes[0].questions[0].text["en"]) == schema.QUESTION_CHARS
    assert len(pack.bodies[("install", "place")].by_language["ru"]) == schema.LESSON_CHARS
    assert len(pack.courses[0].lessons[1].video or "") == schema.VIDEO_CHARS


# -- any document at all ------------------------------------------------------------------

FIELDS = ["kind", "id", "title", "description", "questions", "choices", "text", "correct",
          "type", "answer", "explanation", "image", "lessons", "body", "video", "final_quiz",
          "pass_mark", "time_limit", "base_points", "scoring", "attempts", "shuffle", "points",
          "mandatory", "live_from", "live_until", "default_language", "en", "ru"]
scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none(), st.dates(),
    st.datetimes(), st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(["quiz", "course", "single", "true_false", "images/impeller.svg",
                     "lessons/place.en.md", "https://example.com/v", "../pack.yaml"]),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8), st.integers(), st.booleans(),
                 st.none(), st.dates())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=5), max_leaves=25)
ORIGINALS = {name: yaml.safe_load((EXAMPLE / name).read_text(encoding="utf-8"))
             for name in (PACK, QUIZ, COURSE)}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@st.composite
def changed_example(draw: Callable[..., Any], name: str) -> Any:
    """The example's file with one to three of its parts replaced by anything at all: a
    document the validator reads deep into."""
    document = copy.deepcopy(ORIGINALS[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            document = draw(values)
            continue
        node = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = draw(values)
    return document


def _dumped(document: Any) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()


# Values written by hand: dates that may not exist, YAML's odd scalars and tags, brackets.
tokens = st.one_of(
    st.from_regex(r"\A\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?"
                  r"(Z|[+-]\d{1,2}(:\d{2})?)?)?\Z"),
    st.sampled_from(["[quiz]", "{quiz: yes}", "~", "", "!!bool maybe", "!!int x", "!!float x",
                     "!!binary aGk=", "!!set {a}", "!!timestamp 2026-02-30", "&a x", "*a", "<<",
                     "=", ".nan", "-.inf", "0x1F", "0o17", "1:30", "1_000", "9" * 5_000, "yes",
                     "[" * 30 + "]" * 30, "'unclosed", '"\\0"', '"\\ud800"', "|\n  a\n b"]),
    st.text(alphabet="[]{}:,-?&*!|>'\"%@`# \n\tab01", max_size=30),
)
TEXTS = {name: (EXAMPLE / name).read_text(encoding="utf-8") for name in (PACK, QUIZ, COURSE)}


@st.composite
def edited_example(draw: Callable[..., Any], name: str) -> bytes:
    """The example's file with the values of one to three lines written anew."""
    lines = TEXTS[name].splitlines()
    fields = [index for index, line in enumerate(lines) if ":" in line]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.sampled_from(fields))
        lines[index] = f"{lines[index].split(':', 1)[0]}: {draw(tokens)}"
    return "\n".join(lines).encode()


@st.composite
def pack_files(draw: Callable[..., Any]) -> tuple[str, bytes]:
    name = draw(st.sampled_from([PACK, QUIZ, COURSE]))
    content = draw(st.one_of(
        changed_example(name).map(_dumped),
        edited_example(name),
        values.map(_dumped),
        st.dictionaries(st.sampled_from(FIELDS), values).map(_dumped),
        st.text().map(str.encode),
        st.binary(max_size=200),
    ))
    return name, content


@pytest.fixture(scope="module")
def fuzzed_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "pack"
    shutil.copytree(EXAMPLE, folder)
    return folder


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=pack_files())
def test_any_file_gives_a_pack_or_a_list_of_problems(fuzzed_pack: Path,
                                                     file: tuple[str, bytes]) -> None:
    name, content = file
    path = fuzzed_pack / name
    original = path.read_bytes()
    path.write_bytes(content)
    try:
        pack = schema.read_pack(fuzzed_pack)
    except schema.PackInvalid as refused:
        assert refused.problems
        for problem in refused.problems:
            assert isinstance(problem, schema.Problem) and str(problem)
            assert problem.file in {PACK, QUIZ, COURSE, ""}
            assert problem.line is None or problem.line >= 1
    else:
        assert pack.quizzes or pack.courses
    finally:
        path.write_bytes(original)


# -- the command --------------------------------------------------------------------------


# The command prints what the service reports: one case of each kind is enough here (a
# run is a new Python process, half a second each).
COMMAND_CASES = ["kind is a list", "an id is a mapping", "a number as a key", "month 13",
                 "February 30", "a UTC offset of +25:00", "10,000 nested lists",
                 "an empty quiz file", "a list as pack.yaml", "invalid UTF-8",
                 "a 5,000-digit number", "a question text of 501 characters"]


def test_portal_publish_reports_each_bad_shape_without_a_traceback(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "portal.sqlite3"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite://{database}",
           "PORTAL_SECRET_KEY": "cli-test", "PORTAL_MEDIA_DIR": str(tmp_path / "media")}
    failures = []
    for number, case in enumerate(COMMAND_CASES):
        bad = BAD[case]
        folder = tmp_path / "packs" / str(number)
        shutil.copytree(EXAMPLE, folder)
        bad.apply(folder)
        result = subprocess.run([sys.executable, "-m", "portal.cli", "publish", str(folder)],
                                env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=60)
        printed = result.stderr.splitlines()
        if (result.returncode != 1 or "Traceback" in result.stderr
                or "refused, nothing was written" not in result.stderr
                or not bad.found_in(printed)):
            failures.append((case, result.returncode, result.stderr[-2000:]))
    assert failures == []


# -- the upload ---------------------------------------------------------------------------


def _zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"pack/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


@pytest.fixture
async def carol(people: People, sign_in: SignIn) -> httpx.AsyncClient:
    client = await sign_in("carol@example.com")
    await client.get("/marketing/content")
    return client


async def test_an_upload_of_each_bad_shape_gets_a_report_never_a_500(
    carol: httpx.AsyncClient, tmp_path: Path
) -> None:
    failures = []
    for number, (case, bad) in enumerate({**BAD, **TOO_LONG}.items()):
        folder = tmp_path / str(number)
        shutil.copytree(EXAMPLE, folder)
        bad.apply(folder)
        response = await carol.post(
            "/marketing/content/upload",
            files={"pack": (f"{number}.zip", _zipped(folder), "application/zip")},
            headers={"x-csrftoken": csrf(carol), "hx-request": "true"})
        if response.status_code != 204:
            failures.append((case, response.status_code, response.text[-500:]))
            continue
        report = await carol.get(response.headers["hx-redirect"])
        shown = [str(escape(piece)) for piece in bad.expected]
        if (report.status_code != 200 or "nothing was published" not in report.text
                or not all(piece in report.text for piece in shown)):
            failures.append((case, report.status_code, report.text[-2000:]))
    assert failures == []
    assert await PackUpload.all().count() == len(BAD) + len(TOO_LONG)
    assert await Pack.all().count() == 0
