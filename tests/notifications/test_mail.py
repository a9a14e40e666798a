"""The outbox never loses mail silently: an SMTP outage is retried with capped backoff for a
day, then the mail is failed and every admin told once; a resent mail goes out again.
Against a real SMTP peer, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portal import i18n
from portal.accounts.models import Person, Role
from portal.notifications import mail
from portal.notifications import service as notifications
from portal.notifications.models import Email, EmailStatus, Notification
from portal.settings import Settings
from tests.factories import make_person
from tests.notifications.smtp import Peer, smtp_peer, unreachable

pytestmark = pytest.mark.usefixtures("any_db")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def smtp() -> Iterator[Peer]:
    with smtp_peer() as peer:
        yield peer


async def queue_one(person: Person, *, key: str = "email:test", now: datetime = T0,
                    subject: str = "Your points burn soon") -> Email:
    await mail.queue(person, key=key, now=now,
                     rendered=mail.Rendered(subject, "Play a quiz.\n", "<p>Play a quiz.</p>"))
    return await Email.get(key=key)


async def admins_and_others() -> tuple[list[Person], list[Person]]:
    dave = await make_person("dave@example.com", roles={Role.ADMIN})
    fay = await make_person("fay@example.com", roles={Role.ADMIN, Role.MARKETING})
    gone = await make_person("gone@example.com", roles={Role.ADMIN})
    gone.is_active = False
    await gone.save(update_fields=["is_active"])
    carol = await make_person("carol@example.com", roles={Role.MARKETING})
    return [dave, fay], [gone, carol]


async def retry_until_given_up(settings: Settings, *, start: datetime = T0
                               ) -> list[tuple[datetime, timedelta]]:
    """Runs the sending job whenever the e-mail is due, as the scheduler would, until it
    is no longer pending; returns each attempt's time and the wait it was given."""
    moment, attempts = start, []
    while (await Email.get()).status == EmailStatus.PENDING:
        assert await mail.send_due(moment, settings) == 0
        after = await Email.get()
        attempts.append((moment, after.next_attempt_at - moment))
        assert after.attempts == len(attempts) and after.last_error
        assert await mail.send_due(moment, settings) == 0  # not due again yet
        moment = after.next_attempt_at
        assert len(attempts) < 100, "never given up"
    return attempts


def test_the_wait_doubles_from_one_minute_and_never_exceeds_half_an_hour() -> None:
    waits = [mail.backoff(attempt) / MINUTE for attempt in range(1, 10)]
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert mail.backoff(10_000) == timedelta(minutes=30)


async def test_a_refusing_smtp_server_keeps_mail_pending_for_a_day_then_fails_it(
    smtp: Peer,
) -> None:
    admins, others = await admins_and_others()
    await queue_one(await make_person("alice@example.com"))
    smtp.refusal = "451 4.3.0 Mailbox temporarily unavailable"
    done = await retry_until_given_up(smtp.settings())
    times = [at for at, _ in done]
    waits = [wait / MINUTE for _, wait in done]
    assert waits[:6] == [1, 2, 4, 8, 16, 30] and set(waits[5:]) == {30}
    # Pending through the whole day, failed at the first attempt a day after queueing.
    assert times[-2] < T0 + timedelta(days=1) <= times[-1] < T0 + timedelta(days=1, minutes=30)
    email = await Email.get()
    assert email.status == EmailStatus.FAILED and "Mailbox temporarily unavailable" in (
        email.last_error)
    assert smtp.messages == []
    notices = await Notification.filter(kind="email_failed").order_by("person_id")
    assert [n.person_id for n in notices] == [a.id for a in admins]  # not inactive, not others
    assert notices[0].params == {"to": "alice@example.com", "subject": "Your points burn soon"}


async def test_an_unreachable_smtp_port_is_an_outage_too_and_admins_are_told_once(
    any_db: str,
) -> None:
    admins, _ = await admins_and_others()
    await queue_one(await make_person("alice@example.com"))
    settings = unreachable()
    done = await retry_until_given_up(settings)
    assert {wait for _, wait in done[5:]} == {timedelta(minutes=30)}
    assert done[-1][0] >= T0 + timedelta(days=1)
    assert (await Email.get()).status == EmailStatus.FAILED
    # The job replayed, now and later, changes nothing and repeats no notice.
    last = done[-1][0]
    for moment in (last, last + timedelta(hours=1), last + timedelta(days=3)):
        assert await mail.send_due(moment, settings) == 0
    assert await Notification.filter(kind="email_failed").count() == len(admins)
    assert (await Email.get()).status == EmailStatus.FAILED


