"""The rewards catalog: categories, items, pools of e-certificate codes, orders, goals.

Codes are kept sealed (``portal.sealing``): ``sealed`` opens only with the deployment's
key, ``fingerprint`` (a keyed hash) finds duplicates, and ``last4`` is what marketing's
lists show. Points never move here: an order names the ledger transfer that paid it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.models import Model

from portal.accounts.models import Company, Person
from portal.ledger.models import Account


class ItemKind(StrEnum):
    CERTIFICATE = "certificate"  # an e-certificate or promo code from a pool
    GIFT = "gift"  # a thing delivered to the player's address


class OrderStatus(StrEnum):
    ISSUED = "issued"  # a code handed out
    AWAITING = "awaiting"  # a gift awaiting shipping
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"  # refunded; its code is never handed out again


class CodeStatus(StrEnum):
    AVAILABLE = "available"
    ISSUED = "issued"
    VOID = "void"  # its order was cancelled: never handed out again


class Category(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "catalog_category"
        ordering = ["position", "name"]


class Item(Model):
    id = fields.IntField(primary_key=True)
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "portal.Category", related_name="items", on_delete=fields.RESTRICT
    )
    category_id: int
    kind = fields.CharEnumField(ItemKind, max_length=12)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    how_to_use = fields.TextField(default="")  # shown with a certificate's code
    picture = fields.CharField(max_length=200, default="")  # a file under the media folder
    price = fields.IntField()
    # Partner managers redeem these with their company's points; players never see them.
    for_companies = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)
    # Gifts: units left (null: no limit). Certificates count their available codes.
    stock = fields.IntField(null=True)
    # Orders one person (or company) may place for this item in a calendar month.
    monthly_limit = fields.IntField(null=True)
    # Marketing is told once each time the stock falls to this many; ``low_told`` is
    # set when told and cleared when the stock rises above it again.
    low_stock_at = fields.IntField(null=True)
    low_told = fields.BooleanField(default=False)
    low_crossings = fields.IntField(default=0)
    # Hidden until the viewer finished this quiz (a survey is a quiz) or course.
    unlock_quiz_id = fields.IntField(null=True)
    unlock_course_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "catalog_item"
        indexes = (("active", "for_companies", "category_id"),)


class Code(Model):
    id = fields.BigIntField(primary_key=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "portal.Item", related_name="codes", on_delete=fields.RESTRICT
    )
    item_id: int
    sealed = fields.TextField()
    fingerprint = fields.CharField(max_length=64, unique=True)
    last4 = fields.CharField(max_length=4)
    value = fields.CharField(max_length=100, default="")  # "50 EUR"
    expires_on = fields.DateField(null=True)
    status = fields.CharEnumField(CodeStatus, max_length=10, default=CodeStatus.AVAILABLE)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "catalog_code"
        indexes = (("item_id", "status", "id"),)


class Order(Model):
    id = fields.IntField(primary_key=True)
    # The idempotency key: one order per key, whatever is retried.
    key = fields.CharField(max_length=200, unique=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "portal.Item", related_name="orders", on_delete=fields.RESTRICT
    )
    item_id: int
    # Who redeemed; for a company order, the manager who spent the company's points.
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="catalog_orders", on_delete=fields.RESTRICT
    )
    person_id: int
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "portal.Company", related_name="catalog_orders", null=True, on_delete=fields.RESTRICT
    )
    company_id: int | None
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="catalog_orders", on_delete=fields.RESTRICT
    )
    account_id: int
    price = fields.IntField()
    month = fields.CharField(max_length=7)  # "2026-12", for monthly limits
    status = fields.CharEnumField(OrderStatus, max_length=10)
    code: fields.OneToOneNullableRelation[Code] = fields.OneToOneField(
        "portal.Code", related_name="order", null=True, on_delete=fields.RESTRICT
    )
    code_id: int | None
    # An e-certificate's code still to be e-mailed to its owner: set by the order's own
    # insert, so the order is the e-mail's outbox (``catalog.mail_codes``, the mail job).
    mail_pending = fields.BooleanField(default=False, db_default=False)
    transfer_id = fields.BigIntField(null=True)  # the spend that paid it
    refund_transfer_id = fields.BigIntField(null=True)
    address = fields.TextField(default="")  # gifts: where to deliver
    cancel_reason = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "catalog_order"
        indexes = (("account_id", "item_id", "month"), ("status", "id"),
                   # Only the orders whose code is still to be e-mailed: a few at a time.
                   PartialIndex(fields=("id",), name="catalog_order_mail_pending",
                                condition={"mail_pending": True}))


class Reveal(Model):
    """Each time a code was shown or sent to its owner: the audit trail."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "portal.Order", related_name="reveals", on_delete=fields.RESTRICT
    )
    order_id: int
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="code_reveals", on_delete=fields.RESTRICT
    )
    person_id: int
    via = fields.CharField(max_length=10)  # web, api or email
    at = fields.DatetimeField()

    class Meta:
        table = "catalog_reveal"


class Goal(Model):
    """The one item a player pinned as what they save for."""

    id = fields.IntField(primary_key=True)
    person: fields.OneToOneRelation[Person] = fields.OneToOneField(
        "portal.Person", related_name="catalog_goal", on_delete=fields.CASCADE
    )
    person_id: int
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "portal.Item", related_name="goals", on_delete=fields.CASCADE
    )
    item_id: int
    pinned_at = fields.DatetimeField()

    class Meta:
        table = "catalog_goal"
