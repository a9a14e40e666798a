"""How many points an answer earns (DESIGN.md, Scoring)."""

from __future__ import annotations

import math


def answer_points(*, correct: bool, elapsed: float, time_limit: int, base_points: int,
                  grace: float, scoring: str) -> int:
    """Points for one answer, ``elapsed`` seconds after the server sent the question.

    Speed scoring: a correct answer earns round(B * (1 - e / 2T)), between B/2 and B; an
    answer inside the network grace counts as given at the limit. Wrong or late: 0.
    """
    if not correct or elapsed < 0 or elapsed > time_limit + grace:
        return 0
    if scoring == "accuracy":
        return base_points
    counted = min(elapsed, time_limit)
    # Half rounds up (not to even), so the slowest correct answer never drops below B/2.
    return math.floor(base_points * (1 - counted / (2 * time_limit)) + 0.5)
