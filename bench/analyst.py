"""Analyst benchmark on the Chinook sample: guard + execution overhead per query (model time excluded), the
offline model's execution accuracy on the simple subset, its correct / declined / wrong answers on the dev pairs
and on the unseen question sets (tests/data/analyst_unseen*.jsonl), and the attack corpus result.

    .venv/bin/python bench/analyst.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# A script run by path gets only bench/ on sys.path.
sys.path[:0] = [str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT / "functions"), str(REPO_ROOT)]

from analyst.generation import OfflineSqlGenerator, UnsafeQuestion, looks_like_sql, screen_question  # noqa: E402
from stratus.errors import NotFound  # noqa: E402
from stratus.sql import ExecutionLimits, QueryFailed, UnsafeQuery  # noqa: E402
from stratus.sql.guard import validate  # noqa: E402
from stratus.sql.sqlite import SqliteDatabase  # noqa: E402
from tests.unit.analyst.chinook import chinook_sample, gold_pairs, gold_sql, is_simple, result_key  # noqa: E402
from tests.unit.analyst.offline_eval import UNSEEN_SETS, score, unseen_questions  # noqa: E402

CORPUS = REPO_ROOT / "tests" / "data" / "analyst_attacks.jsonl"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = SqliteDatabase(chinook_sample(Path(scratch)))
        catalog = database.introspect()
        limits = ExecutionLimits(max_rows=1000, timeout_s=5)
        pairs = [p for p in gold_pairs() if p["executes_on_lerocha_chinook"]]

        validate(gold_sql(pairs[0]), catalog, max_rows=1000)  # imports sqlglot once, as a warm container has
        validate_ms: list[float] = []
        execute_ms: list[float] = []
        for _ in range(args.rounds):
            for pair in pairs:
                started = time.perf_counter()
                checked = validate(gold_sql(pair), catalog, max_rows=1000)
                validated = time.perf_counter()
                database.execute(checked.sql, limits)
                executed = time.perf_counter()
                validate_ms.append((validated - started) * 1000)
                execute_ms.append((executed - validated) * 1000)
        total = [v + e for v, e in zip(validate_ms, execute_ms, strict=True)]
        print(f"guard + execution on Chinook ({len(pairs)} gold queries x {args.rounds} rounds, model time excluded)")
        for name, values in (("validate", validate_ms), ("execute", execute_ms), ("total", total)):
            print(
                f"  {name:<9} p50 {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms   "
                f"max {max(values):7.2f} ms"
            )

        generator = OfflineSqlGenerator()
        simple = {p["id"] for p in pairs if is_simple(gold_sql(p))}
        correct: set[str] = set()
        declined = wrong = 0
        generate_ms: list[float] = []
        for pair in pairs:
            started = time.perf_counter()
            generation = generator.generate(pair["question"], catalog, [], [])
            generate_ms.append((time.perf_counter() - started) * 1000)
            if generation.kind != "sql" or generation.sql is None:
                declined += 1
                continue
            got = database.execute(validate(generation.sql, catalog, max_rows=5000).sql, ExecutionLimits(max_rows=5000))
            gold = database.execute(gold_sql(pair), ExecutionLimits(max_rows=5000))
            if result_key(got.rows) == result_key(gold.rows):
                correct.add(pair["id"])
            else:
                wrong += 1
        print("offline model (schema matching), execution accuracy (result-set equivalence)")
        print(
            f"  simple subset {len(correct & simple)}/{len(simple)} ({len(correct & simple) / len(simple):.1%})   "
            f"all pairs {len(correct)}/{len(pairs)} ({len(correct) / len(pairs):.1%})   "
            f"declined {declined}   wrong {wrong}   generation p50 {statistics.median(generate_ms):.2f} ms"
        )
        print("offline model on hand-written unseen questions (tests/data/analyst_unseen*.jsonl)")
        for name in UNSEEN_SETS:
            print(f"  {name:<28} {score(unseen_questions(name), database, catalog).line()}")

        outcomes: Counter[str] = Counter()
        before = database.path.read_bytes()
        for line in CORPUS.read_text().splitlines():
            entry = json.loads(line)
            text = entry["text"]
            try:
                if entry["kind"] == "question" and not looks_like_sql(text):
                    screen_question(text, tenant_id="bench", database_id="db_00000000000000aa")
                    generation = generator.generate(text, catalog, [], [])
                    if generation.sql is None:
                        outcomes["not answered"] += 1
                        continue
                    text = generation.sql
                checked = validate(text, catalog, max_rows=50)
                if not set(checked.tables) <= {t.name for t in catalog.tables}:
                    outcomes["READ OUTSIDE ALLOWED TABLES"] += 1
                database.execute(checked.sql, ExecutionLimits(max_rows=50, timeout_s=2))
                outcomes["read of allowed tables"] += 1
            except (UnsafeQuery, UnsafeQuestion, NotFound):
                outcomes["refused"] += 1
            except QueryFailed:
                outcomes["failed, read-only"] += 1
        changed = database.path.read_bytes() != before
        print(f"attack corpus ({sum(outcomes.values())} statements and questions)")
        print("  " + "   ".join(f"{name} {count}" for name, count in sorted(outcomes.items())))
        print(f"  executed anything but a read of allowed tables: {outcomes['READ OUTSIDE ALLOWED TABLES'] + changed}")


if __name__ == "__main__":
    main()
