"""Where a registered database's data lives, and the read-only executor that reaches it.

- sample: the Chinook SQLite file shipped with the function (``make analyst-sample``);
- sqlite / duckdb: a file copied at connect time to ``<tenant>/analyst/databases/<id>/data.<ext>`` in S3, read
  from a per-container local copy;
- postgres: host, port, database, user and schema in the item, the password in Secrets Manager.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from analyst.settings import AnalystSettings
from stratus import aws
from stratus.cache import per_container
from stratus.errors import NotFound, StratusError, UpstreamFailed, ValidationFailed
from stratus.sql import Catalog, ExecutionLimits, QueryPlan, ResultSet
from stratus.storage import BlobStore


class ReadOnlyDatabase(Protocol):
    @property
    def dialect(self) -> str: ...

    def execute(self, sql: str, limits: ExecutionLimits) -> ResultSet: ...

    def explain(self, sql: str, limits: ExecutionLimits) -> QueryPlan: ...

    def introspect(self, *, sample_values: int = 3, distinct_limit: int = 60) -> Catalog: ...


class SampleMissing(StratusError):
    status, title, type_slug = 503, "Sample database not installed", "sample-missing"


FILE_EXTENSIONS = {"sqlite": "sqlite", "duckdb": "duckdb"}


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
    return f"analyst/databases/{database_id}/data.{FILE_EXTENSIONS[kind]}"


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
    """Size of an uploaded file under the tenant's prefix; 404 when absent, 413 when too large."""
    from stratus.errors import PayloadTooLarge

    key = blobs.key_for(tenant_id, s3_key)
    client = aws.client("s3")
    try:
        head = client.head_object(Bucket=blobs.bucket, Key=key)
    except client.exceptions.ClientError as error:
        raise NotFound(f"no uploaded file at {s3_key}") from error
    size = int(head["ContentLength"])
    if size > settings.analyst_max_database_bytes:
        raise PayloadTooLarge(f"{s3_key} is {size} bytes; the limit is {settings.analyst_max_database_bytes}")
    return size


# -- PostgreSQL --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresParameters:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    schema: str
    sslmode: str


def parse_postgres(source: Any) -> PostgresParameters:
    """Fields of a PostgresSource, a URL's parts filling the fields not given; no other URL options pass."""
    host, port, database, user = source.host, source.port, source.database, source.user
    password = source.password.get_secret_value() if source.password else None
    sslmode = source.sslmode
    if source.url is not None:
        raw = source.url.get_secret_value()
        parts = urlsplit(raw)
        if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
            raise ValidationFailed("url must start with postgresql://", field="url")
        if parts.query:
            options = dict(item.split("=", 1) if "=" in item else (item, "") for item in parts.query.split("&"))
            # host=, options=, service= ... could redirect the connection or change the session: refuse them.
            if set(options) - {"sslmode"}:
                raise ValidationFailed(
                    f"url options other than sslmode are not accepted: {sorted(set(options) - {'sslmode'})}",
                    field="url",
                )
            sslmode = options.get("sslmode", sslmode)
        try:
            url_port = parts.port
        except ValueError as error:
            raise ValidationFailed("url has an invalid port", field="url") from error
        host = host or parts.hostname
        port = url_port or port
        database = database or unquote(parts.path.lstrip("/")) or None
        user = user or (unquote(parts.username) if parts.username else None)
        password = password or (unquote(parts.password) if parts.password else None)
        if parts.netloc.count(",") or parts.netloc.count("@") > 1:
            raise ValidationFailed("url must name exactly one host", field="url")
    if not host or not database or not user:
        raise ValidationFailed("a PostgreSQL source needs host, database and user", field="url")
    if sslmode not in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"):
        raise ValidationFailed(f"sslmode {sslmode!r} is not valid", field="url")
    return PostgresParameters(host, int(port), database, user, password, source.db_schema, sslmode)


class SecretStore:
    """PostgreSQL passwords in Secrets Manager, one secret per database, named by tenant."""

    def __init__(self, settings: AnalystSettings) -> None:
        self._prefix = settings.analyst_secret_prefix.rstrip("/")

    def create(self, tenant_id: str, database_id: str, password: str) -> str:
        client = aws.client("secretsmanager")
        try:
            created = client.create_secret(
                Name=f"{self._prefix}/{tenant_id}/{database_id}",
                SecretString=json.dumps({"password": password}),
                Description=f"PostgreSQL password of analyst database {database_id}",
                Tags=[{"Key": "stratus:tenant", "Value": tenant_id}, {"Key": "stratus:service", "Value": "analyst"}],
            )
        except client.exceptions.ClientError as error:
            raise UpstreamFailed(f"could not store the database password: {error}") from error
        arn: str = created["ARN"]
        return arn

    def password(self, secret_arn: str) -> str:
        client = aws.client("secretsmanager")
        try:
            value = client.get_secret_value(SecretId=secret_arn)
        except client.exceptions.ClientError as error:
            raise UpstreamFailed(f"could not read the database password: {error}") from error
        password: str = json.loads(value["SecretString"])["password"]
        return password

    def delete(self, secret_arn: str) -> None:
        client = aws.client("secretsmanager")
        try:
            client.delete_secret(SecretId=secret_arn, RecoveryWindowInDays=7)
        except client.exceptions.ResourceNotFoundException:
            return


@per_container
def postgres_database(tenant_id: str, database_id: str, params: PostgresParameters, timeout_s: int) -> ReadOnlyDatabase:
    """One engine (connection pool) per database per container."""
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
