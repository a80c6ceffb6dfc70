"""Resource limits for parsing one article file, each configurable.

They exist because front matter is untrusted input: a huge file, an alias "billion laughs"
bomb or pathological nesting must be rejected quickly instead of exhausting memory or the stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsgraph.ingest.render import DEFAULT_EMBED_HOSTS

ONE_MIB = 1_048_576


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Limits applied by `parse_article`; the file reader applies `max_bytes` before reading too.

    `max_depth` counts nested collections, the top-level mapping being level 1. libyaml also
    refuses nesting beyond 1,000 levels whatever this says.
    """

    max_bytes: int = ONE_MIB
    max_depth: int = 32
    allow_aliases: bool = False
    # Not a limit but the same kind of parse-time choice, carried to the parse workers with
    # the limits: the hosts whose iframes survive in raw-HTML fields (`sanitize_embed`).
    embed_hosts: tuple[str, ...] = DEFAULT_EMBED_HOSTS
