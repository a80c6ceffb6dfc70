"""Why a live feed ended for one subscriber; translated to close frames at the edge."""

from __future__ import annotations


class CursorError(Exception):
    """A `since` cursor that cannot be resumed from."""


class CursorExpired(CursorError):
    """The change feed no longer holds every change after the cursor (pruned, maybe mid-replay)."""


class CursorAhead(CursorError):
    """The cursor is ahead of the newest change this process has."""


class SubscriberTooSlow(Exception):
    """The subscriber did not keep up; it is disconnected rather than buffered without bound."""


class BrokerClosed(Exception):
    """The server is shutting down."""
