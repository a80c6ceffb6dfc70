"""Splitting an article's text into its YAML front matter and its Markdown body.

Kept apart from YAML loading so the fence rules of FORMAT.md (BOM, CRLF, `---`/`...` closers)
are one small function with its own tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A fence is a whole line; trailing spaces are tolerated because editors leave them behind.
_OPENING = re.compile(r"---[ \t]*(?:\n|\Z)")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


@dataclass(frozen=True, slots=True)
class Sections:
    """The two parts of an article file; `front_matter` starts on line 2 of the file."""

    front_matter: str
    body: str


class FrontMatterNotClosed(ValueError):
    """The opening `---` has no closing `---` or `...` line (a truncated file, typically)."""


def normalise_newlines(text: str) -> str:
    """Drop a BOM and turn CRLF and lone CR into LF, so line numbers match what editors show."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split_front_matter(text: str) -> Sections | None:
    """Split normalised text at its fences; None when the first line is not a `---` fence.

    The body is the text after the closing fence with leading blank lines and trailing
    whitespace removed (indentation of its first line is kept: it is significant in Markdown).
    """
    opening = _OPENING.match(text)
    if opening is None:
        return None
    start = opening.end()
    closing = _CLOSING.search(text, start)
    if closing is None:
        raise FrontMatterNotClosed
    body = text[closing.end() + 1 :]
    return Sections(text[start : closing.start()], _LEADING_BLANK_LINES.sub("", body).rstrip())
