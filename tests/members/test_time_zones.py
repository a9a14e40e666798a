"""Dates and times on each person's clock: their own zone (a profile setting), else their
company's, else the portal's; the zone named where a moment matters. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import time_machine

from portal.accounts.models import Company, Person
from portal.accounts.zones import zones_of
from portal.burns import service as burns
from portal.ledger import service as ledger
from portal.notifications.models import Email
from portal.settings import Settings
from tests.factories import People, SignIn, post_form, token_for

LAST_GAME = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)  # burns at the 2026-12-02 02:00 UTC run
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NNBSP = "\u202f"
PROFILE = {"display_name": "Alice", "language": "en", "email_burn_warnings": "true"}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, media_dir=str(tmp_path / "media"),
                    secret_key="test-secret-key-not-for-production", scheduler_enabled=False,
                    time_zone="Europe/Moscow")


async def idle(*people: Person) -> None:
    for person in people:
        account = await ledger.account_of_person(person.id)
        await ledger.earn(account, amount=1240, reason="Quiz", reference="quiz:1",
                          key=f"quiz:1:{person.id}", now=LAST_GAME)


async def dashboard(client: httpx.AsyncClient) -> str:
    with time_machine.travel(NOW, tick=False):
        return (await client.get("/")).text


async def test_a_person_reads_the_burn_moment_in_the_zone_they_chose(
        people: People, sign_in: SignIn) -> None:
    await idle(people.alice)
    alice = await sign_in("alice@example.com")
    assert "5:00\u202fAM (Moscow Standard Time)" in await dashboard(alice)  # the portal's

    response = await post_form(alice, "/profile", PROFILE | {"time_zone": "Asia/Jakarta"})
    assert response.status_code == 303
    assert (await Person.get(id=people.alice.id)).time_zone == "Asia/Jakarta"
    page = await dashboard(alice)
    assert (f"Your 1,240 points burn on December 2, 2026, 9:00{NNBSP}AM (Western Indonesia "
            "Time) if you do not finish") in page
    await post_form(alice, "/language", {"language": "id"})
    assert "2 Desember 2026 09.00 (Waktu Indonesia Barat)" in await dashboard(alice)


async def test_without_a_zone_of_their_own_people_read_their_companys(
        people: People, sign_in: SignIn) -> None:
    await idle(people.alice)
    await Company.filter(id=people.acme.id).update(time_zone="Europe/Istanbul")
    alice = await sign_in("alice@example.com")
    await post_form(alice, "/language", {"language": "tr"})
    assert "2 Aralık 2026 05:00 (Türkiye Standart Saati)" in await dashboard(alice)
    profile = (await alice.get("/profile")).text
    assert 'placeholder="Europe/Istanbul"' in profile  # what an empty field means

    # Their own zone wins; emptying the field gives them the company's again.
    await post_form(alice, "/profile", PROFILE | {"language": "tr", "time_zone": "Asia/Jakarta"})
    assert "(Batı Endonezya Saati)" in await dashboard(alice)
    await post_form(alice, "/profile", PROFILE | {"language": "tr", "time_zone": ""})
    assert (await Person.get(id=people.alice.id)).time_zone is None
    assert "(Türkiye Standart Saati)" in await dashboard(alice)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "europe/moscow", "UTC+3", "../etc/passwd"])
async def test_an_unknown_zone_is_refused_by_name_and_nothing_is_saved(
        people: People, sign_in: SignIn, zone: str) -> None:
    alice = await sign_in("alice@example.com")
    response = await post_form(alice, "/profile", PROFILE | {"display_name": "Changed",
                                                             "time_zone": zone})
    assert response.status_code == 400
    assert "Unknown time zone" in response.text and "Europe/Istanbul" in response.text
    assert 'aria-invalid="true"' in response.text
    saved = await Person.get(id=people.alice.id)
    assert (saved.display_name, saved.time_zone) != ("Changed", zone)
    assert saved.time_zone is None and saved.display_name != "Changed"


async def test_the_refusal_is_in_the_readers_language(people: People, sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    await post_form(alice, "/language", {"language": "ru"})
    response = await post_form(alice, "/profile", PROFILE | {"language": "ru",
                                                             "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Неизвестный часовой пояс «Mars/Olympus»" in response.text


async def test_warning_emails_give_each_person_the_moment_in_their_zone(
        people: People, settings: Settings) -> None:
    await idle(people.alice, people.erin)
    await Person.filter(id=people.alice.id).update(time_zone="Asia/Jakarta")
    await Company.filter(id=people.acme.id).update(time_zone="Europe/Istanbul")
    # Erin's company has no zone: she reads the portal's.
    assert await burns.warn_before_burn(datetime(2026, 11, 25, 9, tzinfo=UTC), settings) == 2
    alice = await Email.get(person_id=people.alice.id)
    erin = await Email.get(person_id=people.erin.id)
    assert f"December 2, 2026, 9:00{NNBSP}AM (Western Indonesia Time)" in alice.text
    assert f"December 2, 2026, 5:00{NNBSP}AM (Moscow Standard Time)" in erin.text
    zones = await zones_of([await Person.get(id=p.id) for p in (people.alice, people.bob,
                                                               people.erin)],
                           default=settings.time_zone)
    assert zones == {people.alice.id: "Asia/Jakarta", people.bob.id: "Europe/Istanbul",
                     people.erin.id: "Europe/Moscow"}


async def test_the_history_gives_when_points_arrived_on_the_readers_clock(
        people: People, sign_in: SignIn) -> None:
    await idle(people.alice)  # 2026-11-01 10:00 UTC
    await Person.filter(id=people.alice.id).update(time_zone="Asia/Jakarta")
    alice = await sign_in("alice@example.com")
    assert f"Nov 1, 2026, 5:00:00{NNBSP}PM" in (await alice.get("/history")).text


async def test_the_api_says_which_zone_the_person_reads_times_in(
        client: httpx.AsyncClient, people: People) -> None:
    await Company.filter(id=people.acme.id).update(time_zone="Europe/Istanbul")
    for email, zone in (("alice@example.com", "Europe/Istanbul"),
                        ("erin@example.com", "Europe/Moscow")):
        headers = {"Authorization": f"Bearer {await token_for(client, email)}"}
        assert (await client.get("/api/v1/me", headers=headers)).json()["time_zone"] == zone


async def test_an_admin_sets_a_companys_zone_and_an_unknown_one_is_refused(
        people: People, sign_in: SignIn) -> None:
    dave = await sign_in("dave@example.com")
    url = f"/admin/companies/{people.acme.id}/time-zone"
    refused = await post_form(dave, url, {"time_zone": "Asia/Nowhere"})
    assert refused.status_code == 400 and "Unknown time zone “Asia/Nowhere”" in refused.text
    assert (await Company.get(id=people.acme.id)).time_zone is None
    assert (await post_form(dave, url, {"time_zone": "Asia/Makassar"})).status_code == 303
    assert (await Company.get(id=people.acme.id)).time_zone == "Asia/Makassar"
    page = (await dave.get(f"/admin/companies/{people.acme.id}")).text
    assert 'value="Asia/Makassar"' in page and 'placeholder="Europe/Moscow"' in page
    await post_form(dave, url, {"time_zone": ""})
    assert (await Company.get(id=people.acme.id)).time_zone is None
    alice = await sign_in("alice@example.com")  # a player may not
    assert (await post_form(alice, url, {"time_zone": "UTC"})).status_code == 403
