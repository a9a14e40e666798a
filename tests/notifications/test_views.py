"""The bell on every page (a fragment the page loads) and the notification centre."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portal.notifications import service as notifications
from portal.notifications.models import Notification
from tests.factories import People, SignIn, post_form


async def test_the_bell_counts_unread_notifications_and_the_centre_marks_them_read(
    people: People, sign_in: SignIn
) -> None:
    now = datetime(2026, 12, 16, tzinfo=UTC)
    await notifications.add_many([
        (people.alice.id, "warn:7:1:2026-11-22", "burn_warning",
         {"points": 1240, "date": "2026-12-14"}),
        (people.alice.id, "season:2026-12:1", "new_season", {"season": "2026-12"}),
        (people.erin.id, "season:2026-12:2", "new_season", {"season": "2026-12"}),
    ], now=now)
    alice = await sign_in("alice@example.com")
    dashboard = await alice.get("/")
    assert '/notifications/bell" hx-trigger="load"' in dashboard.text
    assert re.search(r'class="badge">2<', (await alice.get("/notifications/bell")).text)
    centre = await alice.get("/notifications")
    assert "1,240 points burn on December 14, 2026" in centre.text
    assert centre.text.count("<li class=\"unread\">") == 2
    await post_form(alice, "/notifications/read", {})
    assert 'class="badge"' not in (await alice.get("/notifications/bell")).text
    # Erin's notification is hers alone, and still unread.
    assert await Notification.filter(person_id=people.erin.id, read_at__isnull=True).count() == 1


async def test_a_notification_is_shown_in_the_readers_language(
    people: People, sign_in: SignIn,
) -> None:
    await notifications.add_many([(people.alice.id, "burned:x", "burned",
                                   {"points": 500, "date": "2026-11-01"})],
                                 now=datetime(2026, 12, 1, tzinfo=UTC))
    alice = await sign_in("alice@example.com")
    await post_form(alice, "/language", {"language": "ru"})
    centre = await alice.get("/notifications")
    assert "500 баллов сгорело: с 1 ноября 2026" in centre.text


async def test_the_same_event_notifies_once(people: People) -> None:
    row = (people.alice.id, "warn:1:1:2026-11-22", "burn_warning",
           {"points": 10, "date": "2026-12-21"})
    first = await notifications.add_many([row], now=datetime(2026, 12, 20, tzinfo=UTC))
    again = await notifications.add_many([row], now=datetime(2026, 12, 20, tzinfo=UTC))
    assert first == {"warn:1:1:2026-11-22"} and again == set()
