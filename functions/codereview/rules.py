"""Per-repository review rules: stored as one item per repository, defaults when none were set."""

from __future__ import annotations

import time

from codereview.domain import ReviewRules
from codereview.items import RulesItem
from codereview.repository import RulesRepository
from codereview.schemas import RulesView


def _view(item: RulesItem) -> RulesView:
    return RulesView(
        rules=ReviewRules.model_validate_json(item.document), configured=True, updated_at=int(item.updated_at)
    )


class RulesService:
    def __init__(self, repository: RulesRepository) -> None:
        self._repository = repository

    def put(self, tenant_id: str, rules: ReviewRules) -> RulesView:
        now = int(time.time())
        stored = ReviewRules.model_validate(rules.model_dump())  # the domain value, whatever request class carried it
        self._repository.put(tenant_id, stored.repository, stored.model_dump_json(), now)
        return RulesView(rules=stored, configured=True, updated_at=now)

    def get(self, tenant_id: str, repository: str) -> RulesView:
        item = self._repository.get(tenant_id, repository)
        if item is None:
            return RulesView(rules=ReviewRules(repository=repository), configured=False)
        return _view(item)

    def list_for(self, tenant_id: str) -> list[RulesView]:
        return [_view(item) for item in self._repository.list_for(tenant_id)]
