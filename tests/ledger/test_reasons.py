"""Ledger reasons are a message id with parameters, said in the reader's language, on
SQLite and PostgreSQL; rows written before that are mapped back by migration 0011."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from tortoise import connections
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from portal import i18n
from portal.accounts.models import Person
from portal.content.models import Quiz
from portal.i18n import N_
from portal.ledger import service as ledger
from portal.ledger.models import Account, AccountKind, Hold, Transfer
from portal.ledger.reasons import Reason
from portal.play import games
from tests.factories import People, SignIn, make_person, token_for
from tests.play.playing import RULES, T0, play_through, publish_example

QUIZ_EN = "Quiz: Pump basics (3 of 3 correct)"
QUIZ_RU = "Тест: Основы насосов (верно 3 из 3)"


def read_in(language: str, reason: Reason) -> str:
    with i18n.language(language):
        return reason.translated()


async def history_in(language: str, account: Account) -> list[str]:
    with i18n.language(language):
        entries, _ = await ledger.history(account)
    return [entry.reason for entry in entries]


# -- the value itself (no database) -------------------------------------------------------


def test_a_reason_is_said_in_the_readers_language_and_kept_in_english() -> None:
    reason = Reason(N_("Quiz: %(title)s (%(correct)s of %(total)s correct)"),
                    title={"ru": "Основы насосов", "en": "Pump basics"}, correct=3, total=3)
    assert reason.english() == QUIZ_EN
    assert read_in("en", reason) == QUIZ_EN
    assert read_in("ru", reason) == QUIZ_RU


def test_a_title_missing_in_the_readers_language_is_shown_in_english_else_the_first() -> None:
    message = N_("Course completed: %(title)s")
    assert read_in("ru", Reason(message, title={"tr": "Kurulum", "en": "Installing"})) == (
        "Курс пройден: Installing")
    assert read_in("en", Reason(message, title={"ru": "Установка"})) == (
        "Course completed: Установка")


def test_a_date_is_iso_in_english_storage_and_long_for_the_reader() -> None:
    reason = ledger.burn_reason(date(2026, 11, 1))
    assert reason.english() == "Points burned: no finished game or course since 2026-11-01"
    assert read_in("en", reason).endswith("since November 1, 2026")
    assert read_in("ru", reason).endswith("с 1 ноября 2026\u202fг.")


def test_a_stored_reason_reads_back_as_it_was_written() -> None:
    reason = Reason(N_("Quiz: %(title)s (%(correct)s of %(total)s correct)"),
                    title={"en": "Pump basics", "ru": "Основы насосов"}, correct=3, total=3)
    again = Reason.stored(reason.message, reason.stored_params(), reason.english())
    assert again == reason and read_in("ru", again) == QUIZ_RU
    burn = ledger.burn_reason(date(2026, 11, 1))
    assert Reason.stored(burn.message, burn.stored_params(), burn.english()) == burn


def test_a_text_a_person_wrote_is_shown_as_written_in_every_language() -> None:
    typed = Reason.text("Quiz: a typo fixed by hand")
    assert typed.message is None and typed.stored_params() is None
    assert read_in("ru", typed) == read_in("en", typed) == "Quiz: a typo fixed by hand"


def test_parameters_that_do_not_fit_the_message_show_the_message_rather_than_fail() -> None:
    reason = Reason(N_("Course completed: %(title)s"), name="Pumps")
    assert reason.english() == "Course completed: %(title)s"
    assert read_in("ru", reason) == "Course completed: %(title)s"


# -- written and read through the ledger, on both databases -------------------------------


@pytest.mark.usefixtures("any_db")
async def test_a_quiz_award_is_read_in_each_readers_language(tmp_path: Path) -> None:
    await publish_example(tmp_path)
    alice = await make_person("alice@example.com")
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    await play_through(alice, game, each=2)

    credit = await Transfer.get(key=f"quiz:{game.quiz_id}:person:{alice.id}")
    assert credit.reason == QUIZ_EN  # the English column keeps audits readable
    assert credit.reason_message == "Quiz: %(title)s (%(correct)s of %(total)s correct)"
    assert credit.reason_params == {
        "title": {"$texts": {"en": "Pump basics", "ru": "Основы насосов"}},
        "correct": 3, "total": 3}
    account = await ledger.account_of_person(alice.id)
    assert await history_in("en", account) == [QUIZ_EN]
    assert await history_in("ru", account) == [QUIZ_RU]


@pytest.mark.usefixtures("any_db")
async def test_a_retry_with_the_same_reason_replays_and_another_message_is_refused() -> None:
    account = await Account.create(kind=AccountKind.PERSON, name="Alice")
    bonus = Reason(N_("Welcome bonus: onboarding courses completed"))
    first = await ledger.earn(account, amount=100, reason=bonus, reference="onboarding",
                              key="welcome:1")
    again = await ledger.earn(account, amount=100, reason=bonus, reference="onboarding",
                              key="welcome:1")
    assert again.replayed and again.id == first.id
    with pytest.raises(ledger.KeyReused):
        await ledger.earn(account, amount=100, reference="onboarding", key="welcome:1",
                          reason=Reason(N_("Course completed: %(title)s"), title="x"))
    # The same words typed by a person are another reason than the portal's message.
    with pytest.raises(ledger.KeyReused):
        await ledger.earn(account, amount=100, reference="onboarding", key="welcome:1",
                          reason="Welcome bonus: onboarding courses completed")
    assert (await Account.get(id=account.id)).balance == 100


@pytest.mark.usefixtures("any_db")
async def test_a_burn_batch_stores_its_message_and_the_date_reads_per_language() -> None:
    person = await make_person("idle@example.com")
    account = await ledger.account_of_person(person.id)
    await ledger.earn(account, amount=50, reason="Seed", reference="x", key="seed",
                      now=datetime(2026, 10, 1, tzinfo=UTC))
    done = await ledger.burn_idle_batch(
        due_by=datetime(2026, 12, 1, 2, tzinfo=UTC), idle_days=30,
        notice=timedelta(0), now=datetime(2026, 12, 1, 2, tzinfo=UTC), after=0,
        limit=10)
    assert done is not None and done[1].count == 1
    burn = await Transfer.get(key=f"burn:{account.id}:2026-12-01T02:00Z")
    assert burn.amount == 50
    assert burn.reason == "Points burned: no finished game or course since 2026-10-01"
    assert burn.reason_params == {"date": {"$date": "2026-10-01"}}
    assert (await history_in("ru", account))[0] == (
        "Баллы сгорели: ни одной завершённой игры или курса с 1 октября 2026\u202fг.")


@pytest.mark.usefixtures("any_db")
async def test_a_hold_and_its_capture_keep_the_message() -> None:
    account = await Account.create(kind=AccountKind.PERSON, name="Alice")
    lot = await ledger.system_account("auction:1")
    await ledger.earn(account, amount=100, reason="Seed", reference="x", key="seed")
    reason = Reason(N_("Course completed: %(title)s"), title={"en": "Lot", "ru": "Лот"})
    held = await ledger.hold(account, target=lot, amount=40, reason=reason,
                             reference="lot:1", key="bid")
    with i18n.language("ru"):
        assert [h.reason for h in await ledger.open_holds(account)] == ["Курс пройден: Лот"]
    await ledger.capture(held.id)
    capture = await Transfer.get(key=f"ledger:capture:{held.id}")
    assert (capture.reason_message, capture.reason_params) == (
        reason.message, reason.stored_params())
    assert (await Hold.get(id=held.id)).reason == "Course completed: Lot"


@pytest.mark.usefixtures("any_db")
async def test_migration_0011_maps_english_reasons_back_to_messages(tmp_path: Path) -> None:
    await publish_example(tmp_path)
    alice = await make_person("alice@example.com")
    game = await games.start(alice, (await Quiz.get(slug="basics")).id, now=T0, rules=RULES)
    await play_through(alice, game, each=2)
    account = await ledger.account_of_person(alice.id)
    old = [  # as the portal wrote them before reasons had message ids
        ("Course completed: Installing a pump", "course:999999"),
        ("Welcome bonus: onboarding courses completed", "onboarding"),
        ("Points burned: no finished game or course since 2026-11-01", "inactivity"),
        ("Quiz: Water hardness (demo history)", "demo:1"),
        ("Quiz: a title (with brackets) (2 of 5 correct)", "game:999999"),
        ("Thanks for the trade fair", "adjust:1"),
    ]
    for n, (reason, reference) in enumerate(old):
        await ledger.earn(account, amount=10, reason=reason, reference=reference, key=f"o{n}")
    await Transfer.all().update(reason_message=None, reason_params=None)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(account, target=lot, amount=5, reference="lot:1", key="bid",
                      reason="Course completed: A lot")

    migration = importlib.import_module("portal.migrations.0011_reason_messages")
    editor = cast(BaseSchemaEditor, SimpleNamespace(client=connections.get("default")))
    await migration._map_reasons(None, editor)

    assert await history_in("ru", account) == [
        "Thanks for the trade fair",  # a person wrote it: kept as written
        "Тест: a title (with brackets) (верно 2 из 5)",  # the game is gone: English title
        "Тест: жёсткость воды (демо-история)",
        "Баллы сгорели: ни одной завершённой игры или курса с 1 ноября 2026\u202fг.",
        "Приветственный бонус: вводные курсы пройдены",
        "Курс пройден: Installing a pump",
        QUIZ_RU,  # the game still names its quiz: the title in every language
    ]
    english = [reason for reason, _ in reversed(old)] + [QUIZ_EN]
    english[3] = "Points burned: no finished game or course since November 1, 2026"
    assert await history_in("en", account) == english
    with i18n.language("ru"):
        assert [h.reason for h in await ledger.open_holds(account)] == [
            "Курс пройден: A lot"]
    # A second run finds nothing left to map and changes nothing.
    before = await Transfer.all().order_by("id").values()
    await migration._map_reasons(None, editor)
    assert await Transfer.all().order_by("id").values() == before


# -- the history page and the API ---------------------------------------------------------


async def _award_alice_in_russian(people: People) -> None:
    await Person.filter(id=people.alice.id).update(language="ru")
    account = await ledger.account_of_person(people.alice.id)
    await ledger.earn(account, amount=30, reference="course:1", key="c1", reason=Reason(
        N_("Course completed: %(title)s"), title={"en": "Installing", "ru": "Установка"}))
    await ledger.adjust(account, amount=5, reason="For the trade fair",
                        by_person_id=people.dave.id, key="adj")


async def test_the_history_page_says_reasons_in_the_readers_language(
        people: People, sign_in: SignIn) -> None:
    await _award_alice_in_russian(people)
    alice = await sign_in("alice@example.com")
    page = (await alice.get("/history")).text
    assert "Курс пройден: Установка" in page and "For the trade fair" in page
    assert "Course completed" not in page


async def test_the_api_gives_the_message_its_parameters_and_the_readers_text(
        client: httpx.AsyncClient, people: People) -> None:
    await _award_alice_in_russian(people)
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    entries = (await client.get("/api/v1/me/ledger", headers=headers)).json()["entries"]
    assert [(e["reason"], e["reason_message"], e["reason_params"]) for e in entries] == [
        ("For the trade fair", None, None),
        ("Курс пройден: Установка", "Course completed: %(title)s",
         {"title": {"$texts": {"en": "Installing", "ru": "Установка"}}}),
    ]
