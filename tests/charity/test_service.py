"""Giving to a cause: one guarded ledger transfer and its record, once per key; totals that
always agree with the donations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.charity import service as charity
from portal.charity.models import Donation
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer, TransferKind
from tests import factories
from tests.charity.causes import NOW, give_points, make_cause, terms

pytestmark = pytest.mark.usefixtures("any_db")


async def test_a_donation_moves_points_to_the_cause_and_appears_in_the_donors_history(
) -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)

    done = await charity.donate(people.alice, cause.id, amount=300, key="k1", minimum=100,
                                now=NOW)

    assert done.amount == 300 and not done.replayed
    assert (await ledger.account_of_person(people.alice.id)).balance == 700
    view = await charity.cause(cause.id, minimum=100)
    assert (view.total, view.donors) == (300, 1)
    entries, _ = await ledger.history(await ledger.account_of_person(people.alice.id))
    assert entries[0].kind == TransferKind.DONATE and entries[0].amount == -300
    assert "Clean water for schools" in entries[0].reason
    lines, more = await charity.donations(cause.id)
    assert [(line.donor, line.amount, line.outlet) for line in lines] == [
        (people.alice.display_name, 300, "Acme North")]
    assert not more
    assert await ledger.check_invariants() == []


async def test_the_same_key_again_gives_once_and_answers_as_the_first_time() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    first = await charity.donate(people.alice, cause.id, amount=200, key="tap", minimum=100,
                                 now=NOW)
    again = await charity.donate(people.alice, cause.id, amount=200, key="tap", minimum=100,
                                 now=NOW)
    assert again.replayed and again.donation_id == first.donation_id
    assert await Donation.all().count() == 1
    assert (await ledger.account_of_person(people.alice.id)).balance == 800


async def test_the_same_key_with_another_amount_is_refused() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    await charity.donate(people.alice, cause.id, amount=200, key="k", minimum=100, now=NOW)
    with pytest.raises(ledger.KeyReused):
        await charity.donate(people.alice, cause.id, amount=300, key="k", minimum=100,
                             now=NOW)


async def test_one_persons_key_never_replays_another_persons_donation() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    await give_points(people.erin, 1000)
    await charity.donate(people.alice, cause.id, amount=200, key="same", minimum=100, now=NOW)
    erins = await charity.donate(people.erin, cause.id, amount=200, key="same", minimum=100,
                                 now=NOW)
    assert not erins.replayed
    assert (await charity.cause(cause.id, minimum=100)).donors == 2


async def test_a_donation_beyond_the_available_points_is_refused_and_records_nothing(
) -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 150)
    with pytest.raises(ledger.NotEnoughPoints):
        await charity.donate(people.alice, cause.id, amount=200, key="k", minimum=100,
                             now=NOW)
    assert await Donation.all().count() == 0
    assert await Transfer.filter(kind=TransferKind.DONATE).count() == 0
    assert (await charity.cause(cause.id, minimum=100)).total == 0


async def test_held_points_cannot_be_donated() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 500)
    lot = await ledger.system_account("auction:1")
    await ledger.hold(await ledger.account_of_person(people.alice.id), target=lot,
                      amount=400, reason="Bid", reference="lot:1", key="bid")
    with pytest.raises(ledger.NotEnoughPoints):
        await charity.donate(people.alice, cause.id, amount=200, key="k", minimum=100,
                             now=NOW)


async def test_below_the_minimum_is_refused_the_causes_own_minimum_first() -> None:
    people = await factories.personas()
    plain = await make_cause(people.carol)
    strict = await make_cause(people.carol, title="Forests", min_donation=500)
    await give_points(people.alice, 1000)
    with pytest.raises(charity.DonationTooSmall, match="100 points"):
        await charity.donate(people.alice, plain.id, amount=99, key="a", minimum=100, now=NOW)
    with pytest.raises(charity.DonationTooSmall, match="500 points"):
        await charity.donate(people.alice, strict.id, amount=499, key="b", minimum=100,
                             now=NOW)
    await charity.donate(people.alice, strict.id, amount=500, key="c", minimum=100, now=NOW)


async def test_a_closed_cause_takes_no_donations_and_an_unknown_one_is_not_found() -> None:
    people = await factories.personas()
    closed = await make_cause(people.carol, is_open=False)
    await give_points(people.alice, 1000)
    with pytest.raises(charity.CauseClosed):
        await charity.donate(people.alice, closed.id, amount=200, key="k", minimum=100,
                             now=NOW)
    with pytest.raises(charity.CauseNotFound):
        await charity.donate(people.alice, 999_999, amount=200, key="k", minimum=100, now=NOW)


async def test_money_follows_the_conversion_and_the_brands_match() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol, points_per_unit=100, match_percent=50)
    view = await charity.cause(cause.id, minimum=100)
    assert view.money(250) == Decimal("3.75")  # 2.50 EUR, and half as much again
    assert view.percent == 0


async def test_the_network_total_and_each_outlets_total_add_up() -> None:
    people = await factories.personas()
    water = await make_cause(people.carol)
    trees = await make_cause(people.carol, title="Trees")
    for person in (people.alice, people.bob, people.erin):
        await give_points(person, 1000)
    await charity.donate(people.alice, water.id, amount=100, key="1", minimum=100, now=NOW)
    await charity.donate(people.bob, trees.id, amount=300, key="2", minimum=100, now=NOW)
    await charity.donate(people.erin, water.id, amount=250, key="3", minimum=100, now=NOW)

    network = await charity.network(outlet_id=people.north.id)
    assert (network.total, network.donors) == (650, 3)
    assert [(o.outlet, o.company, o.total, o.donors, o.rank) for o in network.outlets] == [
        ("Acme North", "Acme Pumps", 400, 2, 1), ("Other Central", "Other Traders", 250, 1, 2)]
    top_one = await charity.network(outlet_id=people.other_outlet.id, top=1)
    assert [o.outlet for o in top_one.outlets] == ["Acme North"]
    assert top_one.mine is not None and top_one.mine.rank == 2


async def test_editing_a_cause_keeps_its_total_and_donations() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    await charity.donate(people.alice, cause.id, amount=400, key="k", minimum=100, now=NOW)
    await charity.update_cause(cause.id, terms(title="Clean water", goal=5000), picture=None)
    view = await charity.cause(cause.id, minimum=100)
    assert (view.title, view.goal, view.total, view.donors) == ("Clean water", 5000, 400, 1)


async def test_every_cause_total_equals_the_sum_of_its_donations() -> None:
    people = await factories.personas()
    causes = [await make_cause(people.carol, title=f"Cause {i}") for i in range(3)]
    await give_points(people.alice, 5000)
    for i in range(12):
        await charity.donate(people.alice, causes[i % 3].id, amount=100 + i, key=f"k{i}",
                             minimum=100, now=NOW)
    for cause in causes:
        account = await Account.get(id=cause.account_id)
        given = sum(d.amount for d in await Donation.filter(cause_id=cause.id))
        assert account.balance == given == (await charity.cause(cause.id, minimum=1)).total


async def test_the_export_lists_every_donation_with_its_money() -> None:
    people = await factories.personas()
    cause = await make_cause(people.carol)
    await give_points(people.alice, 1000)
    await charity.donate(people.alice, cause.id, amount=250, key="k", minimum=100, now=NOW)
    rows = [row async for row in charity.export_rows()]
    assert len(rows) == 1
    assert rows[0][2:] == ("Clean water for schools", "Alice Archer", "alice@example.com",
                           "Acme North", "Acme Pumps", 250, "5.00", "EUR")
