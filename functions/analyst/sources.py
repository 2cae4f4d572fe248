"""Where a registered database's data lives, and the read-only executor that reaches it.

- sample: the Chinook SQLite file shipped with the function (``make analyst-sample``);
- sqlite / duckdb: a file copied at connect time to ``<tenant>/analyst/databases/<id>/data.<ext>`` in S3, read
  from a per-container local copy;
- postgres: host, port, database, user and schema in the item, the password in the secret store (one secret per
  database, ``<ANALYST_SECRET_PREFIX>/<tenant>/<database>``).

``Sources`` opens a registered database read-only and loads its stored catalog; the use cases share it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, get_args
from urllib.parse import unquote, urlsplit

from analyst.domain import database_prefix
from analyst.items import DatabaseItem
from analyst.repository import AnalystRepository
from analyst.schemas import SslMode
from analyst.settings import AnalystSettings
from stratus.cache import per_container
from stratus.errors import PayloadTooLarge, StratusError, ValidationFailed
from stratus.secrets import SecretStore
from stratus.sql import Catalog, ExecutionLimits, QueryPlan, ResultSet
from stratus.storage import BlobStore

if TYPE_CHECKING:
    from analyst.schemas import PostgresConnectRequest


class ReadOnlyDatabase(Protocol):
    @property
    def dialect(self) -> str: ...

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet: ...

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan: ...

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog: ...


class SampleMissing(StratusError):
    status, title, type_slug = 503, "Sample database not installed", "sample-missing"


FILE_EXTENSIONS: Final = {"sqlite": "sqlite", "duckdb": "duckdb"}
SSL_MODES: Final = get_args(SslMode)


def sample_database(settings: AnalystSettings) -> ReadOnlyDatabase:
    from stratus.sql.sqlite import SqliteDatabase

    path = settings.analyst_sample_database
    if not path.is_file():
        built = settings.analyst_work_dir / "sample" / "chinook.sqlite"
        if not built.is_file() and settings.analyst_sample_source.is_file():
            from analyst.sample import build_sample

            build_sample(settings.analyst_sample_source, built)
        if not built.is_file():
            raise SampleMissing(f"the Chinook sample is not installed at {path}; run `make analyst-sample`")
        path = built
    return SqliteDatabase(path)


def stored_file_key(database_id: str, kind: str) -> str:
    return f"{database_prefix(database_id)}data.{FILE_EXTENSIONS[kind]}"


def file_database(kind: str, path: Path) -> ReadOnlyDatabase:
    if kind == "duckdb":
        from stratus.sql.duckdb import DuckDbDatabase

        return DuckDbDatabase(path)
    from stratus.sql.sqlite import SqliteDatabase

    return SqliteDatabase(path)


def local_copy(settings: AnalystSettings, blobs: BlobStore, tenant_id: str, database_id: str, kind: str) -> Path:
    """The per-container copy of a stored database file, downloaded once (atomically) on first use."""
    target = settings.analyst_work_dir / tenant_id / database_id / f"data.{FILE_EXTENSIONS[kind]}"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    data = blobs.get(tenant_id, stored_file_key(database_id, kind))
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, target)
    return target


def check_upload(settings: AnalystSettings, blobs: BlobStore, tenant_id: str, s3_key: str) -> int:
    """Size of an uploaded file under the tenant's prefix; 404 when absent, 413 when too large, 422 when the key
    climbs out of the prefix."""
    try:
        size = blobs.size(tenant_id, s3_key)
    except ValidationFailed as error:
        raise ValidationFailed(error.detail, field="s3_key") from error
    if size > settings.analyst_max_database_bytes:
        raise PayloadTooLarge(f"{s3_key} is {size} bytes; the limit is {settings.analyst_max_database_bytes}")
    return size


@dataclass(frozen=True)
class PostgresParameters:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    schema: str
    sslmode: str


def _url_options(query: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in query.split("&")] if query else []
    options = {name: value for name, _, value in pairs}
    # host=, options=, service= ... could redirect the connection or change the session: refuse them.
    refused = sorted(set(options) - {"sslmode"})
    if refused:
        raise ValidationFailed(f"url options other than sslmode are not accepted: {refused}", field="url")
    return options


def _url_fields(raw: str) -> dict[str, Any]:
    """host, port, database, user, password and sslmode named by a ``postgresql://`` URL (None when absent)."""
    parts = urlsplit(raw)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValidationFailed("url must start with postgresql://", field="url")
    if parts.netloc.count(",") or parts.netloc.count("@") > 1:
        raise ValidationFailed("url must name exactly one host", field="url")
    try:
        port = parts.port
    except ValueError as error:
        raise ValidationFailed("url has an invalid port", field="url") from error
    return {
        "host": parts.hostname,
        "port": port,
        "database": unquote(parts.path.lstrip("/")) or None,
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "sslmode": _url_options(parts.query).get("sslmode"),
    }


