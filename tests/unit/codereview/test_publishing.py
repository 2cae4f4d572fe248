"""From findings to one review: merging, fingerprints, thresholds, learned suppression, lines in the diff, caps."""

from __future__ import annotations

from codereview.domain import CategoryPreference, Finding, LearnedPreferences, ReviewRules
from codereview.prepared import SkippedFile
from codereview.publishing import comment_body, fingerprint_of, merge, summary_body, triage
from tests.unit.codereview.support import TRIGGER, prepared_file, prepared_run


def finding(line: int, **changes: object) -> Finding:
    values: dict[str, object] = {
        "path": "app/service.py",
        "line": line,
        "severity": "medium",
        "category": "bug",
        "message": f"problem on line {line}",
        "rule": "some-rule",
        "stage": "logic",
        "source": "heuristic",
        "offline": True,
        "line_text": f"code_{line}()",
    }
    values.update(changes)
    return Finding.model_validate(values)


def test_the_fingerprint_follows_the_code_not_the_line_number() -> None:
    moved = finding(40, line_text="   code_3()  ")

    assert finding(3).fingerprint(TRIGGER.repository) == moved.fingerprint(TRIGGER.repository)
    assert finding(3).fingerprint("other/repo") != moved.fingerprint(TRIGGER.repository)
    assert finding(3).fingerprint(TRIGGER.repository) != finding(3, rule="other").fingerprint(TRIGGER.repository)


def test_the_same_problem_from_two_stages_is_one_comment_at_the_higher_severity() -> None:
    lint = finding(5, stage="syntax", source="linter", severity="medium", rule="B006")
    model = finding(5, stage="logic", source="model", severity="high", rule=None)

    merged = merge([lint, model], TRIGGER.repository)

    assert len(merged) == 1
    assert merged[0].finding.severity == "high"
    assert merged[0].sources == {"syntax:linter", "logic:model"}


def test_triage_applies_threshold_feedback_diff_lines_and_the_comment_cap() -> None:
    # Given a file whose first 20 lines are new, rules with a threshold and a cap of 2 comments
    before = "".join(f"old_{n}()\n" for n in range(1, 31))
    after = "".join(f"code_{n}()\n" for n in range(1, 21)) + "".join(f"old_{n}()\n" for n in range(21, 31))
    item = prepared_file("app/service.py", before, after)
    rules = ReviewRules(repository=TRIGGER.repository, severity_threshold="medium", max_comments=2)
    preferences = LearnedPreferences(
        suppressed_patterns={"style/debug-print": "rejected 3 of 3 times"},
        categories=(CategoryPreference(category="performance", accepted=0, rejected=5, action="suppress"),),
    )
    prepared = prepared_run(item, rules=rules, preferences=preferences)
    findings = [
        finding(1, severity="critical", category="security", rule="secret/aws-access-key-id"),
        finding(2, severity="high"),
        finding(3, severity="high", category="error-handling"),
        finding(4, severity="medium", category="maintainability"),
        finding(5, severity="low"),
        finding(6, severity="medium", category="style", rule="debug-print"),
        finding(7, severity="high", category="performance"),
        finding(25, severity="high", line_text="old_25()"),
        finding(8, severity="high", category="testing"),
    ]

    candidates = triage(merge(findings, TRIGGER.repository), prepared, preferences, rules, already_posted=set())

    fate = {c.finding.line: c.disposition for c in candidates}
    assert fate == {
        1: "post",
        2: "post",
        3: "over-limit",
        8: "over-limit",
        4: "over-limit",
        5: "below-threshold",
        6: "suppressed",
        7: "suppressed",
        25: "outside-diff",
    }


def test_feedback_never_silences_a_critical_finding_and_already_posted_ones_are_not_repeated() -> None:
    item = prepared_file("app/service.py", None, "".join(f"code_{n}()\n" for n in range(1, 5)))
    secret = finding(1, severity="critical", category="security", rule="secret/private-key")
    preferences = LearnedPreferences(
        suppressed_patterns={"security/secret/private-key": "rejected 4 of 4 times"},
        suppressed_fingerprints={secret.fingerprint(TRIGGER.repository): "rejected before"},
    )
    repeated = finding(2)
    prepared = prepared_run(item, preferences=preferences)

    candidates = triage(
        merge([secret, repeated], TRIGGER.repository),
        prepared,
        preferences,
        prepared.rules,
        already_posted={repeated.fingerprint(TRIGGER.repository)},
    )

    assert {c.finding.line: c.disposition for c in candidates} == {1: "post", 2: "already-posted"}


def test_a_comment_carries_its_fingerprint_a_suggestion_block_and_says_offline() -> None:
    candidate = merge([finding(3, suggestion="code_3(strict=True)")], TRIGGER.repository)[0]

    body = comment_body(candidate)

    assert fingerprint_of(body) == candidate.fingerprint
    assert "```suggestion\ncode_3(strict=True)\n```" in body
    assert "offline heuristic (no language model)" in body


def test_the_summary_lists_skipped_files_and_labels_offline_stages() -> None:
    item = prepared_file("app/service.py", None, "code_1()\n")
    prepared = prepared_run(item)
    prepared.skipped.extend(
        [SkippedFile(path="logo.png", reason="binary"), SkippedFile(path="yarn.lock", reason="lock file")]
    )
    posting = merge([finding(1)], TRIGGER.repository)

    body = summary_body(
        prepared, posting, posting, ["security stage: 1 model finding was malformed"], ["logic", "security"]
    )

    assert "1 new comment(s): 1 medium." in body
    assert "`logo.png` (binary)" in body and "`yarn.lock` (lock file)" in body
    assert "logic findings come from deterministic heuristics" in body
    assert "security stage ran its rules without a language model" in body
