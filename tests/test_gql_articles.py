"""`articles`, `article` and every Article field, over HTTP against a real store."""

from __future__ import annotations

import base64

import pytest

from tests.gql_fixtures import ARTICLE_FIELDS, FUSION_URL, ROBOTS_URL, Api, api, newsroom, paths

__all__ = ["api", "newsroom"]

ALL = "{ articles { totalCount edges { node { path } } } }"


def test_every_article_field_is_served(api: Api, newsroom: dict[str, str]) -> None:
    data = api.query(
        "query($p: String!) { article(path: $p) { " + ARTICLE_FIELDS + " } }", p=newsroom["ai"]
    )
    article = data["article"]
    assert article["path"] == newsroom["ai"]
    assert article["slug"] == "ai-robots"
    assert article["title"] == "AI robots move into warehouses"
    assert article["publishedAt"] == "2024-03-03T07:30:00.000000Z"
    assert article["quality"] is None and article["heat"] == 10
    assert article["published"] is None
    assert article["extra"] == {"mood": "optimistic"}
    assert article["body"].startswith("Warehouse automation")
    assert base64.urlsafe_b64decode(article["id"] + "==").decode() == "Article:" + newsroom["ai"]


def test_default_order_is_newest_first_and_total_counts_all(
    api: Api, newsroom: dict[str, str]
) -> None:
    data = api.query(ALL)["articles"]
    assert data["totalCount"] == 5
    assert paths(data) == [
        newsroom["ai"], newsroom["fusion"], newsroom["robots"], newsroom["archived"],
        newsroom["drones"],
    ]  # fmt: skip


def test_relations_are_nested(api: Api, newsroom: dict[str, str]) -> None:
    query = """query($p: String!) { article(path: $p) {
        provider { id name domain articleCount images { url } }
        topics { id name slug articleCount }
        images { url width height isCached title }
        related { title webUrl quality provider { domain } images { url }
                  article { path provider { domain } } }
        mentionedBy { totalCount edges { cursor node { path } } }
    } }"""
    article = api.query(query, p=newsroom["robots"])["article"]
    assert article["provider"]["domain"] == "example.com"
    assert article["provider"]["articleCount"] == 3
    assert [t["name"] for t in article["topics"]] == ["Robotics", "Recycling"]
    assert article["topics"][0]["articleCount"] == 3
    assert article["images"][0]["width"] == 800
    fusion, elsewhere = article["related"]
    assert fusion["article"] == {
        "path": newsroom["fusion"],
        "provider": {"domain": "science.example"},
    }
    assert fusion["images"] == [{"url": "https://img.science.example/f.jpg"}]
    assert elsewhere["article"] is None
    assert elsewhere["provider"]["domain"] == "elsewhere.org"
    mentioned = article["mentionedBy"]
    assert mentioned["totalCount"] == 1
    assert [e["node"]["path"] for e in mentioned["edges"]] == [newsroom["fusion"]]


def test_related_article_with_shared_url_resolves_to_smallest_path(
    api: Api, newsroom: dict[str, str]
) -> None:
    query = "query($p: String!) { article(path: $p) { related { article { path } } } }"
    related = api.query(query, p=newsroom["fusion"])["article"]["related"]
    assert related == [{"article": {"path": newsroom["archived"]}}]
    by_url = api.query("query($u: String!) { article(webUrl: $u) { path } }", u=ROBOTS_URL)
    assert by_url["article"]["path"] == newsroom["archived"]


