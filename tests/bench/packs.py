"""Content packs for the benchmarks, written as marketing writes them: a folder of YAML.

``write_pack`` makes a valid pack of any size (see ``quizzes/README.md`` for the format):
every quiz cycles through the three question types, and every text is in English and
Russian, so validation and publishing do the work a real pack makes them do.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

QUESTION_TYPES = ("single", "multiple", "true_false")


def _both(english: str, russian: str) -> dict[str, str]:
    return {"en": english, "ru": russian}


def question_document(quiz: int, number: int) -> dict[str, Any]:
    """Question ``number`` (0-based) of a quiz, as written in its YAML file."""
    kind = QUESTION_TYPES[number % len(QUESTION_TYPES)]
    question: dict[str, Any] = {
        "id": f"q-{number + 1}",
        "type": kind,
        "text": _both(f"Quiz {quiz}, question {number + 1}: which pump fits a 25 m well?",
                      f"Тест {quiz}, вопрос {number + 1}: какой насос подходит для "
                      "скважины 25 м?"),
        "explanation": _both("A borehole pump lifts from deep wells; a surface pump "
                             "manages about 8 m.",
                             "Скважинный насос поднимает воду с глубины; поверхностный "
                             "справляется примерно с 8 м."),
    }
    if kind == "true_false":
        question["answer"] = number % 2 == 0
        return question
    labels = [("A borehole pump", "Скважинный насос"),
              ("A surface pump with an ejector", "Поверхностный насос с эжектором"),
              ("A drainage pump", "Дренажный насос"),
              ("A circulation pump", "Циркуляционный насос")]
    correct = {0, 1} if kind == "multiple" else {0}
    question["choices"] = [{"text": _both(en, ru), "correct": index in correct}
                           for index, (en, ru) in enumerate(labels)]
    return question


def write_pack(folder: Path, *, pack_id: str, title: str, quizzes: int, questions: int,
               live_from: datetime, live_until: datetime, attempts: int = 1,
               time_limit: int = 20) -> list[str]:
    """Writes the pack into ``folder`` (created); returns the quiz titles, in English."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "id": pack_id,
        "title": _both(title, f"{title} (RU)"),
        "default_language": "en",
        "live_from": live_from.isoformat(),
        "live_until": live_until.isoformat(),
    }
    (folder / "pack.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True),
                                      encoding="utf-8")
    titles = []
    for quiz in range(1, quizzes + 1):
        quiz_title = f"{title} quiz {quiz}"
        titles.append(quiz_title)
        document = {
            "kind": "quiz",
            "id": f"quiz-{quiz}",
            "title": _both(quiz_title, f"{title}: тест {quiz}"),
            "description": _both(f"{questions} questions for the benchmark.",
                                 f"{questions} вопросов для замера."),
            "time_limit": time_limit,
            "base_points": 100,
            "scoring": "speed",
            "attempts": attempts,
            "shuffle": True,
            "questions": [question_document(quiz, number) for number in range(questions)],
        }
        (folder / f"quiz-{quiz}.yaml").write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return titles
