"""Rollups: what the programme page reads, kept up to date by the fold job (``rollups``).

No page ever scans the ledger, the games or the answers: the fold reads each of those once,
in id order, and adds what it found here, per day and per month and outlet (with the
outlet's company and region beside it, so a scope is one ``WHERE``), per person and month
(for "players who ...": distinct people), and per question and month. Only the fold writes
these tables, one batch per transaction together with its cursor, so a run that dies
midway is resumed where it stopped and nothing is counted twice.

Days and months are ``YYYY-MM-DD`` and ``YYYY-MM`` strings in UTC: they sort as they read,
and mean the same on SQLite and PostgreSQL. Outlet, company and region 0 stand for "none"
(marketing, admins, a person not yet placed); -1 marks the row that holds the whole
network's day or month (``rollups.NETWORK_ROW``).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Visit(Model):
    """A day a person was seen in the portal: at most one row per person and day."""

    id = fields.BigIntField(primary_key=True)
    person_id = fields.IntField()
    day = fields.CharField(max_length=10)

    class Meta:
        table = "analytics_visit"
        unique_together = (("person_id", "day"),)


class FoldCursor(Model):
    """How far the fold has read one source table (by id).

    ``safe_through`` is the highest id that can no longer be overtaken by a row committing
    late: on PostgreSQL ids are handed out before commit, so the fold only reads ids that
    existed ``SETTLE`` ago (``seen_max`` at ``seen_at``); on SQLite writers are serialised
    and every id committed is final at once.
    """

    source = fields.CharField(max_length=20, primary_key=True)
    done_through = fields.BigIntField(default=0)
    safe_through = fields.BigIntField(default=0)
    seen_max = fields.BigIntField(default=0)
    seen_at = fields.DatetimeField(null=True)

    class Meta:
        table = "analytics_cursor"


class DayOutlet(Model):
    """One outlet's day: what the charts of a month draw."""

    id = fields.BigIntField(primary_key=True)
    day = fields.CharField(max_length=10)
    outlet_id = fields.IntField()
    company_id = fields.IntField()
    region_id = fields.IntField()
    visits = fields.IntField(default=0)
    games_finished = fields.IntField(default=0)
    earned = fields.BigIntField(default=0)
    spent = fields.BigIntField(default=0)
    donated = fields.BigIntField(default=0)
    captured = fields.BigIntField(default=0)
    burned = fields.BigIntField(default=0)

    class Meta:
        table = "analytics_day"
        unique_together = (("day", "outlet_id"),)
        # A scope's days are one range: the network's row (outlet -1), or a scope's.
        indexes = (("outlet_id", "day"), ("company_id", "day"), ("region_id", "day"))


class MonthOutlet(Model):
    """One outlet's month: every figure of the programme page, added up.

    The ``players_*`` and ``active_players`` counts are distinct people, counted when a
    person's month (``PlayerMonth``) crosses the threshold.
    """

    id = fields.BigIntField(primary_key=True)
    month = fields.CharField(max_length=7)
    outlet_id = fields.IntField()
    company_id = fields.IntField()
    region_id = fields.IntField()
    new_players = fields.IntField(default=0)
    active_players = fields.IntField(default=0)  # seen in the portal on at least one day
    players_with_game = fields.IntField(default=0)  # finished at least one game
    players_with_five = fields.IntField(default=0)  # finished at least five tasks
    visits = fields.IntField(default=0)  # person-days with a visit
    games_finished = fields.IntField(default=0)
    games_abandoned = fields.IntField(default=0)
    answers = fields.IntField(default=0)
    # Points into people's accounts...
    earned = fields.BigIntField(default=0)
    adjusted_in = fields.BigIntField(default=0)
    received_other = fields.BigIntField(default=0)
    refunded = fields.BigIntField(default=0)  # spends given back (a cancelled order)
    # ...and out of them.
    spent = fields.BigIntField(default=0)
    donated = fields.BigIntField(default=0)
    captured = fields.BigIntField(default=0)
    burned_inactivity = fields.BigIntField(default=0)
    burned_other = fields.BigIntField(default=0)
    adjusted_out = fields.BigIntField(default=0)
    sent_other = fields.BigIntField(default=0)
    # Provisional points of abandoned games: never credited, so never in the ledger.
    burned_games = fields.BigIntField(default=0)

    class Meta:
        table = "analytics_month"
        unique_together = (("month", "outlet_id"),)
        indexes = (("company_id", "month"), ("region_id", "month"), ("outlet_id", "month"))


class CompanyMonth(Model):
    """A company's own points account in a month (company ``NETWORK_ROW``: every
    company's), apart from its staff's: what came in and what went out."""

    id = fields.BigIntField(primary_key=True)
    month = fields.CharField(max_length=7)
    company_id = fields.IntField()
    credited = fields.BigIntField(default=0)  # adjustments in (marketing's credits)
    shared = fields.BigIntField(default=0)  # the company's share of its staff's awards
    refunded = fields.BigIntField(default=0)  # spends given back
    received_other = fields.BigIntField(default=0)
    spent = fields.BigIntField(default=0)  # in the catalog, in auctions, donated
    removed = fields.BigIntField(default=0)  # adjustments out, burns, anything else

    class Meta:
        table = "analytics_company_month"
        unique_together = (("month", "company_id"),)


class HeldNow(Model):
    """Points people hold in open bids, per outlet (outlet ``NETWORK_ROW``: everyone's),
    as the last fold counted them: the page reads these few rows, never the accounts."""

    id = fields.BigIntField(primary_key=True)
    outlet_id = fields.IntField(unique=True)
    company_id = fields.IntField()
    region_id = fields.IntField()
    held = fields.BigIntField(default=0)

    class Meta:
        table = "analytics_held"


class PlayerMonth(Model):
    """One person's month, for the distinct counts and the staff list."""

    id = fields.BigIntField(primary_key=True)
    month = fields.CharField(max_length=7)
    person_id = fields.IntField()
    visit_days = fields.IntField(default=0)
    games = fields.IntField(default=0)
    earned = fields.BigIntField(default=0)

    class Meta:
        table = "analytics_player_month"
        unique_together = (("month", "person_id"),)


class QuestionMonth(Model):
    """How a question was answered in a month (every answer recorded, timeouts included)."""

    id = fields.BigIntField(primary_key=True)
    month = fields.CharField(max_length=7)
    question_id = fields.IntField()
    quiz_id = fields.IntField()
    pack_id = fields.IntField()
    answered = fields.IntField(default=0)
    correct = fields.IntField(default=0)
    wrong = fields.IntField(default=0)  # a choice was made, and it was not right
    timed_out = fields.IntField(default=0)  # no choice before the time ran out

    class Meta:
        table = "analytics_question_month"
        unique_together = (("month", "question_id"),)


class QuestionSlot(Model):
    """Counts behind a question's month: ``choice`` slots count how often each wrong
    choice (authored index) was picked; ``time`` slots count answers by whole seconds
    taken (the median answer time is read from them)."""

    id = fields.BigIntField(primary_key=True)
    month = fields.CharField(max_length=7)
    question_id = fields.IntField()
    kind = fields.CharField(max_length=6)
    slot = fields.IntField()
    count = fields.IntField(default=0)

    class Meta:
        table = "analytics_question_slot"
        unique_together = (("month", "question_id", "kind", "slot"),)
