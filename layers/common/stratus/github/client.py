"""The GitHub REST client: a timeout on every call, bounded retries, rate limits waited out.

Rate limits (GitHub's documented rules): 429, or 403 with ``x-ratelimit-remaining: 0`` or a
``retry-after`` header, or 403 whose message says a secondary rate limit was hit. The wait is
``retry-after`` seconds, else until ``x-ratelimit-reset`` (epoch seconds), else one minute. Waits up to
``GitHubConfig.max_wait_s`` happen in-process; a longer one raises ``GitHubRateLimited`` at once, so the
caller (a Step Functions task) can wait it out without paying for a sleeping Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from stratus.errors import UpstreamUnavailable
from stratus.github.errors import GitHubRateLimited, GitHubRejected, GitHubUnavailable
from stratus.retry import RetriesExhausted, RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    import httpx

API_VERSION = "2022-11-28"
JSON_MEDIA_TYPE = "application/vnd.github+json"
RAW_MEDIA_TYPE = "application/vnd.github.raw+json"
SECONDARY_LIMIT_WAIT_S = 60.0
MAX_PAGES = 30  # the files API stops at 3000 files (30 pages of 100)


@dataclass(frozen=True)
class GitHubConfig:
    api_url: str = "https://api.github.com"
    timeout_s: float = 10.0
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    max_wait_s: float = 20.0
    user_agent: str = "stratus-codereview"

    @property
    def base(self) -> str:
        return self.api_url.rstrip("/")


class TokenProvider(Protocol):
    """Where a request's bearer token comes from (a fixed token, or an App installation token)."""

    def token(self) -> str: ...

    def invalidate(self) -> None:
        """Forget a cached token GitHub refused (401), so the next call gets a fresh one."""
        ...


class StaticToken:
    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a GitHub token must not be empty")
        self._value = value

    def token(self) -> str:
        return self._value

    def invalidate(self) -> None:
        return None


