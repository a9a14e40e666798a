"""How many points an answer earns, and until when it counts (DESIGN.md, Scoring).

Times here are whole milliseconds, so the first answer, a replay of it and the page that
moves a question on all decide "in time or too late" with the same exact comparison.
"""

from __future__ import annotations

import math

# The network grace is never more than this share of a question's time limit.
GRACE_PERCENT_OF_LIMIT = 10
# A quiz's scoring: speed-scaled (the default), accuracy only, or a survey: no answer is
# right or wrong, every one given is accepted and recorded, and finishing the survey earns
# its fixed points (kept as the quiz's base_points).
SPEED, ACCURACY, SURVEY = "speed", "accuracy", "survey"


def is_survey(scoring: str) -> bool:
    return scoring == SURVEY


def answer_grace_ms(time_limit: int, *, at_most_seconds: int) -> int:
    """The network grace, in milliseconds, of a question of ``time_limit`` seconds.

    An answer is timed from when the server sent the question to when the answer reached
    it, so network delay both ways counts against the player; the grace makes up for it.
    It is the setting (``at_most_seconds``) but never more than 10 % of the limit: a flat
    2 s would stretch a 5 s question by 40 %. No floor is needed: packs cannot set a limit
    under 5 s, which still gets 0.5 s.
    """
    share = time_limit * 1000 * GRACE_PERCENT_OF_LIMIT // 100
    return max(0, min(at_most_seconds * 1000, share))


def in_time(elapsed_ms: int, *, time_limit: int, grace_ms: int) -> bool:
    """Whether an answer ``elapsed_ms`` after its question was sent still counts.

    A negative time (another instance's clock a little behind) counts as instant.
    """
    return elapsed_ms <= time_limit * 1000 + grace_ms


def answer_points(*, correct: bool, elapsed_ms: int, time_limit: int, base_points: int,
                  grace_ms: int, scoring: str) -> int:
    """Points for one answer, ``elapsed_ms`` after the server sent the question.

    Speed scoring: a correct answer earns round(B * (1 - e / 2T)), between B/2 and B; an
    answer inside the network grace counts as given at the limit. Wrong or late: 0. A
    survey's answers earn nothing of their own: finishing it earns its points.
    """
    if is_survey(scoring) or not correct or not in_time(elapsed_ms, time_limit=time_limit,
                                                        grace_ms=grace_ms):
        return 0
    if scoring == ACCURACY:
        return base_points
    counted = min(max(elapsed_ms, 0), time_limit * 1000)
    # Half rounds up (not to even), so the slowest correct answer never drops below B/2.
    return math.floor(base_points * (1 - counted / (2000 * time_limit)) + 0.5)
