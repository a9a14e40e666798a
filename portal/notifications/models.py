"""In-portal notifications and the e-mail outbox."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from portal.accounts.models import Person


class Notification(Model):
    """A message in the person's notification centre. ``kind`` names the template and
    ``params`` fill it, so it is shown in whatever language the person reads now."""

    id = fields.BigIntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="notifications", on_delete=fields.CASCADE
    )
    person_id: int
    key = fields.CharField(max_length=200, unique=True)  # one notification per event
    kind = fields.CharField(max_length=40)
    params: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("person_id", "read_at"),)


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class Email(Model):
    """An e-mail waiting to be sent, or sent: requests and jobs only add rows here, and
    the sending job delivers them, retrying with backoff, so nothing waits on SMTP."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)  # one e-mail per event
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="emails", null=True, on_delete=fields.SET_NULL
    )
    person_id: int | None
    to = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    text = fields.TextField()
    html = fields.TextField()
    # Secret parts of the body (an e-certificate's code), sealed (``portal.sealing``): the
    # bodies hold placeholders, filled in only when the message is delivered.
    sealed = fields.TextField(null=True)
    status = fields.CharEnumField(EmailStatus, max_length=10, default=EmailStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email"
        indexes = (("status", "next_attempt_at"),)
