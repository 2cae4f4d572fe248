"""What a database holds and what an analyst may read of it: tables, columns, keys, sample values."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Dialect = Literal["sqlite", "duckdb", "postgres"]


class CatalogColumn(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    type: str = ""
    nullable: bool = True
    primary_key: bool = False
    samples: list[str | int | float] = Field(default_factory=list, description="a few distinct values")
    distinct_values: list[str] | None = Field(
        default=None, description="every value of a low-cardinality text column (for matching questions)"
    )


class ForeignKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    columns: list[str]
    references_table: str
    references_columns: list[str]


class CatalogTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    columns: list[CatalogColumn]
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    row_count: int | None = None

    def column(self, name: str) -> CatalogColumn | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)


class Catalog(BaseModel):
    """The readable part of one database. Anything not listed here is refused by the guard."""

    model_config = ConfigDict(frozen=True)

    dialect: Dialect
    schema_name: str | None = Field(default=None, description="PostgreSQL schema the tables live in")
    tables: list[CatalogTable]
    hidden_columns: list[str] = Field(default_factory=list, description="``table.column``s never readable")

    def table(self, name: str) -> CatalogTable | None:
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)

    def restrict(self, tables: list[str] | None, hidden_columns: list[str] | None) -> Catalog:
        """Only ``tables`` (all when None), without ``hidden_columns`` (``table.column``)."""
        wanted = {t.lower() for t in tables} if tables else None
        hidden = {c.lower() for c in hidden_columns or []}
        kept = []
        for table in self.tables:
            if wanted is not None and table.name.lower() not in wanted:
                continue
            columns = [c for c in table.columns if f"{table.name}.{c.name}".lower() not in hidden]
            kept.append(table.model_copy(update={"columns": columns}))
        hidden_found = sorted(
            f"{t.name}.{c.name}" for t in self.tables for c in t.columns if f"{t.name}.{c.name}".lower() in hidden
        )
        return self.model_copy(update={"tables": kept, "hidden_columns": hidden_found})

    def sqlglot_schema(self) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` for sqlglot's qualifier."""
        return {t.name: {c.name: c.type or "TEXT" for c in t.columns} for t in self.tables}

    @property
    def version(self) -> str:
        """Changes whenever a table, column, type or key changes (not when data changes)."""
        shape = [
            [t.name, [[c.name, c.type, c.primary_key] for c in t.columns], [fk.model_dump() for fk in t.foreign_keys]]
            for t in sorted(self.tables, key=lambda t: t.name.lower())
        ]
        digest = hashlib.sha256(json.dumps([self.dialect, self.schema_name, shape]).encode()).hexdigest()
        return digest[:16]
