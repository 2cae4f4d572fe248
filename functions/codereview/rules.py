"""Per-repository review rules: stored as one item per repository, defaults when none were set."""

from __future__ import annotations

import time

from pydantic import BaseModel

from codereview.domain import ReviewRules, repository_key
from codereview.models import RulesItem, bind_tables
from codereview.settings import CodeReviewServiceSettings
from stratus.storage import tenant_key


class StoredRules(BaseModel):
    rules: ReviewRules
    configured: bool
    updated_at: int | None = None


class RulesStore:
    def __init__(self, settings: CodeReviewServiceSettings) -> None:
        bind_tables(settings.codereview_table)

    def put(self, tenant_id: str, rules: ReviewRules) -> StoredRules:
        now = int(time.time())
        RulesItem(
            tenant_key(tenant_id, "RULES"),
            repository_key(rules.repository),
            document=rules.model_dump_json(),
            updated_at=now,
        ).save()
        return StoredRules(rules=rules, configured=True, updated_at=now)

    def get(self, tenant_id: str, repository: str) -> StoredRules:
        try:
            item = RulesItem.get(tenant_key(tenant_id, "RULES"), repository_key(repository))
        except RulesItem.DoesNotExist:
            return StoredRules(rules=ReviewRules(repository=repository), configured=False)
        return StoredRules(
            rules=ReviewRules.model_validate_json(item.document), configured=True, updated_at=int(item.updated_at)
        )

    def list_for(self, tenant_id: str) -> list[StoredRules]:
        return [
            StoredRules(
                rules=ReviewRules.model_validate_json(item.document), configured=True, updated_at=int(item.updated_at)
            )
            for item in RulesItem.query(tenant_key(tenant_id, "RULES"))
        ]
