"""What lots and raffles share after they end: delivering a prize and telling people.

A prize that is a catalog item is delivered as a catalog order nobody pays for
(``catalog.grant``), keyed so a resumed run makes no second order; a prize that is only
a text (an experience, a gift described) is recorded with its winner and needs nothing
delivered. A pool that ran dry is recorded as the delivery's problem, for marketing to
settle by hand, rather than undoing the settlement. A gift is granted without an address:
the winner is told to give one on the order's page (``give_address``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from portal import i18n
from portal.accounts.models import Person
from portal.catalog import service as catalog
from portal.catalog.models import Item, ItemKind, Order, OrderStatus
from portal.i18n import N_
from portal.notifications import mail
from portal.notifications import service as notifications
from portal.notifications.telling import Notice, tell
from portal.settings import Settings


async def check_prize_item(item_id: int | None) -> None:
    """A prize that is a catalog reward names one in the catalog: raises
    catalog.NoSuchItem otherwise (None, a text prize, needs nothing)."""
    if item_id is not None:
        await catalog.staff_item(item_id)


async def deliver(person: Person, item_id: int | None, *, key: str, settings: Settings,
                  now: datetime) -> tuple[int | None, str]:
    """The catalog order that delivers the prize (None: a text prize) and any problem."""
    if item_id is None:
        return None, ""
    try:
        granted = await catalog.grant(person, item_id, key=key, settings=settings, now=now)
    except catalog.CatalogRefusal as exc:  # sold out, or the item is gone
        return None, str(exc)[:500]
    item = await Item.get(id=item_id)
    if item.kind == ItemKind.GIFT:  # told once per order, whatever run delivers it
        await tell_everyone([Notice(person, f"prize-address:{granted.order_id}",
                                    "prize_address", {"title": item.title})],
                            settings=settings, now=now)
    return granted.order_id, ""


async def give_address(person: Person, order_id: int, address: str, *,
                       now: datetime | None = None) -> None:
    """The winner says where their gift prize goes: once, on their own order that awaits
    shipping without an address. Raises catalog.NoSuchOrder (not theirs, or no such
    order) or catalog.BadRequest (empty, too long, or the address already given)."""
    address = address.strip()
    if not address:
        raise catalog.BadRequest(N_("Say where the gift should be delivered."))
    if len(address) > 500:
        raise catalog.BadRequest(N_("The address is longer than 500 characters."))
    mine = Order.filter(id=order_id, person_id=person.id, company_id__isnull=True)
    if await mine.filter(status=OrderStatus.AWAITING, address="").update(
            address=address, updated_at=now or datetime.now(UTC)) == 1:
        return
    if not await mine.exists():
        raise catalog.NoSuchOrder()
    raise catalog.BadRequest(N_("This order already has its delivery address."))


async def tell_everyone(notices: list[Notice], *, settings: Settings, now: datetime,
                        conn: BaseDBAsyncClient | None = None) -> None:
    """A notice each, and an e-mail to those who want news by e-mail (in ``conn``'s
    transaction when given)."""

    def email(notice: Notice) -> mail.Rendered | None:
        if not notice.person.email_news:
            return None
        with i18n.language(notice.person.language):
            text = notifications.text_of(notice.kind, notice.params)
        return mail.render("auction", notice.person, settings, text=text)

    await tell(notices, now=now, email=email, conn=conn)
