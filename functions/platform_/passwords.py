"""Password hashing with argon2id; an unknown account costs the same verification as a known one."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified when no account has the email, so timing does not tell whether one exists.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    @property
    def parameters(self) -> str:
        """The cost, as a benchmark states it."""
        h = self._hasher
        return f"argon2id t={h.time_cost} m={h.memory_cost} KiB p={h.parallelism}"

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash a dummy one is checked and False returned."""
        try:
            matched = self._hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other costs than today's (it is replaced on the next sign-in)."""
        return self._hasher.check_needs_rehash(stored_hash)
