"""argon2id hashing, the dummy verification for unknown accounts, and the platform's settings."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from platform_.passwords import Passwords
from platform_.settings import PlatformSettings

CHEAP = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}


def test_a_password_verifies_against_its_own_hash_only() -> None:
    passwords = Passwords(**CHEAP)
    stored = passwords.hash("correct horse battery staple")

    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse battery staple")
    assert not passwords.verify(stored, "correct horse battery stapler")


def test_with_no_account_the_check_fails_but_costs_a_real_verification() -> None:
    passwords = Passwords(time_cost=2, memory_kib=16384, parallelism=1)
    stored = passwords.hash("correct horse battery staple")

    # Interleaved, and the fastest of each kept: other processes on shared cores only ever add time.
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(7):
        for stored_hash, times in ((stored, known), (None, unknown)):
            started = time.perf_counter()
            passwords.verify(stored_hash, "wrong guess")
            times.append(time.perf_counter() - started)

    assert not passwords.verify(None, "anything")
    assert 0.5 < min(unknown) / min(known) < 2


def test_a_hash_made_with_other_costs_is_marked_for_rehash() -> None:
    old = Passwords(**CHEAP).hash("correct horse battery staple")

    assert Passwords(time_cost=2, memory_kib=1024, parallelism=1).needs_rehash(old)
    assert not Passwords(**CHEAP).needs_rehash(old)


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not Passwords(**CHEAP).verify("not-a-hash", "anything")


def test_defaults_follow_rfc_9106(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    settings = PlatformSettings()

    assert (settings.platform_password_time_cost, settings.platform_password_memory_kib) == (3, 65536)
    assert settings.platform_access_token_ttl_s == 900


def test_a_lockout_that_comes_before_the_backoff_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("PLATFORM_LOGIN_BACKOFF_AFTER", "5")
    monkeypatch.setenv("PLATFORM_LOGIN_LOCKOUT_AFTER", "4")

    with pytest.raises(ValidationError, match="must exceed PLATFORM_LOGIN_BACKOFF_AFTER"):
        PlatformSettings()
