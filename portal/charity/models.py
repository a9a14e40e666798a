"""Charity causes and the donations players make to them.

Each cause has its own system account in the ledger ("cause:<token>"): a donation is one
ledger transfer from the player to it, and one ``Donation`` row written in the same
transaction, so the cause's balance and the sum of its donations always agree. The row
keeps who gave, from which outlet (for the teams' totals) and the transfer it was.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Outlet, Person
from portal.ledger.models import Account, Transfer


class Cause(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=120)
    summary = fields.CharField(max_length=300, default="")  # one line on the list
    description = fields.TextField(default="")  # plain text, paragraphs by blank lines
    picture = fields.CharField(max_length=200, null=True)  # a name under the media folder
    goal = fields.BigIntField()  # in points
    # How the brand turns points into money for the cause: points_per_unit points are one
    # unit of currency, and match_percent more is added by the brand (100: doubled).
    points_per_unit = fields.IntField(default=100)
    currency = fields.CharField(max_length=3, default="EUR")
    match_percent = fields.IntField(default=0)
    min_donation = fields.IntField(null=True)  # None: the portal's setting
    is_open = fields.BooleanField(default=True)  # taking donations
    position = fields.IntField(default=0)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "portal.Account", related_name="cause", on_delete=fields.RESTRICT
    )
    account_id: int
    created_at = fields.DatetimeField()
    created_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="causes_created", null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None

    class Meta:
        table = "cause"
        ordering = ["position", "id"]


class Donation(Model):
    id = fields.BigIntField(primary_key=True)
    cause: fields.ForeignKeyRelation[Cause] = fields.ForeignKeyField(
        "portal.Cause", related_name="donations", on_delete=fields.RESTRICT
    )
    cause_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="donations", on_delete=fields.RESTRICT
    )
    person_id: int
    # Where the donor worked when they gave: a team's total keeps what it gave together.
    outlet: fields.ForeignKeyNullableRelation[Outlet] = fields.ForeignKeyField(
        "portal.Outlet", related_name="donations", null=True, on_delete=fields.RESTRICT
    )
    outlet_id: int | None
    amount = fields.BigIntField()
    transfer: fields.OneToOneRelation[Transfer] = fields.OneToOneField(
        "portal.Transfer", related_name="donation", on_delete=fields.RESTRICT
    )
    transfer_id: int
    created_at = fields.DatetimeField()

    class Meta:
        table = "donation"
        indexes = (("cause_id", "id"), ("cause_id", "person_id"), ("outlet_id", "amount"))
