"""Layer one: prove, with sqlglot in the database's dialect, that a statement is one read of allowed data.

Passes only a single SELECT (set operations and non-recursive CTEs included) whose every table is in the
catalog, whose every column resolves to an allowed column, and whose every function is on an allowlist.
Everything else is refused with a stable ``reason`` and a sentence saying what was wrong. What runs is not
the caller's text but SQL regenerated from the checked tree (comments dropped, LIMIT added or capped), and
that SQL is parsed and checked again, so the database never sees anything the guard did not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from stratus.sql.catalog import Catalog
from stratus.sql.errors import UnsafeQuery

if TYPE_CHECKING:
    from sqlglot import exp

MAX_SQL_CHARS: Final = 20_000

# sqlglot expression classes of functions that only compute values (no I/O, no sleeping, no side effects).
_SAFE_FUNCTIONS_WORDS: Final = """
    Abs AnyValue ArgMax ArgMin ArrayAgg Avg Cast Ceil Coalesce Concat ConcatWs Contains Count CountIf CumeDist
    CurrentDate CurrentTimestamp Date DateAdd DateDiff DateFromParts DateSub DateTrunc Datetime Day DayOfMonth
    DayOfWeek DayOfYear DenseRank EndsWith Exp Extract First FirstValue Floor Format Greatest GroupConcat Hex If
    Initcap Lag Last LastValue Lead Least Left Length Ln Log LogicalAnd LogicalOr Lower Max Median Min Month Ntile
    NthValue Nullif Pad PercentRank PercentileCont PercentileDisc Pow Quarter Rank RegexpLike RegexpReplace Replace
    Reverse Right Round RowNumber Sign Split SplitPart Sqrt StartsWith Stddev StddevPop StddevSamp StrPosition
    StrToDate StrToTime Substring Sum Time TimeToStr TimeToUnix TimestampTrunc ToChar Trim TryCast TsOrDsToDate
    TsOrDsToTimestamp Typeof Unicode Upper Variance VariancePop Week Year
"""
SAFE_FUNCTIONS: Final = frozenset(_SAFE_FUNCTIONS_WORDS.split())
# Functions sqlglot does not model (parsed as Anonymous), by dialect, that are equally harmless.
SAFE_ANONYMOUS: Final[dict[str, frozenset[str]]] = {
    "sqlite": frozenset({"julianday", "datetime", "time", "printf", "total", "ifnull", "instr", "unixepoch"}),
    "duckdb": frozenset({"date_part", "datepart", "epoch", "make_date", "now", "to_date", "btrim", "printf"}),
    "postgres": frozenset({"date_part", "age", "to_date", "btrim", "make_date", "now", "initcap", "strpos"}),
}
# Named so the refusal says plainly why: they read files, sleep, reach the network, or change state.
_DANGEROUS_FUNCTIONS_WORDS: Final = """
    load_extension readfile writefile edit fts3_tokenizer randomblob zeroblob sqlite_compileoption_get pg_sleep
    pg_sleep_for pg_sleep_until pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file lo_import lo_export lo_get
    lo_put dblink dblink_exec dblink_connect dblink_send_query query_to_xml query_to_json table_to_xml set_config
    current_setting pg_terminate_backend pg_cancel_backend pg_reload_conf pg_rotate_logfile nextval setval
    pg_advisory_lock pg_advisory_xact_lock pg_notify txid_current pg_logical_emit_message version current_user
    session_user user current_database inet_server_addr inet_client_addr read_csv read_csv_auto read_parquet
    read_json read_json_auto read_text read_blob glob sniff_csv parquet_scan sqlite_scan postgres_scan
    generate_series range getenv system sleep benchmark
