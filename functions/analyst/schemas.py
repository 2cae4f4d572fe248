"""The analyst API's request and response bodies (pydantic; no heavy imports)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from stratus.web import Page

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
TableName = Annotated[str, Field(min_length=1, max_length=128)]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Restrictions(_Request):
    tables: list[TableName] | None = Field(default=None, max_length=500, description="readable tables; all when unset")
    hidden_columns: list[str] = Field(
        default_factory=list, max_length=1000, description="``table.column``s never readable (e.g. Customer.Email)"
    )


class SampleConnectRequest(_Restrictions):
    kind: Literal["sample"]
    name: Name = "Chinook sample"


class FileConnectRequest(_Restrictions):
    kind: Literal["sqlite", "duckdb"]
    name: Name
    s3_key: str = Field(
        min_length=1,
        max_length=512,
        pattern=r"^[A-Za-z0-9!_.*'()/ -]+$",
        description="key under your tenant's prefix in the analyst bucket (see POST /databases/uploads)",
    )


class PostgresConnectRequest(_Restrictions):
    kind: Literal["postgres"]
    name: Name
    url: SecretStr | None = Field(default=None, description="postgresql://user:password@host:port/database")
    host: str | None = Field(default=None, max_length=253)
    port: int = Field(default=5432, ge=1, le=65535)
    database: str | None = Field(default=None, max_length=63)
    user: str | None = Field(default=None, max_length=63)
    password: SecretStr | None = None
    db_schema: str = Field(default="public", max_length=63, alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")
    sslmode: SslMode = "prefer"

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _url_or_fields(self) -> PostgresConnectRequest:
        if self.url is None and not (self.host and self.database and self.user):
            raise ValueError("give either url, or host, database and user")
        return self


ConnectRequest = Annotated[
    SampleConnectRequest | FileConnectRequest | PostgresConnectRequest, Field(discriminator="kind")
]


class UploadRequest(_Request):
    filename: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["sqlite", "duckdb"] = "sqlite"


class UploadTicketView(BaseModel):
    url: str
    fields: dict[str, str]
    s3_key: str = Field(description="pass this to POST /databases/connect once uploaded")
    max_bytes: int
    expires_in_s: int


class DatabaseView(BaseModel):
    """A registered database; connection secrets never appear here."""

    database_id: str
    name: str
    kind: str
    dialect: str
    created_at: int
    schema_version: str
    table_count: int
    tables: list[str]
    hidden_columns: list[str]
    source: dict[str, Any] = Field(description="where the data lives (host, database, user, schema or S3 key)")
    has_secret: bool


class DatabaseDetailView(DatabaseView):
    catalog: dict[str, Any] = Field(description="tables, columns, types, keys, sample values")


class SessionRequest(_Request):
    database_id: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, max_length=200)


class SessionView(BaseModel):
    session_id: str
    database_id: str
    title: str | None
    created_at: int
    turns: int


class QueryRequest(_Request):
    question: str | None = Field(default=None, min_length=1, max_length=2000)
    sql: str | None = Field(default=None, min_length=1, max_length=20_000, description="run your own SELECT instead")
    use_cache: bool = True

    @model_validator(mode="after")
    def _one_of(self) -> QueryRequest:
        if (self.question is None) == (self.sql is None):
            raise ValueError("give exactly one of question or sql")
        return self


class ChartSpec(BaseModel):
    type: Literal["bar", "line", "scatter", "pie", "number", "table"]
    x: str | None = None
    y: str | None = None
    title: str = ""
    reason: str = ""


class GeneratorView(BaseModel):
    provider: str
    model: str
    offline: bool = Field(description="true when no language model wrote the SQL (schema matching)")
    attempts: int = Field(description="generations tried, repairs included")


class QueryView(BaseModel):
    query_id: str
    session_id: str
    turn: int
    status: Literal["answered", "clarification", "beyond"] = Field(
        description="beyond: the model (offline: schema matching) cannot answer it; nothing ran"
    )
    question: str | None
    resolved_question: str | None = None
    sql: str | None
    validation: dict[str, Any] | None
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    answer: str
    chart: ChartSpec | None = None
    interpretations: list[str] = Field(default_factory=list, description="for a clarification: what you might mean")
    generator: GeneratorView | None = None
    cached: bool = False
    repairs: list[dict[str, str]] = Field(default_factory=list, description="refused or failed attempts, in order")
    elapsed_ms: dict[str, float] = Field(default_factory=dict)
    created_at: int


class HistoryView(Page[QueryView]):
    """A page of a session's turns, oldest first."""

    session_id: str
    database_id: str


class VisualizeRequest(_Request):
    query_id: str | None = Field(default=None, min_length=1, max_length=64)
    question: str | None = Field(default=None, min_length=1, max_length=2000)
    chart: ChartSpec | None = Field(default=None, description="override the suggested chart")

    @model_validator(mode="after")
    def _one_of(self) -> VisualizeRequest:
        if (self.query_id is None) == (self.question is None):
            raise ValueError("give exactly one of query_id or question")
        return self


class ChartView(BaseModel):
    chart_id: str
    query_id: str
    spec: ChartSpec
    plotly: dict[str, Any] = Field(description="a Plotly figure: {data, layout}")
    png_url: str = Field(description="presigned link to the PNG rendered with matplotlib")
    png_key: str
    expires_in_s: int


class JoinView(BaseModel):
    left: str
    right: str
    kind: str
    condition: str


class ExplainView(BaseModel):
    query_id: str
    sql: str
    explanation: str
    tables: list[str]
    columns: list[str]
    joins: list[JoinView]
    plan: list[str]
    plan_dialect: str
