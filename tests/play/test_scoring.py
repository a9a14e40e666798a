"""Scoring as a property: correct and in time earns between B/2 and B, else nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal.play.scoring import answer_points

limits = st.integers(min_value=5, max_value=120)
bases = st.integers(min_value=10, max_value=1000)
graces = st.integers(min_value=0, max_value=5)


@given(limits, bases, graces, st.floats(min_value=0, max_value=1, allow_nan=False))
def test_a_correct_answer_in_time_earns_between_half_and_all(
    limit: int, base: int, grace: int, fraction: float
) -> None:
    elapsed = fraction * (limit + grace)
    points = answer_points(correct=True, elapsed=elapsed, time_limit=limit, base_points=base,
                           grace=grace, scoring="speed")
    assert base / 2 <= points <= base


@given(limits, bases, graces, st.floats(min_value=0, max_value=10_000, allow_nan=False))
def test_a_wrong_answer_earns_nothing(limit: int, base: int, grace: int, elapsed: float) -> None:
    assert answer_points(correct=False, elapsed=elapsed, time_limit=limit, base_points=base,
                         grace=grace, scoring="speed") == 0


@given(limits, bases, graces, st.floats(min_value=0.001, max_value=10_000, allow_nan=False))
def test_a_late_answer_earns_nothing(limit: int, base: int, grace: int, late_by: float) -> None:
    assert answer_points(correct=True, elapsed=limit + grace + late_by, time_limit=limit,
                         base_points=base, grace=grace, scoring="speed") == 0


@given(limits, bases, st.floats(min_value=0, max_value=1, allow_nan=False),
       st.floats(min_value=0, max_value=1, allow_nan=False))
def test_faster_never_earns_less(limit: int, base: int, a: float, b: float) -> None:
    fast, slow = sorted((a * limit, b * limit))
    score = lambda e: answer_points(correct=True, elapsed=e, time_limit=limit,  # noqa: E731
                                    base_points=base, grace=2, scoring="speed")
    assert score(fast) >= score(slow)


def test_the_extremes_of_speed_scoring() -> None:
    assert answer_points(correct=True, elapsed=0, time_limit=20, base_points=100, grace=2,
                         scoring="speed") == 100
    assert answer_points(correct=True, elapsed=20, time_limit=20, base_points=100, grace=2,
                         scoring="speed") == 50
    assert answer_points(correct=True, elapsed=21.5, time_limit=20, base_points=100, grace=2,
                         scoring="speed") == 50


def test_accuracy_scoring_ignores_speed_but_not_the_deadline() -> None:
    assert answer_points(correct=True, elapsed=19, time_limit=20, base_points=100, grace=2,
                         scoring="accuracy") == 100
    assert answer_points(correct=True, elapsed=23, time_limit=20, base_points=100, grace=2,
                         scoring="accuracy") == 0
