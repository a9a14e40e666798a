"""What admin pages say in the reader's language: the jobs' descriptions and the kinds of
company."""

from __future__ import annotations

from portal.accounts.models import Company
from tests.factories import People, SignIn, post_form


async def test_the_jobs_page_describes_each_job_in_the_readers_language(
        people: People, sign_in: SignIn) -> None:
    dave = await sign_in("dave@example.com")
    await post_form(dave, "/language", {"language": "ru"})
    page = (await dave.get("/admin/jobs")).text
    assert "Сжечь доступные баллы неактивных игроков" in page
    assert "Burn the available points of idle players" not in page
    assert "inactivity-burn" in page  # the name `portal run-job` takes stays as it is
    await post_form(dave, "/language", {"language": "id"})
    assert "Hanguskan poin tersedia milik pemain" in (await dave.get("/admin/jobs")).text


async def test_a_companys_kind_is_said_in_the_readers_language(
        people: People, sign_in: SignIn) -> None:
    await Company.create(name="Corner Shop", kind="retailer")
    dave = await sign_in("dave@example.com")
    await post_form(dave, "/language", {"language": "tr"})
    page = (await dave.get("/admin/companies")).text
    assert ">Perakendeci</td>" in page and ">Bayi</td>" in page
    assert ">retailer</td>" not in page and ">dealer</td>" not in page
