"""Telling people: the notice and its e-mail are written together, once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.notifications import mail
from portal.notifications.models import Email, Notification
from portal.notifications.telling import Notice, tell
from tests.factories import make_person

pytestmark = pytest.mark.usefixtures("any_db")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LETTER = mail.Rendered("A new month", "Play a quiz.\n", "<p>Play a quiz.</p>")


async def test_a_new_notice_comes_with_its_email_and_a_repeat_tells_nobody_again() -> None:
    alice = await make_person("alice@example.com")
    rendered: list[str] = []

    def email(notice: Notice) -> mail.Rendered:
        rendered.append(notice.key)
        return LETTER

    notice = Notice(alice, "season:2026-12:1", "new_season", {"season": "2026-12"})
    assert await tell([notice], now=T0, email=email) == {"season:2026-12:1"}
    assert await tell([notice], now=T0, email=email) == set()
    assert rendered == ["season:2026-12:1"]  # no e-mail is even rendered for a repeat
    assert await Notification.filter(person_id=alice.id).count() == 1
    sent = await Email.get(key="email:season:2026-12:1")
    assert (sent.to, sent.subject) == ("alice@example.com", "A new month")


async def test_a_person_who_wants_no_email_still_gets_the_notice() -> None:
    bob = await make_person("bob@example.com")
    notice = Notice(bob, "season:2026-12:2", "new_season", {"season": "2026-12"})
    assert await tell([notice], now=T0, email=lambda _: None) == {"season:2026-12:2"}
    assert await Notification.exists(key="season:2026-12:2")
    assert not await Email.exists(person_id=bob.id)


async def test_a_notice_whose_email_cannot_be_made_is_not_written_either() -> None:
    carol = await make_person("carol@example.com")

    def broken(notice: Notice) -> mail.Rendered:
        raise RuntimeError("the template is broken")

    notice = Notice(carol, "season:2026-12:3", "new_season", {"season": "2026-12"})
    with pytest.raises(RuntimeError):
        await tell([notice], now=T0, email=broken)
    assert not await Notification.exists(key="season:2026-12:3")
    # The next run tells the person after all.
    assert await tell([notice], now=T0, email=lambda _: LETTER) == {"season:2026-12:3"}
    assert await Email.exists(key="email:season:2026-12:3")
