"""Turning what a user types into a safe FTS5 query.

FTS5's own syntax fails on ordinary text (`AT&T`, `C++`, a stray `"` or `-`), so user text is
never passed through raw. The simple syntax: words are ANDed; `"a quoted phrase"` matches the
words in order; a word ending in `*` matches as a prefix (`robot*`); `OR` between two terms
matches either. Every word is re-quoted as an FTS5 string, so nothing else in the input has any
special meaning. Callers who want FTS5's full language (`NEAR`, column filters) pass
`raw=True`; its syntax errors surface as `SearchSyntaxError`, never as a crash.
"""

from __future__ import annotations

import re

from newsgraph.db.errors import StoreError


class SearchSyntaxError(StoreError):
    """The search text cannot be turned into a query; the message says why."""


_TOKEN = re.compile(r'"([^"]*)"(\*?)|(\S+)')
_WORDLIKE = re.compile(r"\w")


def fts_query(text: str, *, raw: bool = False) -> str:
    """The FTS5 MATCH expression for `text` (simple syntax unless `raw`)."""
    if raw:
        if not text.strip():
            raise SearchSyntaxError("search is empty")
        return text
    if text.count('"') % 2:
        raise SearchSyntaxError('search has an unclosed quote (")')
    parts: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(text):
        phrase, phrase_star, word = match.groups()
        if word == "OR":
            if parts and not pending_or:
                pending_or = True
            continue
        if phrase is not None:
            term, star = phrase, phrase_star
        else:
            term, star = (word[:-1], "*") if word.endswith("*") else (word, "")
        if not _WORDLIKE.search(term):
            continue  # punctuation alone indexes as nothing: drop it rather than fail
        quoted = '"' + term.replace('"', '""') + '"' + star
        if pending_or:
            parts[-1] = parts[-1] + " OR " + quoted
            pending_or = False
        else:
            parts.append(quoted)
    if not parts:
        raise SearchSyntaxError(f"search {text!r} has no words to look for")
    if len(parts) == 1:
        return parts[0]
    return " AND ".join("(" + part + ")" for part in parts)
