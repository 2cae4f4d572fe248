"""The one retry policy of the project: bounded attempts, exponential backoff with full jitter, Retry-After.

Callers translate their client's errors into domain errors first (throttling and timeouts into
``UpstreamUnavailable``, optionally with ``retry_after_s``), then hand the call to ``RetryPolicy.call``.
The per-attempt timeout is the caller's client timeout; this module only decides whether and when to
try again, and raises ``RetriesExhausted`` (a 503) when it stops.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from stratus.errors import StratusError, UpstreamUnavailable
from stratus.observability import logger

__all__ = ["RetriesExhausted", "RetryPolicy", "parse_retry_after", "retry_after_of"]

T = TypeVar("T")


class RetriesExhausted(UpstreamUnavailable):
    """The last transient failure of a call that used up its attempts (or was told to wait too long)."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date; None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a delay


def retry_after_of(error: BaseException) -> float | None:
    """The Retry-After, in seconds, an error carries: ``retry_after_s`` attribute or problem extension."""
    value = getattr(error, "retry_after_s", None)
    if value is None and isinstance(error, StratusError):
        value = error.extensions.get("retry_after_s")
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Retries ``retry_on`` errors up to ``max_attempts`` calls in total.

    The wait before retry ``n`` (1-based) is uniform in ``[0, min(max_delay_s, base_delay_s * 2**(n-1))]``
    (full jitter), or the error's Retry-After when it carries one. A Retry-After longer than
    ``max_retry_after_s`` stops retrying at once: a Lambda should not sleep through its own timeout.
    """

    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 20.0
    retry_on: tuple[type[BaseException], ...] = (UpstreamUnavailable,)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("delays must not be negative")

    def backoff_s(self, retry_number: int) -> float:
        """Full-jitter exponential backoff before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry_number - 1))
        return self.jitter() * ceiling

    def call(self, operation: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it returns, raises an error not in ``retry_on``, or the policy gives up."""
        for number in range(1, self.max_attempts + 1):
            try:
                return attempt()
            except self.retry_on as error:
                retry_after = retry_after_of(error)
                if number == self.max_attempts:
                    raise self._exhausted(operation, number, error, retry_after) from error
                if retry_after is not None and retry_after > self.max_retry_after_s:
                    raise self._exhausted(operation, number, error, retry_after) from error
                delay = retry_after if retry_after is not None else self.backoff_s(number)
                logger.warning(
                    "retrying after a transient failure",
                    extra={
                        "operation": operation,
                        "attempt": number,
                        "delay_s": round(delay, 3),
                        "error_type": type(error).__name__,
                    },
                )
                self.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    @staticmethod
    def _exhausted(
        operation: str, attempts: int, error: BaseException, retry_after: float | None
    ) -> RetriesExhausted:
        reason = error.detail if isinstance(error, StratusError) else f"{type(error).__name__}: {error}"
        extensions: dict[str, object] = {"attempts": attempts}
        if retry_after is not None:
            extensions["retry_after_s"] = retry_after
        return RetriesExhausted(f"{operation} gave up after {attempts} attempt(s): {reason}", **extensions)
