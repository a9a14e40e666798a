"""Scoring as a property: correct and in time earns between B/2 and B, else nothing; the
network grace is the setting, never more than a tenth of the question's time limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.play.scoring import GRACE_PERCENT_OF_LIMIT, answer_grace_ms, answer_points, in_time

limits = st.integers(min_value=5, max_value=120)  # what a pack may set (content/schema.py)
bases = st.integers(min_value=10, max_value=1000)
graces = st.integers(min_value=0, max_value=5_000)  # milliseconds
settings = st.integers(min_value=-5, max_value=3600)  # PORTAL_ANSWER_GRACE_SECONDS


@given(limits, settings)
def test_the_grace_never_exceeds_a_tenth_of_the_limit(limit: int, setting: int) -> None:
    assert GRACE_PERCENT_OF_LIMIT == 10
    assert answer_grace_ms(limit, at_most_seconds=setting) * 10 <= limit * 1000


@given(limits, settings)
def test_the_grace_never_exceeds_the_setting_nor_goes_below_zero(
    limit: int, setting: int
) -> None:
    assert 0 <= answer_grace_ms(limit, at_most_seconds=setting) <= max(setting, 0) * 1000


@given(limits, limits, settings)
def test_a_longer_question_never_gets_less_grace(a: int, b: int, setting: int) -> None:
    short, long = sorted((a, b))
    assert (answer_grace_ms(short, at_most_seconds=setting)
            <= answer_grace_ms(long, at_most_seconds=setting))


def test_the_default_grace_by_time_limit() -> None:
    assert answer_grace_ms(5, at_most_seconds=2) == 500  # the flat 2 s was 40 % of 5 s
    assert answer_grace_ms(12, at_most_seconds=2) == 1200
    assert answer_grace_ms(20, at_most_seconds=2) == 2000
    assert answer_grace_ms(120, at_most_seconds=2) == 2000
    assert answer_grace_ms(20, at_most_seconds=0) == 0


@given(limits, graces, st.integers(min_value=1, max_value=10_000_000))
def test_an_answer_past_the_limit_and_the_grace_is_too_late(
    limit: int, grace: int, late_by: int
) -> None:
    assert in_time(limit * 1000 + grace, time_limit=limit, grace_ms=grace)
    assert not in_time(limit * 1000 + grace + late_by, time_limit=limit, grace_ms=grace)


@given(limits, bases, graces, st.floats(min_value=0, max_value=1, allow_nan=False))
def test_a_correct_answer_in_time_earns_between_half_and_all(
    limit: int, base: int, grace: int, fraction: float
) -> None:
    elapsed = int(fraction * (limit * 1000 + grace))
    points = answer_points(correct=True, elapsed_ms=elapsed, time_limit=limit,
                           base_points=base, grace_ms=grace, scoring="speed")
    assert base / 2 <= points <= base


@given(limits, bases, graces, st.integers(min_value=-10_000, max_value=10_000_000))
def test_a_wrong_answer_earns_nothing(limit: int, base: int, grace: int, elapsed: int) -> None:
    assert answer_points(correct=False, elapsed_ms=elapsed, time_limit=limit,
                         base_points=base, grace_ms=grace, scoring="speed") == 0


@given(limits, bases, graces, st.integers(min_value=1, max_value=10_000_000),
       st.sampled_from(["speed", "accuracy"]))
def test_a_late_answer_earns_nothing(limit: int, base: int, grace: int, late_by: int,
                                     scoring: str) -> None:
    assert answer_points(correct=True, elapsed_ms=limit * 1000 + grace + late_by,
                         time_limit=limit, base_points=base, grace_ms=grace,
                         scoring=scoring) == 0


@given(limits, bases, st.floats(min_value=0, max_value=1, allow_nan=False),
       st.floats(min_value=0, max_value=1, allow_nan=False))
def test_faster_never_earns_less(limit: int, base: int, a: float, b: float) -> None:
    fast, slow = sorted((int(a * limit * 1000), int(b * limit * 1000)))
    score = lambda e: answer_points(correct=True, elapsed_ms=e, time_limit=limit,  # noqa: E731
                                    base_points=base, grace_ms=2000, scoring="speed")
    assert score(fast) >= score(slow)


def test_the_extremes_of_speed_scoring() -> None:
    def score(elapsed_ms: int) -> int:
        return answer_points(correct=True, elapsed_ms=elapsed_ms, time_limit=20,
                             base_points=100, grace_ms=2000, scoring="speed")

    assert score(0) == 100
    assert score(20_000) == 50
    assert score(21_500) == 50
    assert score(22_000) == 50  # the last millisecond of the grace
    assert score(22_001) == 0


def test_another_instances_clock_a_little_behind_counts_as_instant() -> None:
    assert answer_points(correct=True, elapsed_ms=-300, time_limit=20, base_points=100,
                         grace_ms=2000, scoring="speed") == 100


def test_accuracy_scoring_ignores_speed_but_not_the_deadline() -> None:
    assert answer_points(correct=True, elapsed_ms=19_000, time_limit=20, base_points=100,
                         grace_ms=2000, scoring="accuracy") == 100
    assert answer_points(correct=True, elapsed_ms=23_000, time_limit=20, base_points=100,
                         grace_ms=2000, scoring="accuracy") == 0
