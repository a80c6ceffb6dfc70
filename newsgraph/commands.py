"""What each CLI command does, composed from db and ingest (and gql for serving)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from newsgraph.config import Settings
from newsgraph.db.filestate import current_errors
from newsgraph.db.records import ErrorRecord
from newsgraph.ingest.files import walk
from newsgraph.ingest.pipeline import Job, Pipeline, process_file
from newsgraph.ingest.scan import ContentRootMissing, ScanSummary, reconcile
from newsgraph.logs import report_file_error
from newsgraph.pipeline import collection_rules, open_pipeline, parse_limits
from newsgraph.progress import Progress
from newsgraph.serve import run_server
from newsgraph.watching import run_watch as watch

log = logging.getLogger("newsgraph")


def ingest_once(pipeline: Pipeline, settings: Settings) -> ScanSummary:
    progress = Progress("ingest")
    try:
        summary = reconcile(
            pipeline,
            settings.include,
            settings.exclude,
            on_total=progress.set_total,
            on_progress=progress.update,
        )
    finally:
        progress.finish()
    for failure in summary.result.failures:
        report_file_error(failure, settings.log_format)
    return summary


def run_ingest(settings: Settings, args: argparse.Namespace) -> int:
    try:
        with open_pipeline(settings) as pipeline:
            summary = ingest_once(pipeline, settings)
            for path, line, column, field, message in current_errors(pipeline.writer.conn):
                error = ErrorRecord(
                    path=path, message=message, line=line, column=column, field=field
                )
                report_file_error(error, settings.log_format)
    except ContentRootMissing as error:
        print(f"newsgraph: error: {error}", file=sys.stderr)
        return 2
    print(f"ingest: {summary.line()}")
    return 1 if args.strict and summary.errors else 0


def run_check(settings: Settings, args: argparse.Namespace) -> int:
    """Validate without a database: every error as `path:line:col: field: message`."""
    root: Path = args.directory.resolve()
    if not root.is_dir():
        print(f"newsgraph: error: {args.directory} is not a folder", file=sys.stderr)
        return 2
    limits = parse_limits(settings)
    rules = collection_rules(settings)
    counts = {"articles": 0, "entries": 0, "skipped": 0, "errors": 0}
    for relpath, size, mtime_ns in sorted(walk(root, settings.include, settings.exclude)):
        outcome = process_file(root, Job(relpath, None, size, mtime_ns), limits, rules)
        record = getattr(outcome, "article", None) or getattr(outcome, "entry", None)
        error = getattr(outcome, "error", None)
        if record is not None:
            counts["entries" if getattr(outcome, "entry", None) else "articles"] += 1
            for warning in record.warnings:
                print(f"{relpath}: warning: {warning}")
        elif error is not None:
            counts["errors"] += 1
            print(error)
        else:
            counts["skipped"] += 1
    # Entries are named only when there are some, so an article-only site reads as before.
    entries = f"{counts['entries']} entries, " if counts["entries"] else ""
    print(
        f"check: {counts['articles']} articles, {entries}{counts['skipped']} skipped, "
        f"{counts['errors']} errors"
    )
    return 1 if counts["errors"] else 0


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    return run_server(settings)


def run_watch(settings: Settings, args: argparse.Namespace) -> int:
    return watch(settings)
