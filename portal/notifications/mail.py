"""E-mail: rendered from templates in the person's language, queued in the outbox, and
delivered by a job over SMTP (aiosmtplib), retried with capped backoff for a day, then
failed with a notice to every admin, who can resend it from the admin mail page. In
development, with no SMTP host set, messages are written as .eml files into the outbox
folder instead."""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from tortoise.backends.base.client import BaseDBAsyncClient

from portal import i18n
from portal.accounts.models import Person, Role
from portal.db import write_transaction
from portal.notifications import service as notifications
from portal.notifications.models import Email, EmailStatus
from portal.sealing import Sealer
from portal.settings import Settings
from portal.web.templating import environment

log = logging.getLogger("portal.mail")
RETRY_FOR = timedelta(days=1)  # from when the e-mail was queued (or resent)
LONGEST_WAIT = timedelta(minutes=30)
# Mail queued long before its first try (the scheduler was down) still gets about half an
# hour of tries (1 + 2 + 4 + 8 + 16 minutes) before it is failed.
FEWEST_ATTEMPTS = 6


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, person: Person, settings: Settings, **context: Any) -> Rendered:
    """``templates/email/<template>.txt`` and ``.html`` in the person's language; the
    first line of the text part is the subject."""
    with i18n.language(person.language):
        values = {"person": person, "base_url": settings.base_url, **context}
        text = environment.get_template(f"email/{template}.txt").render(values)
        html = environment.get_template(f"email/{template}.html").render(values)
    subject, _, body = text.partition("\n")
    return Rendered(subject.strip(), body.strip() + "\n", html)


@dataclass(frozen=True)
class Outgoing:
    """An e-mail for ``queue_all``: see ``queue``."""

    person: Person
    key: str
    rendered: Rendered
    sealed: str | None = None


async def queue(person: Person, *, key: str, rendered: Rendered, now: datetime,
                conn: BaseDBAsyncClient | None = None, sealed: str | None = None) -> None:
    """Adds the e-mail to the outbox once per key (inside ``conn``'s transaction if given).

    ``sealed``: secrets sealed with the settings' sealing keys (``portal.sealing``), a JSON
    object from placeholder to value; the bodies keep the placeholders until delivery."""
    await queue_all([Outgoing(person, key, rendered, sealed)], now=now, conn=conn)


async def queue_all(outgoing: Sequence[Outgoing], *, now: datetime,
                    conn: BaseDBAsyncClient | None = None) -> None:
    """``queue`` for several e-mails in one statement."""
    await Email.bulk_create(
        [Email(key=e.key, person_id=e.person.id, to=e.person.email,
               subject=e.rendered.subject, text=e.rendered.text, html=e.rendered.html,
               sealed=e.sealed, next_attempt_at=now, created_at=now) for e in outgoing],
        ignore_conflicts=True, using_db=conn)


def sealed_each(secrets: dict[str, str]) -> str:
    """``sealed`` for ``queue`` from secrets already sealed one by one (placeholder to
    sealed value): an e-certificate's code as its pool keeps it, not sealed again."""
    return json.dumps(secrets, separators=(",", ":"))


def _secrets(sealed: str, settings: Settings) -> dict[str, str]:
    """Placeholder to plain value: ``sealed`` is either one sealed JSON object, or a JSON
    object of values sealed one by one (``sealed_each``; a Fernet token never starts
    with "{")."""
    sealer = Sealer(settings.sealing_keys)
    if sealed.startswith("{"):
        return {placeholder: sealer.open(value)
                for placeholder, value in json.loads(sealed).items()}
    found: dict[str, str] = json.loads(sealer.open(sealed))
    return found


def _unsealed(email: Email, settings: Settings) -> tuple[str, str]:
    """The bodies with their sealed secrets filled in (escaped in the HTML part)."""
    text, body = email.text, email.html
    if email.sealed:
        secrets = _secrets(email.sealed, settings)
        for placeholder, value in secrets.items():
            text = text.replace(placeholder, value)
            body = body.replace(placeholder, html.escape(value))
    return text, body


def _message(email: Email, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(idstring=f"portal-{email.id}")
    text, body = _unsealed(email, settings)
    message.set_content(text)
    message.add_alternative(body, subtype="html")
    return message


async def deliver(message: EmailMessage, settings: Settings) -> None:
    if not settings.smtp_host:
        name = str(message["Message-ID"]).strip("<>").replace("@", "_at_")
        await asyncio.to_thread(_write_outbox, Path(settings.outbox_dir), name, bytes(message))
        return
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        timeout=15,
    )


def _write_outbox(outbox: Path, name: str, data: bytes) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{name}.eml").write_bytes(data)


