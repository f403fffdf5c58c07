"""AWS schedule expressions as the local cloud's scheduler reads them."""

from __future__ import annotations

import datetime

import pytest

from serverless_patterns.local.schedules import Cron, UnsupportedScheduleError

START = datetime.datetime(2026, 1, 1, 0, 7, tzinfo=datetime.UTC)  # a Thursday


def _next(body: str, after: datetime.datetime = START) -> datetime.datetime:
    instant = Cron.parse(body).next_after(after.timestamp())
    assert instant is not None
    return datetime.datetime.fromtimestamp(instant, datetime.UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0/15 * * * ? *", datetime.datetime(2026, 1, 1, 0, 15)),
        ("7 * * * ? *", datetime.datetime(2026, 1, 1, 1, 7)),  # strictly after: not the same minute
        ("0 10 ? * MON-FRI *", datetime.datetime(2026, 1, 1, 10, 0)),
        ("0 10 ? * SAT *", datetime.datetime(2026, 1, 3, 10, 0)),
        ("0 12 1 JAN,JUL ? *", datetime.datetime(2026, 1, 1, 12, 0)),
        ("30 6 15 * ? *", datetime.datetime(2026, 1, 15, 6, 30)),
        ("0 0 1 1 ? 2027", datetime.datetime(2027, 1, 1, 0, 0)),
        ("5,35 8-9 * * ? *", datetime.datetime(2026, 1, 1, 8, 5)),
    ],
)
def test_the_next_firing_is_the_first_matching_minute_after(body: str, expected: datetime.datetime) -> None:
    assert _next(body) == expected.replace(tzinfo=datetime.UTC)


def test_a_schedule_that_never_matches_within_five_years_has_no_next_firing() -> None:
    assert Cron.parse("0 0 1 1 ? 1999").next_after(START.timestamp()) is None


@pytest.mark.parametrize("body", ["0 12 L * ? *", "0 12 ? * 6#3 *", "0 12 15W * ? *", "0 25 * * ? *", "* * * *"])
def test_what_is_not_evaluated_locally_is_refused_by_name(body: str) -> None:
    with pytest.raises(UnsupportedScheduleError):
        Cron.parse(body)
