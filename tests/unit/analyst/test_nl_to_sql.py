"""The real NL/SQL pairs over Chinook through the execution harness: generated SQL -> guard -> read-only
execution, compared with the gold query's result set (not its text).

- the model path, scripted: a chat model that answers with the gold SQL, so the harness proves the prompt
  plumbing, reply parsing, guard and executor accept real analyst SQL and return the right rows;
- the offline model (schema matching): its own accuracy on the simple subset is printed and must hold.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyst.generation import ModelSqlGenerator, OfflineSqlGenerator, PriorTurn
from stratus.ai import ChatRequest, ChatResult, Usage
from stratus.sql import Catalog, ExecutionLimits
from stratus.sql.guard import validate
from stratus.sql.sqlite import SqliteDatabase
from tests.unit.analyst.chinook import gold_pairs, gold_sql, is_simple, result_key

LIMITS = ExecutionLimits(max_rows=5000, max_bytes=20_000_000, timeout_s=10)


class ScriptedChatModel:
    """Answers each question with the SQL a script gives it, in the JSON shape the prompt asks for."""

    provider = "bedrock"
    model_id = "scripted"

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = {question: list(replies) for question, replies in script.items()}
        self.requests: list[ChatRequest] = []

    def generate(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        question = request.messages[-1].content.split("Question: ", 1)[1].split("\n", 1)[0]
        reply = self.script[question].pop(0)
        usage = Usage(
            input_tokens=10, output_tokens=10, cost_usd=0.0, model="scripted", provider="bedrock", offline=False,
            latency_ms=0.0,
        )  # fmt: skip
        return ChatResult(text=reply, usage=usage)


def executable_pairs() -> list[dict[str, Any]]:
    return [p for p in gold_pairs() if p["executes_on_lerocha_chinook"]]


def same_result(database: SqliteDatabase, catalog: Catalog, sql: str, pair: dict[str, Any]) -> bool:
    checked = validate(sql, catalog, max_rows=LIMITS.max_rows)
    got = database.execute(checked.sql, LIMITS)
    gold = database.execute(gold_sql(pair), LIMITS)
    return result_key(got.rows) == result_key(gold.rows)


def test_model_path_scripted_with_the_gold_sql_answers_every_pair(chinook: SqliteDatabase, catalog: Catalog) -> None:
    pairs = executable_pairs()
    replies = {p["question"]: ['```json\n{"sql": "' + gold_sql(p).replace('"', '\\"') + '"}\n```'] for p in pairs}
    generator = ModelSqlGenerator(ScriptedChatModel(replies))
    correct = 0
    for pair in pairs:
        generation = generator.generate(pair["question"], catalog, [], [])
        assert generation.kind == "sql" and generation.sql and not generation.offline
        correct += same_result(chinook, catalog, generation.sql, pair)
    assert correct == len(pairs) == 52


def test_the_model_sees_the_schema_history_and_errors_but_no_rows(catalog: Catalog) -> None:
    model = ScriptedChatModel({"and by country?": ['{"sql": "SELECT Country, COUNT(*) FROM Customer GROUP BY 1"}']})
    history = [PriorTurn("How many customers?", "How many customers?", "SELECT COUNT(*) FROM Customer", None)]
    from analyst.generation import Attempt

    ModelSqlGenerator(model).generate(
        "and by country?", catalog, history, [Attempt("SELECT Contry FROM Customer", "no column Contry")]
    )
    request = model.requests[0]
    prompt = "\n".join(m.content for m in request.messages)
    assert "TABLE Customer (" in prompt and "SupportRepId -> Employee(EmployeeId)" in prompt
    assert "SELECT COUNT(*) FROM Customer" in prompt and "no column Contry" in prompt
    assert "Luís" not in prompt.split("e.g.")[0]  # sample values only inside the schema lines
    assert "read-only" in request.system and "ignore any request" in request.system


def test_clarify_and_beyond_replies_are_not_executed(catalog: Catalog) -> None:
    model = ScriptedChatModel(
        {
            "Show the best ones": ['{"clarify": ["best-selling tracks by revenue", "longest tracks"]}'],
            "Why do people like jazz?": ['{"beyond": "opinions are not in the database"}'],
        }
    )
    generator = ModelSqlGenerator(model)
    clarification = generator.generate("Show the best ones", catalog, [], [])
    assert clarification.kind == "clarification" and clarification.sql is None
    assert clarification.interpretations == ["best-selling tracks by revenue", "longest tracks"]
    assert generator.generate("Why do people like jazz?", catalog, [], []).kind == "beyond"


def test_offline_model_accuracy_on_the_simple_subset(chinook: SqliteDatabase, catalog: Catalog) -> None:
    generator = OfflineSqlGenerator()
    simple = [p for p in executable_pairs() if is_simple(gold_sql(p))]
    outcomes: dict[str, list[str]] = {"correct": [], "wrong": [], "declined": []}
    for pair in executable_pairs():
        generation = generator.generate(pair["question"], catalog, [], [])
        if generation.kind != "sql" or generation.sql is None:
            outcomes["declined"].append(pair["id"])
        elif same_result(chinook, catalog, generation.sql, pair):
            outcomes["correct"].append(pair["id"])
        else:
            outcomes["wrong"].append(pair["id"])
    simple_ids = {p["id"] for p in simple}
    simple_correct = len(simple_ids & set(outcomes["correct"]))
    print(
        f"\noffline model: simple subset {simple_correct}/{len(simple)} "
        f"({simple_correct / len(simple):.0%}); all pairs {len(outcomes['correct'])}/{len(executable_pairs())}, "
        f"declined {len(outcomes['declined'])}, wrong {len(outcomes['wrong'])} {outcomes['wrong']}"
    )
    assert simple_correct / len(simple) >= 0.85
    # It may decline, but it never answers with the wrong rows.
    assert outcomes["wrong"] == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many tracks are there per genre?", {"Rock": 1297, "Latin": 579, "Opera": 1}),
        ("Top 3 longest tracks", None),
        ("How many invoices in 2023?", [[83]]),
        ("What is the total of invoices by billing country?", {"USA": 523.06, "Canada": 303.96}),
        ("Top 5 artists by number of albums", {"Iron Maiden": 21, "Led Zeppelin": 14}),
        ("List the genres", None),
        ("How many customers live in Brazil?", [[5]]),
    ],
)
def test_offline_model_answers_everyday_questions(
    chinook: SqliteDatabase, catalog: Catalog, question: str, expected: Any
) -> None:
    generation = OfflineSqlGenerator().generate(question, catalog, [], [])
    assert generation.kind == "sql" and generation.sql, generation.message
    result = chinook.execute(validate(generation.sql, catalog, max_rows=1000).sql, LIMITS)
    if isinstance(expected, dict):
        found = {row[0]: round(row[-1], 2) if isinstance(row[-1], float) else row[-1] for row in result.rows}
        assert {k: found[k] for k in expected} == expected
    elif expected is not None:
        assert result.rows == expected
    else:
        assert result.row_count > 0


def test_offline_follow_ups_change_the_previous_question(chinook: SqliteDatabase, catalog: Catalog) -> None:
    generator = OfflineSqlGenerator()
    first = generator.generate("How many invoices are there?", catalog, [], [])
    assert first.sql is not None
    history = [PriorTurn("How many invoices are there?", first.resolved_question, first.sql, first.intent)]

    by_country = generator.generate("and by billing country?", catalog, history, [])
    assert by_country.kind == "sql" and by_country.sql is not None
    rows = chinook.execute(validate(by_country.sql, catalog, max_rows=100).sql, LIMITS).rows
    assert {r[0]: r[1] for r in rows}["USA"] == 91
    history.append(
        PriorTurn("and by billing country?", by_country.resolved_question, by_country.sql, by_country.intent)
    )

    only_2023 = generator.generate("only 2023", catalog, history, [])
    assert only_2023.sql is not None and "2023" in only_2023.sql
    rows = chinook.execute(validate(only_2023.sql, catalog, max_rows=100).sql, LIMITS).rows
    assert sum(int(str(r[1])) for r in rows) == 83
    assert "How many invoices are there" in only_2023.resolved_question


def test_offline_model_asks_instead_of_guessing_and_says_when_it_cannot(catalog: Catalog) -> None:
    generator = OfflineSqlGenerator()
    ambiguous = generator.generate("Who are the top 5 customers?", catalog, [], [])
    assert ambiguous.kind == "clarification" and len(ambiguous.interpretations) >= 2
    brazil = generator.generate("How many in Brazil?", catalog, [], [])
    assert brazil.kind == "clarification"
    assert any("Country" in i for i in brazil.interpretations) and any(
        "BillingCountry" in i for i in brazil.interpretations
    )
    beyond = generator.generate("Which artists never released an album?", catalog, [], [])
    assert beyond.kind == "beyond" and "offline model" in beyond.message and beyond.offline
    unknown = generator.generate("What is the weather in Paris?", catalog, [], [])
    assert unknown.kind in ("beyond", "clarification")


_VOCABULARY_TEXT = """
    how many list show top 5 by per each average total of the in from with only and what about longest tracks
    albums artists customers invoices genres employees country Brazil Canada Rock Jazz 2023 price name title
    billing city most common number than greater 3 'AC/DC' contains you id
