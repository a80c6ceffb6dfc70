"""Global object IDs: opaque, stable, and decodable without a database.

An ID is base64url (unpadded) of `Type:key` where the key is the object's identity in the
store: an article's (or event's, person's, ...) path, a provider's lower-cased domain, a
topic's key. Because none of these is a row id, an article deleted and written again keeps its
ID.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from newsgraph.gql.errors import BadArgument

NodeType = Literal[
    "Article", "Provider", "Topic", "Event", "Person", "Organization", "LearningResource"
]
NODE_TYPES: tuple[NodeType, ...] = (
    "Article", "Provider", "Topic", "Event", "Person", "Organization", "LearningResource"
)  # fmt: skip


def encode_id(node_type: NodeType, key: str) -> str:
    raw = (node_type + ":" + key).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_id(value: str) -> tuple[NodeType, str]:
    """The type and key in a global ID; a clear error for anything we did not issue."""
    try:
        padded = value + "=" * (-len(value) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadArgument(f"{value!r} is not a valid node id") from None
    node_type, _, key = text.partition(":")
    for known in NODE_TYPES:
        if node_type == known and key:
            return known, key
    raise BadArgument(f"{value!r} is not a valid node id")
