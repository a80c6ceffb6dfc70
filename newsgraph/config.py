"""Settings: one table, four sources. A flag beats `NEWSGRAPH_*`, which beats `newsgraph.toml`,
which beats the default.

Every setting is declared once in `SETTINGS`; the CLI flags, environment variables, TOML keys,
`newsgraph config` and the README's table are all derived from it, so they cannot drift apart.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from newsgraph.ingest.files import check_globs
from newsgraph.ingest.render import DEFAULT_EMBED_HOSTS

ENV_PREFIX = "NEWSGRAPH_"
DEFAULT_CONFIG_FILE = Path("newsgraph.toml")
GLOB_SETTINGS = ("include", "exclude")
DEFAULT_MAX_PAGE_SIZE = 100


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the source and the setting."""


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one process."""

    content: Path = Path("content")
    db: Path = Path("newsgraph.db")
    host: str = "127.0.0.1"
    port: int = 8000
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    collections: tuple[str, ...] = (
        "_events/**=event",
        "_people/**=person",
        "_companies/**=organization",
        "_learning/**=learning",
    )
    workers: int = 1
    parse_workers: int = 0
    max_file_bytes: int = 1_048_576
    max_yaml_depth: int = 32
    allow_yaml_aliases: bool = False
    embed_hosts: tuple[str, ...] = DEFAULT_EMBED_HOSTS
    watch: bool = True
    poll: bool = False
    debounce_ms: int = 50
    change_retention: int = 1_000_000
    reader_threads: int = 4
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    max_subscriptions_per_connection: int = 20
    connection_init_wait_timeout: int = 10
    keepalive_interval: int = 15
    subscriber_buffer: int = 1000
    share_subscriptions: bool = True
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_tokens: int = 2_000
    max_query_cost: int = 50_000
    max_body_bytes: int = 262_144
    query_timeout_ms: int = 10_000
    introspection: bool = True
    response_cache_bytes: int = 67_108_864
    cache_max_age: int = 0
    cache_stale_while_revalidate: int = 0
    persisted_queries: str = ""
    persisted_only: bool = False
    apq_registry_size: int = 5_000
    cors_origins: tuple[str, ...] = ()
    replicate_to: str = ""
    replica_of: str = ""
    replication_interval_ms: int = 100
    log_level: str = "info"
    log_format: str = "text"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def parse_processes(self) -> int:
        return self.parse_workers or (os.cpu_count() or 1)

    @property
    def api_processes(self) -> int:
        """`serve`'s API processes; 1 is the single-process shape (API and watcher together)."""
        return self.workers or (os.cpu_count() or 1)

    @property
    def page_size_limit(self) -> int:
        """`max_page_size`, where 0 means the default: the one value paging and cost agree on."""
        return self.max_page_size or DEFAULT_MAX_PAGE_SIZE


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, help text and the commands that take it as a flag."""

    name: str
    help: str
    commands: tuple[str, ...]
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def default(self) -> Any:
        return next(f.default for f in fields(Settings) if f.name == self.name)

    @property
    def kind(self) -> type:
        value = self.default
        return type(value) if not isinstance(value, Path) else Path


_READ = ("ingest", "serve", "watch")
_RUN = _READ
_LIVE = ("serve", "watch", "config")
SETTINGS: tuple[Setting, ...] = (
    Setting("content", "content root folder to ingest and watch", (*_READ, "config")),
    Setting("db", "SQLite database file (created and migrated if missing)", (*_READ, "config")),
    Setting("host", "address to bind; 127.0.0.1 unless you mean to expose it", ("serve", "config")),
    Setting("port", "TCP port to serve on", ("serve", "config")),
    Setting("include", "only files matching this glob (repeatable)", (*_READ, "check", "config")),
    Setting("exclude", "skip files matching this glob (repeatable)", (*_READ, "check", "config")),
    Setting("collections", "GLOB=COLLECTION rules, first match wins; others are articles "
            "(repeatable)", (*_READ, "check", "config")),
    Setting("workers", "API processes of `serve` sharing the port (more than 1: the watcher "
            "writes in a process of its own); 0 = one per core", ("serve", "config")),
    Setting("parse_workers", "parse processes; 0 = one per core", (*_READ, "config")),
    Setting("max_file_bytes", "larger files are rejected unread", (*_READ, "check", "config")),
    Setting("max_yaml_depth", "deeper front matter is rejected", (*_READ, "check", "config")),
    Setting("allow_yaml_aliases", "accept YAML anchors/aliases", (*_READ, "check", "config")),
    Setting("embed_hosts", "hosts whose iframes survive in raw-HTML fields (repeatable)",
            (*_READ, "check", "config")),
    Setting("watch", "watch the content root for changes", ("serve", "config")),
    Setting("poll", "use a polling observer (network filesystems)", _LIVE),
    Setting("debounce_ms", "quiet period before ingesting a changed file", _LIVE),
    Setting("change_retention", "change-feed rows kept for resuming", (*_READ, "config")),
    Setting("reader_threads", "read-only SQLite connections serving queries", ("serve", "config")),
    Setting("max_page_size", "largest first/last a query may ask for; 0 = the default, 100",
            ("serve", "config")),
    Setting("max_subscriptions_per_connection", "subscriptions one WebSocket may hold open",
            ("serve", "config")),
    Setting("connection_init_wait_timeout", "seconds a WebSocket may wait before connection_init",
            ("serve", "config")),
    Setting("keepalive_interval", "seconds between WebSocket keep-alive pings; 0 = none",
            ("serve", "config")),
    Setting("subscriber_buffer", "events a subscriber may fall behind before it is disconnected",
            ("serve", "config")),
    Setting("share_subscriptions", "one execution per event for subscribers of the same "
            "document and variables", ("serve", "config")),
    Setting("max_query_depth", "deepest nesting of fields a query may have", ("serve", "config")),
    Setting("max_aliases", "most aliases in one query, fragments included", ("serve", "config")),
    Setting("max_query_tokens", "longest query document, in GraphQL tokens", ("serve", "config")),
    Setting("max_query_cost", "most estimated result values (page sizes multiply)",
            ("serve", "config")),
    Setting("max_body_bytes", "largest request body; larger is refused with 413",
            ("serve", "config")),
    Setting("query_timeout_ms", "longest a query may run before it is cancelled",
            ("serve", "config")),
    Setting("introspection", "answer schema introspection (__schema, __type)",
            ("serve", "config")),
    Setting("response_cache_bytes", "memory for cached responses, keyed by data version; 0 = off",
            ("serve", "config")),
    Setting("cache_max_age", "Cache-Control max-age (s) of GET answers; 0 = no-cache "
            "(revalidate with the ETag)", ("serve", "config")),
    Setting("cache_stale_while_revalidate", "Cache-Control stale-while-revalidate (s) with "
            "cache_max_age", ("serve", "config")),
    Setting("persisted_queries", "trusted-documents manifest (Apollo's format or an "
            "id-to-document JSON map)", ("serve", "config")),
    Setting("persisted_only", "run only documents from the persisted_queries manifest",
            ("serve", "config")),
    Setting("apq_registry_size", "documents automatic persisted queries remember; 0 = none",
            ("serve", "config")),
    Setting("cors_origins", "browser origins allowed to call the API (repeatable); none = no CORS",
            ("serve", "config")),
    Setting("replicate_to", "ship the database to this Litestream replica URL (file://, s3://)",
            ("serve", "watch", "config")),
    Setting("replica_of", "serve a read-only copy that follows this Litestream replica URL",
            ("serve", "config")),
    Setting("replication_interval_ms", "how often Litestream ships and replicas poll",
            ("serve", "watch", "config")),
    Setting("log_level", "debug, info, warning or error", (*_RUN, "config"),
            ("debug", "info", "warning", "error")),
    Setting("log_format", "text for terminals, json for log shippers", (*_RUN, "config"),
            ("text", "json")),
)  # fmt: skip
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def coerce(setting: Setting, value: Any, source: str) -> Any:
    """Convert a raw value from `source` to the setting's type, or explain why not."""
    kind = setting.kind
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(f"expected an integer, got {value!r}")
            number = int(value)
            if number < 0:
                raise ValueError(f"must not be negative, got {number}")
            return number
        if kind is tuple:
            if isinstance(value, str):
                value = [part.strip() for part in value.split(",") if part.strip()]
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"expected a list of strings, got {value!r}")
            if setting.name in GLOB_SETTINGS:
                check_globs(value)
            return tuple(value)
        if kind is Path:
            return Path(str(value))
        text = str(value)
        if setting.choices and text not in setting.choices:
            raise ValueError(f"expected one of {', '.join(setting.choices)}, got {text!r}")
        return text
    except ValueError as error:
        raise ConfigError(f"{source}: {setting.name}: {error}") from error


