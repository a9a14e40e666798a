"""Settings read from ``PORTAL_*`` variables, and a clear error for a value that cannot work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from annotated_types import Ge, Le
from pydantic import ValidationError

from portal.settings import PROJECT_ROOT, VAR_DIR, Settings, SettingsError


def test_moments_are_shown_in_utc_unless_a_time_zone_is_set() -> None:
    assert Settings(secret_key="x").time_zone == "UTC"
    chosen = Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_TIME_ZONE": "Europe/Moscow"})
    assert chosen.time_zone == "Europe/Moscow"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc", "", "../etc/passwd", "/etc/localtime",
                                  "Europe"])
def test_a_time_zone_that_does_not_exist_is_a_clear_error(zone: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_TIME_ZONE must be an IANA time zone"):
        Settings(secret_key="x", time_zone=zone)


def test_commands_read_prefixed_variables_as_typed_values() -> None:
    settings = Settings.from_env({
        "PORTAL_SECRET_KEY": "from-env", "PORTAL_BURN_AFTER_DAYS": "45",
        "PORTAL_DEBUG": "yes", "PORTAL_SCHEDULER_ENABLED": "off",
        "PORTAL_SMTP_PASSWORD": "mail-secret", "PORTAL_BURN_WARNING_DAYS": "1,14,7",
        "PORTAL_TEST_POSTGRES_URL": "postgres://not-a-setting", "HOME": "/root",
    })
    assert settings.burn_after_days == 45
    assert settings.debug is True and settings.scheduler_enabled is False
    assert settings.secret_key.get_secret_value() == "from-env"
    assert settings.smtp_password.get_secret_value() == "mail-secret"
    assert settings.warning_days == (14, 7, 1)


def test_an_empty_switch_is_off() -> None:
    assert Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_SCHEDULER_ENABLED": ""}
                             ).scheduler_enabled is False


def test_building_settings_with_keywords_never_reads_the_environment() -> None:
    script = ("from portal.settings import Settings; "
              "print(Settings(secret_key='x').page_size, Settings.from_env().page_size)")
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, text=True,
                            capture_output=True, timeout=60, check=True,
                            env={**os.environ, "PORTAL_SECRET_KEY": "x", "PORTAL_PAGE_SIZE": "7"})
    assert result.stdout.split() == ["25", "7"]


def test_settings_cannot_change_once_read() -> None:
    settings = Settings(secret_key="x")
    with pytest.raises(ValidationError):
        settings.page_size = 10


def test_secrets_stay_out_of_reprs_and_errors() -> None:
    settings = Settings(secret_key="hunter2-key", smtp_password="hunter2-mail")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    with pytest.raises(SettingsError) as error:
        Settings(secret_key=12345, smtp_password=67890)
    assert "PORTAL_SECRET_KEY" in str(error.value) and "PORTAL_SMTP_PASSWORD" in str(error.value)
    assert "12345" not in str(error.value) and "67890" not in str(error.value)


def test_without_a_secret_key_one_is_generated_once_for_this_checkout() -> None:
    first, second = Settings(), Settings.from_env({})
    key = first.secret_key.get_secret_value()
    assert len(key) >= 32 and second.secret_key.get_secret_value() == key
    assert (VAR_DIR / "secret-key").read_text().strip() == key


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PORTAL_BURN_AFTER_DAYS", "6", "PORTAL_BURN_AFTER_DAYS must be between 7 and 90, not 6"),
    ("PORTAL_BURN_AFTER_DAYS", "91", "PORTAL_BURN_AFTER_DAYS must be between 7 and 90, not 91"),
    ("PORTAL_BURN_AFTER_DAYS", "thirty", "PORTAL_BURN_AFTER_DAYS must be a whole number, "
                                         "not 'thirty'"),
    ("PORTAL_SMTP_PORT", "0", "PORTAL_SMTP_PORT must be between 1 and 65535, not 0"),
    ("PORTAL_SMTP_PORT", "65536", "PORTAL_SMTP_PORT must be between 1 and 65535, not 65536"),
    ("PORTAL_PAGE_SIZE", "0", "PORTAL_PAGE_SIZE must be between 1 and 500, not 0"),
    ("PORTAL_SESSION_IDLE_MINUTES", "0", "PORTAL_SESSION_IDLE_MINUTES must be between 1 and"),
    ("PORTAL_SESSION_ABSOLUTE_DAYS", "-1", "PORTAL_SESSION_ABSOLUTE_DAYS must be between 1 and"),
    ("PORTAL_INVITE_VALID_DAYS", "0", "PORTAL_INVITE_VALID_DAYS must be between 1 and"),
    ("PORTAL_ANSWER_GRACE_SECONDS", "-2", "PORTAL_ANSWER_GRACE_SECONDS must be between 0 and"),
    ("PORTAL_GAME_EXTRA_MINUTES", "-1", "PORTAL_GAME_EXTRA_MINUTES must be between 0 and"),
    ("PORTAL_WELCOME_BONUS", "-100", "PORTAL_WELCOME_BONUS must be between 0 and"),
    ("PORTAL_LEADERBOARD_MIN_ACTIVE", "0", "PORTAL_LEADERBOARD_MIN_ACTIVE must be between 1 and"),
    ("PORTAL_DEBUG", "maybe", "PORTAL_DEBUG must be true or false, not 'maybe'"),
    ("PORTAL_SMTP_TLS", "ssl", "PORTAL_SMTP_TLS must be 'starttls', 'tls' or 'none', not 'ssl'"),
    ("PORTAL_DEFAULT_LANGUAGE", "de",
     "PORTAL_DEFAULT_LANGUAGE must be one of en, ru, tr, id, not 'de'"),
    ("PORTAL_BURN_WARNING_DAYS", "7;1", "PORTAL_BURN_WARNING_DAYS must be whole numbers "
                                        "separated by commas"),
    ("PORTAL_BURN_WARNING_DAYS", "30,1", "PORTAL_BURN_WARNING_DAYS must be days between 1 and "
                                         "29, within the burn period"),
    ("PORTAL_BURN_WARNING_DAYS", "7,0", "PORTAL_BURN_WARNING_DAYS must be days between 1 and 29"),
    ("PORTAL_LOGIN_LIMIT_PER_ACCOUNT", "lots", "PORTAL_LOGIN_LIMIT_PER_ACCOUNT must be one limit "
                                               "in the limits library's notation"),
    ("PORTAL_LOGIN_LIMIT_PER_ADDRESS", "0 per minute", "PORTAL_LOGIN_LIMIT_PER_ADDRESS must be "
                                                       "one limit"),
    ("PORTAL_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "5/minute;10/hour",
     "PORTAL_LOGIN_LIMIT_PER_ACCOUNT_ADDRESS must be one limit"),
    ("PORTAL_RATE_LIMIT_STORAGE", "redis", "PORTAL_RATE_LIMIT_STORAGE must be a storage the "
                                           "limits library knows"),
    ("PORTAL_RATE_LIMIT_STORAGE", "sqlite://x", "PORTAL_RATE_LIMIT_STORAGE must be a storage"),
])
def test_a_value_the_portal_cannot_use_is_one_error_naming_the_variable(
        variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"PORTAL_SECRET_KEY": "x", variable: value})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value) and "pydantic" not in str(error.value)


def test_the_warnings_are_checked_against_the_burn_period_they_come_with() -> None:
    settings = Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_BURN_AFTER_DAYS": "60",
                                  "PORTAL_BURN_WARNING_DAYS": "30,7,1"})
    assert settings.warning_days == (30, 7, 1)
    with pytest.raises(SettingsError, match=r"between 1 and 6, within the burn period "
                                            r"\(PORTAL_BURN_AFTER_DAYS is 7\)"):
        Settings(secret_key="x", burn_after_days=7, burn_warning_days="7,1")


def test_every_wrong_variable_is_named_in_the_one_error() -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_PAGE_SIZE": "0",
                           "PORTAL_TIME_ZONE": "Mars/Olympus"})
    assert str(error.value) == (
        "PORTAL_PAGE_SIZE must be between 1 and 500, not 0; PORTAL_TIME_ZONE must be an IANA "
        "time zone such as UTC or Europe/Moscow, not 'Mars/Olympus'")


def test_the_limits_the_readme_offers_are_accepted() -> None:
    settings = Settings(secret_key="x", rate_limit_storage="redis://127.0.0.1:6379",
                        login_limit_per_account="100 per hour", smtp_tls="none",
                        default_language="ru", smtp_port=465, page_size=500)
    assert settings.rate_limit_storage == "redis://127.0.0.1:6379"


def test_the_readme_names_every_setting_with_its_default_and_bounds() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `PORTAL_")]
    for name, field in Settings.model_fields.items():
        if name == "scheduler_enabled":
            continue  # chosen by the command: `portal serve` runs the scheduler, `portal web` not
        variable = f"PORTAL_{name.upper()}"
        family = "PORTAL_SMTP_*" if variable.startswith("PORTAL_SMTP_") else variable
        row = next((row for row in rows if f"`{family}`" in row), "")
        assert variable in readme and (row or name in {"mail_from", "outbox_dir"}), variable
        if field.annotation is int:  # every number is bounded, and the README says how
            low, = (rule.ge for rule in field.metadata if isinstance(rule, Ge))
            high, = (rule.le for rule in field.metadata if isinstance(rule, Le))
            assert f"`{field.default}`" in row and f"({low} to {high}" in row, variable
