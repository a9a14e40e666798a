"""Content packs: every pack on disk validates; a bad pack is refused whole, with every
problem named by file and line, and nothing written."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.content import schema, service
from portal.content.models import Course, Lesson, Pack, Question, Quiz
from portal.play.models import CourseProgress, Game
from portal.settings import PROJECT_ROOT
from tests.factories import make_person

QUIZZES = PROJECT_ROOT / "quizzes"
EXAMPLE = QUIZZES / "example"
NOW = datetime(2026, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("folder", sorted(p.name for p in QUIZZES.iterdir() if p.is_dir()))
def test_every_pack_on_disk_is_valid(folder: str) -> None:
    pack = schema.read_pack(QUIZZES / folder)
    assert pack.quizzes or pack.courses


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(EXAMPLE, folder)
    return folder


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new, 1))


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(schema.PackInvalid) as refused:
        schema.read_pack(folder)
    return [str(problem) for problem in refused.value.problems]


BAD_PACKS = {
    "malformed YAML": ("quiz-basics.yaml", "kind: quiz\n", "kind: quiz\n  oops: [\n",
                       "quiz-basics.yaml:2: not valid YAML"),
    "unknown field": ("quiz-basics.yaml", "scoring: speed\n", "scoring: speed\ncolour: red\n",
                      "quiz-basics.yaml:12: colour: unknown field"),
    "no correct answer": ("quiz-basics.yaml", "        correct: true\n      - text: {en: A piston",
                          "        correct: false\n      - text: {en: A piston",
                          "quiz-basics.yaml:15: questions[0]: a single choice question needs "
                          "exactly one correct choice, not 0"),
    "two correct answers to a single choice": (
        "quiz-basics.yaml", "      - text: {en: A piston, ru: Поршень}\n",
        "      - text: {en: A piston, ru: Поршень}\n        correct: true\n",
        "questions[0]: a single choice question needs exactly one correct choice, not 2"),
    "true_false without a boolean answer": (
        "quiz-basics.yaml", "    answer: false\n", "    answer: 3\n",
        "quiz-basics.yaml:35: questions[1].answer: Input should be a valid boolean"),
    "duplicate question ids": ("quiz-basics.yaml", "  - id: dry-run\n", "  - id: what-moves\n",
                               "two questions have the id 'what-moves'"),
    "missing image": ("quiz-basics.yaml", "image: images/impeller.svg",
                      "image: images/pump.png",
                      "quiz-basics.yaml:20: questions[0].image: no image 'images/pump.png'"),
    "missing lesson body": ("course-install.yaml", "ru: lessons/place.ru.md",
                            "ru: lessons/gone.ru.md",
                            "course-install.yaml:16: lessons[0].body.ru: no Markdown file"),
    "window ends before it starts": ("pack.yaml", "live_until: 2026-02-01T00:00:00Z",
                                     "live_until: 2025-12-01T00:00:00Z",
                                     "pack.yaml:8: live_until: live_until must come after"),
    "unknown language": ("quiz-basics.yaml", "  ru: Основы насосов", "  de: Pumpengrundlagen",
                         "quiz-basics.yaml:3: title: unknown language 'de' (use en, ru, tr, id)"),
    "an image outside the pack": ("quiz-basics.yaml", "image: images/impeller.svg",
                                  "image: ../../../etc/passwd",
                                  "no image '../../../etc/passwd' in the pack"),
}


@pytest.mark.parametrize("case", list(BAD_PACKS))
def test_a_bad_pack_is_refused_with_the_problem_named(pack_dir: Path, case: str) -> None:
    name, old, new, expected = BAD_PACKS[case]
    edit(pack_dir, name, old, new)
    problems = problems_of(pack_dir)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_reported_at_once(pack_dir: Path) -> None:
    for name, old, new, _ in (BAD_PACKS["unknown field"], BAD_PACKS["missing lesson body"],
                              BAD_PACKS["window ends before it starts"]):
        edit(pack_dir, name, old, new)
    problems = problems_of(pack_dir)
    assert len(problems) == 3, problems


def test_a_duplicate_item_id_across_files_is_refused(pack_dir: Path) -> None:
    shutil.copy(pack_dir / "quiz-basics.yaml", pack_dir / "quiz-again.yaml")
    assert any("id: the id 'basics' is already used in quiz-" in p
               for p in problems_of(pack_dir))


def test_a_pack_without_pack_yaml_is_refused(pack_dir: Path) -> None:
    (pack_dir / "pack.yaml").unlink()
    assert problems_of(pack_dir) == ["pack.yaml: the pack has no pack.yaml"]


@pytest.mark.usefixtures("db")
async def test_publishing_writes_everything_and_republishing_changes_nothing(
    tmp_path: Path,
) -> None:
    pack = schema.read_pack(EXAMPLE)
    first = await service.publish(pack, media_dir=tmp_path / "media", now=NOW)
    assert sorted(first.created) == ["course install", "quiz basics", "quiz install-final"]
    again = await service.publish(pack, media_dir=tmp_path / "media", now=NOW)
    assert again.created == again.updated == [] and len(again.unchanged) == 3
    assert await Quiz.all().count() == 2 and await Question.all().count() == 5
    assert await Lesson.all().count() == 2
    lesson = await Lesson.get(slug="place")
    assert "<strong>dry, frost-free</strong>" in lesson.body_html["en"]
    assert set(lesson.body_html) == {"en", "ru"}
    assert len(list((tmp_path / "media").iterdir())) == 1


@pytest.mark.usefixtures("db")
async def test_a_dry_run_validates_against_the_database_and_writes_nothing(
    tmp_path: Path,
) -> None:
    report = await service.publish(schema.read_pack(EXAMPLE), media_dir=tmp_path / "media",
                                   now=NOW, dry_run=True)
    assert report.dry_run and len(report.created) == 3
    assert await Pack.all().count() == 0 and await Quiz.all().count() == 0
    assert not (tmp_path / "media").exists()


@pytest.mark.usefixtures("any_db")  # content counts play's rows: both engines
async def test_an_unplayed_quiz_can_change_and_a_played_one_cannot(
    tmp_path: Path, pack_dir: Path
) -> None:
    await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    edit(pack_dir, "quiz-basics.yaml", "base_points: 100", "base_points: 120")
    report = await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert report.updated == ["quiz basics"]
    assert (await Quiz.get(slug="basics")).base_points == 120

    quiz = await Quiz.get(slug="basics")
    alice = await make_person()
    await Game.create(person_id=alice.id, quiz_id=quiz.id, attempt=1, question_order=[],
                      choice_order={}, started_at=NOW, deadline=NOW)
    edit(pack_dir, "quiz-basics.yaml", "base_points: 120", "base_points: 150")
    edit(pack_dir, "pack.yaml", "Example pack", "Example pack, renamed")
    with pytest.raises(schema.PackInvalid) as refused:
        await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert "already played" in str(refused.value.problems[0])
    # Refused whole: not even the pack's new title was written.
    assert (await Quiz.get(slug="basics")).base_points == 120
    assert (await Pack.get(slug="example")).title["en"] == "Example pack"
    assert await Course.all().count() == 1


def test_a_quiz_cannot_take_the_id_of_a_courses_final_quiz(pack_dir: Path) -> None:
    shutil.copy(pack_dir / "quiz-basics.yaml", pack_dir / "quiz-clash.yaml")
    edit(pack_dir, "quiz-clash.yaml", "id: basics", "id: install-final")
    assert any("reserved for the final quiz of course 'install'" in p
               for p in problems_of(pack_dir))


def test_yaml_aliases_are_refused_before_they_can_expand(pack_dir: Path) -> None:
    bomb = "kind: quiz\nid: bomb\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a]\n"
    (pack_dir / "quiz-bomb.yaml").write_text(bomb)
    assert "quiz-bomb.yaml:4: YAML anchors and aliases (& and *) are not allowed in a pack" in (
        problems_of(pack_dir))


@pytest.mark.usefixtures("any_db")  # content counts play's rows: both engines
async def test_a_new_image_elsewhere_in_the_pack_does_not_change_a_played_quiz(
    tmp_path: Path, pack_dir: Path
) -> None:
    await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    quiz = await Quiz.get(slug="basics")
    alice = await make_person()
    await Game.create(person_id=alice.id, quiz_id=quiz.id, attempt=1, question_order=[],
                      choice_order={}, started_at=NOW, deadline=NOW)
    shutil.copy(pack_dir / "quiz-basics.yaml", pack_dir / "quiz-more.yaml")
    edit(pack_dir, "quiz-more.yaml", "id: basics", "id: more")
    shutil.copy(pack_dir / "images" / "impeller.svg", pack_dir / "images" / "other.svg")
    (pack_dir / "images" / "other.svg").write_text(
        (pack_dir / "images" / "other.svg").read_text().replace("#f2a900", "#000000"))
    edit(pack_dir, "quiz-more.yaml", "images/impeller.svg", "images/other.svg")
    report = await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert "quiz basics" in report.unchanged and "quiz more" in report.created


@pytest.mark.usefixtures("any_db")  # content counts play's rows: both engines
async def test_a_started_course_cannot_be_removed_and_says_why(tmp_path: Path,
                                                              pack_dir: Path) -> None:
    await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    course = await Course.get(slug="install")
    alice = await make_person()
    await CourseProgress.create(person_id=alice.id, course_id=course.id, lessons_done=[],
                                started_at=NOW)
    (pack_dir / "course-install.yaml").unlink()
    with pytest.raises(schema.PackInvalid) as refused:
        await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert any("have started this course" in str(p) for p in refused.value.problems)
    assert await Course.exists(slug="install")


@pytest.mark.usefixtures("any_db")  # content counts play's rows: both engines
async def test_published_packs_say_their_state_and_quizzes_in_one_query(
    tmp_path: Path, pack_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await service.publish(schema.read_pack(EXAMPLE), media_dir=tmp_path, now=NOW)
    edit(pack_dir, "pack.yaml", "id: example", "id: february")
    edit(pack_dir, "pack.yaml", "live_until: 2026-02-01", "live_until: 2026-03-01")
    edit(pack_dir, "pack.yaml", "live_from: 2026-01-01", "live_from: 2026-02-01")
    (pack_dir / "course-install.yaml").unlink()
    await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)

    def listed(rows: list[service.PublishedPack]) -> list[tuple[str, str, int]]:
        return [(row.pack.slug, row.state.value, row.quizzes) for row in rows]

    with caplog.at_level("DEBUG", logger="tortoise.db_client"):
        in_january = await service.published_packs(now=NOW)
    assert listed(in_january) == [("february", "scheduled", 1), ("example", "live", 2)]
    assert len([r for r in caplog.records if r.name == "tortoise.db_client"]) == 1
    in_march = await service.published_packs(now=datetime(2026, 3, 1, tzinfo=UTC))
    assert listed(in_march) == [("february", "closed", 1), ("example", "closed", 2)]


@pytest.mark.usefixtures("any_db")
async def test_a_quiz_left_out_of_the_pack_is_removed_unless_it_was_played(
    tmp_path: Path, pack_dir: Path
) -> None:
    shutil.copy(pack_dir / "quiz-basics.yaml", pack_dir / "quiz-more.yaml")
    edit(pack_dir, "quiz-more.yaml", "id: basics", "id: more")
    await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    basics = await Quiz.get(slug="basics")
    await Game.create(person_id=(await make_person()).id, quiz_id=basics.id, attempt=1,
                      question_order=[], choice_order={}, started_at=NOW, deadline=NOW)
    (pack_dir / "quiz-more.yaml").unlink()
    report = await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert report.removed == ["quiz more"] and not await Quiz.exists(slug="more")
    (pack_dir / "quiz-basics.yaml").unlink()
    with pytest.raises(schema.PackInvalid) as refused:
        await service.publish(schema.read_pack(pack_dir), media_dir=tmp_path, now=NOW)
    assert [str(p) for p in refused.value.problems] == [
        "basics: 1 game(s) were already played on this quiz, so it cannot be removed from "
        "the pack"]
    assert await Question.filter(quiz_id=basics.id).exists()
