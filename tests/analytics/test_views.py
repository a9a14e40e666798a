"""The programme pages: marketing lands on them, a manager sees only their company, the
tables sort and drill down, and every export is formula-safe CSV or XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import openpyxl
import pytest
import time_machine

from portal.accounts.models import Company, Person
from portal.analytics import rollups
from portal.analytics.models import Visit
from tests.analytics.story import AFTER, Story, tell
from tests.factories import SignIn
from tests.sql_log import statements


@pytest.fixture
async def story(app: object, tmp_path: Path) -> Story:
    told = await tell(tmp_path / "media")
    await rollups.fold(AFTER)
    return told


async def test_marketing_lands_on_the_programme_page(story: Story, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    home = await carol.get("/")
    assert home.status_code == 303 and home.headers["location"].endswith("/analytics")


async def test_a_past_month_shows_its_figures_with_the_previous_beside(
        story: Story, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    page = await carol.get("/analytics?month=2026-01")
    assert page.status_code == 200
    assert "Acme Pumps" in page.text and "Other Traders" in page.text
    assert "<svg" in page.text and "The numbers" in page.text
    assert "67 %" in page.text  # two of three players finished a game


async def test_signing_in_records_one_visit_a_day(story: Story, sign_in: SignIn) -> None:
    alice = await sign_in("alice@example.com")
    for _ in range(3):
        await alice.get("/")
    person = await Person.get(email="alice@example.com")
    today = await Visit.filter(person_id=person.id).order_by("-day").first()
    assert today is not None and await Visit.filter(person_id=person.id, day=today.day).count() == 1


async def test_a_manager_sees_their_company_and_not_another(
        story: Story, sign_in: SignIn) -> None:
    bob = await sign_in("bob@example.com")
    own = await bob.get("/analytics?month=2026-01")
    assert own.status_code == 200 and "Acme North" in own.text
    assert "Other Traders" not in own.text and "Other Central" not in own.text
    other = await Company.get(name="Other Traders")
    assert (await bob.get(f"/analytics?scope=company:{other.id}")).status_code == 404
    assert (await bob.get(f"/analytics?scope=outlet:{story.people.other_outlet.id}"
                          )).status_code == 404
    assert (await bob.get("/analytics?scope=region:1")).status_code == 404
    staff = await bob.get(f"/analytics?month=2026-01&scope=outlet:{story.people.north.id}")
    assert "Alice Archer" in staff.text and "alice@example.com" not in staff.text


async def test_an_admin_sees_staff_emails(story: Story, sign_in: SignIn) -> None:
    dave = await sign_in("dave@example.com")
    staff = await dave.get(f"/analytics?month=2026-01&scope=outlet:{story.people.north.id}")
    assert "alice@example.com" in staff.text


@pytest.mark.parametrize("query", ["month=2026-13", "month=2099-01", "month=x",
                                   "scope=planet:1", "scope=company:999999", "sort=nope",
                                   "by=galaxy", "page=0"])
async def test_bad_parameters_are_refused_with_a_reason_never_a_500(
        story: Story, sign_in: SignIn, query: str) -> None:
    carol = await sign_in("carol@example.com")
    response = await carol.get(f"/analytics?{query}")
    assert response.status_code in (400, 404), response.text


async def test_the_hardest_questions_come_first_with_their_misconception(
        story: Story, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    page = await carol.get("/analytics/questions?month=2026-01")
    assert page.status_code == 200 and "A piston" in page.text
    assert f"/analytics/questions/{story.erin_question}?month=2026-01" in page.text
    question = await carol.get(f"/analytics/questions/{story.erin_question}?month=2026-01")
    assert question.status_code == 200 and "✓" in question.text


def _rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


async def test_exports_neutralise_formulas_in_csv_and_write_text_as_text_in_xlsx(
        story: Story, sign_in: SignIn) -> None:
    await Person.filter(id=story.people.alice.id).update(full_name="=HYPERLINK(\"x\")")
    dave = await sign_in("dave@example.com")
    query = f"month=2026-01&scope=outlet:{story.people.north.id}"
    staff = await dave.get(f"/analytics/export/staff.csv?{query}")
    assert staff.headers["content-disposition"].startswith("attachment;")
    names = [row[0] for row in _rows(staff)[1:]]
    assert names[0] == "'=HYPERLINK(\"x\")"
    workbook = await dave.get(f"/analytics/export/staff.xlsx?{query}")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=1)
    assert cell.value == "=HYPERLINK(\"x\")" and cell.data_type == "s"
    teams = _rows(await dave.get("/analytics/export/teams.csv?month=2026-01&by=company"))
    assert teams[1][:3] == ["Other Traders", "1", "0"]
    figures = dict((row[0], row[1]) for row in _rows(
        await dave.get("/analytics/export/figures.csv?month=2026-01"))[1:])
    assert figures["registered_players"] == "3" and figures["points_earned"] == "285"
    assert (await dave.get("/analytics/export/nothing.csv")).status_code == 404


async def test_this_month_shows_the_points_held_in_open_bids(
        story: Story, sign_in: SignIn) -> None:
    carol = await sign_in("carol@example.com")
    with time_machine.travel(AFTER.replace(day=25, month=1), tick=False):
        page = await carol.get("/analytics")
    assert "Held in open bids now" in page.text


async def test_the_api_gives_the_same_figures_and_the_same_scope_rule(
        story: Story, client: httpx.AsyncClient) -> None:
    from tests.factories import token_for

    carol = {"Authorization": f"Bearer {await token_for(client, 'carol@example.com')}"}
    body = (await client.get("/api/v1/analytics/programme?month=2026-01", headers=carol)).json()
    figures = {f["name"]: f for f in body["figures"]}
    assert body["scope"] == "network" and figures["registered_players"]["value"] == 3
    assert figures["registered_players"]["previous"] == 1
    assert figures["share_with_game"]["share"] is True
    bob = {"Authorization": f"Bearer {await token_for(client, 'bob@example.com')}"}
    own = (await client.get("/api/v1/analytics/programme?month=2026-01", headers=bob)).json()
    assert own["scope"] == f"company:{story.people.acme.id}"
    other = await client.get(f"/api/v1/analytics/programme?scope=outlet:"
                             f"{story.people.other_outlet.id}", headers=bob)
    assert other.status_code == 404
    bad = await client.get("/api/v1/analytics/programme?month=2026-13", headers=carol)
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["error"]["message"]


async def test_an_api_call_counts_as_a_visit_once_a_day(
        story: Story, client: httpx.AsyncClient) -> None:
    from tests.factories import token_for

    alice = await Person.get(email="alice@example.com")
    bearer = {"Authorization": f"Bearer {await token_for(client, 'alice@example.com')}"}
    before = await Visit.filter(person_id=alice.id).count()
    with statements() as sent:
        for _ in range(3):
            assert (await client.get("/api/v1/me", headers=bearer)).status_code == 200
    assert await Visit.filter(person_id=alice.id).count() == before + 1
    assert len([s for s in sent if "analytics_visit" in s]) == 1  # one write, not three
    refused = await client.get("/api/v1/me", headers={"Authorization": "Bearer nothing"})
    assert refused.status_code == 401
