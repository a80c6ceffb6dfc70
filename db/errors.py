"""Exceptions raised by the store; translated to messages at the CLI and GraphQL edges."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class DatabaseUnavailable(StoreError):
    """The database file cannot be opened or created where it was asked for."""


class NotANewsgraphDatabase(StoreError):
    """The file exists but is not a SQLite database written by newsgraph; it is left untouched."""


class DatabaseTooNew(StoreError):
    """The database was migrated by a newer newsgraph than this one."""


class StoreWriteFailed(StoreError):
    """A batch could not be written (disk full, I/O error); it was rolled back whole.

    Earlier batches stay committed, so the store is consistent, just behind the content.
    """
