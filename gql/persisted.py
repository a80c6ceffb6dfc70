"""Persisted queries: documents named by hash instead of sent in full.

Two mechanisms, as clients speak them:

- Automatic persisted queries (Apollo's APQ, urql's `persistedExchange`): a request carries
  `extensions.persistedQuery = {version: 1, sha256Hash}`. With the query, the hash must match it
  and the document is registered; without it, a registered (or trusted) document is used, and an
  unknown hash answers `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`) so the client
  resends the query. The registry is an LRU bounded in documents (`apq_registry_size`).
- Trusted documents for public endpoints: a manifest loaded at start-up (`persisted_queries`),
  in Apollo's persisted-query manifest format or the plain `{"<id>": "<document>"}` map that
  Relay and GraphQL Code Generator emit. Requests name a document by its APQ hash or by
  `documentId` (with or without a `sha256:` prefix). With `persisted_only`, every other document
  is refused (`PERSISTED_QUERY_NOT_IN_LIST`) on every transport, and APQ registration is off.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APOLLO_FORMAT = "apollo-persisted-query-manifest"
NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
UNSUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"


class PersistedQueryError(Exception):
    """A request's persisted-query part cannot be honoured; `code` says how to react."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ManifestError(Exception):
    """The manifest file cannot be used; the message names the file and the problem."""


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """Every trusted document by each name a request may use for it: its id and its sha256."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no such file") from None
    except OSError as error:
        raise ManifestError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not UTF-8 text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}"
        ) from error
    if isinstance(raw, dict) and raw.get("format") == APOLLO_FORMAT:
        pairs = _apollo_operations(path, raw)
    elif isinstance(raw, dict) and raw and all(isinstance(v, str) for v in raw.values()):
        pairs = list(raw.items())
    else:
        raise ManifestError(
            f"{path}: expected Apollo's persisted-query manifest "
            f'({{"format": "{APOLLO_FORMAT}", "operations": [...]}}) or a non-empty '
            '{"<id>": "<document>"} map'
        )
    documents: dict[str, str] = {}
    for name, document in pairs:
        documents[name] = document
        documents[sha256(document)] = document
    return documents


def _apollo_operations(path: Path, raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    if raw.get("version") != 1:
        raise ManifestError(f"{path}: unsupported manifest version {raw.get('version')!r} (1)")
    operations = raw.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ManifestError(f"{path}: `operations` must be a non-empty list")
    pairs = []
    for number, operation in enumerate(operations):
        where = f"{path}: operations[{number}]"
        if not isinstance(operation, dict):
            raise ManifestError(f"{where}: must be an object with `id` and `body`")
        identifier, body = operation.get("id"), operation.get("body")
        if not isinstance(identifier, str) or not isinstance(body, str):
            raise ManifestError(f"{where}: `id` and `body` must be strings")
        if identifier != sha256(body):
            raise ManifestError(f"{where}: `id` is not the sha256 of `body`")
        pairs.append((identifier, body))
    return pairs


@dataclass
class PersistedDocuments:
    """The trusted manifest, the APQ registry, and whether only trusted documents may run."""

    trusted: Mapping[str, str] = field(default_factory=dict)
    only_trusted: bool = False
    registry_size: int = 5_000
    _registered: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def allows(self, query: str) -> bool:
        """May this document run? Always, unless only trusted documents may."""
        return not self.only_trusted or sha256(query) in self.trusted

    def resolve(
        self, query: str | None, extensions: Mapping[str, Any] | None, document_id: str | None
    ) -> str | None:
        """The document a request means: its query, or the one its hash or id names."""
        if document_id is not None:
            return self._named(document_id.removeprefix("sha256:"))
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is not None and not self.allows(query):
                raise self._not_in_list()
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryError("persistedQuery: only version 1 is supported", UNSUPPORTED)
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise PersistedQueryError("persistedQuery: `sha256Hash` must be a string", MISMATCH)
        if query is None:
            return self._named(digest)
        if sha256(query) != digest.lower():
            raise PersistedQueryError("provided sha does not match query", MISMATCH)
        if self.only_trusted:
            if digest.lower() not in self.trusted:
                raise self._not_in_list()
        else:
            self._register(digest.lower(), query)
        return query

    def _named(self, name: str) -> str:
        found = self.trusted.get(name) or self.trusted.get(name.lower())
        if found is None and not self.only_trusted:
            found = self._registered.get(name.lower())
            if found is not None:
                self._registered.move_to_end(name.lower())
        if found is None:
            raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
        return found

    def _register(self, digest: str, query: str) -> None:
        if self.registry_size <= 0 or digest in self.trusted:
            return
        self._registered[digest] = query
        self._registered.move_to_end(digest)
        while len(self._registered) > self.registry_size:
            self._registered.popitem(last=False)

    def _not_in_list(self) -> PersistedQueryError:
        return PersistedQueryError(
            "this endpoint only runs trusted documents (persisted_only): send a documentId or "
            "persistedQuery hash from its manifest",
            NOT_IN_LIST,
        )
