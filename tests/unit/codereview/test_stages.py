"""The three stages on real code: parsers and ruff, offline heuristics, security rules, model replies."""

from __future__ import annotations

import json

import pytest

from codereview.domain import CategoryPreference, LearnedPreferences, ReviewRules
from codereview.stages.heuristics import offline_logic_findings
from codereview.stages.model import parse_findings, render_preferences, review_request
from codereview.stages.security import security_rule_findings
from codereview.stages.syntax import parse_json, parse_python, parse_toml, syntax_findings
from tests.unit.codereview.support import prepared_file, prepared_run


def test_python_that_does_not_parse_is_reported_at_its_line() -> None:
    findings = parse_python("app.py", "def ok():\n    return 1\n\ndef broken(:\n    pass\n")

    assert [(f.line, f.category, f.severity, f.source) for f in findings] == [(4, "syntax", "high", "parser")]
    assert "cannot parse" in findings[0].message


def test_json_and_toml_errors_carry_their_line() -> None:
    assert parse_json("a.json", '{\n  "a": 1,\n  "b": \n}\n')[0].line == 4
    assert parse_toml("pyproject.toml", '[project]\nname = "x"\nversion = \n')[0].line == 3
    assert parse_json("ok.json", '{"a": [1, 2]}') == []


def test_ruff_reports_undefined_names_and_unused_imports_on_the_changed_file() -> None:
    source = "import os\nimport sys\n\n\ndef main():\n    return undefined_name + len(sys.argv)\n"
    item = prepared_file("tool/cli.py", None, source)

    findings, notes = syntax_findings([item], timeout_s=30)

    assert notes == []
    by_rule = {f.rule: f for f in findings}
    assert by_rule["F401"].line == 1 and by_rule["F401"].severity == "low"
    assert by_rule["F821"].line == 6 and by_rule["F821"].severity == "high"
    assert all(f.source == "linter" and f.stage == "syntax" for f in findings)


PYTHON_CHANGE = """\
import subprocess


def collect(items, seen=[]):
    for item in items:
        if item is "skip":
            continue
        seen.append(item)
    print(seen)
    try:
        subprocess.run(f"echo {seen}", shell=True)
    except:
        pass
    return seen
    cleanup()  # TODO: remove
"""


def test_offline_heuristics_find_real_python_problems_and_say_they_are_offline() -> None:
    item = prepared_file("app/collect.py", "import subprocess\n", PYTHON_CHANGE)

    findings = offline_logic_findings(item, set(item.reviewable_lines))

    rules = {(f.rule, f.line) for f in findings}
    assert {
        ("mutable-default-argument", 4),
        ("is-literal-comparison", 6),
        ("debug-print", 9),
        ("bare-except", 12),
        ("unreachable-code", 15),
        ("todo-comment", 15),
    } <= rules
    assert all(f.offline and f.source == "heuristic" and f.stage == "logic" for f in findings)


def test_heuristics_only_report_lines_the_change_added() -> None:
    before = "def old(x=[]):\n    return x\n"
    item = prepared_file("legacy.py", before, before + "\n\ndef new():\n    return 2\n")

    assert offline_logic_findings(item, set(item.reviewable_lines)) == []


def test_javascript_and_java_line_heuristics() -> None:
    js = prepared_file("web/app.js", None, "const a = 1;\nif (a == '1') { console.log(a); }\ndebugger;\n")
    java = prepared_file("Main.java", None, "try { run(); } catch (Exception e) {}\ne.printStackTrace();\n")

    assert {f.rule for f in offline_logic_findings(js, set(js.reviewable_lines))} == {
        "loose-equality",
        "debug-console",
        "debugger-statement",
    }
    assert {f.rule for f in offline_logic_findings(java, set(java.reviewable_lines))} == {
        "empty-catch",
        "print-stack-trace",
    }


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ('AWS_KEY = "AKIAIOSFODNN7EXAMPLE"', "secret/aws-access-key-id"),
        ("-----BEGIN RSA PRIVATE KEY-----", "secret/private-key"),
        ('token = "ghp_' + "a" * 36 + '"', "secret/github-token"),
        ('db_password = "hunter2-Prod-2024"', "secret/hardcoded-credential"),
        ('cursor.execute(f"SELECT * FROM users WHERE id = {user_id}")', "injection/sql-string-building"),
        ('cursor.execute("SELECT * FROM t WHERE a = %s" % value)', "injection/sql-string-building"),
        ("subprocess.run(command, shell=True)", "injection/shell"),
        ("os.system('rm -rf ' + path)", "injection/shell"),
        ("result = eval(request.args['expr'])", "injection/eval"),
        ("obj = pickle.loads(blob)", "deserialization/pickle"),
        ("config = yaml.load(stream)", "deserialization/yaml-load"),
        ("FAISS.load_local(path, emb, allow_dangerous_deserialization=True)", "deserialization/dangerous-flag"),
        ("requests.get(url, verify=False)", "tls/verification-disabled"),
    ],
)
def test_security_rules_flag_added_lines(line: str, rule: str) -> None:
    item = prepared_file("svc/handler.py", None, f"{line}\n")

    findings = security_rule_findings(item, set(item.reviewable_lines))

    assert rule in {f.rule for f in findings}
    assert all(f.category == "security" and f.source == "rule" for f in findings)
    if rule.startswith("secret/"):
        assert all("AKIA" not in f.message and "hunter2" not in f.message for f in findings)


