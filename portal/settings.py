"""All configuration, read once from ``PORTAL_*`` environment variables.

``create_app(settings)`` takes a :class:`Settings`, so tests build one directly and never
touch ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
LANGUAGES = ("en", "ru")


class SettingsError(ValueError):
    """A ``PORTAL_*`` variable holds a value the portal cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite://{VAR_DIR / 'portal.sqlite3'}"
    # Signs the CSRF cookie; must be the same on every instance of one deployment.
    secret_key: str = field(default="", repr=False)
    debug: bool = False
    scheduler_enabled: bool = True
    # Sessions: idle and absolute lifetimes (OWASP ASVS 3.3).
    session_idle_minutes: int = 7 * 24 * 60
    session_absolute_days: int = 30
    # Login throttling, in the `limits` library's notation, and where its counters live
    # (memory:// for one process, redis://host:6379 for several instances). An address
    # gets a few tries at one account; the account's ceiling, well above that, stops a
    # guess spread over many addresses (see portal/accounts/throttle.py).
    login_limit_per_account_address: str = "5 per 15 minutes"
    login_limit_per_account: str = "50 per 15 minutes"
    login_limit_per_address: str = "30 per 15 minutes"
    rate_limit_storage: str = "memory://"
    # Points burn after this many days without a finished game or course (7 to 90).
    burn_after_days: int = 30
    invite_valid_days: int = 14
    # Games: an answer up to this many seconds past a question's time limit still counts
    # (network lag), but never more than 10 % of the limit: a 20 s question gets 2 s, a 5 s
    # one 0.5 s (portal/play/scoring.py, answer_grace_ms). A started game must be finished
    # within its questions' time plus game_extra_minutes.
    answer_grace_seconds: int = 2
    game_extra_minutes: int = 15
    # Finishing every mandatory (onboarding) course awards this once.
    welcome_bonus: int = 100
    # An outlet, company or region is ranked once this many staff played this month.
    leaderboard_min_active: int = 3
    media_dir: str = str(VAR_DIR / "media")
    # Warnings go out this many days before a burn (comma-separated).
    burn_warning_days: str = "7,1"
    # E-mail. With no SMTP host, mail is written as .eml files into outbox_dir instead.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_tls: str = "starttls"  # starttls, tls (implicit) or none
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    mail_from: str = "AquaFlow Partner Club <club@example.com>"
    outbox_dir: str = str(VAR_DIR / "outbox")
    # The address people use to reach the portal, for links in e-mails.
    base_url: str = "http://127.0.0.1:8000"
    page_size: int = 25
    default_language: str = "en"
    # Moments (when points burn) are shown in this IANA time zone, named, e.g. Europe/Moscow.
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if not 7 <= self.burn_after_days <= 90:
            raise SettingsError(
                f"PORTAL_BURN_AFTER_DAYS must be between 7 and 90, not {self.burn_after_days}"
            )
        if self.smtp_tls not in {"starttls", "tls", "none"}:
            raise SettingsError("PORTAL_SMTP_TLS must be starttls, tls or none")
        try:
            days = self.warning_days
        except ValueError:
            raise SettingsError("PORTAL_BURN_WARNING_DAYS must be whole numbers, e.g. 7,1"
                                ) from None
        if any(not 0 < day < self.burn_after_days for day in days):
            raise SettingsError("PORTAL_BURN_WARNING_DAYS must be between 1 and the burn period")
        if self.default_language not in LANGUAGES:
            raise SettingsError(
                f"PORTAL_DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}"
            )
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"PORTAL_TIME_ZONE must be an IANA time zone such as UTC or "
                                f"Europe/Moscow, not {self.time_zone!r}") from None
        if not self.secret_key:
            object.__setattr__(self, "secret_key", _local_secret_key())

    @property
    def warning_days(self) -> tuple[int, ...]:
        return tuple(sorted({int(day) for day in self.burn_warning_days.split(",") if day},
                            reverse=True))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, default in cls.__dataclass_fields__.items():
            raw = env.get(f"PORTAL_{name.upper()}")
            if raw is None:
                continue
            values[name] = _cast(name, raw, type(getattr(cls, name, default.default)))
        return cls(**values)  # type: ignore[arg-type]


def _cast(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise SettingsError(f"PORTAL_{name.upper()} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"PORTAL_{name.upper()} must be a whole number") from None
    return raw


def _local_secret_key() -> str:
    """A per-checkout key kept in ``var/``, so the one-machine default needs no set-up.

    Several instances must share ``PORTAL_SECRET_KEY`` instead (see the README).
    """
    path = VAR_DIR / "secret-key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
