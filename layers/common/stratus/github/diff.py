"""Unified diffs as GitHub shows them: per-file patches, hunks, and which lines a review may comment on.

A review comment with ``side: RIGHT`` may sit on an added or a context line of a hunk (new-file numbering);
``side: LEFT`` on a deleted or a context line (old-file numbering). Anything else GitHub rejects with 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

LineKind = Literal["add", "del", "ctx"]
FileStatus = Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]

_HUNK_HEADER = re.compile(
    r"^@@ -(?P<old>\d+)(?:,(?P<old_count>\d+))? \+(?P<new>\d+)(?:,(?P<new_count>\d+))? @@(?P<section>.*)$"
)


class PatchError(ValueError):
    """The text is not a unified diff GitHub could have produced."""


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@{self.section}"


@dataclass(frozen=True)
class FilePatch:
    hunks: tuple[Hunk, ...] = ()

    @cached_property
    def lines(self) -> tuple[DiffLine, ...]:
        return tuple(line for hunk in self.hunks for line in hunk.lines)

    @cached_property
    def added_lines(self) -> frozenset[int]:
        """New-file numbers of the added lines: what the change introduced."""
        return frozenset(line.new for line in self.lines if line.kind == "add" and line.new is not None)

    @cached_property
    def right_lines(self) -> frozenset[int]:
        """New-file numbers a ``side: RIGHT`` comment may use (added and context lines)."""
        return frozenset(line.new for line in self.lines if line.kind != "del" and line.new is not None)

    @cached_property
    def left_lines(self) -> frozenset[int]:
        """Old-file numbers a ``side: LEFT`` comment may use (deleted and context lines)."""
        return frozenset(line.old for line in self.lines if line.kind != "add" and line.old is not None)

    @cached_property
    def changed_old_lines(self) -> frozenset[int]:
        """Old-file numbers this patch deletes or replaces."""
        return frozenset(line.old for line in self.lines if line.kind == "del" and line.old is not None)

    def new_text(self, line: int) -> str | None:
        """The text of new-file line ``line`` when the patch shows it."""
        for candidate in self.lines:
            if candidate.new == line and candidate.kind != "del":
                return candidate.text
        return None


def parse_patch(patch: str | None) -> FilePatch:
    """Parse GitHub's per-file ``patch`` (hunks only, no ``---``/``+++`` header); None or empty is no hunks."""
    if not patch:
        return FilePatch()
    hunks: list[Hunk] = []
    lines = patch.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        match = _HUNK_HEADER.match(lines[index])
        if match is None:
            raise PatchError(f"expected a hunk header at patch line {index + 1}: {lines[index][:80]!r}")
        old_no = int(match["old"])
        new_no = int(match["new"])
        old_count = int(match["old_count"]) if match["old_count"] is not None else 1
        new_count = int(match["new_count"]) if match["new_count"] is not None else 1
        body: list[DiffLine] = []
        old_left, new_left = old_count, new_count
        index += 1
        while index < len(lines) and (old_left > 0 or new_left > 0 or lines[index].startswith("\\")):
            raw = lines[index]
            index += 1
            marker, text = raw[:1], raw[1:]
            if marker == "\\":  # "\ No newline at end of file" belongs to the line before it
                continue
            if marker == "+":
                body.append(DiffLine("add", None, new_no, text))
                new_no += 1
                new_left -= 1
            elif marker == "-":
                body.append(DiffLine("del", old_no, None, text))
                old_no += 1
                old_left -= 1
            elif marker == " " or raw == "":
                body.append(DiffLine("ctx", old_no, new_no, text))
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
            else:
                raise PatchError(f"unexpected line in hunk at patch line {index}: {raw[:80]!r}")
        if old_left < 0 or new_left < 0:
            raise PatchError(f"hunk {match.group(0)!r} has more lines than its header declares")
        hunks.append(Hunk(int(match["old"]), old_count, int(match["new"]), new_count, match["section"], tuple(body)))
    return FilePatch(tuple(hunks))


@dataclass(frozen=True)
class GitFileDiff:
    """One file of a ``git diff`` as GitHub's pull-request files API describes it."""

    filename: str
    status: FileStatus
    previous_filename: str | None = None
    patch: str | None = None
    binary: bool = False
    additions: int = 0
    deletions: int = 0
    extended: dict[str, str] = field(default_factory=dict)

    def as_github_file(self) -> dict[str, object]:
        """The entry ``GET /repos/{owner}/{repo}/pulls/{n}/files`` returns for this file."""
        entry: dict[str, object] = {
            "filename": self.filename,
            "status": self.status,
            "additions": self.additions,
            "deletions": self.deletions,
            "changes": self.additions + self.deletions,
        }
        if self.patch is not None and not self.binary:
            entry["patch"] = self.patch
        if self.previous_filename is not None:
            entry["previous_filename"] = self.previous_filename
        return entry


_DIFF_GIT = re.compile(r"^diff --git a/(?P<old>.+?) b/(?P<new>.+)$")


@dataclass
class _Header:
    """What the extended header lines of one file's diff say (before its first hunk)."""

    new_path: str
    status: FileStatus = "modified"
    previous: str | None = None
    binary: bool = False
    extended: dict[str, str] = field(default_factory=dict)

    def read(self, line: str) -> None:
        if line.startswith("new file mode"):
            self.status = "added"
        elif line.startswith("deleted file mode"):
            self.status = "removed"
        elif line.startswith("rename from "):
            self.status, self.previous = "renamed", line[len("rename from ") :]
        elif line.startswith("rename to "):
            self.new_path = line[len("rename to ") :]
        elif line.startswith(("Binary files ", "GIT binary patch")):
            self.binary = True
        elif not line.startswith(("--- ", "+++ ")) and " " in line:
            key, _, value = line.partition(" ")
            self.extended[key] = value


def _file_diff(block: str) -> GitFileDiff:
    lines = block.rstrip("\n").split("\n")
    match = _DIFF_GIT.match(lines[0])
    if match is None:
        raise PatchError(f"malformed diff header: {lines[0][:120]!r}")
    header = _Header(new_path=match["new"])
    index = 1
    while index < len(lines) and not lines[index].startswith("@@"):
        header.read(lines[index])
        index += 1
    patch = "\n".join(lines[index:]) if index < len(lines) else None
    parsed = parse_patch(patch)
    return GitFileDiff(
        filename=match["old"] if header.status == "removed" else header.new_path,
        status=header.status,
        previous_filename=header.previous,
        patch=None if header.binary else (patch or None),
        binary=header.binary,
        additions=sum(1 for line in parsed.lines if line.kind == "add"),
        deletions=sum(1 for line in parsed.lines if line.kind == "del"),
        extended=header.extended,
    )


def split_git_diff(text: str) -> list[GitFileDiff]:
    """Split ``git diff`` output into files: status, rename source, binary flag and the hunks GitHub shows."""
    blocks = re.split(r"(?m)^(?=diff --git )", text)
    return [_file_diff(block) for block in blocks if block.startswith("diff --git ")]
