"""Static checks on task code, and the evidence agents find in a task's inputs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stratus.agents import TaskInput, check_python, code_blocks, search_inputs
from stratus.ai.text import terms


def test_the_compiler_and_ruff_report_real_problems_most_severe_first() -> None:
    # Given code with an undefined name, an unused import, a bare except and an eval
    code = "import os\n\ndef f():\n    try:\n        return eval(y)\n    except:\n        pass\n"

    # When it is checked
    report = check_python(code, "snippet.py")

    # Then ruff's findings come back with rule, line and severity, errors first
    found = [(f.code, f.line, f.severity) for f in report.findings]
    assert found[0] == ("F821", 5, "error")
    assert ("S307", 5, "security") in found and ("F401", 1, "warning") in found and ("E722", 6, "warning") in found
    assert report.checkers == ("python", "ruff") and report.errors == 1


def test_code_that_does_not_parse_is_reported_by_the_compiler_and_ruff_is_skipped() -> None:
    report = check_python("def broken(:\n    pass\n", "broken.py")

    assert [(f.code, f.line, f.checker) for f in report.findings] == [("E999", 1, "python")]
    assert report.notes == ("ruff skipped: the code does not parse",)


def test_clean_code_has_no_findings() -> None:
    assert check_python("def add(a: int, b: int) -> int:\n    return a + b\n").findings == ()


def test_code_is_found_in_fences_of_the_goal_and_inputs_and_in_python_files() -> None:
    goal = "Review this:\n```python\nx = 1\n```\nand this:\n```js\nlet y = 2\n```"
    inputs = [TaskInput("job.py", "import sys\n"), TaskInput("notes.md", "```\nprint('hi')\n```")]

    blocks = code_blocks(goal, inputs)

    assert [(b.name, b.language, b.is_python) for b in blocks] == [
        ("goal-snippet-1.py", "python", True),
        ("goal-snippet-2.js", "js", False),
        ("job.py", "python", True),
        ("notes.md-snippet-1.py", "python", True),
    ]


def test_input_search_ranks_the_passage_that_answers_first() -> None:
    inputs = [
        TaskInput("pipeline.md", "The canary gets 5% of traffic.\n\nRollbacks finish within two minutes."),
        TaskInput("team.md", "The on-call rota changes weekly."),
    ]

    hits = search_inputs(inputs, "How long does a rollback take?", k=5)

    assert [(h.source_id, h.title) for h in hits] == [("pipeline.md#2", "pipeline.md")]
    assert search_inputs(inputs, "the of and", k=5) == []


@given(
    st.lists(st.text(alphabet=st.characters(categories=("L", "Zs")), min_size=1, max_size=200), max_size=5),
    st.text(min_size=1, max_size=60),
)
def test_every_input_passage_found_shares_a_word_with_the_query(contents: list[str], query: str) -> None:
    inputs = [TaskInput(f"doc{n}.md", text) for n, text in enumerate(contents)]

    hits = search_inputs(inputs, query, k=10)

    assert len(hits) <= 10
    assert all(set(terms(hit.text)) & set(terms(query)) for hit in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