"""
DANGEROUS_FUNCTIONS: Final = frozenset(_DANGEROUS_FUNCTIONS_WORDS.split())
SYSTEM_SCHEMAS: Final = frozenset({"pg_catalog", "information_schema", "pg_toast", "sqlite_temp_schema", "temp"})
SYSTEM_TABLE_PREFIXES: Final = ("sqlite_", "pg_", "duckdb_")


@dataclass(frozen=True)
class JoinUse:
    left: str
    right: str
    kind: str
    condition: str


@dataclass(frozen=True)
class ValidatedQuery:
    """A statement the guard accepted, and what it reads."""

    sql: str
    dialect: str
    tables: list[str]
    columns: list[str]
    joins: list[JoinUse]
    limit: int
    limit_applied: bool = field(metadata={"doc": "the guard added a LIMIT or lowered the caller's"})
    checks: list[str]

    def summary(self) -> dict[str, Any]:
        return {
            "valid": True,
            "dialect": self.dialect,
            "tables": self.tables,
            "columns": self.columns,
            "limit": self.limit,
            "limit_applied": self.limit_applied,
            "checks": self.checks,
        }


def validate(sql: str, catalog: Catalog, *, max_rows: int) -> ValidatedQuery:
    """The checked, rewritten statement; ``UnsafeQuery`` with the reason when it is not a plain read."""
    from sqlglot import exp

    dialect = catalog.dialect
    root = _parse_single(sql, dialect)
    _check_tree(root, catalog)
    qualified = _qualify(root, catalog)
    root, limit, applied = _apply_limit(root, max_rows)
    rendered = root.sql(dialect=dialect, comments=False)
    # The database runs ``rendered``: it must pass the same checks (no parser/generator round-trip surprise).
    again = _parse_single(rendered, dialect)
    _check_tree(again, catalog)
    final_limit = again.args.get("limit")
    if not isinstance(final_limit, exp.Limit) or _literal_int(final_limit.expression) is None:
        raise UnsafeQuery("unstable", "the statement could not be given a row limit; simplify it")
    tables, columns = _reads(qualified, catalog)
    joins = _joins(root, catalog)
    return ValidatedQuery(
        sql=rendered,
        dialect=dialect,
        tables=tables,
        columns=columns,
        joins=joins,
        limit=limit,
        limit_applied=applied,
        checks=[
            "single statement",
            "read-only SELECT",
            "allowed tables only",
            "allowed columns only",
            "allowed functions only",
            f"LIMIT {limit}" + (" (added or capped)" if applied else ""),
        ],
    )


def _parse_single(sql: str, dialect: str) -> exp.Expression:
    import logging

    import sqlglot

    # sqlglot logs a warning for every statement it cannot model; the refusal below says it to the caller.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    text = sql.strip()
    if not text:
        raise UnsafeQuery("empty", "the statement is empty")
    if len(text) > MAX_SQL_CHARS:
        raise UnsafeQuery("too_long", f"the statement is longer than {MAX_SQL_CHARS} characters")
    if any(ch in text for ch in "\x00\x1a") or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise UnsafeQuery("control_characters", "the statement contains NUL or other control characters")
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except SqlglotError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnsafeQuery("unparseable", f"the statement is not valid {dialect} SQL: {first_line}") from error
    except (ValueError, RecursionError) as error:
        raise UnsafeQuery("unparseable", f"the statement is not valid {dialect} SQL") from error
    if not statements:
        raise UnsafeQuery("empty", "the statement is empty")
    if len(statements) > 1:
        raise UnsafeQuery(
            "multiple_statements", f"only one statement may run; this text holds {len(statements)} statements"
        )
    root = statements[0]
    while isinstance(root, exp.Subquery) and isinstance(root.this, exp.Query) and not root.args.get("alias"):
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation):
        kind = _statement_kind(root)
        reason = _reason_of_statement(root)
        effect = {"write": ", which changes data", "ddl": ", which changes the schema"}.get(reason, "")
        raise UnsafeQuery(reason, f"only SELECT statements may run; this is {kind}{effect}")
    return root


_WRITE_NODES: Final = ("Insert", "Update", "Delete", "Merge", "TruncateTable")
_DDL_NODES: Final = (
    "Create",
    "Drop",
    "Alter",
    "AlterTable",
    "AlterColumn",
    "RenameTable",
    "Grant",
    "Revoke",
    "Comment",
)
_OTHER_NODES: Final = {
    "Pragma": "pragma",
    "Attach": "attach",
    "Detach": "attach",
    "Copy": "copy",
    "Command": "command",
    "Set": "set",
    "Use": "command",
    "Transaction": "transaction",
    "Commit": "transaction",
    "Rollback": "transaction",
    "Into": "select_into",
    "Lock": "locking",
    "LoadData": "copy",
    "Install": "command",
    "Describe": "command",
    "Analyze": "command",
    "Cache": "command",
    "Export": "copy",
}


def _reason_of_statement(node: Any) -> str:
    name = type(node).__name__
    if name in _WRITE_NODES:
        return "write"
    if name in _DDL_NODES:
        return "ddl"
    return _OTHER_NODES.get(name, "not_select")


def _statement_kind(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return f"a {str(node.this).upper()} command"
    return f"a {node.key.upper()} statement"


def _check_tree(root: exp.Expression, catalog: Catalog) -> None:
    from sqlglot import exp

    cte_names = {cte.alias_or_name.lower() for cte in root.find_all(exp.CTE)}
    dialect = catalog.dialect
    for node in root.walk():
        name = type(node).__name__
        if name in _WRITE_NODES:
            raise UnsafeQuery("write", f"the statement contains {node.key.upper()}, which changes data")
        if name in _DDL_NODES:
            raise UnsafeQuery("ddl", f"the statement contains {node.key.upper()}, which changes the schema")
        if name in _OTHER_NODES:
            reason = _OTHER_NODES[name]
            what = "SELECT ... INTO creates a table" if reason == "select_into" else f"{node.key.upper()}"
            if reason == "locking":
                what = "FOR UPDATE/SHARE takes row locks"
            raise UnsafeQuery(reason, f"the statement contains {what}, which is not a plain read")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise UnsafeQuery("recursive_cte", "recursive CTEs are not allowed (they can run without bound)")
        if isinstance(node, exp.Placeholder | exp.Parameter | exp.SessionParameter):
            raise UnsafeQuery("parameters", "placeholders, parameters and session variables are not allowed")
        if isinstance(node, exp.Func) and not isinstance(node, exp.Connector):
            _check_function(node, dialect)
        if isinstance(node, exp.Table):
            _check_table(node, catalog, cte_names)
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            _check_star(node, catalog, cte_names)


def _function_name(node: exp.Func) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_function(node: exp.Func, dialect: str) -> None:
    from sqlglot import exp

    name = _function_name(node)
    if name in DANGEROUS_FUNCTIONS or (isinstance(node, exp.Anonymous) and name.startswith(("pg_", "lo_", "dblink"))):
        raise UnsafeQuery(
            "dangerous_function", f"function {name}() is not allowed: it can read files, wait or change state"
        )
    if isinstance(node, exp.Anonymous):
        if name not in SAFE_ANONYMOUS.get(dialect, frozenset()):
            raise UnsafeQuery("function", f"function {name}() is not on the allowlist of {dialect} functions")
        return
    if type(node).__name__ not in SAFE_FUNCTIONS:
        raise UnsafeQuery("function", f"function {name}() is not on the allowlist of functions")


def _check_table(node: exp.Table, catalog: Catalog, cte_names: set[str]) -> None:
    from sqlglot import exp

    if not isinstance(node.this, exp.Identifier):
        raise UnsafeQuery("table_function", "only tables, views of the catalog and subqueries may be read")
    name = node.name
    schema = node.db.lower() if node.db else ""
    if node.catalog:
        raise UnsafeQuery("other_database", f"{node.sql()} names another database; only this one can be read")
    if (
        schema in SYSTEM_SCHEMAS
        or name.lower().startswith(SYSTEM_TABLE_PREFIXES)
        or name.lower() == "information_schema"
    ):
        raise UnsafeQuery(
            "system_catalog", f"{node.sql()} is a system catalog; only the database's own tables can be read"
        )
    own_schema = (catalog.schema_name or ("public" if catalog.dialect == "postgres" else "main")).lower()
    if schema and schema != own_schema:
        raise UnsafeQuery("other_database", f"{node.sql()} is outside this database's schema {own_schema!r}")
    if not schema and name.lower() in cte_names:
        return
    if catalog.table(name) is None:
        raise UnsafeQuery("unknown_table", f"table {name!r} is not one of the tables this database allows")


def _check_star(node: exp.Star, catalog: Catalog, cte_names: set[str]) -> None:
    from sqlglot import exp

    hidden = {c.split(".", 1)[0].lower() for c in catalog.hidden_columns}
    if not hidden:
        return
    select = node.find_ancestor(exp.Select)
    scope = select if select is not None else node
    for table in scope.find_all(exp.Table):
        if table.name.lower() in hidden and table.name.lower() not in cte_names:
            raise UnsafeQuery(
                "hidden_columns", f"SELECT * is not allowed on {table.name}: some of its columns are hidden; name them"
            )


_SCHEMAS: dict[tuple[str, str], Any] = {}


def _schema(catalog: Catalog) -> Any:
    """sqlglot's schema of the catalog, built once per catalog shape (building it costs a third of a check)."""
    from sqlglot.schema import MappingSchema

    key = (catalog.dialect, catalog.version)
    schema = _SCHEMAS.get(key)
    if schema is None:
        if len(_SCHEMAS) > 256:
            _SCHEMAS.clear()
        schema = MappingSchema(cast(dict[str, object], catalog.sqlglot_schema()), dialect=catalog.dialect)
        _SCHEMAS[key] = schema
    return schema