def test_article_by_id_path_and_url_agree(api: Api, newsroom: dict[str, str]) -> None:
    article = api.query("query($u: String!) { article(webUrl: $u) { id path } }", u=FUSION_URL)
    by_id = api.query("query($i: ID!) { article(id: $i) { path } }", i=article["article"]["id"])
    assert by_id["article"]["path"] == newsroom["fusion"]
    assert api.query('{ article(path: "nope.md") { path } }')["article"] is None


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"topics": ["ROBOTICS", "energy"]}, ["ai", "fusion", "robots", "archived"]),
        ({"allTopics": ["robotics", "ai"]}, ["ai"]),
        ({"providerDomains": ["AIR.example"]}, ["drones"]),
        ({"category": "analysis"}, ["drones"]),
        ({"type": "video"}, ["drones"]),
        ({"published": True}, ["robots", "archived", "drones"]),
        ({"published": False}, ["ai", "fusion"]),
        ({"qualityMin": 70}, ["fusion", "robots"]),
        ({"qualityMax": 20}, ["drones"]),
        ({"heatMin": 50, "heatMax": 60}, ["robots", "archived"]),
        ({"publishedAfter": "2024-03-01T00:00:00Z", "publishedBefore": "2024-03-03"}, ["fusion", "robots"]),  # noqa: E501
        ({"hasImages": False}, ["fusion"]),
        ({"or": [{"category": "analysis"}, {"topics": ["physics"]}]}, ["fusion", "drones"]),
        ({"and": [{"topics": ["robotics"]}, {"hasImages": True}]}, ["ai", "robots", "archived"]),
        ({"not": [{"topics": ["robotics"]}, {"type": "video"}]}, ["fusion"]),
    ],
)  # fmt: skip
def test_each_filter_narrows_the_articles(
    api: Api, newsroom: dict[str, str], filter_: dict[str, object], expected: list[str]
) -> None:
    query = (
        "query($f: ArticleFilter) { articles(filter: $f) { totalCount edges { node { path } } } }"
    )
    data = api.query(query, f=filter_)["articles"]
    assert paths(data) == [newsroom[name] for name in expected]
    assert data["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ([{"field": "QUALITY", "direction": "DESC"}], ["fusion", "robots", "drones", "ai", "archived"]),  # noqa: E501
        ([{"field": "QUALITY", "direction": "ASC"}], ["archived", "ai", "drones", "robots", "fusion"]),  # noqa: E501
        ([{"field": "HEAT"}], ["drones", "robots", "archived", "ai", "fusion"]),
        ([{"field": "TITLE", "direction": "ASC"}], ["ai", "drones", "fusion", "robots", "archived"]),  # noqa: E501
        ([{"field": "PUBLISHED_AT", "direction": "ASC"}], ["drones", "archived", "robots", "fusion", "ai"]),  # noqa: E501
    ],
)  # fmt: skip
def test_orderings_page_through_every_article_both_ways(
    api: Api, newsroom: dict[str, str], order: list[dict[str, str]], expected: list[str]
) -> None:
    want = [newsroom[name] for name in expected]
    forward = (
        "query($o: [ArticleOrder!], $a: String) { articles(orderBy: $o, first: 2, after: $a) { "
        "edges { cursor node { path } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
    )
    seen: list[str] = []
    after = None
    while True:
        page = api.query(forward, o=order, a=after)["articles"]
        seen += paths(page)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == want
    backward = (
        "query($o: [ArticleOrder!], $b: String) { articles(orderBy: $o, last: 2, before: $b) { "
        "edges { node { path } } pageInfo { hasNextPage hasPreviousPage startCursor } } }"
    )
    seen = []
    before = None
    while True:
        page = api.query(backward, o=order, b=before)["articles"]
        seen = paths(page) + seen
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == want


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: 101", "`first` must be at most 100 (got 101)"),
        ("last: 500", "`last` must be at most 100 (got 500)"),
        ("first: -1", "`first` must not be negative"),
        ("first: 2, last: 2", "not both"),
        ('after: "garbage!"', "`after` is not a valid cursor"),
        ('before: "WyJ4Il0"', "`before` is not a valid cursor"),
        ("orderBy: [{field: RELEVANCE}]", "RELEVANCE needs a `search`"),
    ],
)
def test_bad_paging_and_ordering_arguments_are_clear_errors(
    api: Api, newsroom: dict[str, str], arguments: str, message: str
) -> None:
    errors = api.errors("{ articles(" + arguments + ") { edges { node { path } } } }")
    assert any(message in error for error in errors), errors


def test_a_cursor_from_another_ordering_is_refused(api: Api, newsroom: dict[str, str]) -> None:
    page = api.query("{ articles(first: 1) { pageInfo { endCursor } } }")["articles"]
    errors = api.errors(
        "query($a: String) { articles(first: 1, after: $a, orderBy: [{field: TITLE}]) "
        "{ edges { cursor } } }",
        a=page["pageInfo"]["endCursor"],
    )
    assert "different ordering" in errors[0]


def test_article_needs_exactly_one_key(api: Api, newsroom: dict[str, str]) -> None:
    assert "exactly one" in api.errors("{ article { path } }")[0]
    assert "exactly one" in api.errors('{ article(path: "a", webUrl: "b") { path } }')[0]
