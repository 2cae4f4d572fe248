"""Per-container singletons: built once per Lambda container, resettable by tests and the local stack."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

_resets: list[Callable[[], None]] = []


def per_container[F: Callable[..., Any]](factory: F) -> F:
    """``lru_cache`` a factory and register it, so ``reset_containers()`` forgets what it built."""
    cached = lru_cache(maxsize=None)(factory)
    _resets.append(cached.cache_clear)
    return cached  # type: ignore[return-value]


def on_reset(callback: Callable[[], None]) -> None:
    _resets.append(callback)


def reset_containers() -> None:
    """What a fresh Lambda container would see: settings re-read, clients and repositories rebuilt."""
    for reset in list(_resets):
        reset()
