"""GraphQL over HTTP: media types, status codes, and refusals before execution."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.edge_fixtures import GRAPHQL_RESPONSE, Serve, Served, serve, stored

__all__ = ["serve", "stored"]

QUERY = "{ articles(first: 1) { totalCount } }"


@pytest.fixture
def api(serve: Serve) -> Iterator[Served]:
    yield serve()


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
    ],
)
def test_response_media_type_follows_accept(api: Served, accept: str | None, media: str) -> None:
    headers = {"accept": accept} if accept else {}
    response = api.client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.json()["data"]["articles"]["totalCount"] == 3
    assert len(response.headers["x-request-id"]) == 16


def test_unacceptable_accept_is_406(api: Served) -> None:
    response = api.client.post("/graphql", json={"query": QUERY}, headers={"accept": "text/csv"})
    assert response.status_code == 406
    assert GRAPHQL_RESPONSE in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{", None),  # does not parse
        ("{ nope }", None),  # does not validate
        ("query($n: Int!) { articles(first: $n) { totalCount } }", {"n": None}),  # variables
    ],
)
def test_request_errors_are_400_without_data_or_legacy_200(
    api: Served, query: str, variables: dict[str, object] | None
) -> None:
    body = {"query": query, "variables": variables}
    modern = api.client.post("/graphql", json=body, headers={"accept": GRAPHQL_RESPONSE})
    assert modern.status_code == 400
    assert "data" not in modern.json() and modern.json()["errors"]
    legacy = api.client.post("/graphql", json=body, headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert "data" not in legacy.json() and legacy.json()["errors"]


def test_field_errors_are_200_with_data(api: Served) -> None:
    response = api.client.post(
        "/graphql",
        json={"query": "{ articles(first: 5000) { totalCount } }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert "`first` must be at most 100" in response.json()["errors"][0]["message"]


def test_mutation_over_get_is_405_with_allow(api: Served) -> None:
    response = api.client.get("/graphql", params={"query": "mutation { x }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "cannot be sent with GET" in response.json()["errors"][0]["message"]


def test_query_over_get_works_and_browsers_get_graphiql(api: Served) -> None:
    response = api.client.get("/graphql", params={"query": QUERY})
    assert response.status_code == 200
    assert response.json()["data"]["articles"]["totalCount"] == 3
    page = api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_other_methods_are_405(api: Served) -> None:
    response = api.client.put("/graphql", json={"query": QUERY})
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", None, "multipart/form-data", "application/json; charset=latin-1"]
)
def test_unsupported_media_types_are_415(api: Served, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = api.client.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "{ __typename }"', "Unable to parse request body as JSON"),
        (b"", "Unable to parse request body as JSON"),
        (b'"{ __typename }"', "must be a JSON object"),
        (b'{"variables": {}}', "no `query`"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ __typename }", "variables": "x"}', "`variables` must be"),
        (b'{"query": "{ __typename }", "operationName": 1}', "`operationName` must be"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "no operation named 'B'"),
        (b'[{"query": "{ __typename }"}]', "batched requests are not supported"),
    ],
)
def test_bad_requests_are_400_with_a_clear_message(api: Served, body: bytes, message: str) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = api.client.post(
            "/graphql", content=body, headers={"content-type": "application/json", "accept": accept}
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == accept
        assert message in response.json()["errors"][0]["message"]


def test_body_over_the_limit_is_413_before_parsing(serve: Serve) -> None:
    api = serve(max_body_bytes=200)
    padding = " " * (200 - len('{"query": "{ __typename }"}'))
    exact = ('{"query": "{ __typename }"}' + padding).encode()
    assert len(exact) == 200
    ok = api.client.post("/graphql", content=exact, headers={"content-type": "application/json"})
    assert ok.status_code == 200
    over = api.client.post(
        "/graphql", content=exact + b" ", headers={"content-type": "application/json"}
    )
    assert over.status_code == 413
    assert over.json()["errors"][0]["message"] == (
        "request body exceeds the limit of 200 bytes (NEWSGRAPH_MAX_BODY_BYTES)"
    )


def test_chunked_body_over_the_limit_is_413(serve: Serve) -> None:
    api = serve(max_body_bytes=200)

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "x": "'
        for _ in range(50):
            yield b"0123456789"
        yield b'"}'

    response = api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