def backoff(attempt: int) -> timedelta:
    """How long to wait after the given attempt failed: 1, 2, 4 ... minutes, at most 30."""
    return min(timedelta(minutes=2 ** min(attempt - 1, 5)), LONGEST_WAIT)


def gives_up(email: Email, *, attempt: int, now: datetime) -> bool:
    """Whether the failed ``attempt`` at ``now`` is the last: a day has passed since the
    e-mail was queued, and it has been tried at least FEWEST_ATTEMPTS times."""
    return attempt >= FEWEST_ATTEMPTS and now >= email.created_at + RETRY_FOR


async def send_due(now: datetime, settings: Settings, *, limit: int = 100) -> int:
    """Sends what is due in the outbox. Each e-mail is claimed by a conditional update
    first, so two senders never send the same one; a failure is retried later with capped
    backoff, and failed for good once a day has passed (see ``gives_up``)."""
    sent = 0
    due = await Email.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now).order_by(
        "id").limit(limit)
    for email in due:
        attempt = email.attempts + 1
        claimed = await Email.filter(id=email.id, status=EmailStatus.PENDING,
                                     attempts=email.attempts).update(
            attempts=attempt, next_attempt_at=now + backoff(attempt))
        if claimed != 1:
            continue  # another sender has it
        try:
            await deliver(_message(email, settings), settings)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("e-mail %s failed (attempt %s): %s", email.id, attempt, exc)
            await _record_failure(email, attempt=attempt, error=str(exc)[:500], now=now)
            continue
        await Email.filter(id=email.id).update(status=EmailStatus.SENT, sent_at=now,
                                               last_error="")
        sent += 1
    return sent


async def _record_failure(email: Email, *, attempt: int, error: str, now: datetime) -> None:
    # Every write is conditional on this attempt still being the latest: an admin may have
    # resent the e-mail meanwhile, and then it is due again, not failed.
    still_ours = Email.filter(id=email.id, status=EmailStatus.PENDING, attempts=attempt)
    if not gives_up(email, attempt=attempt, now=now):
        await still_ours.update(last_error=error)
        return
    async with write_transaction() as conn:  # failed, and the admins told, or neither
        if await still_ours.using_db(conn).update(status=EmailStatus.FAILED,
                                                  last_error=error) != 1:
            return
        admins = await Person.filter(is_active=True, roles__contains=Role.ADMIN.value
                                     ).using_db(conn).only("id", "roles")
        # Keyed by the e-mail and when it was queued: a replay adds nothing, a resent
        # e-mail that fails again is news.
        queued = int(email.created_at.timestamp())
        await notifications.add_many(
            [(admin.id, f"email-failed:{email.id}:{queued}:{admin.id}", "email_failed",
              {"to": email.to, "subject": email.subject})
             for admin in admins if Role.ADMIN in admin.role_set],
            now=now, conn=conn)
    log.error("e-mail %s to %s failed for good after %s attempts: %s", email.id, email.to,
              attempt, error)


@dataclass(frozen=True)
class Queued:
    """An outbox row as the admin mail page shows it (without the bodies)."""

    id: int
    to: str
    subject: str
    status: EmailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


async def outbox(*, status: EmailStatus | None, offset: int, limit: int
                 ) -> tuple[list[Queued], bool]:
    """Newest first: the e-mails with ``status``, or all not yet sent when it is None.
    Returns the page and whether there are more."""
    query = (Email.filter(status__in=[EmailStatus.PENDING, EmailStatus.FAILED])
             if status is None else Email.filter(status=status))
    rows = await query.order_by("-id").offset(offset).limit(limit + 1).values(
        "id", "to", "subject", "status", "attempts", "next_attempt_at", "last_error",
        "created_at", "sent_at")
    return [Queued(**{**row, "status": EmailStatus(row["status"])}) for row in rows[:limit]
            ], len(rows) > limit


class AlreadySent(Exception):
    """The e-mail was delivered; sending it again is not what resend is for."""


async def resend(email_id: int, *, now: datetime) -> bool:
    """Puts a failed (or pending) e-mail back in the queue: due now, attempts from zero,
    and a new day of retries (``created_at`` restarts, since the day counts from it).
    False when there is no such e-mail; AlreadySent when it was delivered."""
    changed = await Email.filter(
        id=email_id, status__in=[EmailStatus.PENDING, EmailStatus.FAILED]
    ).update(status=EmailStatus.PENDING, attempts=0, next_attempt_at=now, created_at=now)
    if changed:
        return True
    if await Email.exists(id=email_id):
        raise AlreadySent(email_id)
    return False
