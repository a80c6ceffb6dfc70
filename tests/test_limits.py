"""Hostile queries: every limit refuses the query just over it and serves the one just under.

Each refusal names the limit, its value and the setting that changes it.
"""

from __future__ import annotations

import time

from graphql import get_introspection_query

from tests.edge_fixtures import GRAPHQL_RESPONSE, Serve, serve, stored

__all__ = ["serve", "stored"]


LEAVES = {1: "title", 2: "provider { domain }", 3: "provider { articles(first: 1) { totalCount } }"}


def nested(depth: int) -> str:
    """A query exactly `depth` fields deep, one row per page (so it stays cheap)."""
    levels = (depth - 4) // 3
    inner = LEAVES[depth - 3 - 3 * levels]
    for _ in range(levels):
        inner = f"mentionedBy(first: 1) {{ edges {{ node {{ {inner} }} }} }}"
    return f"{{ articles(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"


def depth_of(query: str) -> int:
    from graphql import OperationDefinitionNode, parse

    from newsgraph.gql.cost import PageSizes, measure
    from newsgraph.gql.schema import build_schema

    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return measure(build_schema()._schema, operation, [], PageSizes()).depth


def test_depth_over_the_limit_is_refused_with_the_setting_named(serve: Serve) -> None:
    api = serve(max_query_depth=8)
    over, under = nested(9), nested(8)
    assert (depth_of(over), depth_of(under)) == (9, 8)
    assert api.messages(over) == [
        "query depth 9 exceeds the limit of 8 (NEWSGRAPH_MAX_QUERY_DEPTH)"
    ]
    assert api.data(under)["articles"]["edges"]


def test_default_depth_limit_is_12(serve: Serve) -> None:
    api = serve()
    assert depth_of(nested(13)) == 13
    assert "limit of 12 (NEWSGRAPH_MAX_QUERY_DEPTH)" in api.messages(nested(13))[0]
    api.data(nested(12))


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{n}: __typename" for n in range(count)) + " }"


def test_aliases_over_the_limit_are_refused(serve: Serve) -> None:
    api = serve()
    assert api.messages(aliases(31)) == [
        "alias count 31 exceeds the limit of 30 (NEWSGRAPH_MAX_ALIASES)"
    ]
    assert len(api.data(aliases(30))) == 30


def test_aliases_inside_fragments_count_once_per_spread(serve: Serve) -> None:
    """The old Strawberry bypass: aliases hidden in a fragment spread many times."""
    api = serve()
    fragment = "fragment Ten on Query { " + " ".join(f"f{n}: __typename" for n in range(10)) + " }"
    inline = "... on Query { " + " ".join(f"i{n}: __typename" for n in range(10)) + " }"
    assert (
        "alias count 40 exceeds" in api.messages(f"{{ ...Ten ...Ten ...Ten ...Ten }} {fragment}")[0]
    )
    assert (
        "alias count 40 exceeds"
        in api.messages(f"{{ ...Ten ...Ten ...Ten {inline} }} {fragment}")[0]
    )
    assert len(api.data(f"{{ ...Ten ...Ten ...Ten }} {fragment}")) == 10


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the one below twice: 2**levels aliases in a few lines."""
    fragments = ["fragment F0 on Query { a: __typename }"]
    for level in range(1, levels + 1):
        fragments.append(f"fragment F{level} on Query {{ ...F{level - 1} ...F{level - 1} }}")
    return f"{{ ...F{levels} }} " + " ".join(fragments)


def seconds_to_measure(query: str, runs: int = 5) -> float:
    """The fastest of a few runs of the size rule's measure (least disturbed by other load)."""
    from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

    from newsgraph.gql.cost import PageSizes, measure
    from newsgraph.gql.schema import build_schema

    schema = build_schema()._schema
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        measure(schema, operation, fragments, PageSizes())
        best = min(best, time.perf_counter() - started)
    return best


def test_a_fragment_bomb_is_measured_in_linear_time_and_refused(serve: Serve) -> None:
    api = serve()
    message = api.messages(fragment_bomb(39))[0]
    assert "alias count 549,755,813,888 exceeds the limit of 30" in message
    # Linear in the document: 39 levels cost about twice 20 levels (a ratio measured in this
    # run, not a wall-clock bound); walking every spread would cost 2**19 times more.
    assert seconds_to_measure(fragment_bomb(39)) < 10 * seconds_to_measure(fragment_bomb(20))


