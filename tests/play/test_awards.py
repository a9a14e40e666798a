"""An award's ledger key names the item and the person: once each, whatever is retried."""

from __future__ import annotations

from portal.content.models import Course, Quiz
from portal.play.awards import WELCOME, award_key


def test_an_award_key_names_the_item_and_the_person() -> None:
    assert award_key(7, Quiz(id=3)) == "quiz:3:person:7"
    assert award_key(7, Course(id=3)) == "course:3:person:7"
    assert award_key(7, WELCOME) == "welcome:person:7"
