"""The points ledger: accounts, append-only transfers, holds and per-season earnings.

Rows of ``Transfer`` are never updated or deleted; a mistake is corrected by a new one.
Only ``portal.ledger.service`` writes any of these tables.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Company, Person


class AccountKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    SYSTEM = "system"  # issuance, burns, catalog, each auction, each charity cause


class TransferKind(StrEnum):
    EARN = "earn"
    BURN = "burn"
    SPEND = "spend"
    CAPTURE = "capture"  # an auction hold that became a spend
    DONATE = "donate"
    ADJUST = "adjust"
    REFUND = "refund"  # spent points given back (a cancelled catalog order)
    SHARE = "share"  # a company's share of what its staff earned (not an earning itself)


class HoldStatus(StrEnum):
    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"


class Account(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(AccountKind, max_length=10)
    # System accounts are found by code: "issuance", "burns", "auction:12", ...
    code = fields.CharField(max_length=100, unique=True, null=True)
    name = fields.CharField(max_length=200)
    person: fields.OneToOneNullableRelation[Person] = fields.OneToOneField(
        "portal.Person", related_name="account", null=True, on_delete=fields.RESTRICT
    )
    person_id: int | None
    company: fields.OneToOneNullableRelation[Company] = fields.OneToOneField(
        "portal.Company", related_name="account", null=True, on_delete=fields.RESTRICT
    )
    company_id: int | None
    balance = fields.BigIntField(default=0)
    held = fields.BigIntField(default=0)
    # Points ever earned: ranks and tiers use this, so spending never demotes anyone.
    earned_total = fields.BigIntField(default=0)
    # When points were last earned: the all-time board's tie-break.
    last_earned_at = fields.DatetimeField(null=True)
    # When a game or course was last finished (points or not): inactivity burns use it.
    last_active_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"
        # The all-time board's index (earned_total descending) is made by migration 0005:
        # Tortoise cannot declare a descending column.


class Transfer(Model):
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    kind = fields.CharEnumField(TransferKind, max_length=10)
    source: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="debits", on_delete=fields.RESTRICT
    )
    source_id: int
    target: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="credits", on_delete=fields.RESTRICT
    )
    target_id: int
    amount = fields.BigIntField()
    # The reason in English, for audits; ``reason_message`` (an ``N_`` message id) and
    # ``reason_params`` say it in the reader's language. No message id: a text a person
    # wrote, shown as written (see ``portal.ledger.reasons``).
    reason = fields.CharField(max_length=500)
    reason_message = fields.CharField(max_length=500, null=True)
    reason_params: dict[str, Any] | None = fields.JSONField(null=True)
    reference = fields.CharField(max_length=200, default="")
    season = fields.CharField(max_length=7)  # "2026-12"
    created_at = fields.DatetimeField(db_index=True)
    created_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="transfers_made", null=True, on_delete=fields.RESTRICT
    )
    created_by_id: int | None

    class Meta:
        table = "transfer"
        indexes = (("source_id", "id"), ("target_id", "id"), ("kind", "id"))


class Hold(Model):
    """Points reserved for a pending transfer (an auction bid), resolved exactly once."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="holds", on_delete=fields.RESTRICT
    )
    account_id: int
    target: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="incoming_holds", on_delete=fields.RESTRICT
    )
    target_id: int
    amount = fields.BigIntField()
    # The reason in English, for audits; ``reason_message`` (an ``N_`` message id) and
    # ``reason_params`` say it in the reader's language. No message id: a text a person
    # wrote, shown as written (see ``portal.ledger.reasons``).
    reason = fields.CharField(max_length=500)
    reason_message = fields.CharField(max_length=500, null=True)
    reason_params: dict[str, Any] | None = fields.JSONField(null=True)
    reference = fields.CharField(max_length=200, default="")
    status = fields.CharEnumField(HoldStatus, max_length=10, default=HoldStatus.OPEN)
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    capture: fields.ForeignKeyNullableRelation[Transfer] = fields.ForeignKeyField(
        "portal.Transfer", related_name="captured_hold", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "hold"
        indexes = (("account_id", "status"),)


class SeasonScore(Model):
    """Points an account earned in one season (a calendar month).

    ``reached_at`` is when the score got its current value, so ties go to who got there first.
    """

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="season_scores", on_delete=fields.RESTRICT
    )
    account_id: int
    season = fields.CharField(max_length=7)
    earned = fields.BigIntField(default=0)
    reached_at = fields.DatetimeField()

    class Meta:
        table = "season_score"
        unique_together = (("account", "season"),)
        # The board's index (season, earned descending, reached_at, account_id) is made by
        # migration 0005: Tortoise cannot declare a descending column.
