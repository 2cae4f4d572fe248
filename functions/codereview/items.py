"""DynamoDB items of the codereview table. Every partition key starts with the tenant (``tenant_key``).

| item | pk | sk |
|---|---|---|
| registration (repository hook or App) | ``<t>#REGISTRATION`` | registration id |
| delivery idempotency record (TTL) | ``<t>#DELIVERY`` | X-GitHub-Delivery |
| App installation | ``<t>#INSTALLATION`` | installation id |
| rules of a repository | ``<t>#RULES`` | owner/name, lowercase |
| review of a pull request | ``<t>#REVIEW`` | pull request id |
| review run (one head commit) | ``<t>#RUN#<pr>`` | run id (time ordered) |
| finding | ``<t>#FINDING#<pr>`` | fingerprint |
| posted comment -> finding | ``<t>#COMMENT`` | comment id |
| acceptance counters by week | ``<t>#FEEDBACK`` | ``<repo>#<week>#<category>#<severity>`` |
| what a repository's feedback taught | ``<t>#LEARNED#<repo>`` | ``cat#…`` / ``pattern#…`` / ``fp#…`` |

The ``by-hook-target`` index maps a webhook's target (``repository#<id>`` or ``app#<id>``) to registrations.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from stratus.storage import TenantModel


class HookTargetIndex(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-hook-target"
        projection = IncludeProjection(["kind", "secret_name", "repository", "app_id"])

    hook_target = UnicodeAttribute(hash_key=True)


class RegistrationItem(TenantModel):
    kind = UnicodeAttribute()  # repository | app
    hook_target = UnicodeAttribute()
    by_hook_target = HookTargetIndex()
    repository = UnicodeAttribute(null=True)
    repository_id = NumberAttribute(null=True)
    app_id = NumberAttribute(null=True)
    secret_name = UnicodeAttribute()
    has_token = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class DeliveryItem(TenantModel):
    event = UnicodeAttribute()
    action = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # queued | done | ignored
    registration_id = UnicodeAttribute()
    received_at = NumberAttribute()
    expires_at = NumberAttribute()


class InstallationItem(TenantModel):
    registration_id = UnicodeAttribute()
    account = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # active | suspended | deleted
    repositories = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = NumberAttribute()


class RulesItem(TenantModel):
    document = UnicodeAttribute()  # ReviewRules as JSON
    updated_at = NumberAttribute()


class ReviewItem(TenantModel):
    repository = UnicodeAttribute()
    repo_key = UnicodeAttribute()
    number = NumberAttribute()
    title = UnicodeAttribute(default="")
    url = UnicodeAttribute(default="")
    state = UnicodeAttribute()  # queued | reviewing | posted | held | clean | failed | skipped | closed | merged
    registration_id = UnicodeAttribute()
    installation_id = NumberAttribute(null=True)
    head_sha = UnicodeAttribute()
    base_sha = UnicodeAttribute()
    last_reviewed_sha = UnicodeAttribute(null=True)
    last_reviewed_run = UnicodeAttribute(null=True)
    latest_run_id = UnicodeAttribute(null=True)
    held_run_id = UnicodeAttribute(null=True)
    posted_review_ids = ListAttribute(of=NumberAttribute, default=list)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class RunItem(TenantModel):
    head_sha = UnicodeAttribute()
    base_sha = UnicodeAttribute()
    reason = UnicodeAttribute()
    full = BooleanAttribute(default=False)
    status = UnicodeAttribute()  # queued | running | posted | held | clean | failed | skipped | superseded
    current_stage = UnicodeAttribute(null=True)
    scope = UnicodeAttribute(default="")
    stages = UnicodeAttribute(default="{}")  # JSON: stage -> summary
    skipped_files = UnicodeAttribute(default="[]")  # JSON list of {path, reason}
    preferences = UnicodeAttribute(default="{}")  # JSON LearnedPreferences applied
    review_id = NumberAttribute(null=True)
    comment_ids = ListAttribute(of=NumberAttribute, default=list)
    execution_arn = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    started_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)


class FindingItem(TenantModel):
    repository = UnicodeAttribute()
    path = UnicodeAttribute()
    line = NumberAttribute()
    severity = UnicodeAttribute()
    category = UnicodeAttribute()
    rule = UnicodeAttribute(null=True)
    pattern = UnicodeAttribute()
    stage = UnicodeAttribute()
    source = UnicodeAttribute()
    offline = BooleanAttribute(default=False)
    message = UnicodeAttribute()
    suggestion = UnicodeAttribute(null=True)
    # new | posting | posted | held | suppressed | below-threshold | outside-diff | over-limit | superseded
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    run_id = UnicodeAttribute()
    commit_sha = UnicodeAttribute()
    claimed_at = NumberAttribute(null=True)
    comment_id = NumberAttribute(null=True)
    review_id = NumberAttribute(null=True)
    posted_at = NumberAttribute(null=True)
    week = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(default="pending")  # pending | accepted | rejected
    outcome_reason = UnicodeAttribute(null=True)
    changed = BooleanAttribute(default=False)
    decided_at = NumberAttribute(null=True)


class CommentItem(TenantModel):
    pr_id = NumberAttribute()
    fingerprint = UnicodeAttribute()


class FeedbackStatItem(TenantModel):
    repository = UnicodeAttribute()
    week = UnicodeAttribute()
    category = UnicodeAttribute()
    severity = UnicodeAttribute()
    posted = NumberAttribute(default=0)
    accepted = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)


class LearnedStatItem(TenantModel):
    accepted = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    last_reason = UnicodeAttribute(null=True)


ALL_MODELS: tuple[type[TenantModel], ...] = (
    RegistrationItem,
    DeliveryItem,
    InstallationItem,
    RulesItem,
    ReviewItem,
    RunItem,
    FindingItem,
    CommentItem,
    FeedbackStatItem,
    LearnedStatItem,
)


def bind_tables(table_name: str) -> None:
    """Point every item class at the codereview table (cheap after the first call)."""
    from stratus.storage import bind_model

    for model in ALL_MODELS:
        bind_model(model, table_name)
