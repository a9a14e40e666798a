"""Inactivity burns and their warnings, with a settable clock, on both databases."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from tortoise import connections

from portal.accounts.models import Person
from portal.burns import service as burns
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from portal.notifications import mail
from portal.notifications.models import Email, EmailStatus, Notification
from portal.settings import Settings
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("any_db")
# At the burn job's hour (02:00 UTC), so an idle period ends right at one of its runs.
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
DAYS = 30
SETTINGS = Settings(secret_key="x", burn_after_days=DAYS, burn_warning_days="7,1",
                    base_url="https://club.example.com")


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


async def player_with(points: int, *, email: str = "alice@example.com",
                      language: str = "en") -> tuple[Person, Account]:
    person = await make_person(email)
    person.language = language
    await person.save(update_fields=["language"])
    account = await ledger.account_of_person(person.id)
    await ledger.earn(account, amount=points, reason="Quiz", reference="quiz:1",
                      key=f"seed:{person.id}", now=T0)
    return person, await Account.get(id=account.id)


async def balance(account: Account) -> tuple[int, int]:
    fresh = await Account.get(id=account.id)
    return fresh.balance, fresh.held


async def test_an_idle_player_is_warned_seven_days_ahead_once(any_db: str) -> None:
    alice, _ = await player_with(1240)
    assert await burns.warn_before_burn(day(22), SETTINGS) == 0  # 8 days ahead: not yet
    assert await burns.warn_before_burn(day(23), SETTINGS) == 1
    assert await burns.warn_before_burn(day(23.5), SETTINGS) == 0
    warning = await Notification.get(person_id=alice.id)
    assert warning.kind == "burn_warning" and warning.params == {
        "points": 1240, "at": "2026-12-01T02:00:00+00:00"}
    assert await Email.filter(person_id=alice.id).count() == 1
    assert await burns.warn_before_burn(day(29), SETTINGS) == 1  # the one-day warning
    assert await Email.filter(person_id=alice.id).count() == 2


async def test_an_idle_player_is_burned_once_and_told(any_db: str) -> None:
    alice, account = await player_with(500)
    assert await burns.burn_inactive(day(29.9), days=DAYS) == 0
    assert await burns.burn_inactive(day(30), days=DAYS) == 1
    assert await burns.burn_inactive(day(31), days=DAYS) == 0
    assert await balance(account) == (0, 0)
    burn = await Transfer.get(kind=TransferKind.BURN)
    assert burn.amount == 500
    assert burn.reason == "Points burned: no finished game or course since 2026-11-01"
    told = await Notification.get(person_id=alice.id, kind="burned")
    assert told.params == {"points": 500, "date": "2026-11-01"}
    assert await ledger.check_invariants() == []


async def test_finishing_a_game_in_between_resets_the_clock(any_db: str) -> None:
    _, account = await player_with(500)
    await ledger.earn(account, amount=50, reason="Quiz", reference="quiz:2", key="later",
                      now=day(20))
    assert await burns.warn_before_burn(day(23), SETTINGS) == 0
    assert await burns.burn_inactive(day(31), days=DAYS) == 0
    assert await balance(account) == (550, 0)
    assert await burns.burn_inactive(day(50), days=DAYS) == 1


async def test_points_held_in_bids_survive_the_burn(any_db: str) -> None:
    _, account = await player_with(500)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(account, target=lot, amount=200, reason="Bid", reference="lot:1",
                      key="bid", now=day(1))
    assert await burns.burn_inactive(day(30), days=DAYS) == 1
    assert await balance(account) == (200, 200)
    assert (await Transfer.get(kind=TransferKind.BURN)).amount == 300
    assert await ledger.check_invariants() == []


async def test_nothing_to_burn_means_no_warning_and_no_burn(any_db: str) -> None:
    person = await make_person("empty@example.com")
    assert person.id
    assert await burns.warn_before_burn(day(40), SETTINGS) == 0
    assert await burns.burn_inactive(day(40), days=DAYS) == 0


async def test_the_burns_account_gains_what_each_batch_burned_and_no_held_point(
        any_db: str) -> None:
    accounts = [(await player_with(100 + 7 * i, email=f"p{i}@example.com"))[1]
                for i in range(5)]
    lot = await ledger.system_account("auction:1")
    await ledger.hold(accounts[1], target=lot, amount=30, reason="Bid", reference="lot:1",
                      key="bid", now=day(1))
    burned_account = await ledger.system_account(ledger.BURNS)
    assert await burns.burn_inactive(day(31), days=DAYS, batch=2) == 5
    assert (await Account.get(id=burned_account.id)).balance == sum(
        100 + 7 * i for i in range(5)) - 30
    assert await ledger.check_invariants() == []


async def test_three_burn_runs_started_together_in_one_process_burn_each_account_once(
        any_db: str) -> None:
    accounts = [(await player_with(100 + i, email=f"p{i}@example.com"))[1] for i in range(12)]
    results = await asyncio.gather(*(burns.burn_inactive(day(31), days=DAYS, batch=5)
                                     for _ in range(3)))
    assert sum(results) == 12
    assert await Transfer.filter(kind=TransferKind.BURN).count() == 12
    assert [await balance(a) for a in accounts] == [(0, 0)] * 12
    assert await ledger.check_invariants() == []


async def test_a_burn_batch_is_the_same_few_statements_however_many_it_burns(
        any_db: str) -> None:
    from tests.sql_log import statements

    accounts = [(await player_with(100 + i, email=f"p{i}@example.com"))[1] for i in range(12)]
    with statements() as one_batch:
        assert await burns.burn_inactive(day(31), days=DAYS, batch=12) == 12
    # The batch: its accounts (locked), the burns account, the transfers, the balances,
    # the burns account's balance, the notices; then the run's last look finds nobody.
    assert len(one_batch) == 7
    assert sorted(a.person_id or 0 for a in accounts) == sorted(
        n.person_id for n in await Notification.filter(kind="burned"))
    late = [(await player_with(50, email=f"q{i}@example.com"))[1] for i in range(3)]
    with statements() as again:
        assert await burns.burn_inactive(day(62), days=DAYS, batch=12) == 3
    assert len(again) == 7
    assert [await balance(a) for a in accounts + late] == [(0, 0)] * 15
    assert await ledger.check_invariants() == []


async def test_a_run_that_dies_midway_is_completed_by_the_next_one(any_db: str) -> None:
    accounts = [(await player_with(100, email=f"p{i}@example.com"))[1] for i in range(6)]
    victim = accounts[3].id
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_script(
            "CREATE TRIGGER crash BEFORE INSERT ON transfer WHEN NEW.source_id = "
            f"{victim} BEGIN SELECT RAISE(ABORT, 'crash in the middle'); END;")
    else:
        await conn.execute_script(
            "CREATE FUNCTION crash() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'crash in the middle'; END $$ LANGUAGE plpgsql;"
            "CREATE TRIGGER crash BEFORE INSERT ON transfer FOR EACH ROW "
            f"WHEN (NEW.source_id = {victim}) EXECUTE FUNCTION crash();")
    with pytest.raises(Exception, match="crash in the middle"):
        await burns.burn_inactive(day(31), days=DAYS, batch=2)
    # The batches before the crash are done; the crashed batch left nothing behind.
    assert await Transfer.filter(kind=TransferKind.BURN).count() == 2
    assert await ledger.check_invariants() == []
    await conn.execute_script("DROP TRIGGER crash;" if conn.capabilities.dialect == "sqlite"
                              else "DROP TRIGGER crash ON transfer;")
    assert await burns.burn_inactive(day(31), days=DAYS, batch=2) == 4
    assert await Transfer.filter(kind=TransferKind.BURN).count() == 6
    assert [await balance(a) for a in accounts] == [(0, 0)] * 6
    assert await ledger.check_invariants() == []


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope,
    ) -> str:
        # The controller does not decode data (decode_data=False), so the content is bytes.
        content = cast(bytes, envelope.content)
        self.messages.append(message_from_bytes(content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def body_of(message: Message, kind: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{kind}":
            # A decoded non-multipart part's payload is bytes (typeshed says it may be many things).
            return str(cast(bytes, part.get_payload(decode=True)).decode())
    raise AssertionError(f"no text/{kind} part")


async def test_the_warning_email_arrives_with_the_amount_date_and_language(
    any_db: str, smtp: tuple[Controller, Inbox]
) -> None:
    controller, inbox = smtp
    settings = Settings(secret_key="x", smtp_host="127.0.0.1", smtp_port=controller.port,
                        smtp_tls="none", base_url="https://club.example.com")
    await player_with(1240, email="ivan@example.com", language="ru")
    await player_with(80, email="pat@example.com", language="en")
    assert await burns.warn_before_burn(day(23), settings) == 2
    assert await mail.send_due(day(23), settings) == 2
    assert await mail.send_due(day(23), settings) == 0  # nothing is sent twice
    by_recipient = {m["To"]: m for m in inbox.messages}
    russian = by_recipient["ivan@example.com"]
    assert str(russian["Subject"]).startswith("1\xa0240 баллов сгорят")
    assert "1 декабря 2026" in body_of(russian, "plain")
    assert "https://club.example.com/play" in body_of(russian, "html")
    english = by_recipient["pat@example.com"]
    assert str(english["Subject"]) == "80 points burn on December 1, 2026"
    assert await Email.filter(status=EmailStatus.SENT).count() == 2


async def test_a_person_who_turned_warning_emails_off_is_still_warned_in_the_portal(
    any_db: str,
) -> None:
    alice, _ = await player_with(300)
    alice.email_burn_warnings = False
    await alice.save(update_fields=["email_burn_warnings"])
    assert await burns.warn_before_burn(day(23), SETTINGS) == 1
    assert await Notification.filter(person_id=alice.id).count() == 1
    assert await Email.all().count() == 0


async def test_a_failed_delivery_is_retried_with_backoff_and_then_given_up(any_db: str) -> None:
    await player_with(300)
    await burns.warn_before_burn(day(23), SETTINGS)
    unreachable = Settings(secret_key="x", smtp_host="127.0.0.1", smtp_port=9, smtp_tls="none")
    moment, attempt = day(23), 0
    while (await Email.get()).status == EmailStatus.PENDING:
        attempt += 1
        assert await mail.send_due(moment, unreachable) == 0
        email = await Email.get()
        assert email.attempts == attempt and email.last_error
        assert await mail.send_due(moment, unreachable) == 0  # not due again yet
        moment = email.next_attempt_at
    # Given up only after a day of tries (tests/notifications/test_mail.py has the rest).
    assert (await Email.get()).status == EmailStatus.FAILED and moment > day(24)


async def test_two_processes_burning_at_once_burn_each_account_once(any_db: str) -> None:
    from tests.racing import race

    accounts = [(await player_with(50, email=f"p{i}@example.com"))[1] for i in range(20)]
    run = [any_db, day(31).isoformat(), str(DAYS), "3"]
    counts = [int(line) for line in await race("tests.burns.burn_worker", run, run)]
    assert sum(counts) == 20
    assert await Transfer.filter(kind=TransferKind.BURN).count() == 20
    assert [await balance(a) for a in accounts] == [(0, 0)] * 20
    assert await ledger.check_invariants() == []
