"""Unified diffs: GitHub's per-file patches, real git diffs, and which lines a review may comment on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stratus.github.diff import PatchError, parse_patch, split_git_diff
from stratus.local.template import REPO_ROOT
from tests.integration.codereview.fake_github import file_patch

DIFFS = REPO_ROOT.parent / "shared" / "data" / "github-webhooks" / "diffs"


def real_diff(name: str) -> str:
    path = DIFFS / name
    if not path.exists():
        pytest.skip(f"real PR diffs are not at {DIFFS}")
    return path.read_text()


def test_a_real_pull_request_diff_splits_into_files_with_their_line_numbers() -> None:
    # Given the anserini PR #2174 diff (3 files)
    files = split_git_diff(real_diff("anserini-pr2174-korean-analyzer.diff"))

    # Then the files, their status and counts are GitHub's
    assert [(f.filename, f.status, f.additions, f.deletions) for f in files] == [
        ("pom.xml", "modified", 5, 0),
        ("src/main/java/io/anserini/analysis/AnalyzerMap.java", "modified", 1, 1),
        ("src/main/java/io/anserini/search/SimpleSearcher.java", "modified", 4, 1),
    ]
    # And the added line of AnalyzerMap is new-file line 45, the one it replaced old line 45
    analyzer = parse_patch(files[1].patch)
    assert analyzer.added_lines == {45}
    assert analyzer.changed_old_lines == {45}
    assert "KoreanAnalyzer" in (analyzer.new_text(45) or "")


def test_context_lines_are_commentable_on_the_right_but_deleted_lines_only_on_the_left() -> None:
    patch = parse_patch("@@ -1,3 +1,3 @@\n keep\n-old\n+new\n tail")

    assert patch.right_lines == {1, 2, 3}
    assert patch.added_lines == {2}
    assert patch.left_lines == {1, 2, 3}
    assert patch.changed_old_lines == {2}


def test_no_newline_marker_and_single_line_hunks_parse() -> None:
    patch = parse_patch("@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file")

    assert patch.added_lines == {1}
    assert patch.changed_old_lines == {1}


def test_renames_deletions_new_files_and_binaries_in_a_git_diff() -> None:
    text = (
        "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\nrename to new.py\n"
        "--- a/old.py\n+++ b/new.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"
        "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n"
        "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
        "diff --git a/logo.png b/logo.png\nnew file mode 100644\nBinary files /dev/null and b/logo.png differ\n"
    )

    files = split_git_diff(text)

    assert [(f.filename, f.status, f.previous_filename, f.binary) for f in files] == [
        ("new.py", "renamed", "old.py", False),
        ("gone.txt", "removed", None, False),
        ("logo.png", "added", None, True),
    ]
    assert "patch" not in files[2].as_github_file()


def test_a_patch_that_is_not_a_diff_is_refused() -> None:
    with pytest.raises(PatchError):
        parse_patch("this is not a diff")


lines_strategy = st.lists(st.sampled_from(["a", "b", "c", "def f():", "    return 1", ""]), max_size=30)


@settings(max_examples=150, deadline=None)
@given(old=lines_strategy, new=lines_strategy)
def test_applying_a_parsed_patch_to_the_old_file_gives_the_new_file(old: list[str], new: list[str]) -> None:
    # Given the patch GitHub would show between two versions of a file
    patch = parse_patch(file_patch("".join(f"{x}\n" for x in old), "".join(f"{x}\n" for x in new)))

    # When the hunks are applied to the old lines
    rebuilt: list[str] = []
    position = 1
    for hunk in patch.hunks:
        start = hunk.old_start if hunk.old_count else hunk.old_start + 1
        rebuilt.extend(old[position - 1 : start - 1])
        position = start
        for line in hunk.lines:
            if line.kind in ("ctx", "add"):
                rebuilt.append(line.text)
            if line.kind in ("ctx", "del"):
                position += 1
    rebuilt.extend(old[position - 1 :])

    # Then the new file comes out, and every commentable line exists in it with the text shown
    assert rebuilt == new
    for line in patch.lines:
        if line.new is not None:
            assert new[line.new - 1] == line.text
    assert patch.right_lines <= set(range(1, len(new) + 1))


def test_real_diffs_round_trip_as_github_files() -> None:
    for name in ("octokit-webhooks-pr829-auto-merge-nullable.diff", "anserini-pr2174-korean-analyzer.diff"):
        for changed in split_git_diff(real_diff(name)):
            entry = changed.as_github_file()
            assert parse_patch(str(entry["patch"])).lines, Path(changed.filename).name
