"""Sessions: a conversation on one of the tenant's databases, its turns kept one item each."""

from __future__ import annotations

import time
from typing import Any

from analyst.domain import Listing, new_id
from analyst.items import SessionItem
from analyst.repository import AnalystRepository
from analyst.schemas import SessionRequest, SessionView
from stratus.identity import Principal


class SessionService:
    def __init__(self, repository: AnalystRepository) -> None:
        self.repository = repository

    def create(self, principal: Principal, request: SessionRequest) -> SessionView:
        database = self.repository.get_database(principal.tenant_id, request.database_id)
        item = SessionItem(
            f"{principal.tenant_id}#SESSION",
            new_id("ses"),
            database_id=database.sk,
            title=request.title,
            created_at=int(time.time()),
            created_by=principal.user_id,
            turns=0,
        )
        self.repository.put_session(item)
        return _view(item)

    def list(self, principal: Principal, limit: int, start: dict[str, Any] | None) -> Listing[SessionView]:
        items, position = self.repository.list_sessions(principal.tenant_id, limit, start)
        return Listing([_view(item) for item in items], position)

    def delete(self, principal: Principal, session_id: str) -> None:
        session = self.repository.get_session(principal.tenant_id, session_id)
        self.repository.delete_session(principal.tenant_id, session)


def _view(item: SessionItem) -> SessionView:
    return SessionView(
        session_id=item.sk,
        database_id=item.database_id,
        title=item.title,
        created_at=int(item.created_at),
        turns=int(item.turns),
    )
