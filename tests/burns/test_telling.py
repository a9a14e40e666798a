"""What players are told: the dashboard, the notices and the e-mails give the moment the
burn job really burns the points, in the portal's time zone with the zone named, in the
reader's language, and the 1-day warning says "tomorrow". On both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from portal.burns import service as burns
from portal.ledger import service as ledger
from portal.notifications import service as notifications
from portal.notifications.models import Email, Notification
from portal.settings import Settings
from tests.factories import People, SignIn, post_form

LAST_GAME = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)  # idle until 2026-12-01 10:00 UTC
NNBSP = "\u202f"  # CLDR's space before AM/PM


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, media_dir=str(tmp_path / "media"),
                    secret_key="test-secret-key-not-for-production", scheduler_enabled=False,
                    time_zone="Europe/Moscow")


async def idle(people: People, points: int = 1240) -> None:
    for person in (people.alice, people.erin):
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=points, reason="Quiz", reference="quiz:1",
                          key=f"quiz:1:{person.id}", now=LAST_GAME)
    people.erin.language = "ru"
    await people.erin.save(update_fields=["language"])


def test_the_burn_moment_is_the_jobs_first_run_at_or_after_the_idle_period_ends() -> None:
    before = utc(11, 20, 12)
    assert burns.burn_moment(utc(12, 1, 10), now=before) == utc(12, 2, 2)
    assert burns.burn_moment(utc(12, 2, 2), now=before) == utc(12, 2, 2)
    assert burns.burn_moment(utc(12, 2, 1, 59), now=before) == utc(12, 2, 2)
    assert burns.burn_moment(utc(12, 2, 2, 1), now=before) == utc(12, 3, 2)


def test_points_due_but_not_yet_burned_burn_at_the_next_run_never_in_the_past() -> None:
    # The 12-02 run did not happen (the scheduler was down): the next one is 12-03.
    assert burns.burn_moment(utc(12, 1, 10), now=utc(12, 2, 5)) == utc(12, 3, 2)
    assert burns.burn_moment(utc(12, 1, 10), now=utc(12, 2, 2)) == utc(12, 2, 2)


def test_a_run_burns_what_was_due_at_its_scheduled_time() -> None:
    assert burns.last_burn_run(utc(12, 2, 1, 59)) == utc(12, 1, 2)
    assert burns.last_burn_run(utc(12, 2, 2)) == utc(12, 2, 2)
    assert burns.last_burn_run(utc(12, 2, 14)) == utc(12, 2, 2)


async def test_the_dashboard_gives_the_burn_moment_in_the_portal_zone_and_language(
    people: People, sign_in: SignIn
) -> None:
    await idle(people)
    with time_machine.travel(utc(11, 20, 12), tick=False):
        alice = await sign_in("alice@example.com")
        page = (await alice.get("/")).text
        moment = f"December 2, 2026, 5:00{NNBSP}AM (Moscow Standard Time)"
        assert f"Your 1,240 points burn on {moment} if you do not finish" in page
        assert f"Finish a game or course before {moment} to keep your points." in page
        await post_form(alice, "/language", {"language": "ru"})
        page = (await alice.get("/")).text
        assert ("Ваши баллы (1\xa0240) сгорят 2 декабря 2026\u202fг., 05:00 "
                "(Москва, стандартное время), если") in page


async def test_the_dashboard_never_gives_a_past_moment_for_points_due_but_not_burned(
    people: People, sign_in: SignIn
) -> None:
    await idle(people)
    # 12-02 08:00 in Moscow: the 02:00 UTC run did not burn them (it did not run).
    with time_machine.travel(utc(12, 2, 5), tick=False):
        alice = await sign_in("alice@example.com")
        page = (await alice.get("/")).text
        assert (f"Your 1,240 points burn tomorrow, December 3, 2026, 5:00{NNBSP}AM "
                "(Moscow Standard Time), if you do not finish") in page
        assert "December 2, 2026" not in page


async def test_the_one_day_warning_notice_says_tomorrow_in_both_languages(
    people: People, sign_in: SignIn, settings: Settings
) -> None:
    await idle(people)
    assert await burns.warn_before_burn(utc(12, 1, 9), settings) == 2
    with time_machine.travel(utc(12, 1, 9, 5), tick=False):
        alice = await sign_in("alice@example.com")
        centre = (await alice.get("/notifications")).text
        assert (f"1,240 points burn tomorrow, December 2, 2026, 5:00{NNBSP}AM (Moscow Standard "
                "Time): finish one game or course before then to keep them.") in centre
        erin = await sign_in("erin@example.com")
        await post_form(erin, "/language", {"language": "ru"})
        centre = (await erin.get("/notifications")).text
        assert ("1\xa0240 баллов сгорят завтра, 2 декабря 2026\u202fг., 05:00 (Москва, стандартное "
                "время): закончите одну игру или курс") in centre


async def test_the_seven_day_warning_gives_the_date_and_the_one_day_warning_tomorrow_by_email(
    people: People, settings: Settings
) -> None:
    await idle(people)
    assert await burns.warn_before_burn(utc(11, 24, 9), settings) == 0  # 7 days 17 hours
    assert await burns.warn_before_burn(utc(11, 25, 9), settings) == 2
    assert await burns.warn_before_burn(utc(12, 1, 9), settings) == 2
    english = await Email.filter(person_id=people.alice.id).order_by("id")
    russian = await Email.filter(person_id=people.erin.id).order_by("id")
    assert [e.subject for e in english] == ["1,240 points burn on December 2, 2026",
                                            "1,240 points burn tomorrow"]
    assert [e.subject for e in russian] == ["1\xa0240 баллов сгорят 2 декабря 2026\u202fг.",
                                            "1\xa0240 баллов сгорят завтра"]
    moment = f"December 2, 2026, 5:00{NNBSP}AM (Moscow Standard Time)"
    assert f"burn on {moment} because" in english[0].text
    assert f"burn tomorrow, {moment}, because" in english[1].text
    assert f"burn tomorrow, {moment}, because" in english[1].html
    assert ("сгорят завтра, 2 декабря 2026\u202fг., 05:00 (Москва, стандартное время), потому что"
            in russian[1].text)
    assert "сгорят завтра" in russian[1].html


async def test_where_the_burn_falls_on_the_same_day_the_warning_says_today(
    people: People, settings: Settings
) -> None:
    """02:00 UTC is 21:00 the evening before in New York: the 1-day warning, sent at
    04:00 there, says "today"."""
    await idle(people)
    new_york = Settings(secret_key="x", time_zone="America/New_York")
    assert await burns.warn_before_burn(utc(12, 1, 9), new_york) == 2
    email = await Email.get(person_id=people.alice.id)
    assert email.subject == "1,240 points burn today"
    assert (f"burn today, December 1, 2026, 9:00{NNBSP}PM (Eastern Standard Time), because"
            in email.text)
    shown, _ = await notifications.recent(people.alice.id, zone="America/New_York")
    assert shown[0].text.startswith("1,240 points burn today, December 1, 2026, 9:00")


async def test_a_warning_written_before_moments_were_stored_still_shows_its_date(
    people: People,
) -> None:
    await Notification.create(person_id=people.alice.id, key="warn:7:1:2026-11-01",
                              kind="burn_warning", params={"points": 10, "date": "2026-12-01"},
                              created_at=utc(11, 24, 9))
    shown, _ = await notifications.recent(people.alice.id)
    assert shown[0].text == ("10 points burn on December 1, 2026: finish one game or course "
                             "to keep them.")
