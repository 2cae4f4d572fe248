"""GitHub App authentication: an app JWT (RS256, ten minutes at most) exchanged for an installation token.

Installation tokens live an hour; each is cached per container until five minutes before it expires.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

from stratus.cache import on_reset
from stratus.github.client import JSON_MEDIA_TYPE, GitHubClient, GitHubConfig, StaticToken

if TYPE_CHECKING:
    import httpx

JWT_LIFETIME_S = 540  # GitHub accepts at most 600 s; leave room for clock drift
JWT_BACKDATE_S = 60  # GitHub recommends an iat 60 s in the past
REFRESH_MARGIN_S = 300
MIN_RSA_BITS = 2048  # what GitHub generates; PyJWT flags smaller keys as insecure

_lock = threading.Lock()
_tokens: dict[tuple[str, str, int], tuple[str, float]] = {}
_fetch_locks: dict[tuple[str, str, int], threading.Lock] = {}
on_reset(_tokens.clear)


def app_jwt(app_id: str | int, private_key_pem: str, now: float | None = None) -> str:
    """The JWT that authenticates as the App itself (``iss`` is the App id or client id)."""
    import jwt

    issued = int(time.time() if now is None else now) - JWT_BACKDATE_S
    claims = {"iat": issued, "exp": issued + JWT_BACKDATE_S + JWT_LIFETIME_S, "iss": str(app_id)}
    return str(jwt.encode(claims, private_key_pem, algorithm="RS256"))


def check_app_private_key(private_key_pem: str) -> None:
    """``ValueError`` unless ``private_key_pem`` is an RSA private key PyJWT can sign an app JWT with."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = private_key_pem.strip()
    if not text.startswith("-----BEGIN") or "PRIVATE KEY-----" not in text.splitlines()[0]:
        raise ValueError("private_key must be the PEM file GitHub generated for the App")
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:  # malformed, encrypted or an unsupported algorithm
        raise ValueError("private_key is not a readable unencrypted PEM private key") from exc
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("private_key must be an RSA key: GitHub signs App JWTs with RS256")
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"private_key is a {key.key_size}-bit RSA key; RS256 needs at least {MIN_RSA_BITS} bits")
    try:
        app_jwt(1, text + "\n")
    except Exception as exc:  # PyJWT refuses it (e.g. a key too small for RS256): a review would fail the same way
        raise ValueError("private_key cannot sign an RS256 JWT") from exc


class InstallationTokens:
    """A ``TokenProvider`` for one installation of one App."""

    def __init__(
        self,
        config: GitHubConfig,
        app_id: str | int,
        private_key_pem: str,
        installation_id: int,
        *,
        http: httpx.Client | None = None,
    ) -> None:
        self._config = config
        self._app_id = str(app_id)
        self._private_key = private_key_pem
        self._installation_id = installation_id
        self._http = http
        self._key = (config.base, self._app_id, installation_id)

    def token(self) -> str:
        with _lock:
            fetching = _fetch_locks.setdefault(self._key, threading.Lock())
        # One fetch per installation at a time: concurrent callers wait for it and share the token.
        with fetching:
            with _lock:
                cached = _tokens.get(self._key)
            if cached is not None and cached[1] - REFRESH_MARGIN_S > time.time():
                return cached[0]
            token, expires_at = self._fetch()
            with _lock:
                _tokens[self._key] = (token, expires_at)
            return token

    def invalidate(self) -> None:
        with _lock:
            _tokens.pop(self._key, None)

    def _fetch(self) -> tuple[str, float]:
        # The exchange itself authenticates with the app JWT, through the same retries and rate-limit handling.
        client = GitHubClient(self._config, StaticToken(app_jwt(self._app_id, self._private_key)), http=self._http)
        response = client.request(
            "POST", f"/app/installations/{self._installation_id}/access_tokens", accept=JSON_MEDIA_TYPE
        ).json()
        expires_at = datetime.fromisoformat(str(response["expires_at"]).replace("Z", "+00:00")).timestamp()
        return str(response["token"]), expires_at


__all__ = ["InstallationTokens", "app_jwt", "check_app_private_key"]
