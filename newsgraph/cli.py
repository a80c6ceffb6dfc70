"""The `newsgraph` command line. Store and ingest errors become a message and an exit code here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from newsgraph.config import SETTINGS, ConfigError, Settings, format_settings, resolve
from newsgraph.db.errors import StoreError, StoreWriteFailed
from newsgraph.logs import configure_logging

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2


def _add_setting_flags(parser: argparse.ArgumentParser, command: str) -> None:
    for setting in SETTINGS:
        if command not in setting.commands:
            continue
        help_text = f"{setting.help} (env {setting.env}; default {setting.default!r})"
        kwargs: dict[str, Any] = {"dest": setting.name, "default": None, "help": help_text}
        if setting.kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif setting.kind is tuple:
            kwargs["action"] = "append"
            kwargs["metavar"] = "GLOB"
        elif setting.kind is int:
            kwargs["type"] = int
        if setting.choices:
            kwargs["choices"] = setting.choices
        parser.add_argument(setting.flag, **kwargs)
    if command != "config":
        parser.add_argument(
            "--config", type=Path, help="TOML settings file (default ./newsgraph.toml)"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsgraph",
        description="A live GraphQL API over a folder of Markdown + YAML news articles.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="reconcile the database with the content once")
    _add_setting_flags(ingest, "ingest")
    ingest.add_argument("--strict", action="store_true", help="exit 1 when any file has an error")

    check = commands.add_parser("check", help="validate a content folder without a database")
    check.add_argument("directory", type=Path, help="content folder to validate")
    _add_setting_flags(check, "check")

    demo = commands.add_parser("demo-content", help="write deterministic synthetic articles")
    demo.add_argument("directory", type=Path, help="folder to write into (created if missing)")
    demo.add_argument("--count", type=int, default=500, help="number of articles (default 500)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument(
        "--entries", type=int, default=0,
        help="also write N events, people, organizations and learning resources (default 0)",
    )  # fmt: skip

    serve = commands.add_parser("serve", help="reconcile, watch and serve the GraphQL API")
    _add_setting_flags(serve, "serve")

    watch = commands.add_parser("watch", help="reconcile and watch, without serving (writer only)")
    _add_setting_flags(watch, "watch")

    commands.add_parser("schema", help="print the GraphQL schema (SDL)")

    config = commands.add_parser("config", help="print the effective configuration")
    _add_setting_flags(config, "config")
    config.add_argument("--config", type=Path, help="TOML settings file (default ./newsgraph.toml)")
    return parser


def _settings(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    flags = {s.name: getattr(args, s.name) for s in SETTINGS if hasattr(args, s.name)}
    return resolve(flags, config_file=getattr(args, "config", None))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo-content":
            return _demo_content(args)
        if args.command == "schema":
            from newsgraph.serve import print_schema

            print(print_schema(), end="")
            return EXIT_OK
        settings, origin = _settings(args)
        if args.command == "config":
            print(format_settings(settings, origin), end="")
            return EXIT_OK
        configure_logging(settings.log_level, settings.log_format)
        from newsgraph import commands

        handler = {
            "ingest": commands.run_ingest,
            "check": commands.run_check,
            "serve": commands.run_serve,
            "watch": commands.run_watch,
        }[args.command]
        return handler(settings, args)
    except StoreWriteFailed as error:  # disk full or I/O error mid-run: not a usage problem
        print(f"newsgraph: error: {error}", file=sys.stderr)
        return EXIT_ERRORS
    except (ConfigError, StoreError) as error:
        print(f"newsgraph: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _demo_content(args: argparse.Namespace) -> int:
    from newsgraph.demo import write_demo_content
    from newsgraph.demo_collections import write_demo_collections

    written = write_demo_content(args.directory, count=args.count, seed=args.seed)
    print(f"wrote {len(written)} articles to {args.directory}")
    if args.entries:
        entries = write_demo_collections(
            args.directory, per_collection=args.entries, seed=args.seed
        )
        print(f"wrote {len(entries)} collection files to {args.directory}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
