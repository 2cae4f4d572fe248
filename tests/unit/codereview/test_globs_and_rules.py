"""Ignored-path globs and the per-repository rules they belong to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from codereview.domain import ReviewRules
from codereview.globs import InvalidGlob, ignored, matches, validate_glob


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/guide/intro.md", True),
        ("docs/**", "docs/a/b.py", True),
        ("docs/", "docs/a.py", True),
        ("docs/", "src/docs.py", False),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/a/b/c.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("vendor", "third/vendor/lib.js", True),
        ("migrations/*.sql", "app/migrations/0001.sql", False),
        ("[ab]*.txt", "b-notes.txt", True),
        ("[!ab]*.txt", "b-notes.txt", False),
        ("?.py", "x.py", True),
        ("?.py", "xy.py", False),
    ],
)
def test_globs_match_like_gitignore(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty"),
        ("/abs/*.py", "relative"),
        ("a/../b", "'..'"),
        ("src//x", "empty"),
        ("[abc", "never closed"),
        ("x**y", "whole path segment"),
        ("[z-a].py", "reversed"),
        ("a\\b", "'/'"),
        (" padded", "spaces"),
    ],
)
def test_invalid_globs_say_what_is_wrong(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidGlob, match=reason):
        validate_glob(pattern)


@given(st.lists(st.sampled_from(["src", "lib", "a", "b-c", "x_y"]), min_size=0, max_size=5))
def test_a_double_star_prefix_matches_the_name_at_any_depth(directories: list[str]) -> None:
    path = "/".join([*directories, "settings.py"])
    assert matches("**/settings.py", path)
    assert ignored(path, ("*.md", "**/settings.py")) == "**/settings.py"


def test_rules_default_to_auto_posting_every_stage() -> None:
    rules = ReviewRules(repository="octo-org/hello-world")

    assert rules.mode == "auto"
    assert rules.severity_threshold == "low"
    assert (rules.stages.syntax, rules.stages.logic, rules.stages.security) == (True, True, True)


@pytest.mark.parametrize(
    "changes",
    [
        {"ignored_paths": ["docs/[oops"]},
        {"severity_threshold": "severe"},
        {"max_comments": 0},
        {"repository": "not-a-repository"},
        {"mode": "sometimes"},
        {"unknown": 1},
    ],
)
def test_invalid_rules_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ReviewRules.model_validate({"repository": "octo-org/hello-world", **changes})
