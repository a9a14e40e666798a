"""All configuration, read once from ``PORTAL_*`` environment variables.

``create_app(settings)`` takes a :class:`Settings`, so tests build one directly with
keywords and never touch ``os.environ``; commands read the environment with
:meth:`Settings.from_env`. A value the portal cannot use is one :class:`SettingsError`
naming the variable and what is wrong with it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Le
from limits import parse_many
from limits.storage import SCHEMES
from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from portal.sealing import derived_key, valid_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
# The interface languages: forms accept exactly these codes.
Language = Literal["en", "ru", "tr", "id"]
LANGUAGES: tuple[str, ...] = get_args(Language)
# Never repeated in an error message.
SECRETS = frozenset({"secret_key", "smtp_password", "codes_key"})


class SettingsError(ValueError):
    """A ``PORTAL_*`` variable holds a value the portal cannot use."""


def _empty_is_false(value: object) -> object:
    # An empty variable (``PORTAL_DEBUG=``) has always meant off.
    return False if value == "" else value


Switch = Annotated[bool, BeforeValidator(_empty_is_false)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", frozen=True, extra="forbid",
                                      hide_input_in_errors=True)

    database_url: str = f"sqlite://{VAR_DIR / 'portal.sqlite3'}"
    # Signs the CSRF cookie; must be the same on every instance of one deployment. Left
    # empty, a key generated once into var/secret-key.
    secret_key: SecretStr = Field(default=SecretStr(""), validate_default=True)
    debug: Switch = False
    scheduler_enabled: Switch = True
    # Sessions: idle and absolute lifetimes (OWASP ASVS 3.3).
    session_idle_minutes: Annotated[int, Field(ge=1, le=365 * 24 * 60)] = 7 * 24 * 60
    session_absolute_days: Annotated[int, Field(ge=1, le=365)] = 30
    # Login throttling, in the `limits` library's notation, and where its counters live
    # (memory:// for one process, redis://host:6379 for several instances). An address
    # gets a few tries at one account; the account's ceiling, well above that, stops a
    # guess spread over many addresses (see portal/accounts/throttle.py).
    login_limit_per_account_address: str = "5 per 15 minutes"
    login_limit_per_account: str = "50 per 15 minutes"
    login_limit_per_address: str = "30 per 15 minutes"
    rate_limit_storage: str = "memory://"
    # argon2id's cost per password (portal/accounts/service.py, PASSWORD_PROFILES): "owasp"
    # (19 MiB, 2 passes, 1 lane) or "rfc9106-low-memory" (64 MiB, 3 passes, 4 lanes). A
    # stored hash made with the other is rehashed at its owner's next sign-in.
    password_hashing: Literal["owasp", "rfc9106-low-memory"] = "owasp"  # noqa: S105
    # Points burn after this many days without a finished game or course.
    burn_after_days: Annotated[int, Field(ge=7, le=90)] = 30
    invite_valid_days: Annotated[int, Field(ge=1, le=365)] = 14
    # Games: an answer up to this many seconds past a question's time limit still counts
    # (network lag), but never more than 10 % of the limit: a 20 s question gets 2 s, a 5 s
    # one 0.5 s (portal/play/scoring.py, answer_grace_ms). A started game must be finished
    # within its questions' time plus game_extra_minutes.
    answer_grace_seconds: Annotated[int, Field(ge=0, le=60)] = 2
    game_extra_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 15
    # Finishing every mandatory (onboarding) course awards this once (0: no bonus).
    welcome_bonus: Annotated[int, Field(ge=0, le=1_000_000)] = 100
    # An outlet, company or region is ranked once this many staff played this month.
    leaderboard_min_active: Annotated[int, Field(ge=1, le=1000)] = 3
    media_dir: str = str(VAR_DIR / "media")
    # Warnings go out this many days before a burn (comma-separated; after burn_after_days,
    # whose value the check reads).
    burn_warning_days: str = "7,1"
    # E-mail. With no SMTP host, mail is written as .eml files into outbox_dir instead.
    smtp_host: str = ""
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"  # tls is implicit TLS
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    mail_from: str = "AquaFlow Partner Club <club@example.com>"
    outbox_dir: str = str(VAR_DIR / "outbox")
    # The address people use to reach the portal, for links in e-mails.
    base_url: str = "http://127.0.0.1:8000"
    page_size: Annotated[int, Field(ge=1, le=500)] = 25
    default_language: str = "en"
    # Moments (when points burn) are shown in this IANA time zone, named, e.g. Europe/Moscow.
    time_zone: str = "UTC"
    # Charity: the smallest donation, where a cause sets none.
    charity_min_donation: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    # A company's share, in percent, of what its staff earn in games and courses
    # (credited to the company's account with each award; 0: none).
    company_share_percent: Annotated[int, Field(ge=0, le=100)] = 0
    # The catalog: no redemption until this many points are available (0: none).
    redemption_threshold: Annotated[int, Field(ge=0, le=1_000_000_000)] = 2500
    # Auctions: a bid in a lot's last N minutes extends its end by N minutes (0: never).
    auction_soft_close_minutes: Annotated[int, Field(ge=0, le=60)] = 2
    # Fernet keys that encrypt e-certificate codes at rest, comma-separated: the first
    # seals, every one opens (rotation). Left empty, one derived from the secret key.
    codes_key: SecretStr = SecretStr("")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError("; ".join(_explain(error) for error in exc.errors())) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keywords only: Settings(...) in a test or create_app never picks up a PORTAL_*
        # variable from the shell that runs it. Commands read the environment in from_env.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings that ``PORTAL_*`` variables name (in ``os.environ`` unless given)."""
        return cls(**_Environment(cls, os.environ if environ is None else environ)())

    @property
    def warning_days(self) -> tuple[int, ...]:
        return _days(self.burn_warning_days)

    @property
    def sealing_keys(self) -> list[str]:
        given = [k.strip() for k in self.codes_key.get_secret_value().split(",") if k.strip()]
        return given or [derived_key(self.secret_key.get_secret_value(), "catalog-codes")]

    @field_validator("codes_key")
    @classmethod
    def _fernet_keys(cls, keys: SecretStr) -> SecretStr:
        if not all(valid_key(k.strip()) for k in keys.get_secret_value().split(",")
                   if k.strip()):
            raise ValueError("must be Fernet keys (32 url-safe base64-encoded bytes), "
                             "comma-separated")
        return keys

    @field_validator("secret_key")
    @classmethod
    def _generated_when_empty(cls, key: SecretStr) -> SecretStr:
        return key if key.get_secret_value() else SecretStr(_local_secret_key())

    @field_validator("login_limit_per_account_address", "login_limit_per_account",
                     "login_limit_per_address")
    @classmethod
    def _one_rate_limit(cls, limit: str) -> str:
        try:
            parsed = parse_many(limit)
        except ValueError:
            parsed = []
        if len(parsed) != 1 or parsed[0].amount < 1:
            raise ValueError("must be one limit in the limits library's notation, such as "
                             "'5 per 15 minutes'")
        return limit

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, url: str) -> str:
        scheme, separator, _ = url.partition("://")
        # The throttle opens the async flavour of the storage.
        if not separator or f"async+{scheme}" not in SCHEMES:
            raise ValueError("must be a storage the limits library knows, such as memory:// "
                             "or redis://127.0.0.1:6379")
        return url

    @field_validator("burn_warning_days")
    @classmethod
    def _days_before_the_burn(cls, days: str, info: ValidationInfo) -> str:
        try:
            warnings = _days(days)
        except ValueError:
            raise ValueError("must be whole numbers separated by commas (e.g. 7,1)") from None
        period = info.data.get("burn_after_days")  # absent when itself wrong
        if period is not None and any(not 0 < day < period for day in warnings):
            raise ValueError(f"must be days between 1 and {period - 1}, within the burn "
                             f"period (PORTAL_BURN_AFTER_DAYS is {period})")
        return days

    @field_validator("default_language")
    @classmethod
    def _offered_language(cls, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return language

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/Moscow") from None
        return zone


def _days(days: str) -> tuple[int, ...]:
    return tuple(sorted({int(day) for day in days.split(",") if day}, reverse=True))


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of ``PORTAL_*`` variables, from the mapping given."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty,
                              self.env_parse_none_str)