def rate_limit_wait_s(status: int, headers: Mapping[str, str], message: str, now: float | None = None) -> float | None:
    """Seconds to wait when a response is a rate limit, else None."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after")
    remaining = headers.get("x-ratelimit-remaining")
    reset = headers.get("x-ratelimit-reset")
    if retry_after is not None:
        wait = parse_retry_after(retry_after)
        return SECONDARY_LIMIT_WAIT_S if wait is None else wait
    if remaining == "0" and reset is not None:
        try:
            return max(0.0, float(reset) - (time.time() if now is None else now)) + 1.0
        except ValueError:
            return SECONDARY_LIMIT_WAIT_S
    # GitHub documents the message as the only signal of a secondary limit without headers.
    if status == 429 or "secondary rate limit" in message.lower():
        return SECONDARY_LIMIT_WAIT_S
    return None


def _message_of(response: httpx.Response) -> tuple[str, list[Any]]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], []
    if isinstance(body, dict):
        errors = body.get("errors")
        return str(body.get("message") or ""), errors if isinstance(errors, list) else []
    return "", []


class GitHubClient:
    """A thin, typed client for the endpoints the services use; every method is one bounded, retried call."""

    def __init__(
        self,
        config: GitHubConfig,
        tokens: TokenProvider,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._tokens = tokens
        self._http = http
        self._policy = RetryPolicy(
            max_attempts=config.max_attempts,
            base_delay_s=config.backoff_base_s,
            max_retry_after_s=config.max_wait_s,
            retry_on=(UpstreamUnavailable,),
            sleep=sleep,
        )

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(timeout=httpx.Timeout(self.config.timeout_s), follow_redirects=True)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: str = JSON_MEDIA_TYPE,
    ) -> httpx.Response:
        """One API call with retries; raises ``GitHubRejected``, ``GitHubRateLimited`` or ``GitHubUnavailable``."""
        operation = f"GitHub {method} {path.split('?')[0]}"
        refreshed = False

        def attempt() -> httpx.Response:
            nonlocal refreshed
            response = self._send(method, path, params=params, json=json, accept=accept)
            if response.status_code == 401 and not refreshed:
                # An installation token can be revoked or expire early: fetch a fresh one, once.
                refreshed = True
                self._tokens.invalidate()
                response = self._send(method, path, params=params, json=json, accept=accept)
            return self._checked(response, operation)

        try:
            return self._policy.call(operation, attempt)
        except RetriesExhausted as exhausted:
            cause = exhausted.__cause__
            if isinstance(cause, GitHubRateLimited):
                raise GitHubRateLimited(
                    f"{operation}: rate limited; retry after {cause.retry_after_s:.0f} s",
                    retry_after_s=cause.retry_after_s,
                ) from exhausted
            raise GitHubUnavailable(exhausted.detail, **exhausted.extensions) from exhausted

    def _send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None, json: Any, accept: str
    ) -> httpx.Response:
        import httpx

        headers = {
            "Accept": accept,
            "Authorization": f"Bearer {self._tokens.token()}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": self.config.user_agent,
        }
        url = path if path.startswith("http") else f"{self.config.base}{path}"
        try:
            return self._client().request(method, url, params=params, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise GitHubUnavailable(f"GitHub {method} {path}: timed out after {self.config.timeout_s} s") from exc
        except httpx.TransportError as exc:
            raise GitHubUnavailable(f"GitHub {method} {path}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _checked(response: httpx.Response, operation: str) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        message, errors = _message_of(response)
        wait = rate_limit_wait_s(status, {k.lower(): v for k, v in response.headers.items()}, message)
        if wait is not None:
            raise GitHubRateLimited(
                f"{operation}: rate limited ({status}); retry after {wait:.0f} s", retry_after_s=wait
            )
        if status >= 500:
            raise GitHubUnavailable(f"{operation}: GitHub answered {status} {message}".rstrip())
        detail = f"{operation}: GitHub answered {status}" + (f": {message}" if message else "")
        if errors:
            detail += f" ({'; '.join(str(e) for e in errors[:3])})"
        raise GitHubRejected(detail, status_code=status, errors=errors)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """Every item of a list endpoint, following ``per_page=100`` pages until a short page."""
        for page in range(1, max_pages + 1):
            items = self.get_json(path, {**(params or {}), "per_page": 100, "page": page})
            if not isinstance(items, list):
                raise GitHubRejected(f"GitHub GET {path}: expected a list", status_code=200)
            yield from items
            if len(items) < 100:
                return

    @staticmethod
    def _repo(repository: str) -> str:
        owner, _, name = repository.partition("/")
        if not owner or not name:
            raise ValueError(f"repository must be owner/name, not {repository!r}")
        return f"/repos/{quote(owner)}/{quote(name)}"

    def pull_request(self, repository: str, number: int) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json(f"{self._repo(repository)}/pulls/{number}")
        return result

    def pull_request_files(self, repository: str, number: int) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self._repo(repository)}/pulls/{number}/files"))

    def compare(self, repository: str, base: str, head: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json(f"{self._repo(repository)}/compare/{quote(base)}...{quote(head)}")
        return result

    def file_content(self, repository: str, path: str, ref: str) -> bytes | None:
        """The raw bytes of ``path`` at ``ref``, or None when it does not exist there."""
        try:
            response = self.request(
                "GET", f"{self._repo(repository)}/contents/{quote(path)}", params={"ref": ref}, accept=RAW_MEDIA_TYPE
            )
        except GitHubRejected as exc:
            if exc.status_code == 404:
                return None
            raise
        return response.content

    def create_review(
        self,
        repository: str,
        number: int,
        *,
        commit_id: str,
        body: str,
        comments: Sequence[Mapping[str, Any]] = (),
        event: str = "COMMENT",
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"commit_id": commit_id, "body": body, "event": event}
        if comments:
            payload["comments"] = [dict(comment) for comment in comments]
        result: dict[str, Any] = self.request(
            "POST", f"{self._repo(repository)}/pulls/{number}/reviews", json=payload
        ).json()
        return result

    def review_comments(self, repository: str, number: int, review_id: int) -> list[dict[str, Any]]:
        return list(self.paginate(f"{self._repo(repository)}/pulls/{number}/reviews/{review_id}/comments"))

    def pull_request_comments(self, repository: str, number: int) -> list[dict[str, Any]]:
        """Every review comment of the pull request, each with its ``reactions`` roll-up."""
        return list(self.paginate(f"{self._repo(repository)}/pulls/{number}/comments"))
