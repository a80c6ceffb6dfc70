"""Search, facets, nodes, providers, topics, ingest status and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newsgraph.demo import write_demo_content
from tests.conftest import WriteArticle
from tests.gql_fixtures import Api, api, newsroom, paths

__all__ = ["api", "newsroom"]


def test_search_ranks_marks_and_combines_with_filters(api: Api, newsroom: dict[str, str]) -> None:
    query = """query($q: String!, $f: ArticleFilter) {
        articles(search: $q, filter: $f) { totalCount edges { highlight node { path } } } }"""
    found = api.query(query, q="robot*")["articles"]
    assert set(paths(found)) == {newsroom["robots"], newsroom["archived"], newsroom["ai"]}
    assert all("<mark>" in edge["highlight"] for edge in found["edges"])
    narrowed = api.query(query, q="robot*", f={"qualityMin": 50})["articles"]
    assert paths(narrowed) == [newsroom["robots"]]
    assert narrowed["totalCount"] == 1
    phrase = api.query(query, q='"fusion reactor"')["articles"]
    assert paths(phrase) == [newsroom["fusion"]]
    either = api.query(query, q="drones OR tokamak")["articles"]
    assert set(paths(either)) == {newsroom["drones"], newsroom["fusion"]}


def test_search_pages_both_ways_with_every_ordering(api: Api, newsroom: dict[str, str]) -> None:
    query = """query($o: [ArticleOrder!], $a: String, $b: String, $first: Int, $last: Int) {
      articles(search: "robot* OR fusion", orderBy: $o, first: $first, after: $a, last: $last,
               before: $b) { edges { node { path } } pageInfo { endCursor startCursor } } }"""
    for order in (None, [{"field": "TITLE", "direction": "ASC"}], [{"field": "QUALITY"}]):
        everything = paths(api.query(query, o=order, first=10)["articles"])
        assert len(everything) == 4
        first = api.query(query, o=order, first=2)["articles"]
        rest = api.query(query, o=order, first=10, a=first["pageInfo"]["endCursor"])["articles"]
        assert paths(first) + paths(rest) == everything
        back = api.query(query, o=order, last=2, b=rest["pageInfo"]["startCursor"])["articles"]
        assert paths(back) == paths(first)


@pytest.mark.parametrize(
    ("search", "mode", "message"),
    [
        ('"unclosed', "SIMPLE", "unclosed quote"),
        ("!!! ---", "SIMPLE", "no words"),
        ("AND OR (", "FTS5", "search cannot be understood"),
        ("nosuchcolumn: robots", "FTS5", "search cannot be understood"),
    ],
)
@pytest.mark.parametrize(
    "entry",
    [
        "articles(search: $q, searchMode: MODE) { totalCount }",
        "articleFacets(search: $q, searchMode: MODE) { totalCount }",
        "articleFacets(search: $q, searchMode: MODE) { topics { count } }",
        'provider(domain: "example.com") { articles(search: $q, searchMode: MODE) { totalCount } }',
        'topic(name: "Robotics") { articles(search: $q, searchMode: MODE) '
        "{ edges { highlight } } }",
    ],
)
def test_malformed_search_is_a_clear_error(
    api: Api, newsroom: dict[str, str], search: str, mode: str, message: str, entry: str
) -> None:
    """Every entry point that takes `search` answers bad syntax the same way."""
    query = "query($q: String!) { " + entry.replace("MODE", mode) + " }"
    body = api.post(query, {"q": search})
    assert message in body["errors"][0]["message"], body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_user_text_with_fts_operators_is_searched_safely(
    api: Api, newsroom: dict[str, str]
) -> None:
    data = api.query('{ articles(search: "AT&T NEAR( robots* -") { totalCount } }')
    assert data["articles"]["totalCount"] >= 0


def test_facets_count_the_selection(api: Api, newsroom: dict[str, str]) -> None:
    data = api.query(
        """{ articleFacets(filter: {topics: ["robotics"]}) { totalCount
             topics { topic { name } count } providers { provider { domain } count }
             months { month count } published { published count } } }"""
    )["articleFacets"]
    assert data["totalCount"] == 3
    assert data["topics"][0] == {"topic": {"name": "Robotics"}, "count": 3}
    assert data["providers"] == [{"provider": {"domain": "example.com"}, "count": 3}]
    assert data["months"] == [{"month": "2024-03", "count": 2}, {"month": "2024-02", "count": 1}]
    assert data["published"] == [{"published": True, "count": 2}, {"published": False, "count": 1}]
    searched = api.query('{ articleFacets(search: "drones") { totalCount } }')
    assert searched["articleFacets"]["totalCount"] == 1


def test_node_and_nodes_decode_every_kind_of_id(api: Api, newsroom: dict[str, str]) -> None:
    ids = api.query(
        """{ article(path: "_news/2024-03-02-fusion.md") { id provider { id } topics { id } } }"""
    )["article"]
    wanted = [ids["id"], ids["provider"]["id"], ids["topics"][0]["id"]]
    data = api.query(
        """query($ids: [ID!]!, $one: ID!) {
          node(id: $one) { id ... on Article { path } }
          nodes(ids: $ids) { __typename id ... on Provider { domain } ... on Topic { name } } }""",
        ids=wanted,
        one=wanted[0],
    )
    assert data["node"]["path"] == newsroom["fusion"]
    assert [n["__typename"] for n in data["nodes"]] == ["Article", "Provider", "Topic"]
    assert data["nodes"][1]["domain"] == "science.example"
    assert data["nodes"][2]["name"] == "Energy"
    assert "not a valid node id" in api.errors('{ node(id: "%%%") { id } }')[0]
    assert "not a valid node id" in api.errors('{ node(id: "Zm9vOmJhcg") { id } }')[0]


def test_nodes_reads_providers_and_topics_in_one_statement_each(
    api: Api, newsroom: dict[str, str]
) -> None:
    """`nodes(ids:)` batches: one SELECT for all providers and one for all topics asked."""
    everything = api.query(
        "{ providers(first: 100) { edges { node { id domain } } }"
        "  topics(first: 100) { edges { node { id name } } } }"
    )
    providers = [edge["node"] for edge in everything["providers"]["edges"]]
    topics = [edge["node"] for edge in everything["topics"]["edges"]]
    assert len(providers) >= 3 and len(topics) >= 5
    ids = [node["id"] for pair in zip(providers * 2, topics, strict=False) for node in pair]
    query = """query($ids: [ID!]!) {
        nodes(ids: $ids) { id ... on Provider { domain } ... on Topic { name } } }"""
    stop = api.count_statements()
    found = api.query(query, ids=ids)["nodes"]
    statements = stop()
    assert [node["id"] for node in found] == ids
    assert len([s for s in statements if "FROM providers" in s]) == 1, statements
    assert len([s for s in statements if "FROM topics" in s]) == 1, statements


def test_ids_are_stable_when_an_article_is_deleted_and_recreated(
    api: Api, write_article: WriteArticle, ingest: Callable[..., Any]
) -> None:
    path = write_article()
    ingest()
    before = api.query("{ articles { edges { node { id } } } }")["articles"]["edges"][0]
    path.unlink()
    ingest()
    assert (
        api.query("query($i: ID!) { node(id: $i) { id } }", i=before["node"]["id"])["node"] is None
    )
    write_article()
    ingest()
    after = api.query("{ articles { edges { node { id } } } }")["articles"]["edges"][0]
    assert after == before


def test_providers_and_topics_list_look_up_and_rank(api: Api, newsroom: dict[str, str]) -> None:
    data = api.query(
        """{ providers(orderBy: {field: ARTICLE_COUNT, direction: DESC}, first: 2) {
               totalCount edges { node { domain articleCount } } pageInfo { hasNextPage } }
             provider(domain: "EXAMPLE.com") { name topTopics(limit: 1) { topic { name } count }
               articles(first: 1, filter: {topics: ["ai"]}) { edges { node { path } } } }
             topics(search: "ro", orderBy: {field: NAME}) { edges { node { name } } }
             topic(name: "ROBOTICS") { name articleCount relatedTopics { topic { name } count }
               articles(last: 1) { edges { node { path } } } } }"""
    )
    providers = data["providers"]
    assert providers["totalCount"] == 4
    assert providers["edges"][0]["node"] == {"domain": "example.com", "articleCount": 3}
    assert providers["pageInfo"]["hasNextPage"] is True
    provider = data["provider"]
    assert provider["topTopics"] == [{"topic": {"name": "Robotics"}, "count": 3}]
    assert paths(provider["articles"]) == [newsroom["ai"]]
    assert [e["node"]["name"] for e in data["topics"]["edges"]] == ["Drones", "Robotics"]
    topic = data["topic"]
    assert topic["articleCount"] == 3
    assert {"topic": {"name": "AI"}, "count": 1} in topic["relatedTopics"]
    assert paths(topic["articles"]) == [newsroom["archived"]]


def test_ingest_status_and_errors(api: Api, newsroom: dict[str, str]) -> None:
    data = api.query(
        """{ ingestStatus { articleCount providerCount topicCount skippedCount errorCount
                            lastIngestAt }
             ingestErrors(first: 10) { totalCount edges { cursor node {
                path line column field message firstSeen lastSeen } } } }"""
    )
    status = data["ingestStatus"]
    assert status["articleCount"] == 5
    assert status["skippedCount"] == 1
    assert status["errorCount"] == 1
    assert status["providerCount"] == 4
    assert status["lastIngestAt"].endswith("Z")
    errors = data["ingestErrors"]
    assert errors["totalCount"] == 1
    error = errors["edges"][0]["node"]
    assert error["path"] == "_news/2024-03-04-broken.md"
    assert error["message"] and error["firstSeen"] <= error["lastSeen"]
    after = api.query(
        "query($a: String) { ingestErrors(after: $a) { edges { cursor } } }",
        a=errors["edges"][0]["cursor"],
    )
    assert after["ingestErrors"]["edges"] == []


def test_empty_store_has_null_last_ingest(api: Api) -> None:
    data = api.query("{ ingestStatus { articleCount lastIngestAt } }")
    assert data["ingestStatus"] == {"articleCount": 0, "lastIngestAt": None}


def test_cursor_pages_neither_repeat_nor_skip_when_newer_articles_arrive(
    api: Api, content_dir: Path, write_article: WriteArticle, ingest: Callable[..., Any]
) -> None:
    write_demo_content(content_dir, count=30, seed=3)
    ingest()
    query = (
        "query($a: String) { articles(first: 7, after: $a) { edges { node { path } } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    expected = paths(api.query("{ articles(first: 100) { edges { node { path } } } }")["articles"])
    seen: list[str] = []
    after = None
    newest = datetime(2030, 1, 1, tzinfo=UTC)
    for round_ in range(10):
        page = api.query(query, a=after)["articles"]
        seen += paths(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        write_article(
            f"_news/new-{round_}.md", title=f"Breaking {round_}",
            webUrl=f"https://example.com/breaking/{round_}",
            publishedDateTime=newest + timedelta(hours=round_),
        )  # fmt: skip
        ingest()
    assert seen == expected


def test_healthz_answers(api: Api) -> None:
    response = api.client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_graphql_get_queries_and_graphiql(api: Api) -> None:
    response = api.client.get("/graphql", params={"query": "{ ingestStatus { articleCount } }"})
    assert response.json() == {"data": {"ingestStatus": {"articleCount": 0}}}
    page = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" in page.text.lower()


def test_providers_topics_and_filters_fold_case_alike_beyond_ascii(
    api: Api, write_article: WriteArticle, ingest: Callable[..., Any]
) -> None:
    """One rule (NFKC, then Unicode case folding) for provider search, topic search, topic
    and domain filters and lookups: "école" finds "École Normale", "ＡＩ" is "ai"."""
    write_article(
        "a.md",
        webUrl="https://ens.example/a",
        provider={"name": "École Normale", "domain": "ENS.Example"},
        topics=["Éducation", "AI", "ＡＩ", "Straße"],
    )
    ingest()
    for search in ("école", "ÉCOLE", "normale"):
        found = api.query(
            "query($q: String) { providers(search: $q) { edges { node { name domain } } } }",
            q=search,
        )["providers"]["edges"]
        assert [edge["node"] for edge in found] == [
            {"name": "École Normale", "domain": "ens.example"}
        ], search
    names = api.query("{ topics(first: 10) { edges { node { name } } } }")["topics"]["edges"]
    assert sorted(edge["node"]["name"] for edge in names) == ["AI", "Straße", "Éducation"]
    for search, expected in (("ÉDUC", "Éducation"), ("ａｉ", "AI"), ("STRASSE", "Straße")):
        found = api.query(
            "query($q: String) { topics(search: $q) { edges { node { name } } } }", q=search
        )["topics"]["edges"]
        assert [edge["node"]["name"] for edge in found] == [expected], search
    filtered = api.query(
        """query($t: [String!], $d: [String!]) { articles(filter: {topics: $t,
             providerDomains: $d}) { totalCount } }""",
        t=["ÉDUCATION"],
        d=["ens.EXAMPLE"],
    )
    assert filtered["articles"]["totalCount"] == 1
    assert api.query('{ topic(name: "STRASSE") { name } }')["topic"] == {"name": "Straße"}
    assert api.query('{ provider(domain: "Ens.Example") { name } }')["provider"] == {
        "name": "École Normale"
    }


@pytest.mark.parametrize(("field", "key"), [("providers", "domain"), ("topics", "name")])
def test_provider_and_topic_lists_page_by_cursor_without_repeats_or_gaps(
    api: Api, newsroom: dict[str, str], field: str, key: str
) -> None:
    query = f"""query($a: String) {{ {field}(first: 1, after: $a, orderBy: {{field: NAME}}) {{
        totalCount edges {{ node {{ {key} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    seen: list[str] = []
    cursor = None
    while True:
        page = api.query(query, a=cursor)[field]
        seen += [edge["node"][key] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] > 1
    assert seen == sorted(seen, key=str.casefold) and len(set(seen)) == len(seen)
    other = "topics" if field == "providers" else "providers"
    errors = api.errors(f"query($a: String) {{ {other}(after: $a) {{ totalCount }} }}", a=cursor)
    assert errors, "a cursor of one list must not be accepted by the other"
