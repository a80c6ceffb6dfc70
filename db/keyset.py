"""Keyset pagination: ORDER BY a list of keys plus the row id, and resume after a key tuple.

A page starts *after* the sort key of the last row seen instead of at an OFFSET, so page 1,000
costs what page 1 costs and rows inserted before the cursor do not shift the page. NULLs (quality
and heat are optional) sort as the smallest value, which is SQLite's own rule (first in ASC, last
in DESC), so the predicate and the ORDER BY agree. Backward pages (`last`/`before`) flip every
direction, read, and reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from newsgraph.db.sql import Params


@dataclass(frozen=True, slots=True)
class Key:
    """One sort key: an SQL expression (from a fixed table, never from input) and a direction."""

    expr: str
    descending: bool
    nullable: bool = False


def flipped(keys: Sequence[Key]) -> list[Key]:
    return [replace(key, descending=not key.descending) for key in keys]


def order_by(keys: Sequence[Key]) -> str:
    return ", ".join(key.expr + (" DESC" if key.descending else " ASC") for key in keys)


def after(keys: Sequence[Key], values: Sequence[Any], params: Params) -> str:
    """A predicate true for the rows that come strictly after `values` in `keys` order."""
    if len(keys) != len(values):
        raise ValueError("a cursor must hold one value per sort key")
    uniform = all(key.descending == keys[0].descending for key in keys)
    if uniform and not any(key.nullable for key in keys):
        # A row value comparison lets SQLite seek the (key, id) index directly.
        left = ", ".join(key.expr for key in keys)
        right = ", ".join(params.add(value) for value in values)
        return f"({left}) {'<' if keys[0].descending else '>'} ({right})"
    branches: list[str] = []
    for index, key in enumerate(keys):
        parts = [_equal(k, v, params) for k, v in zip(keys[:index], values[:index], strict=True)]
        parts.append(_beyond(key, values[index], params))
        branches.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(branches) + ")"


def _equal(key: Key, value: Any, params: Params) -> str:
    if value is None:
        return f"{key.expr} IS NULL"
    return f"{key.expr} = {params.add(value)}"


def _beyond(key: Key, value: Any, params: Params) -> str:
    if not key.descending:
        if value is None:
            return f"{key.expr} IS NOT NULL"
        return f"{key.expr} > {params.add(value)}"
    if value is None:
        return "0"  # nothing sorts below NULL
    placeholder = params.add(value)
    if key.nullable:
        return f"({key.expr} < {placeholder} OR {key.expr} IS NULL)"
    return f"{key.expr} < {placeholder}"
