"""A survey in a pack: a quiz with `scoring: survey`, whose questions have no right answer,
earning its `points` for finishing. A wrong one is refused with its file and line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.content import schema, service
from portal.content.models import Question, Quiz
from portal.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "quizzes" / "example"

SURVEY = """\
kind: quiz
id: voice
scoring: survey
points: 40
title: "Survey: your customers"
questions:
  - id: asked
    text: What do customers ask about most?
    choices:
      - text: Price
      - text: Noise
  - id: materials
    type: multiple
    text: Which materials help you sell?
    choices:
      - text: Videos
      - text: Leaflets
      - text: Tables
"""


def pack_with(tmp_path: Path, survey: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(EXAMPLE, folder)
    (folder / "survey.yaml").write_text(survey, encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(schema.PackInvalid) as refused:
        schema.read_pack(folder)
    return [str(problem) for problem in refused.value.problems]


def test_a_survey_is_read_with_its_points_and_no_right_answers(tmp_path: Path) -> None:
    pack = schema.read_pack(pack_with(tmp_path, SURVEY))
    survey = next(q for q in pack.quizzes if q.id == "voice")
    assert survey.survey and survey.points == 40 and survey.points_per_answer == 40
    assert all(not c.correct for q in survey.questions for c in q.choices or [])


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      - text: Noise\n", "      - text: Noise\n        correct: true\n",
     "survey.yaml:7: questions[0]: a survey question has no right answer"),
    ("  - id: asked\n    text: What do customers ask about most?\n    choices:\n"
     "      - text: Price\n      - text: Noise\n",
     "  - id: asked\n    type: true_false\n    text: Is price asked most?\n    answer: true\n",
     "survey.yaml:7: questions[0]: a survey has no true_false questions"),
    ("      - text: Noise\n", "      - text: Noise\n    explanation: Because\n",
     "a survey question has no `explanation`"),
    ("points: 40\n", "points: 40\nbase_points: 100\n",
     "a survey earns its `points` for finishing, not `base_points`"),
    ("points: 40\n", "points: -5\n", "survey.yaml:4: points: Input should be greater than"),
    ("scoring: survey\n", "scoring: opinion\n", "survey.yaml:3: scoring: Input should be"),
])
def test_a_wrong_survey_is_refused_naming_the_file_line_and_problem(
        tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SURVEY
    problems = problems_of(pack_with(tmp_path, SURVEY.replace(old, new, 1)))
    assert any(expected in p for p in problems), problems


def test_a_courses_final_quiz_cannot_be_a_survey(tmp_path: Path) -> None:
    folder = pack_with(tmp_path, SURVEY)
    course = folder / "course-install.yaml"
    course.write_text(course.read_text().replace("  pass_mark: 50\n",
                                                 "  pass_mark: 50\n  scoring: survey\n"))
    assert any("course-install.yaml" in p and "final_quiz.scoring" in p
               for p in problems_of(folder))


def test_points_are_for_surveys_only(tmp_path: Path) -> None:
    folder = pack_with(tmp_path, SURVEY)
    quiz = folder / "quiz-basics.yaml"
    quiz.write_text(quiz.read_text().replace("scoring: speed\n", "scoring: speed\npoints: 40\n"))
    assert any("quiz-basics.yaml" in p and "`points` is for surveys (`scoring: survey`)" in p
               for p in problems_of(folder))


def test_an_ordinary_quiz_still_needs_its_right_answer(tmp_path: Path) -> None:
    folder = pack_with(tmp_path, SURVEY)
    quiz = folder / "quiz-basics.yaml"
    quiz.write_text(quiz.read_text().replace("        correct: true\n", "", 1))
    assert any("quiz-basics.yaml" in p and "exactly one correct choice" in p
               for p in problems_of(folder))


@pytest.mark.usefixtures("any_db")
async def test_a_published_survey_keeps_its_scoring_points_and_unmarked_choices(
        tmp_path: Path) -> None:
    await service.publish(schema.read_pack(pack_with(tmp_path, SURVEY)),
                          media_dir=tmp_path / "media", now=datetime(2026, 1, 10, tzinfo=UTC))
    survey = await Quiz.get(slug="voice")
    assert (survey.scoring, survey.base_points) == ("survey", 40)
    choices = [c for q in await Question.filter(quiz_id=survey.id) for c in q.choices]
    assert len(choices) == 5 and not any(c["correct"] for c in choices)
