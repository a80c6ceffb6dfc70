"""The collection types and queries over real HTTP: fields, links both ways, pages, search."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.collection_fixtures import write_site
from tests.gql_fixtures import Api, api

__all__ = ["api"]

SUMMIT = "_events/2030-05-04-robotics-summit.md"
WORKSHOP = "_events/2019-02-01-vision-workshop.md"
ADA = "_people/ada-example.md"
SORTERS = "_companies/sorters.md"
VIDEO = "_learning/videos/sorting-part-1.md"
BOOK = "_learning/books/robots-that-recycle.md"
COLLECTION = "_learning/collections/learn-robot-sorting.md"


@pytest.fixture
def site(content_dir: Path, ingest: Callable[..., Any], write_article: Callable[..., Path]) -> None:
    write_site(content_dir)
    write_article(topics=["Robotics"], body="Sorting robots at work.")
    ingest()


def edge_paths(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["path"] for edge in connection["edges"]]


def test_every_collection_has_typed_fields(api: Api, site: None) -> None:
    data = api.query(
        """query($e: String!, $p: String!, $o: String!, $b: String!) {
          event(path: $e) { __typename name type startDate endDate location website tags
            provider { domain } topics { name } html wordCount headings { depth text id } }
          person(path: $p) { name bio location heat website twitter { username followers }
            googleScholar { citations } }
          organization(path: $o) { name overview domain locations size yearFounded
            fundingStatus videos linkedin { url followers } }
          learningResource(path: $b) { title kind price free length lengthSeconds levels
            ratings { count average } authors url provider { domain } }
        }""",
        e=SUMMIT, p=ADA, o=SORTERS, b=BOOK,
    )  # fmt: skip
    event = data["event"]
    assert (event["__typename"], event["type"], event["location"]) == (
        "Event", "conference", "Oakland, CA"
    )  # fmt: skip
    assert event["startDate"] == "2030-05-04T16:00:00.000000Z"
    assert event["html"] == "<p>Come and see <strong>robots</strong>.</p>\n"
    assert event["provider"] == {"domain": "summit.example.org"}
    assert event["topics"] == [{"name": "Robotics"}] and event["tags"] == ["Industry"]
    person = data["person"]
    assert person["bio"] == "Builds sorting robots." and person["twitter"]["followers"] == 1200
    organization = data["organization"]
    assert organization["domain"] == "sorters.example.com"
    assert organization["locations"] == ["Porto", "Lisbon"] and organization["yearFounded"] == 2021
    book = data["learningResource"]
    assert (book["kind"], book["free"], book["lengthSeconds"]) == ("BOOK", False, None)
    assert book["ratings"] == {"count": 12, "average": 4.5} and book["authors"] == ["Ada Example"]


def test_links_resolve_both_ways(api: Api, site: None) -> None:
    data = api.query(
        """query($p: String!, $o: String!, $c: String!, $v: String!) {
          person(path: $p) { affiliation { name domain provider { domain name }
            organization { path } } }
          organization(path: $o) { people { path } }
          learningResource(path: $c) { kind items { path kind } }
          video: learningResource(path: $v) { includedIn { path } featuredContent }
        }""",
        p=ADA, o=SORTERS, c=COLLECTION, v=VIDEO,
    )  # fmt: skip
    affiliation = data["person"]["affiliation"]
    assert affiliation["organization"] == {"path": SORTERS}
    # The video's provider has the affiliation's domain: the same Provider node.
    assert affiliation["provider"] == {"domain": "sorters.example.com", "name": "Sorters"}
    assert data["organization"]["people"] == [{"path": ADA}]
    items = data["learningResource"]["items"]
    assert items == [{"path": VIDEO, "kind": "VIDEO"}, {"path": BOOK, "kind": "BOOK"}]
    assert data["video"]["includedIn"] == [{"path": COLLECTION}]
    assert 'sandbox="' in data["video"]["featuredContent"]


def test_a_link_appears_when_the_file_it_names_arrives(
    api: Api, site: None, content_dir: Path, ingest: Callable[..., Any]
) -> None:
    query = "query($c: String!) { learningResource(path: $c) { items { path } } }"
    assert len(api.query(query, c=COLLECTION)["learningResource"]["items"]) == 2
    later = content_dir / "_learning/videos/not-written-yet.md"
    later.write_text("---\ntitle: Later\ntype: video\n---\n", encoding="utf-8")
    ingest()
    items = api.query(query, c=COLLECTION)["learningResource"]["items"]
    assert [item["path"] for item in items][-1] == "_learning/videos/not-written-yet.md"


def test_node_and_nodes_resolve_every_collection_by_stable_id(api: Api, site: None) -> None:
    ids = api.query(
        """query($e: String!, $b: String!) { event(path: $e) { id }
             learningResource(path: $b) { id } }""",
        e=SUMMIT, b=BOOK,
    )  # fmt: skip
    event_id, book_id = ids["event"]["id"], ids["learningResource"]["id"]
    data = api.query(
        """query($ids: [ID!]!, $one: ID!) {
          nodes(ids: $ids) { __typename ... on Content { path } }
          node(id: $one) { ... on Event { name } }
        }""",
        ids=[event_id, book_id], one=event_id,
    )  # fmt: skip
    assert data["nodes"] == [
        {"__typename": "Event", "path": SUMMIT},
        {"__typename": "LearningResource", "path": BOOK},
    ]
    assert data["node"] == {"name": "Robotics Summit 2030"}
    errors = api.errors("query($id: ID!) { person(id: $id) { name } }", id=event_id)
    assert "not a Person" in errors[0]


def test_events_filter_by_time_and_location_and_page_by_cursor(api: Api, site: None) -> None:
    upcoming = api.query(
        "{ events(filter: {when: UPCOMING}) { totalCount edges { node { path } } } }"
    )
    assert edge_paths(upcoming["events"]) == [SUMMIT]
    past = api.query("{ events(filter: {when: PAST}) { edges { node { path } } } }")
    assert edge_paths(past["events"]) == [WORKSHOP]
    online = api.query('{ events(filter: {location: "onLINE"}) { edges { node { path } } } }')
    assert edge_paths(online["events"]) == [WORKSHOP]
    ranged = api.query(
        '{ events(filter: {startsAfter: "2020-01-01T00:00:00Z"}) { edges { node { path } } } }'
    )
    assert edge_paths(ranged["events"]) == [SUMMIT]
    first = api.query("{ events(first: 1) { totalCount edges { cursor node { path } } "
                      "pageInfo { hasNextPage endCursor } } }")["events"]  # fmt: skip
    assert first["totalCount"] == 2 and edge_paths(first) == [WORKSHOP]
    assert first["pageInfo"]["hasNextPage"]
    second = api.query(
        "query($a: String!) { events(first: 1, after: $a) { edges { node { path } } "
        "pageInfo { hasNextPage hasPreviousPage } } }",
        a=first["pageInfo"]["endCursor"],
    )["events"]
    assert edge_paths(second) == [SUMMIT]
    assert second["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    back = api.query(
        "query($b: String!) { events(last: 1, before: $b) { edges { node { path } } } }",
        b=api.query("{ events(last: 1) { pageInfo { startCursor } } }")["events"]["pageInfo"][
            "startCursor"
        ],
    )["events"]
    assert edge_paths(back) == [WORKSHOP]
    errors = api.errors(
        "query($a: String!) { people(after: $a) { totalCount } }", a=first["pageInfo"]["endCursor"]
    )
    assert "different ordering" in errors[0]


def test_learning_filters_kind_level_free_and_orders(api: Api, site: None) -> None:
    def learned(arguments: str) -> list[str]:
        data = api.query(f"{{ learningResources({arguments}) {{ edges {{ node {{ path }} }} }} }}")
        return edge_paths(data["learningResources"])

    assert learned("filter: {kinds: [BOOK, VIDEO]}, orderBy: {field: NAME, direction: ASC}") == [
        BOOK, VIDEO
    ]  # fmt: skip
    assert learned('filter: {level: "beginner"}') == [VIDEO]
    assert learned("filter: {free: true}") == [VIDEO]
    assert learned("filter: {free: false}") == [BOOK]
    assert learned('filter: {topic: "recycling"}') == [BOOK]


def test_people_and_organizations_by_heat_and_name(api: Api, site: None) -> None:
    data = api.query(
        '{ people(filter: {name: "ada"}) { edges { node { name heat } } } '
        '  organizations(orderBy: {field: NAME, direction: ASC}, filter: {location: "lisbon"}) '
        "  { totalCount edges { node { name } } } }"
    )
    assert data["people"]["edges"] == [{"node": {"name": "Ada Example", "heat": 80}}]
    assert data["organizations"]["totalCount"] == 1


def test_a_topic_page_has_every_collection_and_facets(api: Api, site: None) -> None:
    data = api.query(
        """{ topic(name: "robotics") {
            articles { totalCount }
            events { edges { node { path } } }
            people { edges { node { path } } }
            organizations { totalCount }
            learningResources { edges { node { path } } }
            facets(collection: LEARNING) { total kinds { value count } levels { value count }
              free { value count } }
        } }"""
    )["topic"]
    assert data["articles"]["totalCount"] == 1
    assert edge_paths(data["events"]) == [SUMMIT]
    assert edge_paths(data["people"]) == [ADA]
    assert data["organizations"]["totalCount"] == 0
    assert sorted(edge_paths(data["learningResources"])) == sorted([VIDEO, COLLECTION])
    facets = data["facets"]
    assert facets["total"] == 2
    assert facets["kinds"] == [{"value": "collection", "count": 1}, {"value": "video", "count": 1}]
    assert facets["levels"] == [{"value": "Beginner", "count": 1}]
    assert facets["free"] == [{"value": "true", "count": 1}]
    errors = api.errors('{ topic(name: "robotics") { facets(collection: ARTICLE) { total } } }')
    assert "articleFacets" in errors[0]


def test_search_spans_every_collection_with_highlights_and_cursors(api: Api, site: None) -> None:
    query = """query($q: String!, $first: Int, $after: String, $in: [ContentCollection!]) {
      search(query: $q, first: $first, after: $after, collections: $in) {
        edges { cursor highlight collection node { __typename
          ... on Article { path } ... on Content { path } } }
        pageInfo { hasNextPage endCursor } } }"""
    found = api.query(query, q="robots")["search"]
    kinds = {edge["node"]["__typename"] for edge in found["edges"]}
    assert {"Article", "Event", "LearningResource"} <= kinds
    assert all("<mark>" in edge["highlight"].lower() for edge in found["edges"])
    everything = [edge["node"]["path"] for edge in found["edges"]]
    paged: list[str] = []
    after = None
    while True:
        page = api.query(query, q="robots", first=2, after=after)["search"]
        paged += [edge["node"]["path"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == everything and len(paged) == len(set(paged))
    only_events = api.query(query, q="robots", **{"in": ["EVENT"]})["search"]
    assert [edge["collection"] for edge in only_events["edges"]] == ["EVENT"]
    assert api.errors(query, q='"unclosed')


def test_fts5_column_filters_work_across_collections(api: Api, site: None) -> None:
    found = api.query(
        '{ search(query: "title:robot*", searchMode: FTS5) { edges { collection } } }'
    )["search"]["edges"]
    assert {edge["collection"] for edge in found} == {"ARTICLE", "EVENT", "LEARNING"}
