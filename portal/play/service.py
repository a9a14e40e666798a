"""Kept only until tests/play/test_start_race.py and tests/play/start_worker.py (another
engineer's, not committed yet) import from portal.play.games; then this module goes."""

from __future__ import annotations

from portal.play.games import Rules, start

__all__ = ["Rules", "start"]
