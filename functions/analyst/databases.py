"""Registering databases: upload tickets, connecting (introspect, restrict, store), listing, reading, deleting."""

from __future__ import annotations

import json
import time
from typing import Any

from analyst.domain import Listing, catalog_key, database_prefix, new_id, restrict_catalog
from analyst.items import DatabaseItem
from analyst.repository import AnalystRepository
from analyst.schemas import (
    ConnectRequest,
    DatabaseDetailView,
    DatabaseView,
    FileConnectRequest,
    PostgresConnectRequest,
    UploadRequest,
    UploadTicketView,
)
from analyst.settings import AnalystSettings
from analyst.sources import (
    Sources,
    check_upload,
    file_database,
    local_copy,
    postgres_database,
    postgres_parameters,
    sample_database,
    stored_file_key,
)
from stratus.identity import Principal
from stratus.observability import logger
from stratus.retry import RetriesExhausted
from stratus.sql import Catalog, ConnectionRejected, DatabaseUnavailable, QueryFailed


class _Introspected:
    """What connecting found: the catalog, where the data lives, and what to undo when the item cannot be saved."""

    def __init__(self, catalog: Catalog, details: dict[str, Any]) -> None:
        self.catalog = catalog
        self.details = details
        self.stored_key: str | None = None
        self.secret_arn: str | None = None


class DatabaseService:
    def __init__(self, settings: AnalystSettings, repository: AnalystRepository, sources: Sources) -> None:
        self.settings = settings
        self.repository = repository
        self.sources = sources

    def upload_ticket(self, principal: Principal, request: UploadRequest) -> UploadTicketView:
        relative = f"analyst/uploads/{new_id('up')}-{request.filename}"
        ticket = self.repository.blobs.presigned_upload(
            principal.tenant_id,
            relative,
            "application/octet-stream",
            self.settings.analyst_max_database_bytes,
            expires_in_s=900,
        )
        return UploadTicketView(
            url=ticket.url,
            fields=ticket.fields,
            s3_key=relative,
            max_bytes=self.settings.analyst_max_database_bytes,
            expires_in_s=ticket.expires_in_s,
        )

    def connect(self, principal: Principal, source: ConnectRequest) -> DatabaseDetailView:
        """Introspect the source, keep the readable part of its catalog, and register it; nothing half-written."""
        tenant = principal.tenant_id
        database_id = new_id("db")
        if isinstance(source, FileConnectRequest):
            found = self._file(tenant, database_id, source)
        elif isinstance(source, PostgresConnectRequest):
            found = self._postgres(tenant, database_id, source)
        else:
            found = _Introspected(sample_database(self.settings).introspect(), {"sample": "chinook"})
        restricted = restrict_catalog(found.catalog, source.tables, source.hidden_columns)
        item = DatabaseItem(
            f"{tenant}#DB",
            database_id,
            name=source.name,
            kind=source.kind,
            dialect=restricted.dialect,
            created_at=int(time.time()),
            created_by=principal.user_id,
            source=json.dumps(found.details),
            secret_arn=found.secret_arn,
            schema_version=restricted.version,
            catalog_key=catalog_key(database_id, restricted.version),
            table_count=len(restricted.tables),
            tables=[t.name for t in restricted.tables],
            hidden_columns=restricted.hidden_columns,
        )
        self._save(tenant, item, restricted, found)
        logger.info("database connected", extra={"database_id": database_id, "kind": source.kind})
        return _detail(item, restricted)

    def _file(self, tenant: str, database_id: str, source: FileConnectRequest) -> _Introspected:
        check_upload(self.settings, self.repository.blobs, tenant, source.s3_key)
        stored_key = stored_file_key(database_id, source.kind)
        self.repository.blobs.copy(tenant, source.s3_key, stored_key)
        try:
            path = local_copy(self.settings, self.repository.blobs, tenant, database_id, source.kind)
            catalog = file_database(source.kind, path).introspect()
        except QueryFailed:
            self.repository.blobs.delete(tenant, stored_key)
            raise
        found = _Introspected(catalog, {"s3_key": source.s3_key})
        found.stored_key = stored_key
        return found

    def _postgres(self, tenant: str, database_id: str, source: PostgresConnectRequest) -> _Introspected:
        params = postgres_parameters(self.settings, source)
        database = postgres_database(tenant, database_id, params, self.sources.connect_timeout_s)
        try:
            catalog = database.introspect()
        except (DatabaseUnavailable, RetriesExhausted) as error:
            # At registration a connection that fails is the caller's settings: one message, whatever the cause.
            raise ConnectionRejected() from error
        details = {
            "host": params.host,
            "port": params.port,
            "database": params.database,
            "user": params.user,
            "schema": params.schema,
            "sslmode": params.sslmode,
        }
        found = _Introspected(catalog, details)
        if params.password:
            found.secret_arn = self.sources.keep_password(tenant, database_id, params.password)
        return found

    def _save(self, tenant: str, item: DatabaseItem, catalog: Catalog, found: _Introspected) -> None:
        try:
            self.repository.put_json(tenant, item.catalog_key, catalog.model_dump(mode="json"))
            self.repository.put_database(item)
        except Exception:
            # nothing half-written: the copy, the catalog and the secret go when the item cannot be saved
            self.repository.blobs.delete(tenant, item.catalog_key)
            if found.stored_key:
                self.repository.blobs.delete(tenant, found.stored_key)
            if found.secret_arn:
                self.sources.forget_password(found.secret_arn)
            raise

    def list(self, principal: Principal, limit: int, start: dict[str, Any] | None) -> Listing[DatabaseView]:
        items, position = self.repository.list_databases(principal.tenant_id, limit, start)
        return Listing([_view(item) for item in items], position)

    def get(self, principal: Principal, database_id: str) -> DatabaseDetailView:
        item = self.repository.get_database(principal.tenant_id, database_id)
        return _detail(item, self.sources.catalog(principal.tenant_id, item))

    def delete(self, principal: Principal, database_id: str) -> None:
        tenant = principal.tenant_id
        item = self.repository.get_database(tenant, database_id)
        if item.secret_arn:
            self.sources.forget_password(item.secret_arn)
        self.repository.blobs.delete_prefix(tenant, database_prefix(database_id))
        self.repository.drop_cache(tenant, database_id)
        self.repository.delete_database(item)


def _view(item: DatabaseItem) -> DatabaseView:
    return DatabaseView(
        database_id=item.sk,
        name=item.name,
        kind=item.kind,
        dialect=item.dialect,
        created_at=int(item.created_at),
        schema_version=item.schema_version,
        table_count=int(item.table_count),
        tables=[str(t) for t in item.tables or []],
        hidden_columns=[str(c) for c in item.hidden_columns or []],
        source=json.loads(item.source),
        has_secret=item.secret_arn is not None,
    )


def _detail(item: DatabaseItem, catalog: Catalog) -> DatabaseDetailView:
    return DatabaseDetailView(**_view(item).model_dump(), catalog=catalog.model_dump(mode="json"))
