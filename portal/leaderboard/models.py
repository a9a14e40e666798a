"""Frozen final standings of finished seasons."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from portal.ledger.models import Account


class SeasonFreeze(Model):
    """Claimed once per season by whoever freezes its standings first."""

    season = fields.CharField(max_length=7, primary_key=True)
    frozen_at = fields.DatetimeField()

    class Meta:
        table = "season_freeze"


class SeasonStanding(Model):
    id = fields.BigIntField(primary_key=True)
    season = fields.CharField(max_length=7)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "portal.Account", related_name="standings", on_delete=fields.RESTRICT
    )
    account_id: int
    rank = fields.IntField()
    earned = fields.BigIntField()

    class Meta:
        table = "season_standing"
        unique_together = (("season", "account"),)
        indexes = (("season", "rank"),)
