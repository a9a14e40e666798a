"""Settings read from ``PORTAL_*`` variables, and a clear error for a value that cannot work."""

from __future__ import annotations

import pytest

from portal.settings import Settings, SettingsError


def test_moments_are_shown_in_utc_unless_a_time_zone_is_set() -> None:
    assert Settings(secret_key="x").time_zone == "UTC"
    chosen = Settings.from_env({"PORTAL_SECRET_KEY": "x", "PORTAL_TIME_ZONE": "Europe/Moscow"})
    assert chosen.time_zone == "Europe/Moscow"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "utc", "", "../etc/passwd", "/etc/localtime",
                                  "Europe"])
def test_a_time_zone_that_does_not_exist_is_a_clear_error(zone: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_TIME_ZONE must be an IANA time zone"):
        Settings(secret_key="x", time_zone=zone)
