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


class ScoreCount(Model):
    """How many players hold each score on a board: ``board`` is a season ("2026-12") or
    ``ALL_TIME``. A rank is one plus the players on higher scores (a sum over these rows,
    a few thousand at most, whatever the rank) plus those who reached the same score first.

    Kept by the database itself: triggers on ``season_score`` (migration 0016) change
    the counts in the statement that changes a score, so no write path, bulk load or
    correction can leave them behind. Scores only grow, so a change takes its old
    count's row before its new one's, in ascending order: two changes cannot deadlock.
    A count that falls to zero stays (a row per score ever held; they add nothing)."""

    id = fields.BigIntField(primary_key=True)
    board = fields.CharField(max_length=8)
    points = fields.BigIntField()
    players = fields.IntField()

    class Meta:
        table = "score_count"
        unique_together = (("board", "points"),)
        # Covering: a rank's sum reads the index alone.
        indexes = (("board", "points", "players"),)


ALL_TIME = "all-time"  # ScoreCount.board of the all-time board


class ScoreHourCount(Model):
    """How many players reached each score of a season in each hour (``hour``: the UTC
    hour of ``season_score.reached_at`` as YYYYMMDDHH). Within a score, a rank sums the
    hours before its own and counts only its own hour's players reached first, so even a
    score ten thousand players share costs a few hundred rows.

    Kept by triggers on ``season_score`` (migration 0020), as ``ScoreCount`` is; season
    boards only (the all-time board's tie-break is on ``account``). A count that falls to
    zero stays."""

    id = fields.BigIntField(primary_key=True)
    season = fields.CharField(max_length=7)
    points = fields.BigIntField()
    hour = fields.BigIntField()
    players = fields.IntField()

    class Meta:
        table = "score_hour_count"
        unique_together = (("season", "points", "hour"),)
        # Covering: a rank's sum reads the index alone.
        indexes = (("season", "points", "hour", "players"),)


class ScoreMinuteCount(Model):
    """How many players reached each score of a season in each minute (``minute``: whole
    minutes since 1970 of ``season_score.reached_at``). A rank sums the minutes of its own
    hour before its own (at most 60), so a monthly rush, every score reached in the same
    few hours, costs no more than a month spread over weeks.

    Kept by triggers on ``season_score`` (migration 0022, with the hour counts). No covering
    index: a rank reads at most 60 rows, and every score change writes one."""

    id = fields.BigIntField(primary_key=True)
    season = fields.CharField(max_length=7)
    points = fields.BigIntField()
    minute = fields.BigIntField()
    players = fields.IntField()

    class Meta:
        table = "score_minute_count"
        unique_together = (("season", "points", "minute"),)


class ScoreSecondCount(Model):
    """The same per second (``second``: whole seconds since 1970): a rank sums the seconds
    of its own minute before its own (at most 60) and counts only the rows of its own
    second reached first. Migration 0022, as ``ScoreMinuteCount``."""

    id = fields.BigIntField(primary_key=True)
    season = fields.CharField(max_length=7)
    points = fields.BigIntField()
    second = fields.BigIntField()
    players = fields.IntField()

    class Meta:
        table = "score_second_count"
        unique_together = (("season", "points", "second"),)
