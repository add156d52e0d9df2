"""The job rules: the retry backoff, the periods a cron line can say, the log's record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.domain.jobs import JobRun, JobStatus, RetryPolicy, backoff_seconds, cron_for


def test_the_backoff_doubles_up_to_its_longest_then_gives_up() -> None:
    policy = RetryPolicy(max_attempts=6, first_seconds=2, factor=2, longest_seconds=10)
    waits = [backoff_seconds(policy, attempts) for attempts in range(1, 7)]
    assert waits == [2, 4, 8, 10, 10, None]


def test_one_attempt_only_never_retries() -> None:
    assert backoff_seconds(RetryPolicy(max_attempts=1), 1) is None


def test_attempts_are_counted_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        backoff_seconds(RetryPolicy(), 0)


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (1, "* * * * * */1"),
        (15, "* * * * * */15"),
        (60, "*/1 * * * * 0"),
        (300, "*/5 * * * * 0"),
        (3600, "0 */1 * * * 0"),
        (21_600, "0 */6 * * * 0"),
        (86_400, "0 0 * * * 0"),
    ],
)
def test_a_period_that_divides_a_minute_an_hour_or_a_day_is_a_cron_line(seconds: int, cron: str) -> None:
    assert cron_for(seconds) == cron


@pytest.mark.parametrize("seconds", [7, 45, 90, 0.5, 7200 + 60])
def test_a_period_every_process_cannot_agree_on_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="job period"):
        cron_for(seconds)


def test_a_run_says_how_long_it_took() -> None:
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    run = JobRun(
        id=1,
        name="sla_tick",
        status=JobStatus.SUCCEEDED,
        attempt=1,
        worker="web1:42",
        started_at=start,
        finished_at=start + timedelta(seconds=1.5),
        summary={"cases": 3},
        error="",
    )
    assert run.as_dict()["seconds"] == 1.5
    assert run.as_dict()["status"] == "succeeded"
