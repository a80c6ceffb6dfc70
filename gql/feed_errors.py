"""Why a live feed ended for one subscriber; translated to close frames at the edge."""

from __future__ import annotations


class CursorError(Exception):
    """A `since` cursor that cannot be resumed from (pruned, or ahead of the feed)."""


class SubscriberTooSlow(Exception):
    """The subscriber did not keep up; it is disconnected rather than buffered without bound."""


class BrokerClosed(Exception):
    """The server is shutting down."""