def _qualify(root: exp.Expression, catalog: Catalog) -> exp.Expression:
    """Resolve every column against the catalog: an unknown or hidden column is refused."""
    from sqlglot.errors import OptimizeError, SqlglotError
    from sqlglot.optimizer.qualify import qualify

    try:
        return qualify(
            root.copy(),
            schema=_schema(catalog),
            dialect=catalog.dialect,
            validate_qualify_columns=True,
            quote_identifiers=False,
        )
    except OptimizeError as error:
        message = str(error).split(". Line:")[0]
        hint = ""
        if '"' in root.sql(dialect=catalog.dialect) and catalog.dialect in ("sqlite", "postgres", "duckdb"):
            hint = " (strings take single quotes; double quotes name columns)"
        raise UnsafeQuery("unknown_column", f"{message}: not an allowed column of the tables read{hint}") from error
    except SqlglotError as error:
        raise UnsafeQuery("unresolved", f"the statement could not be resolved against the catalog: {error}") from error


def _literal_int(node: Any) -> int | None:
    from sqlglot import exp

    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(str(node.this))
        except ValueError:
            return None
    return None


def _apply_limit(root: exp.Expression, max_rows: int) -> tuple[exp.Expression, int, bool]:
    from sqlglot import exp

    if root.args.get("fetch") is not None:
        raise UnsafeQuery("fetch", "use LIMIT instead of FETCH FIRST")
    limit = root.args.get("limit")
    current = _literal_int(limit.expression) if isinstance(limit, exp.Limit) else None
    if current is not None and 0 <= current <= max_rows:
        return root, current, False
    rewritten = root.copy()
    rewritten.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
    return rewritten, max_rows, True


