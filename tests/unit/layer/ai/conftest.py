from __future__ import annotations

from collections.abc import Iterator

import pytest

from stratus.ai import reset_chat_models, reset_embedders
from stratus.observability import metrics


class RecordedSleeps(list[float]):
    """Stands in for time.sleep: remembers each requested wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture(autouse=True)
def _fresh_models_and_metrics() -> Iterator[None]:
    yield
    reset_chat_models()
    reset_embedders()
    metrics.clear_metrics()
