"""People, the companies and outlets they work for, their roles, sessions and invites."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    PLAYER = "player"
    MANAGER = "manager"  # partner manager: manages their own company's people
    MARKETING = "marketing"
    ADMIN = "admin"


class Region(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)

    class Meta:
        table = "region"
        ordering = ["name"]


class Company(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    kind = fields.CharField(max_length=20, default="dealer")  # dealer or retailer
    # An IANA zone for its people's dates and times; None: the portal's PORTAL_TIME_ZONE.
    time_zone = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    outlets: fields.ReverseRelation[Outlet]

    class Meta:
        table = "company"
        ordering = ["name"]


class Outlet(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Company] = fields.ForeignKeyField(
        "portal.Company", related_name="outlets", on_delete=fields.RESTRICT
    )
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "portal.Region", related_name="outlets", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    company_id: int
    region_id: int

    class Meta:
        table = "outlet"
        unique_together = (("company", "name"),)
        ordering = ["name"]


class Person(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)  # stored lower-case
    password_hash = fields.CharField(max_length=200)
    full_name = fields.CharField(max_length=200)
    # Shown on leaderboards instead of the name or e-mail.
    display_name = fields.CharField(max_length=60)
    language = fields.CharField(max_length=8, default="en")
    # An IANA zone for the dates and times this person reads; None: their company's.
    time_zone = fields.CharField(max_length=64, null=True)
    outlet: fields.ForeignKeyNullableRelation[Outlet] = fields.ForeignKeyField(
        "portal.Outlet", related_name="people", null=True, on_delete=fields.RESTRICT
    )
    outlet_id: int | None
    # The roles held, comma-separated ("manager,player"): read with every signed-in
    # request, so they live on the row the session query already fetches.
    roles = fields.CharField(max_length=100, default=Role.PLAYER.value)
    is_active = fields.BooleanField(default=True)
    # Non-essential e-mails the person agreed to; warnings in the portal always show.
    email_burn_warnings = fields.BooleanField(default=True, db_default=True)
    email_news = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(role) for role in self.roles.split(",") if role)

    @staticmethod
    def encode_roles(roles: set[Role] | frozenset[Role]) -> str:
        return ",".join(sorted(Role(role).value for role in roles))

    class Meta:
        table = "person"
        ordering = ["full_name"]


class Session(Model):
    """A signed-in browser or API client. The cookie or bearer token holds only its id.

    The table stores a SHA-256 of the id, so a copy of the database opens no session.
    """

    id_hash = fields.CharField(max_length=64, primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="sessions", on_delete=fields.CASCADE
    )
    person_id: int
    kind = fields.CharField(max_length=10, default="web")  # web or api
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)  # the absolute timeout

    class Meta:
        table = "session"


class Invite(Model):
    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=254)
    outlet: fields.ForeignKeyRelation[Outlet] = fields.ForeignKeyField(
        "portal.Outlet", related_name="invites", on_delete=fields.CASCADE
    )
    outlet_id: int
    invited_by: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "portal.Person", related_name="invites_sent", on_delete=fields.CASCADE
    )
    invited_by_id: int
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invite"
        ordering = ["-created_at"]
