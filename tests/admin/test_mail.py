"""The admin mail page: what is waiting or failed, newest first, and resending it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from portal.accounts.models import Person
from portal.notifications import mail
from portal.notifications.models import Email, EmailStatus
from tests.factories import People, SignIn, post_form
from tests.notifications.smtp import Peer, smtp_peer, unreachable

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp() -> Iterator[Peer]:
    with smtp_peer() as peer:
        yield peer


@pytest.fixture
async def dave(people: People, sign_in: SignIn) -> httpx.AsyncClient:
    return await sign_in("dave@example.com")


async def queue(person: Person, subject: str, *, status: EmailStatus = EmailStatus.PENDING,
                attempts: int = 0, error: str = "", now: datetime = T0) -> Email:
    key = f"email:{subject}"
    await mail.queue(person, key=key, now=now,
                     rendered=mail.Rendered(subject, "Text.\n", "<p>Text.</p>"))
    await Email.filter(key=key).update(status=status, attempts=attempts, last_error=error,
                                       sent_at=now if status == EmailStatus.SENT else None)
    return await Email.get(key=key)


def rows(page: httpx.Response) -> list[tuple[str, str]]:
    return re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td[^>]*>([^<]*)<", page.text)


async def test_the_page_lists_unsent_mail_newest_first_with_its_details(
    dave: httpx.AsyncClient, people: People
) -> None:
    await queue(people.alice, "Sent long ago", status=EmailStatus.SENT)
    await queue(people.alice, "Given up", status=EmailStatus.FAILED, attempts=53,
                error="(451, 'Mailbox temporarily unavailable')")
    await queue(people.erin, "Still trying", attempts=3, error="Connection refused")
    page = await dave.get("/admin/mail")
    assert page.status_code == 200
    assert '<a href="http://testserver/admin/mail" aria-current="page">' in page.text  # menu
    assert rows(page) == [("erin@example.com", "Still trying"),
                          ("alice@example.com", "Given up")]
    assert "Mailbox temporarily unavailable" in page.text and "Connection refused" in page.text
    assert page.text.count('name="csrftoken"') >= 2  # a resend form on each
    failed = await dave.get("/admin/mail?status=failed")
    assert rows(failed) == [("alice@example.com", "Given up")]
    assert "Attempts: 53" in failed.text
    sent = await dave.get("/admin/mail?status=sent")
    assert rows(sent) == [("alice@example.com", "Sent long ago")]
    assert "Resend" not in sent.text.split("<table")[1]


async def test_the_page_is_paged_and_keeps_its_filter(dave: httpx.AsyncClient,
                                                      people: People) -> None:
    for n in range(30):
        await queue(people.alice, f"Failed {n:02}", status=EmailStatus.FAILED)
    first = await dave.get("/admin/mail?status=failed")
    assert len(rows(first)) == 25 and rows(first)[0][1] == "Failed 29"
    assert 'href="?page=2&amp;status=failed"' in first.text
    second = await dave.get("/admin/mail?page=2&status=failed")
    assert [subject for _, subject in rows(second)] == [f"Failed {n:02}" for n in range(4, -1, -1)]


@pytest.mark.parametrize("query", ["?status=lost", "?status=", "?page=0", "?page=x"])
async def test_a_bad_filter_or_page_is_a_clear_400(dave: httpx.AsyncClient, query: str
                                                   ) -> None:
    response = await dave.get(f"/admin/mail{query}")
    if query == "?status=":
        assert response.status_code == 200  # empty means "not sent"
    else:
        assert response.status_code == 400


async def test_empty_pages_say_so_in_both_languages(dave: httpx.AsyncClient) -> None:
    assert "every e-mail has been delivered" in (await dave.get("/admin/mail")).text
    assert "No e-mail has failed." in (await dave.get("/admin/mail?status=failed")).text
    await post_form(dave, "/language", {"language": "ru"})
    page = await dave.get("/admin/mail")
    assert "все письма доставлены" in page.text and ">Почта<" in page.text


async def test_an_admin_resends_a_failed_mail_and_the_smtp_peer_receives_it(
    dave: httpx.AsyncClient, people: People, smtp: Peer
) -> None:
    await mail.queue(people.alice, key="email:warn", now=T0,
                     rendered=mail.Rendered("Your points burn soon", "Text.\n", "<p>T</p>"))
    moment = T0
    while (email := await Email.get()).status == EmailStatus.PENDING:  # a day of outage
        await mail.send_due(moment, unreachable())
        moment = (await Email.get()).next_attempt_at
    assert email.status == EmailStatus.FAILED
    # Dave is told, and the notice leads to the failed mail.
    centre = await dave.get("/notifications")
    assert ('<a href="http://testserver/admin/mail?status=failed">Resend it from the mail '
            'page</a>') in centre.text
    assert "“Your points burn soon” to alice@example.com was not delivered" in centre.text

    response = await post_form(dave, f"/admin/mail/{email.id}/resend", {})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/admin/mail?resent=1")
    page = await dave.get(response.headers["location"])
    assert "The e-mail is queued again" in page.text
    resent = await Email.get()
    assert (resent.status, resent.attempts) == (EmailStatus.PENDING, 0)
    assert resent.next_attempt_at <= datetime.now(UTC)

    assert await mail.send_due(datetime.now(UTC), smtp.settings()) == 1
    assert [str(m["Subject"]) for m in smtp.messages] == ["Your points burn soon"]
    assert (await Email.get()).status == EmailStatus.SENT
    again = await post_form(dave, f"/admin/mail/{email.id}/resend", {})
    assert again.status_code == 409 and "already been sent" in again.text
    assert len(smtp.messages) == 1


async def test_a_pending_mail_can_be_resent_now(dave: httpx.AsyncClient, people: People
                                                ) -> None:
    email = await queue(people.alice, "Waiting", attempts=7, now=datetime.now(UTC))
    await Email.filter(id=email.id).update(next_attempt_at=datetime.now(UTC) + timedelta(
        minutes=30))
    assert (await post_form(dave, f"/admin/mail/{email.id}/resend", {})).status_code == 303
    resent = await Email.get(id=email.id)
    assert resent.attempts == 0 and resent.next_attempt_at <= datetime.now(UTC)


@pytest.mark.parametrize("email_id", ["abc", "999999", str(2**63), "-1", "1.5", "0x1"])
async def test_a_bad_or_unknown_id_is_not_found(dave: httpx.AsyncClient, email_id: str
                                                ) -> None:
    response = await post_form(dave, f"/admin/mail/{email_id}/resend", {})
    assert response.status_code == 404


async def test_resend_needs_the_csrf_token(dave: httpx.AsyncClient, people: People) -> None:
    email = await queue(people.alice, "Given up", status=EmailStatus.FAILED)
    response = await dave.post(f"/admin/mail/{email.id}/resend", data={})
    assert response.status_code == 403
    assert (await Email.get(id=email.id)).status == EmailStatus.FAILED


@pytest.mark.parametrize("who", ["alice@example.com", "bob@example.com", "carol@example.com"])
async def test_no_one_but_an_admin_sees_the_page_or_resends(
    people: People, sign_in: SignIn, who: str
) -> None:
    email = await queue(people.alice, "Given up", status=EmailStatus.FAILED)
    client = await sign_in(who)
    page = await client.get("/admin/mail")
    assert page.status_code == 403 and "Given up" not in page.text
    assert (await post_form(client, f"/admin/mail/{email.id}/resend", {})).status_code == 403
    assert (await Email.get(id=email.id)).status == EmailStatus.FAILED
    assert '/admin/mail"' not in (await client.get("/rules")).text  # not in their menu


async def test_an_anonymous_visitor_is_sent_to_sign_in(client: httpx.AsyncClient,
                                                       people: People) -> None:
    email = await queue(people.alice, "Given up", status=EmailStatus.FAILED)
    assert (await client.get("/admin/mail")).status_code == 303
    assert (await post_form(client, f"/admin/mail/{email.id}/resend", {})).status_code == 303
    assert (await Email.get(id=email.id)).status == EmailStatus.FAILED