def parse_postgres(source: PostgresConnectRequest) -> PostgresParameters:
    """Fields of the request, a URL's parts filling the fields not given; no other URL options pass."""
    given: dict[str, Any] = {
        "host": source.host,
        "database": source.database,
        "user": source.user,
        "password": source.password.get_secret_value() if source.password else None,
    }
    url = _url_fields(source.url.get_secret_value()) if source.url is not None else {}
    # The URL's port wins over the field's default; every other field given wins over the URL.
    merged = {name: value or url.get(name) for name, value in given.items()}
    port = int(url.get("port") or source.port)
    sslmode = source.sslmode if url.get("sslmode") is None else url["sslmode"]
    if not merged["host"] or not merged["database"] or not merged["user"]:
        raise ValidationFailed("a PostgreSQL source needs host, database and user", field="url")
    if sslmode not in SSL_MODES:
        raise ValidationFailed(f"sslmode {sslmode!r} is not valid", field="url")
    return PostgresParameters(
        host=merged["host"],
        port=port,
        database=merged["database"],
        user=merged["user"],
        password=merged["password"],
        schema=source.db_schema,
        sslmode=sslmode,
    )


def postgres_parameters(settings: AnalystSettings, source: PostgresConnectRequest) -> PostgresParameters:
    """The parsed parameters once the host passed the operator's allowlist."""
    from stratus.sql.hosts import check_database_host

    params = parse_postgres(source)
    return replace(params, host=check_database_host(params.host, settings.analyst_allowed_db_hosts))


@per_container
def postgres_database(tenant_id: str, database_id: str, params: PostgresParameters, timeout_s: int) -> ReadOnlyDatabase:
    """One database object (and its idle connection) per registered database per container."""
    from stratus.sql.postgres import PostgresDatabase, PostgresTarget

    target = PostgresTarget(
        host=params.host,
        port=params.port,
        database=params.database,
        user=params.user,
        schema=params.schema,
        sslmode=params.sslmode,
        connect_timeout_s=timeout_s,
    )
    return PostgresDatabase(target, params.password)


@per_container
def _catalogs() -> dict[tuple[str, str, str], Catalog]:
    return {}


class Sources:
    """Opens a registered database read-only, loads its stored catalog, and keeps its password in the secret store."""

    def __init__(self, settings: AnalystSettings, repository: AnalystRepository, secrets: SecretStore) -> None:
        self.settings = settings
        self.repository = repository
        self.secrets = secrets

    def catalog(self, tenant_id: str, item: DatabaseItem) -> Catalog:
        key = (tenant_id, item.sk, item.schema_version)
        cache = _catalogs()
        if key not in cache:
            cache[key] = Catalog.model_validate(self.repository.get_json(tenant_id, item.catalog_key))
        return cache[key]

    def database(self, tenant_id: str, item: DatabaseItem) -> ReadOnlyDatabase:
        if item.kind == "sample":
            return sample_database(self.settings)
        if item.kind in FILE_EXTENSIONS:
            path = local_copy(self.settings, self.repository.blobs, tenant_id, item.sk, item.kind)
            return file_database(item.kind, path)
        source = json.loads(item.source)
        params = PostgresParameters(
            host=source["host"],
            port=int(source["port"]),
            database=source["database"],
            user=source["user"],
            password=self.password(item),
            schema=source["schema"],
            sslmode=source["sslmode"],
        )
        from stratus.sql.hosts import check_database_host

        check_database_host(params.host, self.settings.analyst_allowed_db_hosts)
        return postgres_database(tenant_id, item.sk, params, self.connect_timeout_s)

    @property
    def connect_timeout_s(self) -> int:
        return int(self.settings.analyst_statement_timeout_s) + 1

    def password(self, item: DatabaseItem) -> str | None:
        if not item.secret_arn:
            return None
        password: str = json.loads(self.secrets.get(item.secret_arn))["password"]
        return password

    def keep_password(self, tenant_id: str, database_id: str, password: str) -> str:
        """One secret per database, named under the analyst's prefix and the tenant; returns its ARN."""
        return self.secrets.put(
            f"{self.settings.analyst_secret_prefix.rstrip('/')}/{tenant_id}/{database_id}",
            json.dumps({"password": password}),
            tags={"stratus:tenant": tenant_id, "stratus:service": "analyst"},
            description=f"PostgreSQL password of analyst database {database_id}",
        )

    def forget_password(self, secret_arn: str) -> None:
        self.secrets.delete(secret_arn)
