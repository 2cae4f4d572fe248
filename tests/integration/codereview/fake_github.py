"""A fake GitHub REST API served over real HTTP on 127.0.0.1, for tests and the codereview benchmark.

It keeps repositories with pull requests made of file snapshots (one per commit), computes their diffs
as GitHub's files and compare APIs return them, serves raw contents, exchanges App JWTs for installation
tokens, and records every review posted. Like GitHub, it refuses (422) a review whose inline comment sits
on a line that is not in the pull request's diff, and it can be told to answer with rate limits.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from stratus.github.diff import GitFileDiff, parse_patch, split_git_diff

Files = dict[str, str | bytes]
FilesIn = Mapping[str, str | bytes]  # what callers pass: any mapping of path to text or bytes


def _sha(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()


def _is_binary(content: str | bytes) -> bool:
    return isinstance(content, bytes) and b"\x00" in content[:8000]


def _text(content: str | bytes) -> str:
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def file_patch(before: str | bytes | None, after: str | bytes | None) -> str:
    """The hunks GitHub shows for one file (``git diff`` with 3 lines of context, no file header)."""
    old = _text(before).splitlines(keepends=True) if before is not None else []
    new = _text(after).splitlines(keepends=True) if after is not None else []
    lines = list(difflib.unified_diff(old, new, n=3))[2:]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")


def diff_entries(base: Files, head: Files, renames: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """GitHub's files-API entries between two snapshots; ``renames`` maps new path -> old path."""
    renames = renames or {}
    entries: list[dict[str, Any]] = []
    renamed_from = set(renames.values())
    for path in sorted(set(base) | set(head)):
        if path in renamed_from and path not in head:
            continue
        before = base.get(renames.get(path, path))
        after = head.get(path)
        if before == after and path not in renames:
            continue
        status = (
            "renamed" if path in renames else "added" if before is None else "removed" if after is None else "modified"
        )
        entry: dict[str, Any] = {"sha": _sha(path, str(after)), "filename": path, "status": status}
        if path in renames:
            entry["previous_filename"] = renames[path]
        if (before is not None and _is_binary(before)) or (after is not None and _is_binary(after)):
            entry.update(additions=0, deletions=0, changes=0)
        else:
            patch = file_patch(before, after)
            parsed = parse_patch(patch)
            adds = sum(1 for line in parsed.lines if line.kind == "add")
            dels = sum(1 for line in parsed.lines if line.kind == "del")
            entry.update(additions=adds, deletions=dels, changes=adds + dels)
            if patch:
                entry["patch"] = patch
        entries.append(entry)
    return entries


@dataclass
class Commit:
    sha: str
    files: Files
    renames: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] | None = None  # fixed files-API entries (a PR built from a real diff)


@dataclass
class FakePull:
    repo: FakeRepo
    number: int
    id: int
    title: str
    base: Commit
    commits: list[Commit]
    state: str = "open"
    merged: bool = False

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def files(self, commit: Commit | None = None) -> list[dict[str, Any]]:
        commit = commit or self.head
        if commit.entries is not None:
            return commit.entries
        return diff_entries(self.base.files, commit.files, commit.renames)

    def push(self, files: FilesIn, renames: dict[str, str] | None = None) -> str:
        """A new head commit with these files (the whole snapshot); returns its sha."""
        sha = _sha(self.repo.full_name, str(self.number), str(len(self.commits)), json.dumps(sorted(map(str, files))))
        sha = _sha(sha, *(f"{k}={_text(v)}" for k, v in sorted(files.items())))
        self.commits.append(Commit(sha, dict(files), dict(renames or {})))
        self.repo.commits[sha] = self.commits[-1]
        return sha

    def as_json(self) -> dict[str, Any]:
        owner, name = self.repo.full_name.split("/")
        return {
            "id": self.id,
            "number": self.number,
            "state": self.state,
            "title": self.title,
            "draft": False,
            "merged": self.merged,
            "html_url": f"https://github.com/{self.repo.full_name}/pull/{self.number}",
            "head": {"sha": self.head.sha, "ref": "feature", "repo": {"full_name": self.repo.full_name}},
            "base": {"sha": self.base.sha, "ref": "main", "repo": {"full_name": self.repo.full_name}},
            "user": {"login": "octocat"},
            "repository": {
                "id": self.repo.id,
                "full_name": self.repo.full_name,
                "owner": {"login": owner},
                "name": name,
            },
        }