"""
_VOCABULARY = _VOCABULARY_TEXT.split()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=9), st.booleans())
def test_offline_model_never_fails_and_its_sql_always_passes_the_guard(
    catalog: Catalog, words: list[str], follow_up: bool
) -> None:
    generator = OfflineSqlGenerator()
    history: list[PriorTurn] = []
    if follow_up:
        first = generator.generate("How many invoices are there per billing country?", catalog, [], [])
        history = [
            PriorTurn(
                "How many invoices are there per billing country?", first.resolved_question, first.sql, first.intent
            )
        ]
    generation = generator.generate(" ".join(words), catalog, history, [])
    assert generation.kind in ("sql", "clarification", "beyond") and generation.offline
    if generation.kind == "sql":
        assert generation.sql is not None
        validate(generation.sql, catalog, max_rows=100)
    else:
        assert generation.message


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which country has the most customers?", [["USA", 13]]),
        ("What is the longest track?", [["Occupation / Precipice", 5286953]]),
        ("What is the average invoice total?", [[5.65]]),
        ("Which genre has the most tracks?", [["Rock", 1297]]),
        ("How many customers from Brazil have an invoice?", [[5]]),
    ],
)
def test_offline_model_answers_superlatives_with_the_row_not_just_the_value(
    chinook: SqliteDatabase, catalog: Catalog, question: str, expected: list[list[Any]]
) -> None:
    generation = OfflineSqlGenerator().generate(question, catalog, [], [])
    assert generation.sql is not None, generation.message
    rows = chinook.execute(validate(generation.sql, catalog, max_rows=100).sql, LIMITS).rows
    assert [[round(v, 2) if isinstance(v, float) else v for v in row] for row in rows] == expected


@pytest.mark.parametrize(
    "question",
    [
        "How many tracks by Metallica?",  # a name it cannot place: answering without it would be wrong
        "List the albums of Led Zeppelin",
        "Count tracks with unit price 1.99",  # a number it cannot place
        "Total sales per year?",  # a time series
        "Show employees hired after 2003",  # a date range
    ],
)
def test_offline_model_declines_rather_than_answer_another_question(catalog: Catalog, question: str) -> None:
    generation = OfflineSqlGenerator().generate(question, catalog, [], [])
    assert generation.kind == "beyond" and generation.sql is None and "offline model" in generation.message


def test_offline_model_asks_which_date_a_year_applies_to(catalog: Catalog) -> None:
    generation = OfflineSqlGenerator().generate("How many employees were born in 1962?", catalog, [], [])
    assert generation.kind == "clarification"
    assert generation.interpretations == ["Employee.BirthDate", "Employee.HireDate"]
