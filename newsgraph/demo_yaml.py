"""Render an article file (YAML front matter + Markdown body) as text.

Hand-written rather than `yaml.safe_dump` for two reasons: speed (the pure-Python emitter is far
too slow for the 20,000-file benchmark corpus) and shape (timestamps must come out unquoted as
`2024-03-01T08:15:00Z`, the way the real sites write them, which the dumper will not do). Strings
are emitted plain when that is unambiguous and double-quoted otherwise; a JSON string with the
few characters YAML treats differently escaped is a valid YAML double-quoted scalar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

__all__ = ["render_article"]

# Plain (unquoted) only for simple words: starts with a letter, no YAML indicators that matter
# mid-scalar (`: `, ` #`), no trailing space. Anything else is quoted.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 .&'()/-]*[A-Za-z0-9.)]\Z|[A-Za-z]\Z")
# Words a YAML 1.1 loader would read as booleans or null.
_RESERVED = frozenset(
    ["y", "n", "yes", "no", "on", "off", "true", "false", "null"],
)
# Characters JSON leaves raw but YAML rejects (C1 controls, DEL, BOM/non-characters) or reads
# as line breaks (NEL, LS, PS).
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
_ZERO = timedelta(0)
# Keys, names and topics recur in every file; remembering how a short string renders saves most
# of the emitter's time on large corpora. Bounded so that arbitrary input cannot grow it forever.
_SHORT = 40
_SHORT_STRINGS_MAX = 10_000
_SHORT_STRINGS: dict[str, str] = {}


def render_article(fields: Mapping[str, Any], body: str = "") -> str:
    """Render `fields` as a front-matter block followed by `body`, in the article file format.

    Values may be str, int, float, bool, None, datetime/date, mappings and lists of these; the
    result round-trips through `yaml.safe_load` to equal values. Top-level blocks (provider,
    topics, images, related, ...) are set off by blank lines, as the real sites write them.
    """
    lines = ["---"]
    previous_was_block = False
    for key, value in fields.items():
        is_block = _is_block(value)
        if (is_block or previous_was_block) and len(lines) > 1:
            lines.append("")
        _emit_mapping(lines, {key: value}, "")
        previous_was_block = is_block
    lines.append("---")
    text = "\n".join(lines) + "\n"
    if body:
        text += "\n" + body if body.endswith("\n") else "\n" + body + "\n"
    return text


def _is_block(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is datetime or not value:
        return False
    return kind is dict or kind is list or isinstance(value, Mapping | list | tuple)


def _emit_mapping(lines: list[str], mapping: Mapping[str, Any], indent: str) -> None:
    # Written for speed (it runs for every key of 20,000-file benchmark corpora): exact-type
    # checks for the common cases, and the rendered-string cache consulted inline.
    cache = _SHORT_STRINGS
    for key, value in mapping.items():
        head = cache.get(key) or _string(key)
        kind = type(value)
        if kind is str:
            lines.append(f"{indent}{head}: {cache.get(value) or _string(value)}")
        elif kind is int:
            lines.append(f"{indent}{head}: {value}")
        elif kind is datetime:
            lines.append(f"{indent}{head}: {_timestamp(value)}")
        elif not _is_block(value):
            lines.append(f"{indent}{head}: {_scalar(value)}")
        elif isinstance(value, Mapping):
            lines.append(f"{indent}{head}:")
            _emit_mapping(lines, value, indent + "  ")
        else:
            lines.append(f"{indent}{head}:")
            _emit_sequence(lines, value, indent + "  ")


def _emit_sequence(lines: list[str], items: Sequence[Any], indent: str) -> None:
    inner = indent + "  "
    for item in items:
        if _is_block(item):
            start = len(lines)
            if isinstance(item, Mapping):
                _emit_mapping(lines, item, inner)
            else:
                _emit_sequence(lines, item, inner)
            # Put the first line of the nested block on the dash line: "- url: ...".
            lines[start] = indent + "- " + lines[start][len(inner) :]
        else:
            lines.append(f"{indent}- {_scalar(item)}")


def _scalar(value: Any) -> str:
    """One YAML scalar (or empty collection) on a single line."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return str(value)
    if kind is datetime:
        return _timestamp(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    raise TypeError(f"cannot render {type(value).__name__} as YAML: {value!r}")


def _string(value: str) -> str:
    cached = _SHORT_STRINGS.get(value)
    if cached is not None:
        return cached
    if _PLAIN.match(value) and value.lower() not in _RESERVED:
        text = value
    else:
        text = encode_basestring(value)  # what json.dumps(ensure_ascii=False) runs, minus overhead
        if not text.isascii() or "\x7f" in text:
            text = _YAML_UNSAFE.sub(_escape, text)
    if len(value) <= _SHORT and len(_SHORT_STRINGS) < _SHORT_STRINGS_MAX:
        _SHORT_STRINGS[value] = text
    return text


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1 needs a dot in a float ("1e+20" would load as a string).
    if "." not in text:
        mantissa, _, exponent = text.partition("e")
        text = f"{mantissa}.0e{exponent}" if exponent else f"{mantissa}.0"
    return text


def _timestamp(value: datetime) -> str:
    """ISO 8601 with `T`; UTC as `Z`, other zones as `+hh:mm`; naive stays naive (read as UTC)."""
    text = value.isoformat()
    if value.utcoffset() == _ZERO:
        text = text[: -len("+00:00")] + "Z"
    return text
