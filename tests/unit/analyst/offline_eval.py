"""Scoring the offline text-to-SQL model on Chinook: each question is answered correctly (same result set as a
gold query), declined (a clarification or a refusal), or wrong. Used by the tests and by bench/analyst.py.

Question sets: the dev pairs (``chinook_nl_sql.jsonl``, the pairs the rules were written against) and the unseen
sets under tests/data (``analyst_unseen*.jsonl``), written by hand before the rules were changed; an unseen
question either has gold SQL (one or more acceptable readings) or is marked ``"expect": "decline"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from analyst.generation import OfflineSqlGenerator
from stratus.sql import Catalog, ExecutionLimits, QueryFailed, UnsafeQuery
from stratus.sql.guard import validate
from stratus.sql.sqlite import SqliteDatabase
from tests.unit.analyst.chinook import gold_pairs, gold_sql, result_key

DATA = Path(__file__).resolve().parents[2] / "data"
UNSEEN_SETS = tuple(sorted(path.name for path in DATA.glob("analyst_unseen*.jsonl")))
LIMITS = ExecutionLimits(max_rows=5000, max_bytes=20_000_000, timeout_s=10)

Outcome = Literal["correct", "declined", "wrong"]


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]  # acceptable gold queries; empty when the model must decline

    @property
    def must_decline(self) -> bool:
        return not self.gold


@dataclass
class Score:
    outcomes: dict[Outcome, list[str]] = field(
        default_factory=lambda: {"correct": [], "declined": [], "wrong": []}
    )

    def count(self, outcome: Outcome) -> int:
        return len(self.outcomes[outcome])

    def line(self) -> str:
        total = sum(len(ids) for ids in self.outcomes.values())
        return (
            f"correct {self.count('correct')}/{total}   declined {self.count('declined')}   "
            f"wrong {self.count('wrong')} {self.outcomes['wrong'] or ''}"
        ).rstrip()


def dev_questions() -> list[Question]:
    return [
        Question(p["id"], p["question"], (gold_sql(p),)) for p in gold_pairs() if p["executes_on_lerocha_chinook"]
    ]


def unseen_questions(name: str) -> list[Question]:
    path = DATA / name
    entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [Question(e["id"], e["question"], tuple(e["gold"])) for e in entries]


def _rows(database: SqliteDatabase, catalog: Catalog, sql: str) -> list[tuple[str, ...]] | None:
    try:
        checked = validate(sql, catalog, max_rows=LIMITS.max_rows)
        return result_key(database.execute(checked.sql, LIMITS).rows)
    except (UnsafeQuery, QueryFailed):
        return None


def outcome_of(question: Question, database: SqliteDatabase, catalog: Catalog) -> Outcome:
    generation = OfflineSqlGenerator().generate(question.question, catalog, [], [])
    if generation.kind != "sql" or generation.sql is None:
        return "declined"
    if question.must_decline:
        return "wrong"
    got = _rows(database, catalog, generation.sql)
    golds: list[Any] = [_rows(database, catalog, sql) for sql in question.gold]
    return "correct" if got is not None and got in golds else "wrong"


def score(questions: list[Question], database: SqliteDatabase, catalog: Catalog) -> Score:
    result = Score()
    for question in questions:
        result.outcomes[outcome_of(question, database, catalog)].append(question.id)
    return result
