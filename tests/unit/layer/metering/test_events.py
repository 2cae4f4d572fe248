"""Usage events: costs in whole micro-dollars, names safe for keys, days in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from stratus.metering import UsageEvent, micro_usd


def _event(**overrides: object) -> UsageEvent:
    values: dict[str, object] = {
        "call_id": "r01",
        "tenant_id": "acme",
        "service": "platform",
        "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_micro_usd": 28,
        "occurred_at": datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return UsageEvent.model_validate(values)


def test_a_cost_becomes_whole_micro_dollars_rounded_half_up() -> None:
    assert micro_usd(0.0000285) == 29
    assert micro_usd(0.0008 * 1.5 + 0.004 * 0.25) == 2200
    assert micro_usd(0.0) == 0


@given(st.lists(st.integers(min_value=0, max_value=10_000_000), max_size=200))
def test_micro_dollar_sums_equal_the_exact_decimal_sum(costs: list[int]) -> None:
    as_dollars = [Decimal(c) / 1_000_000 for c in costs]

    assert sum(micro_usd(d) for d in as_dollars) == sum(costs)


def test_the_day_of_an_event_is_its_utc_day() -> None:
    late_in_new_york = datetime(2026, 12, 8, 23, 30, tzinfo=timezone(timedelta(hours=-5)))

    assert _event(occurred_at=late_in_new_york).day == date(2026, 12, 9)


@pytest.mark.parametrize("field", ["call_id", "service", "model"])
def test_a_name_with_a_key_separator_is_refused(field: str) -> None:
    with pytest.raises(ValidationError):
        _event(**{field: "a#b"})


def test_negative_tokens_are_refused() -> None:
    with pytest.raises(ValidationError):
        _event(input_tokens=-1)
