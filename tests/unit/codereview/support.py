"""Builders of prepared files and runs for the stage and publishing tests."""

from __future__ import annotations

from codereview.domain import LearnedPreferences, ReviewRules, ReviewTrigger
from codereview.files import Chunk, ChunkFile, language_of
from codereview.prepared import Prepared, PreparedFile
from stratus.github.diff import parse_patch
from tests.integration.codereview.fake_github import file_patch

TRIGGER = ReviewTrigger(
    tenant_id="acme",
    pr_id=1001,
    run_id="0001700000000-delivery",
    repository="octo-org/service",
    number=7,
    head_sha="a" * 40,
    base_sha="b" * 40,
    registration_id="repo-1",
    reason="opened",
)


def prepared_file(path: str, before: str | None, after: str) -> PreparedFile:
    patch = file_patch(before, after)
    parsed = parse_patch(patch)
    return PreparedFile(
        path=path,
        status="added" if before is None else "modified",
        language=language_of(path),
        patch=patch,
        reviewable_lines=sorted(parsed.added_lines),
        commentable_lines=sorted(parsed.right_lines),
        content=after,
    )


def prepared_run(
    *files: PreparedFile, rules: ReviewRules | None = None, preferences: LearnedPreferences | None = None
) -> Prepared:
    chunk = Chunk(
        index=0,
        files=[ChunkFile(path=f.path, text=f.patch, lines=list(f.reviewable_lines)) for f in files],
        tokens=100,
    )
    return Prepared(
        trigger=TRIGGER,
        scope="full",
        always_post=True,
        rules=rules or ReviewRules(repository=TRIGGER.repository),
        preferences=preferences or LearnedPreferences(),
        files=list(files),
        skipped=[],
        chunks=[chunk],
    )
