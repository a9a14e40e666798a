"""A pack's problems are message ids with parameters: the command line prints English,
and the marketing workspace says each problem in the reader's language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal import i18n
from portal.content import schema
from portal.content.models import PackUpload
from portal.settings import PROJECT_ROOT
from tests.content.test_views import EXAMPLE, upload, zip_of
from tests.factories import People, SignIn, post_form


def problems_of(folder: Path) -> list[schema.Problem]:
    with pytest.raises(schema.PackInvalid) as refused:
        schema.read_pack(folder)
    return refused.value.problems


def test_a_problem_is_english_on_the_command_line_and_translated_for_a_reader(
        tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "quizzes" / "example", tmp_path / "pack")
    quiz = tmp_path / "pack" / "quiz-basics.yaml"
    quiz.write_text(quiz.read_text().replace("time_limit: 20", "time_limit: 500")
                    .replace("  en: Pump basics", "  en: " + "P" * 130))
    found = problems_of(tmp_path / "pack")
    assert sorted(str(p) for p in found) == [
        "quiz-basics.yaml:3: title: the en text is too long: 130 characters, at most 120",
        "quiz-basics.yaml:9: time_limit: Input should be less than or equal to 120",
    ]
    with i18n.language("ru"):
        assert sorted(p.text() for p in found) == [
            "quiz-basics.yaml:3: title: текст en слишком длинный: 130 символов, не более 120",
            "quiz-basics.yaml:9: time_limit: Значение должно быть не больше 120",
        ]
    with i18n.language("id"):
        assert any(p.text().endswith("Nilai harus lebih kecil dari atau sama dengan 120")
                   for p in found)
    again = [schema.Problem.from_stored(p.stored()) for p in found]
    assert again == found


def test_numbers_in_a_problem_are_written_as_the_language_writes_them() -> None:
    problem = schema.Problem("pack.yaml", None, "", "... and %(more)s more problem(s)",
                             {"more": 1500})
    assert str(problem) == "pack.yaml: ... and 1,500 more problem(s)"
    with i18n.language("tr"):
        assert problem.text() == "pack.yaml: ... ve 1.500 sorun daha"


async def test_the_upload_report_says_the_problems_in_the_readers_language(
        people: People, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    await post_form(carol, "/language", {"language": "tr"})
    bad = zip_of(EXAMPLE, change=("quiz-basics.yaml", "kind: quiz", "kind: quizz"))
    response = await upload(carol, bad)
    report = (await carol.get(response.headers["hx-redirect"])).text
    assert "quiz-basics.yaml:1: kind: `kind: quiz` ya da `kind: course` yazın" in report
    await post_form(carol, "/language", {"language": "en"})
    report = (await carol.get(response.headers["hx-redirect"])).text
    assert "quiz-basics.yaml:1: kind: say `kind: quiz` or `kind: course`" in report


async def test_a_report_stored_as_english_text_is_still_shown(
        people: People, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    response = await upload(carol, zip_of(EXAMPLE, change=("quiz-basics.yaml", "kind: quiz",
                                                            "kind: quizz")))
    await PackUpload.all().update(problems=["quiz-basics.yaml:1: kind: an old report"])
    report = (await carol.get(response.headers["hx-redirect"])).text
    assert "quiz-basics.yaml:1: kind: an old report" in report
