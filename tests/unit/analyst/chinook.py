"""The Chinook data the analyst tests use: the sample built from ../shared/data, the NL/SQL pairs, and
result-set equivalence (order-insensitive, column-order-insensitive, floats to 6 places)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = REPO_ROOT.parent / "shared" / "data" / "text-to-sql"
BUILT_SAMPLE = REPO_ROOT / "functions" / "analyst" / "sample" / "chinook.sqlite"


def chinook_sample(tmp_dir: Path) -> Path:
    """The sample `make analyst-sample` built, else one built now from the shared SQL script."""
    if BUILT_SAMPLE.is_file():
        return BUILT_SAMPLE
    script = SHARED / "chinook" / "Chinook_Sqlite.sql"
    if not script.is_file():
        pytest.skip(f"Chinook data not found at {script} (see shared/data/text-to-sql/SOURCES.md)")
    from analyst.sample import build_sample

    return build_sample(script, tmp_dir / "chinook.sqlite")


def gold_pairs() -> list[dict[str, Any]]:
    path = SHARED / "chinook_nl_sql.jsonl"
    if not path.is_file():
        pytest.skip(f"NL/SQL pairs not found at {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def gold_sql(pair: dict[str, Any]) -> str:
    """The gold SQL with string literals in single quotes (SQLite reads "x" as an identifier first)."""
    return str(pair.get("sql_alt_single_quotes") or pair["sql"])


def result_key(rows: list[list[Any]]) -> list[tuple[str, ...]]:
    normalised = []
    for row in rows:
        cells = [repr(round(v, 6)) if isinstance(v, float) else repr(v) for v in row]
        normalised.append(tuple(sorted(cells)))
    return sorted(normalised)


def is_simple(sql: str) -> bool:
    """The "simple subset": one table or one join, no HAVING, no NOT IN / EXISTS, no nested query but a lookup."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="sqlite")
    joins = len(list(tree.find_all(exp.Join)))
    nested = [s for s in tree.find_all(exp.Select) if s is not tree]
    lookups = all(isinstance(s.parent, exp.Subquery) and isinstance(s.parent.parent, exp.EQ) for s in nested)
    return joins <= 1 and not tree.find(exp.Having) and not tree.find(exp.Not) and not tree.find(exp.Exists) and lookups
