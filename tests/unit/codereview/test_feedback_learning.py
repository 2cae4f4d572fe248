"""What a repository's feedback teaches the reviewer, as a pure function of its acceptance counters."""

from __future__ import annotations

from codereview.feedback import iso_week, learn_preferences, reaction_decision


def test_a_rule_rejected_three_times_and_never_accepted_is_suppressed() -> None:
    preferences = learn_preferences(
        [("pattern", "style/debug-print", 0, 3), ("pattern", "bug/bare-except", 1, 3), ("pattern", "bug/x", 0, 2)],
        severity_threshold="low",
        suppress_after=3,
        min_feedback=4,
    )

    assert preferences.suppressed_patterns == {"style/debug-print": "rejected 3 of 3 times"}


def test_a_rule_accepted_rarely_over_many_decisions_is_suppressed_too() -> None:
    preferences = learn_preferences(
        [("pattern", "style/none-equality", 1, 9)], severity_threshold="low", suppress_after=3, min_feedback=4
    )

    assert preferences.suppressed_patterns == {"style/none-equality": "accepted only 1 of 10 times"}


def test_categories_move_their_threshold_by_acceptance_rate() -> None:
    preferences = learn_preferences(
        [
            ("cat", "style", 0, 5),  # 0%: suppressed
            ("cat", "maintainability", 1, 3),  # 25%: held to a higher bar
            ("cat", "bug", 4, 1),  # 80%: valued
            ("cat", "performance", 0, 2),  # too little feedback yet
        ],
        severity_threshold="low",
        suppress_after=3,
        min_feedback=4,
    )

    actions = {c.category: (c.action, c.minimum_severity) for c in preferences.categories}
    assert actions == {
        "bug": ("keep", None),
        "maintainability": ("raise-threshold", "medium"),
        "style": ("suppress", None),
    }


def test_a_fingerprint_rejected_and_never_accepted_is_remembered() -> None:
    preferences = learn_preferences(
        [("fp", "abc", 0, 1), ("fp", "def", 1, 1)], severity_threshold="low", suppress_after=3, min_feedback=4
    )

    assert set(preferences.suppressed_fingerprints) == {"abc"}


def test_reactions_decide_by_majority() -> None:
    assert reaction_decision(2, 0) == ("accepted", "👍 on the comment (2)")
    assert reaction_decision(0, 1) == ("rejected", "👎 on the comment (1)")
    assert reaction_decision(1, 1) is None
    assert reaction_decision(0, 0) is None


def test_weeks_are_iso_weeks() -> None:
    assert iso_week(1_767_225_600) == "2026-W01"  # 2026-01-01, a Thursday
