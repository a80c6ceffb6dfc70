"""Deterministic synthetic article files, for `make serve`, tests and the ingest benchmark.

Same `(count, seed)` gives byte-identical files: everything is drawn from one
`random.Random(seed)` in a fixed order and no clock is read. The generated set deliberately
exercises every optional corner of FORMAT.md (videos with only `originalUrl`, heat `-1`,
duplicate topics differing in case, providers renamed or re-capitalised, offsets on timestamps,
unknown keys, unicode, related items that resolve to other generated articles) so that a demo
or benchmark corpus is not kinder than real content. This module only writes text files: it
imports nothing from `ingest`, `gql` or `db`.
"""

from __future__ import annotations

import base64
import os
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

from newsgraph import demo_words as words
from newsgraph.demo_yaml import render_article

__all__ = ["render_article", "write_demo_content"]

_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
_SPAN_MINUTES = 6 * 365 * 24 * 60
_OFFSETS = tuple(timezone(timedelta(minutes=m)) for m in (-480, -300, -180, 60, 120, 330, 540, 600))
# How many related items a file lists: often none, rarely the maximum of ten.
_RELATED_COUNTS = (0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 10)
_PROVIDER_NAMES = {domain: name for name, domain in words.PROVIDERS}


class _Plan(NamedTuple):
    """What other articles need to know about one article before any file is rendered.

    A tuple rather than a dataclass: a tuple of strings, numbers and datetimes drops out of the
    cyclic garbage collector's tracking, and with 20,000 plans alive the collector's full passes
    otherwise cost about a quarter of the generation time.
    """

    rel: str
    title: str
    excerpt: str | None
    published_at: datetime
    web_url: str | None
    provider: tuple[str, str]
    image_url: str
    quality: int


