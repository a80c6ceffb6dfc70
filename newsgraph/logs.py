"""Logging set-up: readable lines on a terminal, JSON lines for log shippers.

Everything goes through the root logger's one handler, uvicorn's error and access logs included
(`newsgraph serve` runs uvicorn with `log_config=None`, so its loggers propagate here instead of
getting uvicorn's own handlers): a JSON deployment gets JSON on every line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from newsgraph.db.records import ErrorRecord

# Fields a record may carry through `extra=`: an ingest error names its file with `path` (and
# `line`, `column`, `field` where known) so a log pipeline can index and group on them.
FIELDS = ("path", "line", "column", "field", "request_id", "event")


def _access_fields(args: tuple[object, ...]) -> dict[str, object]:
    """uvicorn's access line `client - "METHOD url HTTP/v" status` as separate fields."""
    if len(args) != 5:
        return {}
    client, method, url, _version, status = args
    return {"client": client, "method": method, "url": url, "status": status}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the fields log pipelines index on."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(_access_fields(record.args))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """One stderr handler on the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def report_file_error(error: ErrorRecord, fmt: str = "text") -> None:
    """An ingest error on stderr: `path:line:col: field: message` on a terminal (the form editors
    jump to), a JSON log record carrying path, line, column and field with `--log-format json`."""
    if fmt == "json":
        fields = {"path": error.path, "line": error.line, "column": error.column}
        log = logging.getLogger("newsgraph.ingest")
        log.error("%s", error, extra={**fields, "field": error.field})
    else:
        print(error, file=sys.stderr)
