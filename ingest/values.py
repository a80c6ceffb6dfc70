"""Checks and conversions of single front-matter values, independent of where they sit.

Each check raises `ValueProblem` with a message a user can act on; the caller knows the field and
the position and turns it into an `ArticleError`. Types are strict on purpose (FORMAT.md: wrong
types are errors, not guesses), so nothing here coerces a string into a number or a date.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit


class ValueProblem(ValueError):
    """A value of the wrong type or form; the message says what was expected and found."""


_DATE_PREFIX_YEAR = re.compile(r"\s*[+-]?\d{5,}-")
_WHITESPACE = re.compile(r"\s")


def describe(value: object) -> str:
    """Name a value's YAML type for an error message, with a short excerpt of scalars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, datetime):
        return f"a timestamp ({value.isoformat()})"
    if isinstance(value, date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def expect(kind: str, value: object) -> ValueProblem:
    """The standard wrong-type problem: `expected <kind>, found <what>`."""
    return ValueProblem(f"expected {kind}, found {describe(value)}")


def to_utc(value: object) -> datetime:
    """A timestamp as an aware UTC datetime; no zone means UTC, a bare date means midnight UTC.

    Accepts what YAML itself resolves (datetime or date) and ISO 8601 strings, which is how a
    quoted timestamp arrives.
    """
    if isinstance(value, str):
        if _DATE_PREFIX_YEAR.match(value):
            raise ValueProblem(f"timestamp {value.strip()!r} is out of range (years 1 to 9999)")
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueProblem(
                f"expected an ISO 8601 timestamp such as 2021-01-18T07:00:00Z, found {value!r}"
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(), UTC)
    if not isinstance(value, datetime):
        raise expect("a timestamp", value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueProblem(
            f"timestamp {value.isoformat()} is out of range once converted to UTC"
        ) from None


def http_url(value: object) -> str:
    """An absolute http(s) URL with a host, returned unchanged."""
    if not isinstance(value, str):
        raise expect("an http(s) URL", value)
    if not value or _WHITESPACE.search(value):
        raise ValueProblem(f"expected an http(s) URL without spaces, found {value!r}")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise ValueProblem(f"invalid URL {value!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueProblem(f"expected an http(s) URL with a host, found {value!r}")
    return value


def jsonable(value: Any) -> Any:
    """A copy of a YAML value that `json.dumps` accepts: dates become ISO strings, bytes base64."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