def write_demo_content(root: Path, *, count: int, seed: int) -> list[Path]:
    """Write `count` synthetic articles under `root` (created if missing); return their paths.

    Files land in a few sub-folders (`_news/`, `_archive/_news/`, `world/<year>/`,
    `tech/robotics/`) as `YYYY-MM-DD-slug.md`; some `_archive/_news/` files reuse a `_news/`
    file name, since the format treats those as two articles. Existing files are overwritten.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    plans = _plan_articles(rng, count)
    linkable = [plan for plan in plans if plan.web_url is not None]
    # Articles elsewhere on the web; several files often list the same one, as in real feeds.
    external = [_external_plan(rng) for _ in range(count // 4 + 20)]
    paths: list[Path] = []
    made_dirs: set[Path] = set()
    for plan in plans:
        fields = _article_fields(rng, plan, linkable, external)
        body = words.body(rng) if rng.random() < 0.4 else ""
        path = root / plan.rel
        if path.parent not in made_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(path.parent)
        _write(path, render_article(fields, body).encode("utf-8"))
        paths.append(path)
    return paths


def _plan_articles(rng: random.Random, count: int) -> list[_Plan]:
    plans: list[_Plan] = []
    taken: set[str] = set()
    news_names: list[str] = []
    for index in range(count):
        minutes = rng.randrange(_SPAN_MINUTES)
        published_at = _EPOCH + timedelta(minutes=minutes)
        if rng.random() < 0.15:
            published_at = published_at.astimezone(rng.choice(_OFFSETS))
        title = words.title(rng)
        slug = words.slugify(title)
        name = f"{published_at:%Y-%m-%d}-{slug}.md"
        roll = rng.random()
        if roll < 0.6:
            folder = "_news"
            news_names.append(name)
        elif roll < 0.75:
            folder = "_archive/_news"
            if news_names and rng.random() < 0.2:
                name = rng.choice(news_names)
        elif roll < 0.9:
            folder = f"world/{published_at:%Y}"
        else:
            folder = "tech/robotics"
        rel = f"{folder}/{name}"
        suffix = 0
        while rel in taken:  # same date and title twice: keep both, as a site would
            suffix += 1
            rel = f"{folder}/{name[:-3]}-{suffix}.md"
        taken.add(rel)
        domain = rng.choice(words.PROVIDERS)[1]
        is_video = rng.random() < 0.05
        web_url = None if is_video else f"https://{domain}/{published_at:%Y/%m}/{slug}-{index}"
        plans.append(
            _Plan(
                rel=rel,
                title=title,
                excerpt=words.excerpt(rng) if rng.random() < 0.85 else None,
                published_at=published_at,
                web_url=web_url,
                provider=_provider_name_and_domain(rng, domain),
                image_url=f"https://cdn.{domain}/img/{published_at:%Y}/{slug[:40]}-{index}.jpg",
                quality=rng.randrange(138),
            )
        )
    return plans


def _article_fields(
    rng: random.Random, plan: _Plan, linkable: list[_Plan], external: list[_Plan]
) -> dict[str, Any]:
    """All front-matter keys of one article, in the order the real sites write them."""
    fields: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.85:
        fields["category"] = "news"
    elif roll < 0.9:
        fields["category"] = rng.choice(("analysis", "opinion", "explainer"))
    fields["title"] = plan.title
    if plan.excerpt is not None:
        fields["excerpt"] = plan.excerpt
    fields["publishedDateTime"] = plan.published_at
    if plan.web_url is None:
        fields["originalUrl"] = f"https://islandvideo.example/watch?v={_video_id(rng)}"
        fields["type"] = "video"
    else:
        fields["webUrl"] = plan.web_url
        if rng.random() < 0.1:
            fields["originalUrl"] = plan.web_url.replace("https://", "https://origin.", 1)
        if rng.random() < 0.3:
            fields["ampWebUrl"] = plan.web_url + "/amp"
            if rng.random() < 0.7:
                host = plan.web_url.split("/")[2].replace(".", "-")
                fields["cdnAmpWebUrl"] = f"https://{host}.cdn.ampproject.example/c/s/amp"
        if rng.random() < 0.95:
            fields["type"] = "article"
    if rng.random() < 0.9:
        fields["quality"] = plan.quality
    roll = rng.random()
    if roll < 0.1:
        fields["heat"] = -1
    elif roll < 0.9:
        fields["heat"] = rng.randrange(138)
    roll = rng.random()
    if roll < 0.6:
        fields["published"] = False
    elif roll < 0.8:
        fields["published"] = True
    if rng.random() < 0.95:
        fields["provider"] = _provider(rng, plan.provider)
    topics = _topics(rng)
    if topics:
        fields["topics"] = topics
    images = [_image(rng, plan, k) for k in range(rng.choice((0, 1, 1, 1, 2, 3)))]
    if images:
        fields["images"] = images
    related = _related(rng, plan, linkable, external)
    if related:
        fields["related"] = related
    if rng.random() < 0.06:
        fields.update(_unknown_key(rng))
    if rng.random() < 0.85:
        fields["secured"] = _token(rng, rng.randrange(150, 300))
    return fields


def _provider_name_and_domain(rng: random.Random, domain: str) -> tuple[str, str]:
    """The publisher as this file names it: usually canonical, sometimes renamed or re-cased."""
    name = _PROVIDER_NAMES[domain]
    roll = rng.random()
    if roll < 0.06 and domain in words.PROVIDER_ALIASES:
        name = words.PROVIDER_ALIASES[domain]
    elif roll < 0.1:
        domain = domain[0].upper() + domain[1:] if rng.random() < 0.5 else domain.upper()
    return name, domain


def _provider(rng: random.Random, name_and_domain: tuple[str, str]) -> dict[str, Any]:
    name, domain = name_and_domain
    provider: dict[str, Any] = {"name": name, "domain": domain}
    logos = rng.choice((0, 0, 0, 1, 1, 2, 3))
    if logos:
        sizes = (50, 100, 200)[:logos]
        provider["images"] = [
            {"url": f"https://{domain.lower()}/logo-{size}.png", "width": size, "height": size}
            for size in sizes
        ]
    return provider


def _topics(rng: random.Random) -> list[str]:
    topics = rng.sample(words.TOPICS, rng.choice((0, 1, 2, 3, 3, 4, 5)))
    # Real sites have one umbrella topic on most articles (the corpus tags nearly all "AI"): it
    # makes deep pages of one topic exist, which is what keyset pagination must keep cheap.
    if rng.random() < 0.6 and words.TOPICS[0] not in topics:
        topics.insert(0, words.TOPICS[0])
    if topics and rng.random() < 0.08:
        # The same topic again in another case: the format collapses it to the first spelling.
        twin = rng.choice(topics)
        topics.append(twin.lower() if twin.lower() != twin else twin.upper())
    return topics


def _image(rng: random.Random, plan: _Plan, k: int) -> dict[str, Any]:
    image: dict[str, Any] = {"url": plan.image_url if k == 0 else f"{plan.image_url}?v={k}"}
    if rng.random() < 0.8:
        image["width"], image["height"] = rng.choice(((1200, 630), (1920, 1080), (800, 600)))
    if rng.random() < 0.5:
        image["isCached"] = rng.random() < 0.5
    if rng.random() < 0.5:
        image["title"] = plan.title
    return image


def _related(
    rng: random.Random, plan: _Plan, linkable: list[_Plan], external: list[_Plan]
) -> list[dict[str, Any]]:
    """0-10 related items; about half are other generated articles, so they resolve."""
    items: list[dict[str, Any]] = []
    for _ in range(rng.choice(_RELATED_COUNTS)):
        other = rng.choice(linkable) if linkable and rng.random() < 0.5 else None
        if other is None or other is plan:
            other = rng.choice(external)
        assert other.web_url is not None  # linkable plans and external plans both have one
        item: dict[str, Any] = {"title": other.title}
        if other.excerpt is not None:
            item["excerpt"] = other.excerpt
        item["publishedDateTime"] = other.published_at
        item["webUrl"] = other.web_url
        item["type"] = "article"
        item["provider"] = {"name": other.provider[0], "domain": other.provider[1]}
        item["quality"] = other.quality
        if rng.random() < 0.6:
            item["images"] = [{"url": other.image_url, "width": 1200, "height": 630}]
        items.append(item)
    return items


def _external_plan(rng: random.Random) -> _Plan:
    """A summary of an article that is not in the content directory."""
    name, domain = rng.choice(words.PROVIDERS)
    title = words.title(rng)
    ident = rng.randrange(10**9)
    return _Plan(
        rel="",
        title=title,
        excerpt=words.excerpt(rng) if rng.random() < 0.7 else None,
        published_at=_EPOCH + timedelta(minutes=rng.randrange(_SPAN_MINUTES)),
        web_url=f"https://{domain}/stories/{words.slugify(title)}-{ident}",
        provider=(name, domain),
        image_url=f"https://cdn.{domain}/img/{ident}.jpg",
        quality=rng.randrange(138),
    )


def _unknown_key(rng: random.Random) -> dict[str, Any]:
    """A key FORMAT.md does not name, which must be kept (served as `extra`), not dropped."""
    roll = rng.random()
    if roll < 0.5:
        return {"sponsor": {"name": rng.choice(words.PROVIDERS)[0], "campaign": _token(rng, 6)}}
    if roll < 0.75:
        return {"sponsor": rng.choice(words.PROVIDERS)[0]}
    return {"readingTime": rng.randint(1, 15), "sponsor": None}


def _token(rng: random.Random, nbytes: int) -> str:
    """An opaque base64 token, like the corpus's `secured` values."""
    return base64.b64encode(rng.randbytes(nbytes)).decode("ascii")


def _video_id(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(8)).decode("ascii").rstrip("=")


def _write(path: Path, data: bytes) -> None:
    """Write a whole file; `os.open` is markedly cheaper than `open()` over 20,000 files."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
