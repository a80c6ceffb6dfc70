"""Markdown bodies and raw-HTML embeds turned into HTML that is safe to put in a page.

Pure (no I/O, no clock): it runs inside the parse step of the parse workers, so rendering is
paid once per file change, never per query.

- Markdown: CommonMark by cmark-gfm (`cmarkgfm`), chosen by measurement: on the demo content it
  renders a body in ~4 µs where markdown-it-py and mistune take ~85 µs (README, "Rendered
  bodies"). Raw HTML in Markdown is passed to the sanitizer rather than dropped by cmark, so one
  allow-list (nh3) decides what survives, for bodies and embeds alike.
- Sanitizing: nh3 (ammonia) with an allow-list of formatting tags; no scripts, styles, event
  handlers, forms or frames; URLs only http(s), mailto and relative; every link gets
  `rel="noopener nofollow ugc"`.
- Heading ids are added *after* sanitizing, from the sanitized text, so the ids are always ours
  (a raw `<h2 id=...>` loses its id) and agree with `headings`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from newsgraph.db.convert import slugify
from newsgraph.db.records import EMPTY_BODY, HeadingRecord, RenderedBody

WORDS_PER_MINUTE = 200
"""Reading speed for `reading_time_minutes`: words / 200, rounded up (a non-empty body is >= 1)."""

DEFAULT_EMBED_HOSTS: tuple[str, ...] = (
    "www.youtube.com",
    "youtube.com",
    "www.youtube-nocookie.com",
    "youtube-nocookie.com",
    "player.vimeo.com",
)
"""Hosts whose `<iframe>`s survive `sanitize_embed` by default (the `embed_hosts` setting)."""

EMBED_SANDBOX = "allow-scripts allow-same-origin allow-presentation allow-popups"
"""What a surviving iframe may do: run its own player, in its own origin, never navigate ours."""

_CMARK_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_LINK_REL = "noopener nofollow ugc"
_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
        "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "code": {"class"},  # only cmark's `language-x` of fenced code, see _language_class_only
}
_IFRAME_ATTRIBUTES = {"src", "width", "height", "title", "allowfullscreen", "frameborder"}

# nh3's output is serialized by html5ever: attribute values are quoted and escape `>`, text
# escapes `<`, so a tag is exactly `<` up to the next `>`.
_TAG = re.compile(r"<[^>]*>")
_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.DOTALL)
_TAG_NAME = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")
_BLOCKS = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "tr",
     "figcaption", "summary", "br"]
)  # fmt: skip
_IFRAME = re.compile(r"<iframe\b([^>]*)>.*?</iframe>", re.DOTALL)
_LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]{1,40}")
_SRC = re.compile(r'\ssrc="')
_WORD_CHARACTER = re.compile(r"\w")


def render_body(markdown: str) -> RenderedBody:
    """Render a Markdown body to sanitized HTML with heading ids, its plain text and counts."""
    if not markdown.strip():
        return EMPTY_BODY
    clean = _BODY_CLEANER.clean(cmarkgfm.markdown_to_html(markdown, options=_CMARK_OPTIONS))
    headings: list[HeadingRecord] = []
    used: set[str] = set()

    def with_id(match: re.Match[str]) -> str:
        depth, inner = int(match.group(1)), match.group(2)
        text = " ".join(unescape(_TAG.sub("", inner)).split())
        heading = HeadingRecord(depth, text, _unique(_heading_slug(text), used))
        headings.append(heading)
        return f'<h{depth} id="{heading.id}">{inner}</h{depth}>'

    html = _HEADING.sub(with_id, clean) if "<h" in clean else clean
    plain = plain_text(clean)
    # A word is a run of non-space characters with a letter or digit in it (`—` is not one).
    words = sum(1 for token in plain.split() if token.isalnum() or _WORD_CHARACTER.search(token))
    return RenderedBody(
        html=html,
        headings=tuple(headings),
        word_count=words,
        reading_time_minutes=math.ceil(words / WORDS_PER_MINUTE),
        plain_text=plain,
    )


def sanitize_embed(html: str, allowed_hosts: Collection[str]) -> str:
    """Sanitize a raw-HTML field (such as `featuredContent`) that may carry a video player.

    Everything is cleaned as in `render_body`; an `<iframe>` survives only when its `src` is
    https on one of `allowed_hosts` (exact host names, case-insensitive), loses its content and
    always gets a `sandbox` attribute. Any other iframe is removed whole.
    """
    clean = _embed_cleaner(frozenset(host.lower() for host in allowed_hosts)).clean(html)
    # An iframe's content is raw text to a browser, and ours has no use for it; an iframe whose
    # src was refused is dropped rather than left as an empty frame.
    return _IFRAME.sub(_emptied_or_dropped, clean)


def _cleaner(**options: Any) -> nh3.Cleaner:
    """An nh3 sanitizer with our allow-list; built once (per call, its set-up costs 3x the work)."""
    return nh3.Cleaner(
        tags=set(_TAGS | options.pop("extra_tags", set())),
        url_schemes=set(_URL_SCHEMES),
        link_rel=_LINK_REL,
        strip_comments=True,
        **options,
    )


@functools.lru_cache(maxsize=8)
def _embed_cleaner(hosts: frozenset[str]) -> nh3.Cleaner:
    def keep_src(tag: str, attribute: str, value: str) -> str | None:
        if tag == "iframe" and attribute == "src":
            return value if _embeddable(value, hosts) else None
        return _language_class_only(tag, attribute, value)

    return _cleaner(
        extra_tags={"iframe"},
        attributes={**_ATTRIBUTES, "iframe": _IFRAME_ATTRIBUTES},
        attribute_filter=keep_src,
        set_tag_attribute_values={"iframe": {"sandbox": EMBED_SANDBOX}},
    )


def plain_text(html: str) -> str:
    """The words of sanitized HTML: tags dropped, entities decoded, one line per block."""
    text = unescape(_TAG_NAME.sub(_line_break_or_nothing, html))
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _line_break_or_nothing(tag: re.Match[str]) -> str:
    closing, name = tag.group(1), tag.group(2)
    return "\n" if name in _BLOCKS and (closing or name == "br") else ""


def _language_class_only(tag: str, attribute: str, value: str) -> str | None:
    """A `class` names a code block's language, never one of the page's own classes."""
    if attribute == "class":
        return value if _LANGUAGE_CLASS.fullmatch(value) else None
    return value


def _emptied_or_dropped(iframe: re.Match[str]) -> str:
    attributes = iframe.group(1)
    return f"<iframe{attributes}></iframe>" if _SRC.search(attributes) else ""


def _heading_slug(text: str) -> str:
    """A heading's id: the slug topics get (lower case, hyphens, letters of any script)."""
    slug = slugify(text)
    return "section" if slug == "-" else slug


def _unique(slug: str, used: set[str]) -> str:
    candidate, suffix = slug, 0
    while candidate in used:
        suffix += 1
        candidate = f"{slug}-{suffix}"
    used.add(candidate)
    return candidate


def _embeddable(url: str, hosts: Collection[str]) -> bool:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme == "https" and host in hosts and parts.username is None


_BODY_CLEANER = _cleaner(attributes=_ATTRIBUTES, attribute_filter=_language_class_only)
