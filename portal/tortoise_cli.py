"""The configuration Tortoise's own command reads (``make migrations``)."""

from portal.db import tortoise_config
from portal.settings import Settings

TORTOISE_ORM = tortoise_config(Settings.from_env().database_url)
