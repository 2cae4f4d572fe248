"""What a GitHub call can end in, as domain errors the web layer already knows how to answer."""

from __future__ import annotations

from typing import Any

from stratus.errors import UpstreamFailed, UpstreamUnavailable


class GitHubError(Exception):
    """Marker base: every error raised by ``stratus.github`` is also one of these."""


class GitHubUnavailable(UpstreamUnavailable, GitHubError):
    """GitHub timed out, refused the connection or answered 5xx; worth retrying."""


class GitHubRateLimited(GitHubUnavailable):
    """GitHub answered 403/429 for a rate limit; ``retry_after_s`` says how long to wait."""

    def __init__(self, detail: str, *, retry_after_s: float, **extensions: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extensions)
        self.retry_after_s = retry_after_s


class GitHubRejected(UpstreamFailed, GitHubError):
    """GitHub refused the request (4xx other than a rate limit); retrying the same request cannot help."""

    def __init__(self, detail: str, *, status_code: int, errors: list[Any] | None = None, **extensions: Any) -> None:
        super().__init__(detail, github_status=status_code, **extensions)
        self.status_code = status_code
        self.errors = errors or []