async def test_the_notice_names_the_mail_in_the_admins_language(any_db: str) -> None:
    admins, _ = await admins_and_others()
    await queue_one(await make_person("alice@example.com"), subject="Points burn <soon>")
    await retry_until_given_up(unreachable())
    shown, _ = await notifications.recent(admins[0].id)
    assert shown[0].text == ("The e-mail “Points burn <soon>” to alice@example.com was not "
                             "delivered after a day of tries.")
    assert shown[0].link == ("admin.mail", "?status=failed", "Resend it from the mail page")
    with i18n.language("ru"):
        shown, _ = await notifications.recent(admins[0].id)
    assert shown[0].text.startswith("Письмо «Points burn <soon>» для alice@example.com")


async def test_mail_queued_long_before_its_first_try_still_gets_half_an_hour(
    any_db: str,
) -> None:
    # The scheduler was down for two days: the day is over at the very first attempt.
    await queue_one(await make_person("alice@example.com"))
    done = await retry_until_given_up(unreachable(), start=T0 + timedelta(days=2))
    assert len(done) == mail.FEWEST_ATTEMPTS
    assert done[-1][0] - done[0][0] == timedelta(minutes=1 + 2 + 4 + 8 + 16)


async def test_a_failed_mail_resent_is_delivered_and_a_sent_one_cannot_be(smtp: Peer) -> None:
    await admins_and_others()
    await queue_one(await make_person("alice@example.com"))
    await retry_until_given_up(unreachable())
    later = T0 + timedelta(days=2)
    assert await mail.resend((await Email.get()).id, now=later) is True
    email = await Email.get()
    assert (email.status, email.attempts, email.next_attempt_at, email.created_at) == (
        EmailStatus.PENDING, 0, later, later)
    assert await mail.send_due(later, smtp.settings()) == 1
    assert [str(m["Subject"]) for m in smtp.messages] == ["Your points burn soon"]
    assert [str(m["To"]) for m in smtp.messages] == ["alice@example.com"]
    assert (await Email.get()).status == EmailStatus.SENT
    with pytest.raises(mail.AlreadySent):
        await mail.resend(email.id, now=later)
    assert await mail.resend(email.id + 1000, now=later) is False
    assert await mail.send_due(later + timedelta(hours=1), smtp.settings()) == 0
    assert len(smtp.messages) == 1


async def test_a_resent_mail_that_fails_again_a_day_later_is_news_again(any_db: str) -> None:
    admins, _ = await admins_and_others()
    await queue_one(await make_person("alice@example.com"))
    done = await retry_until_given_up(unreachable())
    again = done[-1][0] + timedelta(hours=2)
    await mail.resend((await Email.get()).id, now=again)
    second = await retry_until_given_up(unreachable(), start=again)
    assert second[-1][0] >= again + timedelta(days=1)
    assert await Notification.filter(kind="email_failed").count() == 2 * len(admins)


async def test_a_resend_during_a_failing_attempt_is_not_undone_by_that_attempt(
    smtp: Peer,
) -> None:
    await admins_and_others()
    email = await queue_one(await make_person("alice@example.com"))
    # Its sixth try, two days after queueing: this attempt would give up.
    await Email.filter(id=email.id).update(attempts=5)
    smtp.refusal = "451 4.3.0 Try later"
    smtp.hold = True
    moment = T0 + timedelta(days=2)
    sending = asyncio.create_task(mail.send_due(moment, smtp.settings()))
    assert await asyncio.to_thread(smtp.arrived.wait, 10)
    assert await mail.resend(email.id, now=moment) is True
    smtp.release.set()
    assert await sending == 0
    after = await Email.get()
    assert (after.status, after.attempts, after.next_attempt_at) == (
        EmailStatus.PENDING, 0, moment)
    assert await Notification.filter(kind="email_failed").count() == 0
