"""Turning the text of an event, person, organization or learning file into an `EntryRecord`.

Pure, like `ingest.parse`: one function per collection reads the fields its format names (see
the README, "Collections") with the same typed readers and the same errors (path, line, column,
field) as articles. Keys a format does not name are kept in `extra`, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from newsgraph.db.records import CollectionName, EntryRecord, ImageRecord, ProviderRecord
from newsgraph.ingest.fields import Fields
from newsgraph.ingest.limits import ParseLimits
from newsgraph.ingest.parse import decode_text, load_front_matter, slug_for
from newsgraph.ingest.render import render_body, sanitize_embed
from newsgraph.ingest.values import expect, jsonable

LEARNING_KINDS = ("video", "article", "course", "book", "collection")
_ISO_DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?\Z"
)
_ZERO_PRICE = re.compile(r"\D?0+(?:[.,]0+)?\Z")
_PROFILE_KEYS = {
    "twitter": ("username", "url", "followers"),
    "linkedin": ("url", "followers"),
    "googleScholar": ("url", "citations"),
    "wikipedia": ("url",),
    "crunchbase": ("url",),
}
_COMMON_KEYS = frozenset(("type", "heat", "topics", "images", "provider"))
_KEYS: dict[CollectionName, frozenset[str]] = {
    "event": _COMMON_KEYS
    | {"name", "excerpt", "startDateTime", "endDateTime", "location", "website", "originalUrl",
       "removed", "published", "tags"},
    "person": _COMMON_KEYS
    | {"name", "bio", "location", "affiliation", "website", "twitter", "linkedin",
       "googleScholar", "wikipedia"},
    "organization": _COMMON_KEYS
    | {"name", "overview", "website", "locations", "size", "yearFounded", "funding",
       "crunchbase", "twitter", "linkedin", "videos"},
    "learning": _COMMON_KEYS
    | {"title", "excerpt", "webUrl", "originalUrl", "price", "length", "publishedDateTime",
       "levels", "ratings", "featuredContent", "items", "tags"},
}  # fmt: skip


def decode_entry(
    data: bytes, *, path: str, collection: CollectionName, limits: ParseLimits
) -> EntryRecord:
    """Decode UTF-8 and parse one file of `collection`."""
    return parse_entry(decode_text(data, path=path, limits=limits), path, collection, limits)


def parse_entry(
    text: str, path: str, collection: CollectionName, limits: ParseLimits | None = None
) -> EntryRecord:
    """Parse; raise `ArticleError` (naming the field) or `NotAnArticle` (no front matter)."""
    limits = limits or ParseLimits()
    loaded = load_front_matter(text, path, limits, required_key=None)
    data = loaded.data
    extra = {key: jsonable(value) for key, value in data.items() if key not in _KEYS[collection]}
    reader = _Reader(path, loaded.fields, data, extra, limits)
    fields = _PARSERS[collection](reader)
    return EntryRecord(
        path=path,
        collection=collection,
        slug=slug_for(path),
        name=reader.name("title" if collection == "learning" else "name"),
        body=loaded.body,
        heat=loaded.fields.integer(data, "heat", ""),
        topics=loaded.fields.topics(data, "topics", ""),
        images=loaded.fields.images(data, "images", "", extra),
        extra=extra,
        warnings=loaded.warnings,
        rendered=render_body(loaded.body),
        **fields,
    )


class _Reader:
    """The fields, the top-level mapping and `extra` of one file, read together."""

    def __init__(
        self,
        path: str,
        fields: Fields,
        data: dict[str, Any],
        extra: dict[str, Any],
        limits: ParseLimits,
    ) -> None:
        self.path = path
        self.limits = limits
        self.f = fields
        self.data = data
        self.extra = extra

    def name(self, key: str) -> str:
        """The required display name (`name`, or `title` for learning resources)."""
        value = self.data.get(key)
        if type(value) is str and value.strip():
            return value
        if key not in self.data:
            raise self.f.fail(self.data, None, key, "missing: this field is required")
        raise self.f.fail(self.data, key, key, str(expect("a non-empty string", value)))

    def string(self, key: str) -> str | None:
        return self.f.string(self.data, key, "")

    def url(self, key: str) -> str | None:
        return self.f.url(self.data, key, "")

    def provider(self, key: str = "provider") -> ProviderRecord | None:
        return self.f.provider(self.data, key, "", self.extra)

    def profiles(self, *keys: str) -> dict[str, Any]:
        """Social profiles (`twitter {username url followers}` ...), checked field by field."""
        found: dict[str, Any] = {}
        for key in keys:
            mapping = self.f.mapping(self.data, key, "")
            if not mapping:
                continue
            profile: dict[str, Any] = {}
            for sub in _PROFILE_KEYS[key]:
                if sub == "url":
                    profile[sub] = self.f.url(mapping, sub, key)
                elif sub == "username":
                    profile[sub] = self.f.string(mapping, sub, key)
                else:
                    profile[sub] = self.f.integer(mapping, sub, key)
            found[key] = profile
        return found


def _images(images: tuple[ImageRecord, ...]) -> list[dict[str, Any]]:
    return [asdict(image) for image in images]


def _event(r: _Reader) -> dict[str, Any]:
    starts_at = r.f.required_timestamp(r.data, "startDateTime", "")
    ends_at = r.f.timestamp(r.data, "endDateTime", "")
    if ends_at is not None and ends_at < starts_at:
        raise r.f.fail(r.data, "endDateTime", "endDateTime", "ends before startDateTime")
    details = {
        "website": r.url("website"),
        "originalUrl": r.url("originalUrl"),
        "tags": list(r.f.strings(r.data, "tags", "")),
        "removed": r.f.boolean(r.data, "removed", ""),
        "published": r.f.boolean(r.data, "published", ""),
    }
    return {
        "excerpt": r.string("excerpt"),
        "kind": r.string("type"),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": r.string("location"),
        "provider": r.provider(),
        "details": details,
    }


def _person(r: _Reader) -> dict[str, Any]:
    affiliation = r.provider("affiliation")
    details: dict[str, Any] = {"website": r.url("website"), **r.profiles(
        "twitter", "linkedin", "googleScholar", "wikipedia"
    )}  # fmt: skip
    if affiliation is not None:
        details["affiliation"] = {
            "name": affiliation.name,
            "domain": affiliation.domain,
            "images": _images(affiliation.images),
        }
    return {
        "excerpt": r.string("bio"),
        "kind": r.string("type"),
        "location": r.string("location"),
        "domain": affiliation.domain if affiliation else None,
        "details": details,
    }


def _organization(r: _Reader) -> dict[str, Any]:
    website = r.url("website")
    locations = r.f.strings(r.data, "locations", "")
    funding = r.f.mapping(r.data, "funding", "")
    videos = [
        r.f.url(video, "url", f"videos[{i}]")
        for i, video in enumerate(r.f.mappings(r.data, "videos", ""))
    ]
    details = {
        "website": website,
        "locations": list(locations),
        "size": r.string("size"),
        "yearFounded": r.f.integer(r.data, "yearFounded", ""),
        "fundingStatus": r.f.string(funding, "status", "funding"),
        "videos": [url for url in videos if url],
        **r.profiles("twitter", "linkedin", "crunchbase"),
    }
    return {
        "excerpt": r.string("overview"),
        "kind": r.string("type"),
        "location": locations[0] if locations else None,
        "domain": website_domain(website),
        "details": details,
    }


def website_domain(url: str | None) -> str | None:
    """The lower-cased host of a website without `www.`: how people's affiliations name it."""
    if url is None:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def _learning(r: _Reader) -> dict[str, Any]:
    kind = r.string("type")
    if kind is None or kind.strip().lower() not in LEARNING_KINDS:
        where = "type" if "type" in r.data else None
        message = "expected one of " + ", ".join(LEARNING_KINDS) + f", found {kind!r}"
        raise r.f.fail(r.data, where, "type", message)
    price = r.string("price")
    length = _text(r, "length")
    ratings = r.f.mapping(r.data, "ratings", "")
    provider_data = r.f.mapping(r.data, "provider", "")
    people = {
        role: [
            name
            for i, person in enumerate(r.f.mappings(provider_data, role, "provider"))
            if (name := r.f.string(person, "name", f"provider.{role}[{i}]"))
        ]
        for role in ("authors", "publishers")
    }
    featured = r.string("featuredContent")
    if featured is not None:  # raw HTML: only ever stored (and so served) sanitized
        featured = sanitize_embed(featured, r.limits.embed_hosts)
    web_url = r.url("webUrl")
    original_url = r.url("originalUrl")
    details = {
        "webUrl": web_url or original_url,
        "originalUrl": original_url,
        "price": price,
        "length": length,
        "lengthSeconds": iso_duration_seconds(length),
        "publishedAt": _iso(r.f.timestamp(r.data, "publishedDateTime", "")),
        "ratingsCount": r.f.integer(ratings, "count", "ratings"),
        "ratingsAverage": r.f.number(ratings, "average", "ratings"),
        "featuredContent": featured,
        "tags": list(r.f.strings(r.data, "tags", "")),
        **people,
    }
    return {
        "excerpt": r.string("excerpt"),
        "kind": kind.strip().lower(),
        "free": is_free(price),
        "levels": r.f.strings(r.data, "levels", ""),
        "items": tuple(item_path(r.path, item) for item in r.f.strings(r.data, "items", "")),
        "provider": r.provider(),
        "details": details,
    }