@pytest.mark.parametrize(
    "line",
    [
        "config = yaml.safe_load(stream)",
        "config = yaml.load(stream, Loader=yaml.SafeLoader)",
        'password = os.environ["DB_PASSWORD"]',
        'password = "changeme-placeholder"',
        'cursor.execute("SELECT * FROM t WHERE a = %s", (value,))',
        "subprocess.run(['ls', path])",
        'secret_name = "stratus/dev/codereview/acme"',
    ],
)
def test_safe_code_is_not_flagged(line: str) -> None:
    item = prepared_file("svc/handler.py", None, f"{line}\n")

    assert security_rule_findings(item, set(item.reviewable_lines)) == []


def test_model_findings_are_parsed_from_json_and_kept_to_the_chunk() -> None:
    item = prepared_file(
        "app/orders.py", None, "def total(items):\n    return sum(i.price for i in items) / len(items)\n"
    )
    prepared = prepared_run(item)
    chunk = prepared.chunks[0]
    reply = (
        "Here you go:\n```json\n"
        + json.dumps(
            {
                "findings": [
                    {
                        "file": "app/orders.py",
                        "line": 2,
                        "severity": "HIGH",
                        "category": "bug",
                        "message": "Divides by zero",
                    },
                    {
                        "file": "app/orders.py",
                        "line": 99,
                        "severity": "low",
                        "category": "bug",
                        "message": "not in diff",
                    },
                    {"file": "other.py", "line": 1, "severity": "low", "category": "bug", "message": "not in chunk"},
                    {"line": 2, "message": "no file"},
                    {
                        "file": "app/orders.py",
                        "line": 1,
                        "severity": "weird",
                        "category": "odd",
                        "message": "normalised",
                    },
                ]
            }
        )
        + "\n```"
    )

    findings, dropped = parse_findings(reply, "logic", prepared, chunk)

    assert [(f.line, f.severity, f.category, f.source, f.offline) for f in findings] == [
        (2, "high", "bug", "model", False),
        (1, "medium", "bug", "model", False),
    ]
    assert findings[0].line_text.strip().startswith("return sum")
    assert dropped == 3


def test_a_reply_that_is_not_json_yields_nothing_and_counts_as_dropped() -> None:
    item = prepared_file("a.py", None, "x = 1\n")
    prepared = prepared_run(item)

    assert parse_findings("I think it looks fine!", "logic", prepared, prepared.chunks[0]) == ([], 1)


def test_learned_preferences_and_instructions_are_part_of_the_logic_prompt() -> None:
    item = prepared_file("a.py", None, "print(1)\n")
    preferences = LearnedPreferences(
        suppressed_patterns={"style/debug-print": "rejected 3 of 3 times"},
        categories=(
            CategoryPreference(
                category="maintainability", accepted=1, rejected=3, action="raise-threshold", minimum_severity="medium"
            ),
        ),
    )
    rules = ReviewRules(repository="octo-org/service", custom_instructions="We use structlog, never print.")
    prepared = prepared_run(item, rules=rules, preferences=preferences)

    request = review_request("logic", prepared, prepared.chunks[0], max_tokens=800)

    assert "Do not report style/debug-print: rejected 3 of 3 times." in request.system
    assert "maintainability findings only at severity medium or above" in request.system
    assert "We use structlog, never print." in request.system
    assert "a.py" in request.messages[0].content
    assert render_preferences(LearnedPreferences()) == ""