def _reads(qualified: exp.Expression, catalog: Catalog) -> tuple[list[str], list[str]]:
    """Catalog tables and ``table.column``s the statement reads."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    tables: list[str] = []
    columns: list[str] = []

    def canonical(name: str) -> str:
        table = catalog.table(name)
        return table.name if table else name

    for scope in traverse_scope(qualified):
        aliases = {
            alias: canonical(source.name) for alias, source in scope.sources.items() if isinstance(source, exp.Table)
        }
        for table_name in aliases.values():
            if table_name not in tables:
                tables.append(table_name)
        for column in scope.columns:
            source_name = aliases.get(column.table)
            if source_name is None:
                continue
            table = catalog.table(source_name)
            found = table.column(column.name) if table else None
            entry = f"{source_name}.{found.name if found else column.name}"
            if entry not in columns:
                columns.append(entry)
    return tables, columns


def _joins(root: exp.Expression, catalog: Catalog) -> list[JoinUse]:
    """The joins as written (the qualified copy has normalised the identifiers' case)."""
    from sqlglot import exp

    joins: list[JoinUse] = []
    for select in root.find_all(exp.Select):
        names = {t.alias_or_name: t.name for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select}

        def canonical(node: exp.Expression, names: dict[str, str] = names) -> str:
            name = names.get(node.alias_or_name, node.alias_or_name)
            table = catalog.table(name)
            return table.name if table else name

        from_ = select.args.get("from") or select.args.get("from_")
        left = canonical(from_.this) if from_ is not None else ""
        for join in select.args.get("joins") or []:
            kind = " ".join(part for part in (join.side, join.kind) if part) or "INNER"
            on = join.args.get("on")
            condition = on.sql(dialect=catalog.dialect) if on is not None else ""
            joins.append(JoinUse(left=left, right=canonical(join.this), kind=kind.upper(), condition=condition))
    return joins