def _text(r: _Reader, key: str) -> str | None:
    """A free-text field YAML may have read as a number (`length: 90`)."""
    value = r.data.get(key)
    if value is None or type(value) is str:
        return value
    if type(value) in (int, float):
        return str(value)
    return r.string(key)  # raises the standard wrong-type error


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def is_free(price: str | None) -> bool | None:
    """`Free`, `Free+` (free to start) and zero amounts are free; unknown without a price."""
    if price is None or not price.strip():
        return None
    text = price.strip().lower()
    return text.startswith("free") or bool(_ZERO_PRICE.match(text))


def iso_duration_seconds(length: str | None) -> int | None:
    """Seconds of an ISO 8601 duration (`PT10M14S`); None for free text such as `9 hours`."""
    match = _ISO_DURATION.match(length.strip().upper()) if length else None
    if match is None or not any(match.groupdict().values()):
        return None
    d, h, m, s = (float(match.group(k) or 0) for k in "dhms")
    return round(((d * 24 + h) * 60 + m) * 60 + s)


def item_path(path: str, item: str) -> str:
    """A learning collection item (`courses/x`) as a file path (`_learning/courses/x.md`).

    Items are relative to the top folder the collection file is in, without the extension.
    """
    top = path.split("/", 1)[0] + "/" if "/" in path else ""
    item = item.strip().lstrip("/")
    return top + (item if item.lower().endswith((".md", ".markdown")) else item + ".md")


_PARSERS: dict[CollectionName, Callable[[_Reader], dict[str, Any]]] = {
    "event": _event,
    "person": _person,
    "organization": _organization,
    "learning": _learning,
}
