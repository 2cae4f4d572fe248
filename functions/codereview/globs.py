"""Path globs for ignored paths, gitignore style: ``*`` and ``?`` stay inside one directory, ``**`` spans
directories, ``[abc]`` is a class; a pattern without ``/`` matches the file name at any depth."""

from __future__ import annotations

import re
from functools import lru_cache

MAX_GLOB_LENGTH = 256


class InvalidGlob(ValueError):
    pass


def validate_glob(pattern: str) -> str:
    """The pattern, or InvalidGlob saying what is wrong with it."""
    if not pattern or not pattern.strip():
        raise InvalidGlob("a glob must not be empty")
    if len(pattern) > MAX_GLOB_LENGTH:
        raise InvalidGlob(f"a glob is at most {MAX_GLOB_LENGTH} characters")
    if pattern != pattern.strip() or any(ord(c) < 32 for c in pattern):
        raise InvalidGlob(f"{pattern!r}: no surrounding spaces or control characters")
    if pattern.startswith("/"):
        raise InvalidGlob(f"{pattern!r}: paths are relative to the repository root, drop the leading '/'")
    if "\\" in pattern:
        raise InvalidGlob(f"{pattern!r}: use '/' between directories; '\\' is not supported")
    segments = pattern.rstrip("/").split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise InvalidGlob(f"{pattern!r}: empty, '.' and '..' path segments are not allowed")
        if "**" in segment and segment != "**":
            raise InvalidGlob(f"{pattern!r}: '**' must be a whole path segment, as in 'docs/**/*.md'")
    _translate(pattern)
    return pattern


def _class(pattern: str, start: int) -> tuple[str, int]:
    """Translate ``[...]`` starting at ``start``; returns the regex and the index after ``]``."""
    index = start + 1
    negate = index < len(pattern) and pattern[index] in "!^"
    if negate:
        index += 1
    body_start = index
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        if pattern[index] == "/":
            raise InvalidGlob(f"{pattern!r}: a character class cannot contain '/'")
        index += 1
    if index >= len(pattern):
        raise InvalidGlob(f"{pattern!r}: '[' at position {start + 1} is never closed")
    body = pattern[body_start:index]
    if not body:
        raise InvalidGlob(f"{pattern!r}: empty character class")
    for low, high in re.findall(r"(.)-(.)", body):
        if low > high:
            raise InvalidGlob(f"{pattern!r}: range {low}-{high} is reversed")
    escaped = "".join("\\" + c if c in "\\^]" else c for c in body)
    return f"[{'^' if negate else ''}{escaped}]", index + 1


@lru_cache(maxsize=512)
def _translate(pattern: str) -> re.Pattern[str]:
    directory_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    regex = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            regex += "(?:[^/]+/)*"
            index += 3
        elif pattern.startswith("/**", index) and index + 3 == len(pattern):
            regex += "(?:/.*)?"
            index += 3
        elif pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif char == "*":
            regex += "[^/]*"
            index += 1
        elif char == "?":
            regex += "[^/]"
            index += 1
        elif char == "[":
            part, index = _class(pattern, index)
            regex += part
        else:
            regex += re.escape(char)
            index += 1
    prefix = "" if anchored else "(?:.*/)?"
    # A pattern naming a directory also ignores everything below it.
    suffix = "/.*" if directory_only else "(?:/.*)?"
    return re.compile(f"^{prefix}{regex}{suffix}$")


def matches(pattern: str, path: str) -> bool:
    return _translate(pattern).match(path) is not None


def ignored(path: str, patterns: tuple[str, ...] | list[str]) -> str | None:
    """The first pattern that ignores ``path``, or None."""
    return next((pattern for pattern in patterns if matches(pattern, path)), None)
