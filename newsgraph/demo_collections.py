"""Deterministic synthetic events, people, organizations and learning resources for the demo.

Written beside the synthetic articles by `newsgraph demo-content --entries N`, with the same
topics and publishers, so a demo topic page has every section filled and the links between
collections (a person's organization, a learning collection's items) resolve. Like `demo`,
this only writes text files and reads no clock: same `(per_collection, seed)`, same bytes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from newsgraph import demo_words as words
from newsgraph.demo_yaml import render_article

_EPOCH = datetime(2024, 1, 1, 9, tzinfo=UTC)
_KINDS = ("video", "article", "course", "book")
_LEVELS = ("Beginner", "Intermediate", "Advanced")
_PRICES = ("Free", "Free+", "$0.00", "$19.99", "$$", None)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Tim", "Radia")
_LAST = ("Lovelock", "Hopperton", "Turingham", "Dijkman", "Liskova", "Knuthson", "Allenby")


def write_demo_collections(root: Path, *, per_collection: int, seed: int) -> list[Path]:
    """Write `per_collection` files of each collection (and one learning collection)."""
    if per_collection <= 0:
        return []
    rng = random.Random(seed)
    files: dict[str, tuple[dict[str, Any], str]] = {}
    companies = [_organization(rng, i) for i in range(per_collection)]
    for slug, fields in companies:
        files[f"_companies/{slug}.md"] = (fields, words.excerpt(rng))
    for i in range(per_collection):
        slug, fields = _person(rng, i, companies)
        files[f"_people/{slug}.md"] = (fields, "")
    for i in range(per_collection):
        slug, fields = _event(rng, i)
        files[f"_events/{slug}.md"] = (fields, words.body(rng))
    resources = [_resource(rng, i) for i in range(per_collection)]
    for kind, slug, fields in resources:
        files[f"_learning/{kind}s/{slug}.md"] = (fields, "")
    items = [f"{kind}s/{slug}" for kind, slug, _ in resources]
    items.append("videos/not-published-yet")  # an item whose file does not exist (yet)
    files["_learning/collections/demo-learning-path.md"] = (
        {"title": "A demo learning path", "type": "collection", "heat": 50, "items": items,
         "levels": list(_LEVELS), "topics": [words.TOPICS[0]]},
        "",
    )  # fmt: skip
    written: list[Path] = []
    for relpath, (fields, body) in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_article(fields, body).encode("utf-8"))
        written.append(path)
    return written


def _topics(rng: random.Random) -> list[str]:
    return [words.TOPICS[0], *rng.sample(words.TOPICS[1:], rng.randint(0, 2))]


def _organization(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:
    name, domain = words.PROVIDERS[index % len(words.PROVIDERS)]
    fields = {
        "name": name,
        "overview": words.excerpt(rng),
        "type": "profile",
        "heat": rng.randint(0, 300),
        "website": f"https://www.{domain}/",
        "locations": rng.sample(words.PLACES, 2),
        "size": rng.choice(("11-50 employees", "51-200 employees", "1,001-5,000 employees")),
        "yearFounded": rng.randint(1990, 2022),
        "funding": {"status": rng.choice(("Seed", "Early Stage Venture", "IPO"))},
        "linkedin": {"url": f"https://linkedin.example/company/{index}", "followers": index * 97},
        "topics": _topics(rng),
    }
    return words.slugify(name), fields


def _person(
    rng: random.Random, index: int, companies: list[tuple[str, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    name = f"{_FIRST[index % len(_FIRST)]} {_LAST[(index * 3) % len(_LAST)]}"
    company = companies[index % len(companies)][1]
    domain = company["website"].removeprefix("https://www.").rstrip("/")
    fields = {
        "name": name,
        "bio": words.excerpt(rng),
        "location": rng.choice(words.PLACES),
        "type": "profile",
        "heat": rng.randint(0, 200),
        "affiliation": {"name": company["name"], "domain": domain},
        "twitter": {
            "username": f"demo{index}",
            "url": f"https://twitter.example/demo{index}",
            "followers": rng.randint(10, 90_000),
        },
        "topics": _topics(rng),
    }
    return words.slugify(name), fields


def _event(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:
    starts = _EPOCH + timedelta(days=rng.randint(-400, 900), hours=rng.randint(0, 8))
    name = f"{rng.choice(words.TOPICS)} Summit {starts.year}"
    fields = {
        "name": name,
        "excerpt": words.excerpt(rng),
        "type": rng.choice(("conference", "workshop", "meetup")),
        "startDateTime": starts,
        "endDateTime": starts + timedelta(days=rng.randint(0, 3), hours=8),
        "location": rng.choice((*words.PLACES[:5], "Online")),
        "website": f"https://events.example/{index}",
        "provider": {
            "name": words.PROVIDERS[index % 5][0],
            "domain": words.PROVIDERS[index % 5][1],
        },
        "topics": _topics(rng),
    }
    return f"{starts.date().isoformat()}-{words.slugify(name)}-{index}", fields


def _resource(rng: random.Random, index: int) -> tuple[str, str, dict[str, Any]]:
    kind = _KINDS[index % len(_KINDS)]
    title = words.title(rng)
    fields: dict[str, Any] = {
        "title": title,
        "excerpt": words.excerpt(rng),
        "webUrl": f"https://learn.example/{kind}/{index}",
        "type": kind,
        "heat": rng.randint(0, 150),
        "levels": rng.sample(_LEVELS, rng.randint(1, 2)),
        "topics": _topics(rng),
    }
    price = rng.choice(_PRICES)
    if price is not None:
        fields["price"] = price
    if kind == "video":
        fields["length"] = f"PT{rng.randint(3, 59)}M{rng.randint(0, 59)}S"
        fields["featuredContent"] = (
            f'<iframe src="https://www.youtube.com/embed/demo{index}" allowfullscreen></iframe>'
        )
    elif kind == "course":
        fields["length"] = f"{rng.randint(2, 40)} hours"
    if kind in ("book", "course"):
        fields["ratings"] = {"count": rng.randint(1, 5000), "average": rng.randint(30, 50) / 10}
    return kind, f"demo-{kind}-{index}", fields
