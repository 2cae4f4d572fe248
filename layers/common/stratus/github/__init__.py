"""GitHub for services: REST client with rate-limit handling, App and token auth, webhook signatures, diffs.

Importing this package loads nothing heavy: httpx and pyjwt are imported where first used.
"""

from stratus.github.diff import DiffLine, FilePatch, GitFileDiff, Hunk, parse_patch, split_git_diff
from stratus.github.errors import GitHubError, GitHubRateLimited, GitHubRejected, GitHubUnavailable
from stratus.github.webhooks import sign_payload, signature_matches

__all__ = [
    "DiffLine",
    "FilePatch",
    "GitFileDiff",
    "GitHubError",
    "GitHubRateLimited",
    "GitHubRejected",
    "GitHubUnavailable",
    "Hunk",
    "parse_patch",
    "sign_payload",
    "signature_matches",
    "split_git_diff",
]
