"""DynamoDB and S3 access of the analyst; every method takes the tenant, positions go in and out as dicts.

The items are in ``analyst.items``; S3 holds catalogs, results, charts and database files under ``<tenant>/analyst/``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from analyst.items import ITEMS, CacheItem, DatabaseItem, QueryRefItem, SessionItem, TurnItem
from analyst.settings import AnalystSettings
from stratus.errors import Conflict, NotFound
from stratus.storage import BlobStore, bind_model, tenant_key


class AnalystRepository:
    def __init__(self, settings: AnalystSettings, blobs: BlobStore | None = None) -> None:
        self._settings = settings
        for model in ITEMS:
            bind_model(model, settings.analyst_table)
        self.blobs = blobs or BlobStore(settings.analyst_bucket)

    def put_database(self, item: DatabaseItem) -> None:
        item.save(condition=DatabaseItem.pk.does_not_exist())

    def get_database(self, tenant_id: str, database_id: str) -> DatabaseItem:
        try:
            return DatabaseItem.get(tenant_key(tenant_id, "DB"), database_id, consistent_read=True)
        except DatabaseItem.DoesNotExist as error:
            raise NotFound(f"database {database_id} not found") from error

    def list_databases(
        self, tenant_id: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[DatabaseItem], dict[str, Any] | None]:
        result = DatabaseItem.query(tenant_key(tenant_id, "DB"), limit=limit, last_evaluated_key=start)
        items = list(result)
        return items, result.last_evaluated_key

    def delete_database(self, item: DatabaseItem) -> None:
        item.delete()

    def put_session(self, item: SessionItem) -> None:
        item.save(condition=SessionItem.pk.does_not_exist())

    def get_session(self, tenant_id: str, session_id: str) -> SessionItem:
        try:
            return SessionItem.get(tenant_key(tenant_id, "SESSION"), session_id, consistent_read=True)
        except SessionItem.DoesNotExist as error:
            raise NotFound(f"session {session_id} not found") from error

    def list_sessions(
        self, tenant_id: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[SessionItem], dict[str, Any] | None]:
        result = SessionItem.query(tenant_key(tenant_id, "SESSION"), limit=limit, last_evaluated_key=start)
        return list(result), result.last_evaluated_key

    def turns(
        self,
        tenant_id: str,
        session_id: str,
        *,
        newest_first: bool = False,
        limit: int | None = None,
        after_turn: int = 0,
    ) -> Iterator[dict[str, Any]]:
        for item in TurnItem.query(
            tenant_key(tenant_id, "SESSION", session_id),
            TurnItem.sk > f"Q#{after_turn:05d}",
            scan_index_forward=not newest_first,
            limit=limit,
            consistent_read=True,
        ):
            body: dict[str, Any] = json.loads(item.body)
            yield body

    def turn_page(
        self, tenant_id: str, session_id: str, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Turns in order after the position ``{"turn": n}``; the next position when more follow."""
        after = int(start["turn"]) if start else 0
        turns = list(self.turns(tenant_id, session_id, limit=limit + 1, after_turn=after))
        page = turns[:limit]
        more = len(turns) > limit and bool(page)
        return page, ({"turn": page[-1]["turn"]} if more else None)

    def add_turn(self, tenant_id: str, session: SessionItem, query_id: str, body: dict[str, Any]) -> int:
        """Append a turn and its query reference in one transaction; a concurrent turn gets 409."""
        turn = int(session.turns) + 1
        turn_sk = f"Q#{turn:05d}"
        now = int(time.time())
        body = {**body, "turn": turn}
        settings = self._settings
        connection = Connection(region=settings.aws_region, host=settings.aws_endpoint_url)
        session_pk = tenant_key(tenant_id, "SESSION")
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.update(
                    SessionItem(session_pk, session.sk),
                    actions=[SessionItem.turns.set(turn)],
                    condition=SessionItem.turns == session.turns,
                )
                transaction.save(
                    TurnItem(
                        tenant_key(tenant_id, "SESSION", session.sk),
                        turn_sk,
                        query_id=query_id,
                        turn=turn,
                        created_at=now,
                        body=json.dumps(body, default=str),
                    ),
                    condition=TurnItem.pk.does_not_exist(),
                )
                transaction.save(
                    QueryRefItem(tenant_key(tenant_id, "QUERY"), query_id, session_id=session.sk, turn_sk=turn_sk)
                )
        except TransactWriteError as error:
            raise Conflict("another question of this session was answered at the same time; ask again") from error
        session.turns = turn
        return turn

    def get_turn(self, tenant_id: str, query_id: str) -> dict[str, Any]:
        if not query_id:  # DynamoDB refuses an empty sort key; no query has one
            raise NotFound("query not found")
        try:
            ref = QueryRefItem.get(tenant_key(tenant_id, "QUERY"), query_id, consistent_read=True)
            item = TurnItem.get(tenant_key(tenant_id, "SESSION", ref.session_id), ref.turn_sk, consistent_read=True)
        except (QueryRefItem.DoesNotExist, TurnItem.DoesNotExist) as error:
            raise NotFound(f"query {query_id} not found") from error
        body: dict[str, Any] = json.loads(item.body)
        return body

    def delete_session(self, tenant_id: str, session: SessionItem) -> int:
        removed = 0
        for item in TurnItem.query(tenant_key(tenant_id, "SESSION", session.sk)):
            QueryRefItem(tenant_key(tenant_id, "QUERY"), item.query_id).delete()
            item.delete()
            removed += 1
        session.delete()
        self.blobs.delete_prefix(tenant_id, f"analyst/sessions/{session.sk}/")
        return removed

    def cached(self, tenant_id: str, database_id: str, key: str) -> dict[str, Any] | None:
        try:
            item = CacheItem.get(tenant_key(tenant_id, "CACHE", database_id), key, consistent_read=True)
        except CacheItem.DoesNotExist:
            return None
        if item.expires_at <= time.time():  # DynamoDB TTL deletes late; an expired entry is a miss
            return None
        body: dict[str, Any] = json.loads(item.body)
        return body

    def cache(self, tenant_id: str, database_id: str, key: str, body: dict[str, Any], ttl_s: int) -> None:
        now = int(time.time())
        CacheItem(
            tenant_key(tenant_id, "CACHE", database_id),
            key,
            body=json.dumps(body, default=str),
            created_at=now,
            expires_at=now + ttl_s,
        ).save()

    def drop_cache(self, tenant_id: str, database_id: str) -> None:
        for item in CacheItem.query(tenant_key(tenant_id, "CACHE", database_id)):
            item.delete()

    def put_json(self, tenant_id: str, relative_key: str, value: Any) -> str:
        return self.blobs.put(tenant_id, relative_key, json.dumps(value, default=str).encode(), "application/json")

    def get_json(self, tenant_id: str, relative_key: str) -> Any:
        return json.loads(self.blobs.get(tenant_id, relative_key))
