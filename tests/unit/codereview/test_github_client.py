"""The GitHub client against a fake GitHub over real HTTP: rate limits waited out, errors made clear, App auth."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest

from stratus.github.auth import InstallationTokens, app_jwt
from stratus.github.client import GitHubClient, GitHubConfig, StaticToken, rate_limit_wait_s
from stratus.github.errors import GitHubRateLimited, GitHubRejected, GitHubUnavailable
from tests.integration.codereview.fake_github import FakeGitHub, FakeRepo


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def repo(github: FakeGitHub) -> FakeRepo:
    repo_id = 9000 + len(github.repos)
    repo = github.add_repository(f"octo-org/repo-{repo_id}", repo_id)
    repo.open_pull(1, {"a.py": "x = 1\n"}, {"a.py": "x = 2\n", "b.py": "y = 1\n"})
    return repo


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(
    github: FakeGitHub, *, max_wait_s: float = 20.0, sleep: Sleeps | None = None, token: str = "ghp_unit"
) -> GitHubClient:
    github.add_token("ghp_unit")
    config = GitHubConfig(api_url=github.url, timeout_s=5, max_attempts=4, backoff_base_s=0.01, max_wait_s=max_wait_s)
    return GitHubClient(config, StaticToken(token), sleep=sleep or Sleeps())


def test_files_and_contents_come_back_as_github_serves_them(github: FakeGitHub, repo: FakeRepo) -> None:
    api = client(github)
    head = repo.pulls[1].head.sha

    files = api.pull_request_files(repo.full_name, 1)

    assert [(f["filename"], f["status"]) for f in files] == [("a.py", "modified"), ("b.py", "added")]
    assert api.file_content(repo.full_name, "b.py", head) == b"y = 1\n"
    assert api.file_content(repo.full_name, "missing.py", head) is None


def test_a_retry_after_rate_limit_is_waited_out_then_the_call_succeeds(github: FakeGitHub, repo: FakeRepo) -> None:
    sleeps = Sleeps()
    github.limit("GET", rf"/repos/{repo.full_name}/pulls/1$", times=2, status=403, retry_after="3")

    pull = client(github, sleep=sleeps).pull_request(repo.full_name, 1)

    assert pull["number"] == 1
    assert sleeps.calls == [3.0, 3.0]


def test_a_primary_limit_waits_until_the_reset_time(github: FakeGitHub, repo: FakeRepo) -> None:
    sleeps = Sleeps()
    github.limit("GET", rf"/repos/{repo.full_name}/pulls/1$", times=1, status=403, retry_after=None, reset_in_s=5)

    client(github, sleep=sleeps).pull_request(repo.full_name, 1)

    assert len(sleeps.calls) == 1 and 4.0 <= sleeps.calls[0] <= 7.0


def test_a_wait_longer_than_the_budget_is_handed_back_to_the_caller(github: FakeGitHub, repo: FakeRepo) -> None:
    sleeps = Sleeps()
    github.limit("GET", rf"/repos/{repo.full_name}/pulls/1$", times=1, status=429, retry_after="120")

    with pytest.raises(GitHubRateLimited) as limited:
        client(github, max_wait_s=10, sleep=sleeps).pull_request(repo.full_name, 1)

    assert limited.value.retry_after_s == 120
    assert sleeps.calls == []


def test_unprocessable_and_unauthorised_calls_fail_with_githubs_reason(github: FakeGitHub, repo: FakeRepo) -> None:
    api = client(github)
    head = repo.pulls[1].head.sha

    with pytest.raises(GitHubRejected) as rejected:
        api.create_review(
            repo.full_name,
            1,
            commit_id=head,
            body="x",
            comments=[{"path": "a.py", "line": 40, "side": "RIGHT", "body": "no"}],
        )
    assert rejected.value.status_code == 422
    assert "Line could not be resolved" in rejected.value.detail

    with pytest.raises(GitHubRejected) as refused:
        client(github, token="ghp_wrong").pull_request(repo.full_name, 1)
    assert refused.value.status_code == 401 and "Bad credentials" in refused.value.detail


def test_an_unreachable_github_is_retried_then_reported_unavailable() -> None:
    sleeps = Sleeps()
    config = GitHubConfig(api_url="http://127.0.0.1:9", timeout_s=1, max_attempts=3, backoff_base_s=0.01)
    api = GitHubClient(config, StaticToken("t"), sleep=sleeps)

    with pytest.raises(GitHubUnavailable, match="gave up after 3 attempt"):
        api.pull_request("octo-org/x", 1)
    assert len(sleeps.calls) == 2


def test_rate_limit_rules() -> None:
    now = 1_000_000.0
    assert rate_limit_wait_s(429, {"retry-after": "7"}, "") == 7
    assert (
        rate_limit_wait_s(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)}, "", now) == 31
    )
    assert rate_limit_wait_s(403, {}, "You have exceeded a secondary rate limit") == 60
    assert rate_limit_wait_s(403, {"x-ratelimit-remaining": "12"}, "Resource not accessible by integration") is None
    assert rate_limit_wait_s(404, {"retry-after": "1"}, "") is None


def test_an_app_installation_token_is_fetched_with_the_app_jwt_and_cached(github: FakeGitHub, repo: FakeRepo) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    github.add_app(31337, public_pem)
    config = GitHubConfig(api_url=github.url, timeout_s=5)
    issued_before = github.installation_tokens_issued

    tokens = InstallationTokens(config, 31337, private_pem, installation_id=77)
    first = GitHubClient(config, tokens).pull_request(repo.full_name, 1)
    second = GitHubClient(config, InstallationTokens(config, 31337, private_pem, installation_id=77)).pull_request(
        repo.full_name, 1
    )

    assert first["number"] == second["number"] == 1
    assert github.installation_tokens_issued == issued_before + 1
    claims = jwt.decode(app_jwt(31337, private_pem, now=time.time()), options={"verify_signature": False})
    assert claims["iss"] == "31337" and 0 < claims["exp"] - claims["iat"] <= 600
