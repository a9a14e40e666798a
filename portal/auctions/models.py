"""Auctions and raffles: lots and their bids, raffles and their tickets.

Points never move here: a bid names the ledger hold that reserves its points, a ticket
the spend that paid it. Each lot and each raffle has its own system account in the ledger
("auction:<id>", "raffle:<id>") that bids are held for and tickets paid to.

A lot's row is the point where bids meet: every bid changes it by one conditional update
(the new amount must beat ``high_bid`` by the increment, the lot must be open and its end
not passed), in the same transaction as the holds, so bids on one lot are decided one at
a time on SQLite and PostgreSQL alike, and the settlement claims it the same way.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Person
from portal.catalog.models import Item, Order
from portal.ledger.models import Account


class LotStatus(StrEnum):
    OPEN = "open"  # taking bids between starts_at and ends_at
    CLOSED = "closed"  # settled: the winner paid (or nobody bid)
    CANCELLED = "cancelled"  # by marketing: every hold released


class Lot(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    picture = fields.CharField(max_length=200, default="")  # a name under the media folder
    # What the winner gets: a catalog item (a code from its pool, or a gift to deliver),
    # delivered as a catalog order, and/or a text (an experience, a gift described).
    prize_item: fields.ForeignKeyNullableRelation[Item] = fields.ForeignKeyField(
        "portal.Item", related_name="lots", null=True, on_delete=fields.RESTRICT
    )
    prize_item_id: int | None
    prize_text = fields.CharField(max_length=500, default="")
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(db_index=True)  # moves later with a soft close
    starting_bid = fields.IntField()
    increment = fields.IntField()
    soft_close_minutes = fields.IntField(default=2)
    status = fields.CharEnumField(LotStatus, max_length=10, default=LotStatus.OPEN)
    high_bid = fields.BigIntField(default=0)  # 0: no bid yet
    leader: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="lots_leading", null=True, on_delete=fields.RESTRICT
    )
    leader_id: int | None
    bids_count = fields.IntField(default=0)
    bidders = fields.IntField(default=0)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "portal.Account", related_name="lot", on_delete=fields.RESTRICT
    )
    account_id: int
    closed_at = fields.DatetimeField(null=True)
    # The prize as delivered: the catalog order (when the prize is an item), and when.
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "portal.Order", related_name="lots", null=True, on_delete=fields.RESTRICT
    )
    order_id: int | None
    delivered_at = fields.DatetimeField(null=True)
    delivery_problem = fields.CharField(max_length=500, default="")
    told_at = fields.DatetimeField(null=True)  # winner and losers told
    created_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="lots_created", null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "auction_lot"
        indexes = (("status", "ends_at"),)


class Bid(Model):
    """One accepted bid, with the hold of the bidder's whole amount on the lot.

    The hold is released when someone outbids them, or when they raise their own bid."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    lot: fields.ForeignKeyRelation[Lot] = fields.ForeignKeyField(
        "portal.Lot", related_name="bids", on_delete=fields.RESTRICT
    )
    lot_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="bids", on_delete=fields.RESTRICT
    )
    person_id: int
    amount = fields.BigIntField()
    hold_id = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "auction_bid"
        indexes = (("lot_id", "id"), ("lot_id", "person_id"))


class RaffleStatus(StrEnum):
    OPEN = "open"  # selling tickets until draw_at
    DRAWN = "drawn"


class Raffle(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    picture = fields.CharField(max_length=200, default="")
    prize_item: fields.ForeignKeyNullableRelation[Item] = fields.ForeignKeyField(
        "portal.Item", related_name="raffles", null=True, on_delete=fields.RESTRICT
    )
    prize_item_id: int | None
    prize_text = fields.CharField(max_length=500, default="")
    winners = fields.IntField()  # how many prizes
    ticket_price = fields.IntField()
    per_person_limit = fields.IntField()
    draw_at = fields.DatetimeField(db_index=True)
    status = fields.CharEnumField(RaffleStatus, max_length=10, default=RaffleStatus.OPEN)
    sold = fields.IntField(default=0)  # tickets sold: the next ticket's number is sold + 1
    seed = fields.CharField(max_length=64, default="")  # recorded at the draw
    drawn_at = fields.DatetimeField(null=True)
    told_at = fields.DatetimeField(null=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "portal.Account", related_name="raffle", on_delete=fields.RESTRICT
    )
    account_id: int
    created_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="raffles_created", null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "raffle"
        indexes = (("status", "draw_at"),)


class Ticket(Model):
    """Tickets bought together share a purchase ``key`` (one spend) and get consecutive
    numbers; ``number`` is what the published list and the draw use."""

    id = fields.BigIntField(primary_key=True)
    raffle: fields.ForeignKeyRelation[Raffle] = fields.ForeignKeyField(
        "portal.Raffle", related_name="tickets", on_delete=fields.RESTRICT
    )
    raffle_id: int
    number = fields.IntField()
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="tickets", on_delete=fields.RESTRICT
    )
    person_id: int
    key = fields.CharField(max_length=200)
    transfer_id = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "raffle_ticket"
        unique_together = (("raffle", "number"),)
        indexes = (("raffle_id", "person_id"), ("key",))


class RaffleWinner(Model):
    id = fields.IntField(primary_key=True)
    raffle: fields.ForeignKeyRelation[Raffle] = fields.ForeignKeyField(
        "portal.Raffle", related_name="drawn", on_delete=fields.RESTRICT
    )
    raffle_id: int
    place = fields.IntField()  # 1, 2, ... in the order drawn
    ticket_number = fields.IntField()
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="raffle_wins", on_delete=fields.RESTRICT
    )
    person_id: int
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "portal.Order", related_name="raffle_wins", null=True, on_delete=fields.RESTRICT
    )
    order_id: int | None
    delivery_problem = fields.CharField(max_length=500, default="")

    class Meta:
        table = "raffle_winner"
        unique_together = (("raffle", "place"),)
