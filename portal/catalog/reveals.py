"""The code reveal log for marketing: who saw or was sent which order's code, when and
how (web, api, email). Codes stay masked to their last four characters, as in every list
of marketing's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.accounts.models import Person
from portal.catalog.codes import mask
from portal.catalog.models import Code, Item, Order, Reveal


@dataclass(frozen=True)
class RevealLine:
    at: datetime
    via: str  # web, api or email
    person_name: str
    person_email: str
    order_id: int
    title: str
    masked_code: str


async def reveal_log(*, offset: int = 0, limit: int = 25) -> tuple[list[RevealLine], bool]:
    """A page of reveals, newest first, and whether older ones follow."""
    rows = await Reveal.all().order_by("-id").offset(offset).limit(limit + 1)
    page = rows[:limit]
    orders = {o.id: o for o in await Order.filter(id__in=list({r.order_id for r in page}))}
    items = {i.id: i for i in await Item.filter(
        id__in=list({o.item_id for o in orders.values()}))}
    codes = {c.id: c for c in await Code.filter(
        id__in=[o.code_id for o in orders.values() if o.code_id])}
    people = {p.id: p for p in await Person.filter(id__in=list({r.person_id for r in page}))}
    lines = []
    for r in page:
        order, person = orders[r.order_id], people[r.person_id]
        code = codes.get(order.code_id or 0)
        lines.append(RevealLine(at=r.at, via=r.via, person_name=person.full_name,
                                person_email=person.email, order_id=order.id,
                                title=items[order.item_id].title,
                                masked_code=mask(code.last4) if code else ""))
    return lines, len(rows) > limit