def _from_file(path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    table = raw.get("newsgraph", raw)
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in _BY_NAME:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        values[name] = coerce(_BY_NAME[name], value, str(path))
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in _BY_NAME:
            raise ConfigError(f"environment: unknown setting {key}")
        values[name] = coerce(_BY_NAME[name], value, f"environment {key}")
    return values


def resolve(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> tuple[Settings, dict[str, str]]:
    """Merge the four sources; returns the settings and where each value came from."""
    environ = os.environ if environ is None else environ
    if config_file is None and environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(environ[ENV_PREFIX + "CONFIG"])
    if config_file is None and DEFAULT_CONFIG_FILE.is_file():
        config_file = DEFAULT_CONFIG_FILE
    values: dict[str, Any] = {}
    origin = {s.name: "default" for s in SETTINGS}
    layers: list[tuple[str, dict[str, Any]]] = []
    if config_file is not None:
        layers.append((str(config_file), _from_file(config_file)))
    layers.append(("environment", _from_env(environ)))
    layers.append(
        ("flag", {k: coerce(_BY_NAME[k], v, "flag") for k, v in flags.items() if v is not None})
    )
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = value
            origin[name] = source
    return Settings(**values), origin


def format_settings(settings: Settings, origin: Mapping[str, str]) -> str:
    """`newsgraph config`: TOML that can be saved as newsgraph.toml, each line saying its source.

    Each value is written by tomli-w (escaping control characters, quotes and backslashes), so
    the output always loads back to the same settings.
    """
    lines = ["[newsgraph]"]
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Path):
            value = str(value)
        line = tomli_w.dumps({setting.name: value}).rstrip("\n")
        lines.append(f"{line}  # {origin.get(setting.name, 'default')}")
    return "\n".join(lines) + "\n"
