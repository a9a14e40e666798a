"""Where the points go, beyond the story's hand-worked month: a refund is a spend given
back (not points received), companies' own accounts have figures of their own, and the
points held in open bids are counted by the fold, never read from the accounts by a page.
On both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.analytics import rollups, service
from portal.analytics.service import Scope, ScopeKind
from portal.ledger import service as ledger
from portal.ledger.models import Account
from tests.analytics.story import AFTER, Story, at, tell
from tests.sql_log import statements

pytestmark = pytest.mark.usefixtures("any_db")
NOW = at(25)  # within the story's month: "now" figures are shown


@pytest.fixture
async def story(tmp_path: Path) -> Story:
    return await tell(tmp_path / "media")


async def _fold() -> None:
    await rollups.fold(AFTER, settle=rollups.SETTLE * 0)


async def test_a_refund_is_a_spend_given_back_not_points_earned(story: Story) -> None:
    alice = await ledger.account_of_person(story.people.alice.id)
    await ledger.refund(alice, amount=100, reason="Order cancelled", reference="story",
                        key="story:refund", now=at(23))
    await _fold()
    found = await service.programme(service.NETWORK, "2026-01", now=AFTER)
    month = found.month
    assert (month["earned"], month["spent"], month["refunded"]) == (285, 100, 100)
    assert month["received_other"] == 0
    assert month.liability == 75 + 180 + 40 + 100  # the points are back with Alice
    figures = {f.name: f.value for f in found.figures}
    assert (figures["points_earned"], figures["points_refunded"]) == (285, 100)


async def test_companies_own_points_are_figures_of_their_own(story: Story) -> None:
    acme = await ledger.account_of_company(story.people.acme.id)
    other = await ledger.account_of_company(story.people.other_outlet.company_id)
    assert acme is not None and other is not None
    await ledger.adjust(acme, amount=500, reason="Launch bonus", by_person_id=story.people.carol.id,
                        key="story:company-credit", now=at(3))
    await ledger.share(acme, amount=25, reason="Share", reference="story",
                       key="story:company-share", now=at(4))
    await ledger.spend(acme, amount=200, reason="Demo pump", reference="story",
                       key="story:company-spend", now=at(6))
    await ledger.refund(acme, amount=50, reason="Cancelled", reference="story",
                        key="story:company-refund", now=at(7))
    await ledger.adjust(other, amount=70, reason="Welcome", by_person_id=story.people.carol.id,
                        key="story:other-credit", now=at(8))
    await _fold()

    network = await service.programme(service.NETWORK, "2026-01", now=AFTER)
    assert network.company is not None and network.company_previous is not None
    assert [network.company[c] for c in ("credited", "shared", "spent", "refunded")] == [
        570, 25, 200, 50]
    assert (network.company.held, network.company_previous.held) == (445, 0)
    # Players' figures do not take the companies' points in.
    assert (network.month["earned"], network.month["spent"], network.month.adjusted) == (
        285, 100, 40)
    figures = {f.name: f.value for f in network.figures}
    assert (figures["company_points_credited"], figures["company_points_held"]) == (570, 445)

    acme_scope = Scope(ScopeKind.COMPANY, story.people.acme.id)
    own = await service.programme(acme_scope, "2026-01", now=AFTER)
    assert own.company is not None
    assert (own.company["credited"], own.company["spent"], own.company.held) == (500, 200, 375)
    outlet = Scope(ScopeKind.OUTLET, story.people.north.id)
    assert (await service.programme(outlet, "2026-01", now=AFTER)).company is None


async def test_points_in_open_bids_are_counted_by_the_fold_not_per_view(story: Story) -> None:
    await _fold()
    acme_scope = Scope(ScopeKind.COMPANY, story.people.acme.id)
    other_scope = Scope(ScopeKind.COMPANY, story.people.other_outlet.company_id)
    with statements() as sent:
        found = await service.programme(service.NETWORK, "2026-01", now=NOW)
    assert found.held_now == 30  # Bob's open bid
    assert sent and not [s for s in sent if any(
        f" {table} " in f" {s} ".replace('"', " ") for table in ("account", "hold", "transfer"))]
    assert await service.held_now(acme_scope) == 30
    assert await service.held_now(other_scope) == 0

    lot = await Account.get(code="auction:story")
    erin = await ledger.account_of_person(story.people.erin.id)  # 180 left after her burn
    bid = await ledger.hold(erin, target=lot, amount=45, reason="Bid", reference="story",
                            key="story:erin-bid", now=at(23))
    assert await service.held_now(service.NETWORK) == 30  # until the fold counts again
    await _fold()
    assert await service.held_now(service.NETWORK) == 75
    assert await service.held_now(other_scope) == 45
    await ledger.release(bid.id, now=at(24))
    await _fold()
    assert (await service.held_now(service.NETWORK), await service.held_now(other_scope)) == (
        30, 0)  # Bob's bid is still open
