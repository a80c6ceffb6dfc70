"""Article filters as data, compiled to one SQL condition with bound parameters.

`ArticleFilterSpec` mirrors the API's `ArticleFilter` input but speaks the store's language
(topic keys, lower-cased domains, stored time text), so `gql` converts once and `db` never sees
GraphQL. Conditions refer to the articles table as `a`. Every field present narrows the set
(AND); `and_`, `or_` and `not_` combine nested filters. `not_` excludes articles matching *any*
of its filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsgraph.db.sql import Params


@dataclass(frozen=True, slots=True)
class ArticleFilterSpec:
    topics: tuple[str, ...] | None = None  # topic keys: any of them
    all_topics: tuple[str, ...] | None = None  # topic keys: every one of them
    provider_domains: tuple[str, ...] | None = None  # lower-cased
    category: str | None = None
    type: str | None = None
    published: bool | None = None  # False also matches articles that do not say
    quality_min: int | None = None
    quality_max: int | None = None
    heat_min: int | None = None
    heat_max: int | None = None
    published_after: str | None = None  # inclusive, stored time text
    published_before: str | None = None  # exclusive
    has_images: bool | None = None
    and_: tuple[ArticleFilterSpec, ...] = ()
    or_: tuple[ArticleFilterSpec, ...] = ()
    not_: tuple[ArticleFilterSpec, ...] = ()
    provider_id: int | None = None  # scopes Provider.articles
    topic_id: int | None = None  # scopes Topic.articles


_TOPIC_IDS = "SELECT t.id FROM topics t WHERE t.key IN "
# EXISTS, not `a.id IN (...)`: with EXISTS SQLite walks the ordering index (published_at, ...)
# and probes article_topics' primary key per row, so a page of a topic on 60% of 20,000
# articles takes 0.03 ms instead of 14 ms (IN builds the whole set and sorts it). A topic that
# matches nothing costs one index scan (~3 ms at 20,000 articles).
_HAS_TOPIC_IN = (
    "EXISTS (SELECT 1 FROM article_topics at WHERE at.article_id = a.id AND at.topic_id IN ("
)


def compile_filter(spec: ArticleFilterSpec | None, params: Params) -> str:
    """One SQL condition over `articles a` ("1" when nothing narrows)."""
    if spec is None:
        return "1"
    parts: list[str] = []
    if spec.provider_id is not None:
        parts.append("a.provider_id = " + params.add(spec.provider_id))
    if spec.topic_id is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM article_topics at WHERE at.article_id = a.id "  # noqa: S608
            "AND at.topic_id = " + params.add(spec.topic_id) + ")"
        )
    if spec.topics is not None:
        parts.append(_HAS_TOPIC_IN + _TOPIC_IDS + params.add_list(spec.topics) + "))")
    for key in spec.all_topics or ():
        parts.append(_HAS_TOPIC_IN + _TOPIC_IDS + params.add_list([key]) + "))")
    if spec.provider_domains is not None:
        parts.append(
            "a.provider_id IN (SELECT p.id FROM providers p WHERE p.domain IN "  # noqa: S608
            + params.add_list(spec.provider_domains)
            + ")"
        )
    for name, text in (("a.category", spec.category), ("a.type", spec.type)):
        if text is not None:
            parts.append(name + " = " + params.add(text))
    if spec.published is not None:
        parts.append("a.published IS 1" if spec.published else "a.published IS NOT 1")
    bounds: tuple[tuple[str, str, int | str | None], ...] = (
        ("a.quality", ">=", spec.quality_min),
        ("a.quality", "<=", spec.quality_max),
        ("a.heat", ">=", spec.heat_min),
        ("a.heat", "<=", spec.heat_max),
        ("a.published_at", ">=", spec.published_after),
        ("a.published_at", "<", spec.published_before),
    )
    for column, operator, value in bounds:
        if value is not None:
            parts.append(column + " " + operator + " " + params.add(value))
    if spec.has_images is not None:
        parts.append("a.image_count > 0" if spec.has_images else "a.image_count = 0")
    parts.extend(compile_filter(nested, params) for nested in spec.and_)
    if spec.or_:
        parts.append("(" + " OR ".join(compile_filter(n, params) for n in spec.or_) + ")")
    if spec.not_:
        parts.append("NOT (" + " OR ".join(compile_filter(n, params) for n in spec.not_) + ")")
    if not parts:
        return "1"
    return "(" + " AND ".join(parts) + ")"
