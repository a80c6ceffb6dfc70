"""Persisted queries: Apollo's automatic persisted queries and trusted-document manifests."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.live_fixtures import GqlSocket, LiveApp

pytest_plugins = ["tests.live_fixtures"]
TIMEOUT = 10.0
QUERY = "query Count { articles { totalCount } }"
OTHER = "{ ingestStatus { articleCount } }"

Server = Callable[..., "LiveApp"]
Sockets = Callable[..., "GqlSocket"]


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def post(server: LiveApp, body: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    return httpx.post(
        f"http://{server.address}/graphql", json=body, headers={"accept": accept},
        timeout=TIMEOUT,
    )  # fmt: skip


def get(server: LiveApp, **params: str) -> httpx.Response:
    return httpx.get(f"http://{server.address}/graphql", params=params, timeout=TIMEOUT)


def test_apq_asks_for_an_unknown_hash_then_remembers_the_query(live_server: Server) -> None:
    server = live_server()
    digest = sha(QUERY)
    missing = post(server, {"extensions": apq(digest)})
    assert missing.status_code == 200
    [error] = missing.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert missing.headers["cache-control"] == "no-store"
    registered = post(server, {"query": QUERY, "extensions": apq(digest)})
    assert registered.json() == {"data": {"articles": {"totalCount": 0}}}
    by_hash = post(server, {"extensions": apq(digest)})
    assert by_hash.json() == registered.json()
    over_get = get(server, extensions=json.dumps(apq(digest)), operationName="Count")
    assert over_get.json() == registered.json()
    assert "etag" in over_get.headers  # a GET by hash is as cacheable as any GET


def test_apq_with_the_new_media_type_is_a_404_for_an_unknown_hash(live_server: Server) -> None:
    server = live_server()
    response = post(server, {"extensions": apq(sha(QUERY))}, "application/graphql-response+json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_query_that_does_not_match_its_hash_is_refused(live_server: Server) -> None:
    server = live_server()
    response = post(server, {"query": QUERY, "extensions": apq(sha(OTHER))})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert (
        post(server, {"extensions": apq(sha(OTHER))}).json()["errors"][0]["extensions"]["code"]
        == "PERSISTED_QUERY_NOT_FOUND"
    )  # nothing was registered
    bad_version = {"persistedQuery": {"version": 2, "sha256Hash": sha(QUERY)}}
    assert post(server, {"query": QUERY, "extensions": bad_version}).status_code == 400


def test_the_apq_registry_is_bounded(live_server: Server) -> None:
    server = live_server(apq_registry_size=2)
    documents = [f"{{ articles(first: {n}) {{ totalCount }} }}" for n in (1, 2, 3)]
    for document in documents:
        post(server, {"query": document, "extensions": apq(sha(document))})
    oldest = post(server, {"extensions": apq(sha(documents[0]))}).json()
    assert oldest["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    newest = post(server, {"extensions": apq(sha(documents[2]))}).json()
    assert newest == {"data": {"articles": {"totalCount": 0}}}


def apollo_manifest(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    operations = [{"id": sha(d), "name": None, "type": "query", "body": d} for d in documents]
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
    path.write_text(json.dumps(manifest))
    return path


def plain_manifest(tmp_path: Path, documents: dict[str, str]) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps(documents))
    return path


@pytest.mark.parametrize("form", ["apollo", "plain"])
def test_trusted_documents_only_on_every_transport(
    live_server: Server, sockets: Sockets, tmp_path: Path, form: str
) -> None:
    if form == "apollo":
        manifest, document_id = apollo_manifest(tmp_path, QUERY), sha(QUERY)
    else:
        manifest, document_id = plain_manifest(tmp_path, {"count-v1": QUERY}), "count-v1"
    server = live_server(persisted_queries=str(manifest), persisted_only=True)
    answer = {"data": {"articles": {"totalCount": 0}}}
    assert post(server, {"documentId": document_id}).json() == answer
    assert get(server, documentId=document_id).json() == answer
    assert post(server, {"extensions": apq(sha(QUERY))}).json() == answer
    assert post(server, {"query": QUERY}).json() == answer  # a trusted document, sent in full
    refused = post(server, {"query": OTHER})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    registering = post(server, {"query": OTHER, "extensions": apq(sha(OTHER))})
    assert registering.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    unknown = post(server, {"documentId": "nope"}).json()
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    client = sockets(server.address)
    client.subscribe("ad-hoc", OTHER)
    message = client.receive()
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    client.subscribe("trusted", QUERY)
    assert client.next_data() == answer["data"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{ not json", "not JSON"),
        ("[1, 2]", "expected Apollo's persisted-query manifest"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, '
            '"operations": [{"id": "abc", "body": "{ articles { totalCount } }"}]}',
            "operations[0]: `id` is not the sha256 of `body`",
        ),
    ],
)
def test_a_bad_manifest_stops_start_up_naming_the_file(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    manifest = tmp_path / "manifest.json"
    if content is not None:
        manifest.write_text(content)
    (tmp_path / "content").mkdir()
    done = subprocess.run(
        [
            sys.executable, "-m", "newsgraph", "serve", "--content", str(tmp_path / "content"),
            "--db", str(tmp_path / "n.db"), "--port", "0", "--persisted-queries", str(manifest),
            "--persisted-only",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert str(manifest) in done.stderr
    assert problem in done.stderr


def test_persisted_only_without_a_manifest_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newsgraph", "serve", "--db", str(tmp_path / "n.db"),
         "--content", str(tmp_path), "--persisted-only"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "persisted_only: needs persisted_queries" in done.stderr