def test_tokens_over_the_limit_are_refused_before_parsing_finishes(serve: Serve) -> None:
    api = serve(max_query_tokens=100)
    over = "{ " + "__typename " * 99 + "}"  # 101 tokens
    under = "{ " + "__typename " * 98 + "}"  # 100 tokens
    assert api.messages(over) == [
        "query document has more than 100 tokens, the limit (NEWSGRAPH_MAX_QUERY_TOKENS); "
        "parsing stopped there"
    ]
    assert api.data(under) == {"__typename": "Query"}


PAGES = """{ articles(first: 100) { edges { node { mentionedBy(first: 100) { edges { node {
    %s } } } } } } }"""


def test_cost_multiplies_nested_page_sizes(serve: Serve) -> None:
    api = serve()
    # 1 + 100 × (edges + node + mentionedBy + 100 × (edges + node + fields))
    assert api.messages(PAGES % "id title path") == [
        "query cost 50,301 exceeds the limit of 50,000 (NEWSGRAPH_MAX_QUERY_COST); lower "
        "first/last/limit (a page size from a variable counts as 100)"
    ]
    api.data(PAGES % "id title")  # 40,301


def test_cost_counts_fragments_and_variables_at_their_worst(serve: Serve) -> None:
    api = serve(max_query_cost=400)
    titles = "fragment Titles on ArticleConnection { edges { node { id title } } }"
    spread_twice = "{ a: articles(first: 50) { ...Titles } b: articles(first: 50) { ...Titles } }"
    inline = "{ articles(first: 100) { ... on ArticleConnection { edges { node { id title } } } } }"
    by_variable = "query($n: Int) { articles(first: $n) { ...Titles } } "
    assert "query cost 402 exceeds the limit of 400" in api.messages(spread_twice + titles)[0]
    assert "query cost 401 exceeds the limit of 400" in api.messages(inline)[0]
    assert "query cost 401 exceeds the limit of 400" in api.messages(by_variable + titles, n=1)[0]
    api.data("{ articles(first: 99) { ...Titles } } " + titles)  # 397


def test_introspection_query_passes_the_default_limits(serve: Serve) -> None:
    api = serve()
    data = api.data(get_introspection_query(descriptions=True, specified_by_url=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_introspection_can_be_turned_off(serve: Serve) -> None:
    api = serve(introspection=False)
    message = api.messages("{ __schema { queryType { name } } }")[0]
    assert message.startswith("introspection is disabled on this server (NEWSGRAPH_INTROSPECTION)")
    assert api.data("{ __typename }") == {"__typename": "Query"}


def test_page_size_over_the_limit_is_refused(serve: Serve) -> None:
    api = serve(max_page_size=10)
    assert (
        "`first` must be at most 10 (got 11)"
        in api.messages("{ articles(first: 11) { totalCount } }")[0]
    )
    api.data("{ articles(first: 10) { totalCount } }")


def test_max_page_size_zero_means_the_default_for_paging_and_cost_alike(serve: Serve) -> None:
    """0 is "the default" (100) everywhere, so a page size from a variable still costs 100."""
    api = serve(max_page_size=0, max_query_cost=400)
    titles = "fragment Titles on ArticleConnection { edges { node { id title } } }"
    by_variable = "query($n: Int) { articles(first: $n) { ...Titles } } " + titles
    assert "query cost 401 exceeds the limit of 400" in api.messages(by_variable, n=1)[0]
    assert (
        "`first` must be at most 100 (got 101)"
        in api.messages("{ articles(first: 101) { totalCount } }")[0]
    )
    api.data("{ articles(first: 99) { ...Titles } } " + titles)  # 397


def test_ids_and_limit_from_variables_cost_their_own_maximum(serve: Serve) -> None:
    """`nodes(ids:)` takes 100 ids and `articleFacets(limit:)` 100 counts whatever the page
    size, so a variable there counts as 100, not as `max_page_size`."""
    api = serve(max_page_size=10, max_query_cost=200)
    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Article { title } } }"
    assert "query cost 201 exceeds the limit of 200" in api.messages(nodes, ids=[])[0]
    facets = "query($n: Int!) { articleFacets(limit: $n) { topics { count } } }"
    assert "query cost 201 exceeds the limit of 200" in api.messages(facets, n=1)[0]


def test_limit_errors_are_400_without_data_for_graphql_response_json(serve: Serve) -> None:
    api = serve(max_aliases=1)
    response = api.client.post(
        "/graphql", json={"query": aliases(2)}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX"}
