"""The ledger keys of play's awards: once per item and person, whatever is retried.

A key names what the points are for (a quiz, a course, the welcome bonus) and whom, so a
replayed finish pays nothing more. It is built here only: by the games and courses that
credit, and by a game's result, which asks the ledger what was credited under it.
"""

from __future__ import annotations

from typing import Final, Literal

from portal.content.models import Course, Quiz

WELCOME: Final = "welcome"  # the onboarding bonus: once per person, ever


def award_key(person_id: int, item: Quiz | Course | Literal["welcome"]) -> str:
    if isinstance(item, Quiz):
        return f"quiz:{item.id}:person:{person_id}"
    if isinstance(item, Course):
        return f"course:{item.id}:person:{person_id}"
    return f"{WELCOME}:person:{person_id}"
