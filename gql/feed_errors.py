"""Why a live feed ended for one subscriber; translated to close frames at the edge."""

from __future__ import annotations

from newsgraph.db.feed import FeedClosed as BrokerClosed
from newsgraph.db.feed import SubscriberTooSlow

__all__ = ["BrokerClosed", "CursorAhead", "CursorError", "CursorExpired", "SubscriberTooSlow"]


class CursorError(Exception):
    """A `since` cursor that cannot be resumed from."""


class CursorExpired(CursorError):
    """The change feed no longer holds every change after the cursor (pruned, maybe mid-replay)."""


class CursorAhead(CursorError):
    """The cursor is ahead of the newest change this process has."""
