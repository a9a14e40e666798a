"""E-mail: rendered from templates in the person's language, queued in the outbox, and
delivered by a job over SMTP (aiosmtplib), retried with backoff. In development, with no
SMTP host set, messages are written as .eml files into the outbox folder instead."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
from tortoise.backends.base.client import BaseDBAsyncClient

from portal import i18n
from portal.accounts.models import Person
from portal.notifications.models import Email, EmailStatus
from portal.settings import Settings
from portal.web.templating import environment

log = logging.getLogger("portal.mail")
MAX_ATTEMPTS = 6


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


async def queue(person: Person, *, key: str, rendered: Rendered, now: datetime,
                conn: BaseDBAsyncClient | None = None) -> None:
    """Adds the e-mail to the outbox once per key (inside ``conn``'s transaction if given)."""
    await Email.bulk_create(
        [Email(key=key, person_id=person.id, to=person.email, subject=rendered.subject,
               text=rendered.text, html=rendered.html, next_attempt_at=now, created_at=now)],
        ignore_conflicts=True, using_db=conn)


def _message(email: Email, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(idstring=f"portal-{email.id}")
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
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
        password=settings.smtp_password or None,
        timeout=15,
    )


def _write_outbox(outbox: Path, name: str, data: bytes) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    (outbox / f"{name}.eml").write_bytes(data)


async def send_due(now: datetime, settings: Settings, *, limit: int = 100) -> int:
    """Sends what is due in the outbox. Each e-mail is claimed by a conditional update
    first, so two senders never send the same one; a failure is retried later with
    exponential backoff, and given up after MAX_ATTEMPTS."""
    sent = 0
    due = await Email.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now).order_by(
        "id").limit(limit)
    for email in due:
        attempt = email.attempts + 1
        claimed = await Email.filter(id=email.id, status=EmailStatus.PENDING,
                                     attempts=email.attempts).update(
            attempts=attempt, next_attempt_at=now + timedelta(minutes=2 ** attempt))
        if claimed != 1:
            continue  # another sender has it
        try:
            await deliver(_message(email, settings), settings)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("e-mail %s failed (attempt %s): %s", email.id, attempt, exc)
            await Email.filter(id=email.id).update(
                last_error=str(exc)[:500],
                status=EmailStatus.FAILED if attempt >= MAX_ATTEMPTS else EmailStatus.PENDING)
            continue
        await Email.filter(id=email.id).update(status=EmailStatus.SENT, sent_at=now,
                                               last_error="")
        sent += 1
    return sent
