"""Building dynamic SQL safely: values become numbered bound parameters, names get quoted.

Every dynamic statement in `db` is assembled from fixed fragments, identifiers passed through
`quote_identifier`, and values passed through `Params.add`, which returns a placeholder
(`:p0`, `:p1`, ...). No value is ever spliced into the text, so user input cannot change a
statement's meaning, only its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote_identifier(name: str) -> str:
    """Quote a column or table name; refuses anything that is not a plain identifier."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an SQL identifier: {name!r}")
    return '"' + name + '"'


def column(alias: str, name: str) -> str:
    """`alias."name"`, both parts checked."""
    if not _IDENTIFIER.fullmatch(alias):
        raise ValueError(f"not an SQL alias: {alias!r}")
    return alias + "." + quote_identifier(name)


class Params:
    """Collects bound values and hands out their numbered placeholders."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return ":" + name

    def add_list(self, values: Iterable[Any]) -> str:
        """A list bound as one JSON array: use as `IN (SELECT value FROM json_each(...))`."""
        placeholder = self.add(orjson.dumps(list(values)))
        return "(SELECT value FROM json_each(" + placeholder + "))"  # noqa: S608