@dataclass
class FakeRepo:
    full_name: str
    id: int
    pulls: dict[int, FakePull] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def open_pull(
        self,
        number: int,
        base: FilesIn,
        head: FilesIn,
        *,
        title: str = "A change",
        pr_id: int | None = None,
        renames: dict[str, str] | None = None,
    ) -> FakePull:
        base_commit = Commit(_sha(self.full_name, "base", str(number)), dict(base))
        self.commits[base_commit.sha] = base_commit
        pull = FakePull(self, number, pr_id or self.id * 1000 + number, title, base_commit, [])
        self.pulls[number] = pull
        pull.push(head, renames)
        return pull

    def pull_from_diff(self, number: int, diff_text: str, *, title: str, pr_id: int | None = None) -> FakePull:
        """A pull request whose files are the files of a real ``git diff`` (contents are rebuilt for new lines)."""
        files: list[GitFileDiff] = split_git_diff(diff_text)
        entries = [f.as_github_file() for f in files]
        contents: Files = {}
        for f in files:
            if f.binary or f.status == "removed":
                continue
            # Only new-side lines the diff shows are known; other lines are blank so numbering holds.
            shown = {line.new: line.text for line in parse_patch(f.patch).lines if line.new is not None}
            last = max(shown, default=0)
            contents[f.filename] = "".join(shown.get(n, "") + "\n" for n in range(1, last + 1))
        pull = self.open_pull(number, {}, {}, title=title, pr_id=pr_id)
        pull.head.files = contents
        pull.head.entries = entries
        return pull


@dataclass
class PostedReview:
    id: int
    repository: str
    number: int
    commit_id: str
    body: str
    event: str
    comments: list[dict[str, Any]]


@dataclass
class RateLimit:
    method: str
    path: re.Pattern[str]
    remaining: int
    status: int
    headers: dict[str, str]


class FakeGitHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.reviews: list[PostedReview] = []
        self.rejected: list[dict[str, Any]] = []
        self.comments: dict[int, dict[str, Any]] = {}
        self.reactions: dict[int, dict[str, int]] = {}
        self.tokens: set[str] = set()
        self.apps: dict[int, str] = {}  # app id -> PEM public key
        self.installation_tokens_issued = 0
        self.requests: list[tuple[str, str, int, float]] = []
        self.rate_limits: list[RateLimit] = []
        self._ids = itertools.count(1_000_001)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = fake.handle(self.command, self.path, dict(self.headers.items()), body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-github", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def service_environment(self) -> dict[str, str]:
        """The codereview settings that point a stack at this fake, with waits short enough for tests."""
        return {
            "CODEREVIEW_GITHUB_API_URL": self.url,
            "CODEREVIEW_GITHUB_MAX_WAIT_S": "1.5",
            "CODEREVIEW_GITHUB_TIMEOUT_S": "5",
        }

    def add_repository(self, full_name: str, repo_id: int) -> FakeRepo:
        repo = FakeRepo(full_name, repo_id)
        self.repos[full_name.lower()] = repo
        return repo

    def add_token(self, token: str) -> str:
        self.tokens.add(token)
        return token

    def add_app(self, app_id: int, public_key_pem: str) -> None:
        self.apps[app_id] = public_key_pem

    def limit(
        self,
        method: str,
        path_pattern: str,
        *,
        times: int = 1,
        status: int = 429,
        retry_after: str | None = "1",
        reset_in_s: float | None = None,
    ) -> None:
        """The next ``times`` matching requests are refused as rate limited."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if reset_in_s is not None:
            headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time() + reset_in_s))})
        self.rate_limits.append(RateLimit(method, re.compile(path_pattern), times, status, headers))

    def react(self, comment_id: int, content: str) -> None:
        with self._lock:
            counts = self.reactions.setdefault(comment_id, {})
            counts[content] = counts.get(content, 0) + 1

    def reviews_of(self, repository: str, number: int) -> list[PostedReview]:
        with self._lock:
            return [r for r in self.reviews if r.repository.lower() == repository.lower() and r.number == number]

    def wait_for_reviews(self, repository: str, number: int, count: int, timeout_s: float = 30.0) -> list[PostedReview]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.reviews_of(repository, number)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} review(s) on {repository}#{number}, got {len(self.reviews_of(repository, number))}"
        )

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        started = time.monotonic()
        status, response_headers, payload = self._route(
            method, raw_path, {k.lower(): v for k, v in headers.items()}, body
        )
        with self._lock:
            self.requests.append((method, urlsplit(raw_path).path, status, started))
        response_headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return status, response_headers, payload

    def _limited(self, method: str, path: str) -> tuple[int, dict[str, str], Any] | None:
        with self._lock:
            for rule in self.rate_limits:
                if rule.remaining > 0 and rule.method == method and rule.path.search(path):
                    rule.remaining -= 1
                    message = (
                        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
                    )
                    return rule.status, dict(rule.headers), {"message": message}
        return None

    def _route(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        limited = self._limited(method, path)
        if limited is not None:
            return limited
        match = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
        if match and method == "POST":
            return self._installation_token(int(match.group(1)), headers)
        token = headers.get("authorization", "").removeprefix("Bearer ").removeprefix("token ").strip()
        if token not in self.tokens:
            return 401, {}, {"message": "Bad credentials"}
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)/(.*)", path)
        if not match:
            return 404, {}, {"message": "Not Found"}
        repo = self.repos.get(match.group(1).lower())
        if repo is None:
            return 404, {}, {"message": "Not Found"}
        rest = match.group(2)
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 30))

        def paged(items: list[Any]) -> list[Any]:
            return items[(page - 1) * per_page : page * per_page]

        if m := re.fullmatch(r"pulls/(\d+)", rest):
            pull = repo.pulls.get(int(m.group(1)))
            return (200, {}, pull.as_json()) if pull else (404, {}, {"message": "Not Found"})
        if m := re.fullmatch(r"pulls/(\d+)/files", rest):
            pull = repo.pulls.get(int(m.group(1)))
            return (200, {}, paged(pull.files())) if pull else (404, {}, {"message": "Not Found"})
        if m := re.fullmatch(r"compare/([0-9a-f]+)\.\.\.([0-9a-f]+)", rest):
            base, head = repo.commits.get(m.group(1)), repo.commits.get(m.group(2))
            if base is None or head is None:
                return 404, {}, {"message": "Not Found"}
            return 200, {}, {"status": "ahead", "files": diff_entries(base.files, head.files, head.renames)}
        if m := re.fullmatch(r"contents/(.+)", rest):
            commit = repo.commits.get(query.get("ref", ""))
            content = commit.files.get(m.group(1)) if commit else None
            if content is None:
                return 404, {}, {"message": "Not Found"}
            raw = content if isinstance(content, bytes) else content.encode()
            if "raw" in headers.get("accept", ""):
                return 200, {"Content-Type": "application/vnd.github.raw"}, raw
            return 200, {}, {"type": "file", "encoding": "base64", "content": base64.b64encode(raw).decode()}
        if (m := re.fullmatch(r"pulls/(\d+)/reviews", rest)) and method == "POST":
            return self._create_review(repo, int(m.group(1)), json.loads(body or b"{}"))
        if m := re.fullmatch(r"pulls/(\d+)/reviews/(\d+)/comments", rest):
            review_id = int(m.group(2))
            return (
                200,
                {},
                paged(
                    [self._comment_json(c) for c in self.comments.values() if c["pull_request_review_id"] == review_id]
                ),
            )
        if m := re.fullmatch(r"pulls/(\d+)/comments", rest):
            number = int(m.group(1))
            found = [
                self._comment_json(c)
                for c in self.comments.values()
                if c["repository"] == repo.full_name and c["number"] == number
            ]
            return 200, {}, paged(found)
        return 404, {}, {"message": "Not Found"}

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        counts = self.reactions.get(comment["id"], {})
        reactions = {"total_count": sum(counts.values()), "+1": counts.get("+1", 0), "-1": counts.get("-1", 0)}
        return {**{k: v for k, v in comment.items() if k not in ("repository", "number")}, "reactions": reactions}

    def _create_review(self, repo: FakeRepo, number: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        pull = repo.pulls.get(number)
        if pull is None:
            return 404, {}, {"message": "Not Found"}
        commit = repo.commits.get(str(payload.get("commit_id")))
        if commit is None:
            return 422, {}, {"message": "Unprocessable Entity", "errors": ["commit_id is not part of the pull request"]}
        diff = {entry["filename"]: parse_patch(entry.get("patch")) for entry in pull.files(commit)}
        for comment in payload.get("comments") or []:
            patch = diff.get(comment.get("path"))
            side = comment.get("side", "RIGHT")
            lines = (patch.right_lines if side == "RIGHT" else patch.left_lines) if patch else frozenset()
            if comment.get("line") not in lines:
                with self._lock:
                    self.rejected.append({"path": comment.get("path"), "line": comment.get("line"), "side": side})
                return (
                    422,
                    {},
                    {
                        "message": "Unprocessable Entity",
                        "errors": ["Line could not be resolved"],
                        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
                    },
                )
        with self._lock:
            review = PostedReview(
                id=next(self._ids),
                repository=repo.full_name,
                number=number,
                commit_id=commit.sha,
                body=str(payload.get("body") or ""),
                event=str(payload.get("event") or "COMMENT"),
                comments=[],
            )
            for comment in payload.get("comments") or []:
                stored = {
                    "id": next(self._ids),
                    "pull_request_review_id": review.id,
                    "path": comment["path"],
                    "line": comment["line"],
                    "side": comment.get("side", "RIGHT"),
                    "body": comment["body"],
                    "commit_id": commit.sha,
                    "user": {"login": "stratus-review[bot]"},
                    "repository": repo.full_name,
                    "number": number,
                }
                self.comments[stored["id"]] = stored
                review.comments.append(stored)
            self.reviews.append(review)
        return (
            200,
            {},
            {
                "id": review.id,
                "user": {"login": "stratus-review[bot]"},
                "body": review.body,
                "state": "COMMENTED",
                "commit_id": review.commit_id,
                "html_url": f"https://github.com/{repo.full_name}/pull/{number}#pullrequestreview-{review.id}",
            },
        )

    def _installation_token(self, installation_id: int, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        import jwt

        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            public_key = self.apps[int(claims["iss"])]
            jwt.decode(token, public_key, algorithms=["RS256"])
        except (jwt.InvalidTokenError, KeyError, ValueError):
            return 401, {}, {"message": "A JSON web token could not be decoded"}
        with self._lock:
            self.installation_tokens_issued += 1
            issued = self.add_token(f"ghs_{installation_id}_{self.installation_tokens_issued:04d}")
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, {}, {"token": issued, "expires_at": expires, "permissions": {"pull_requests": "write"}}
