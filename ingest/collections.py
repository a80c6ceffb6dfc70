"""Which collection a file belongs to: ordered `glob=collection` rules, first match wins.

The default follows the folders of a Jekyll-style site (`_events/`, `_people/`, `_companies/`,
`_learning/`); a file no rule matches is an article, as it always was. Rules are data (not code)
so the `collections` setting can change them and a parse worker can receive them pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsgraph.db.records import COLLECTION_NAMES, CollectionName
from newsgraph.ingest.files import matches

ARTICLE = "article"
DEFAULT_RULES = (
    "_events/**=event",
    "_people/**=person",
    "_companies/**=organization",
    "_learning/**=learning",
)


class BadCollectionRule(ValueError):
    """A `collections` rule that is not `glob=collection` with a known collection."""


@dataclass(frozen=True, slots=True)
class CollectionRules:
    """Ordered (glob, collection) pairs; `article` as a collection keeps matches articles."""

    rules: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, texts: Sequence[str]) -> CollectionRules:
        rules: list[tuple[str, str]] = []
        known = (ARTICLE, *COLLECTION_NAMES)
        for text in texts:
            pattern, sep, name = text.rpartition("=")
            if not sep or not pattern.strip() or name.strip() not in known:
                raise BadCollectionRule(
                    f"collection rule {text!r} is not GLOB=COLLECTION with COLLECTION one of "
                    + ", ".join(known)
                )
            rules.append((pattern.strip(), name.strip()))
        return cls(tuple(rules))

    def collection_for(self, relpath: str) -> CollectionName | None:
        """The collection of a path; None means an article."""
        for pattern, name in self.rules:
            if matches(relpath, [pattern]):
                return None if name == ARTICLE else _as_collection(name)
        return None


def _as_collection(name: str) -> CollectionName:
    for known in COLLECTION_NAMES:
        if known == name:
            return known
    raise BadCollectionRule(f"unknown collection {name!r}")


DEFAULT_COLLECTIONS = CollectionRules.parse(DEFAULT_RULES)