def _explain(error: ErrorDetails) -> str:
    """One pydantic error as a sentence naming the variable, e.g.
    ``PORTAL_BURN_AFTER_DAYS must be between 7 and 90, not 3``."""
    name = str(error["loc"][0]) if error["loc"] else ""
    variable = f"PORTAL_{name.upper()}"
    kind, context, value = error["type"], error.get("ctx", {}), error.get("input")
    bounded = kind in {"greater_than_equal", "less_than_equal"}
    shown = "" if name in SECRETS else f", not {value}" if bounded else f", not {value!r}"
    if bounded:
        low, high = _bounds(name)
        return f"{variable} must be between {low} and {high}{shown}"
    if kind.startswith("int_"):
        return f"{variable} must be a whole number{shown}"
    if kind.startswith("bool_"):
        return f"{variable} must be true or false{shown}"
    if kind == "literal_error":
        return f"{variable} must be {context['expected']}{shown}"
    if kind == "value_error":
        return f"{variable} {context['error']}{shown}"
    if kind == "extra_forbidden":
        return f"{name} is not a setting"
    return f"{variable}: {error['msg']}{shown}"


def _bounds(name: str) -> tuple[object, object]:
    metadata = Settings.model_fields[name].metadata
    low = next(rule.ge for rule in metadata if isinstance(rule, Ge))
    high = next(rule.le for rule in metadata if isinstance(rule, Le))
    return low, high


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
