"""The one retry policy: bounded attempts, full-jitter backoff, Retry-After, a clear final error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stratus.errors import UpstreamFailed, UpstreamUnavailable
from stratus.retry import RetriesExhausted, RetryPolicy, parse_retry_after

from .conftest import RecordedSleeps


class FlakyCall:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_a_transient_failure_is_retried_until_the_call_succeeds(sleeps: RecordedSleeps) -> None:
    # Given a call that is unavailable twice
    call = FlakyCall(UpstreamUnavailable("busy"), UpstreamUnavailable("busy"))
    policy = RetryPolicy(max_attempts=3, base_delay_s=1.0, sleep=sleeps, jitter=lambda: 0.5)
    # When it runs under the policy
    result = policy.call("search", call)
    # Then it succeeds on the third attempt, after full-jitter exponential waits (0.5 * 1 s, 0.5 * 2 s)
    assert result == "ok"
    assert call.calls == 3
    assert sleeps == [0.5, 1.0]


def test_retry_after_carried_by_the_error_is_honoured(sleeps: RecordedSleeps) -> None:
    # Given a provider that throttles once and says to come back in 7 seconds
    call = FlakyCall(UpstreamUnavailable("throttled", retry_after_s=7.0))
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.1, sleep=sleeps, jitter=lambda: 1.0)
    # When the call runs
    assert policy.call("github", call) == "ok"
    # Then the wait was the server's, not the backoff's
    assert sleeps == [7.0]


def test_retry_after_as_an_attribute_of_a_foreign_error_is_honoured(sleeps: RecordedSleeps) -> None:
    class Throttled(Exception):
        retry_after_s = 3

    policy = RetryPolicy(max_attempts=2, retry_on=(Throttled,), sleep=sleeps)
    assert policy.call("search provider", FlakyCall(Throttled())) == "ok"
    assert sleeps == [3.0]


def test_gives_up_after_the_attempt_budget_with_a_503_that_says_why(sleeps: RecordedSleeps) -> None:
    # Given a provider that never recovers
    call = FlakyCall(*(UpstreamUnavailable("Bedrock throttled the generate call") for _ in range(10)))
    policy = RetryPolicy(max_attempts=4, sleep=sleeps)
    # When the call runs
    with pytest.raises(RetriesExhausted) as raised:
        policy.call("bedrock generate", call)
    # Then exactly four attempts were made, three waits, and the final error is a 503 naming the cause
    assert call.calls == 4
    assert len(sleeps) == 3
    assert raised.value.status == 503
    assert isinstance(raised.value, UpstreamUnavailable)
    assert raised.value.detail == "bedrock generate gave up after 4 attempt(s): Bedrock throttled the generate call"
    assert raised.value.extensions["attempts"] == 4


def test_a_retry_after_longer_than_the_budget_stops_at_once(sleeps: RecordedSleeps) -> None:
    # Given a server that asks for an hour's pause
    call = FlakyCall(UpstreamUnavailable("throttled", retry_after_s=3600))
    policy = RetryPolicy(max_attempts=5, max_retry_after_s=20, sleep=sleeps)
    # When the call runs
    with pytest.raises(RetriesExhausted) as raised:
        policy.call("openai generate", call)
    # Then nothing slept, and the caller learns how long the provider wants
    assert sleeps == []
    assert call.calls == 1
    assert raised.value.extensions["retry_after_s"] == 3600


def test_a_permanent_failure_is_not_retried(sleeps: RecordedSleeps) -> None:
    call = FlakyCall(UpstreamFailed("rejected (ValidationException)"))
    with pytest.raises(UpstreamFailed, match="ValidationException"):
        RetryPolicy(max_attempts=5, sleep=sleeps).call("bedrock generate", call)
    assert call.calls == 1
    assert sleeps == []


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0, jitter=lambda: 1.0)
    assert [policy.backoff_s(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_draws_anywhere_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=1.0, jitter=lambda: 0.0)
    assert policy.backoff_s(3) == 0.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        (None, None),
        ("", None),
    ],
)
def test_retry_after_headers_are_read_as_seconds_or_http_dates(header: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
