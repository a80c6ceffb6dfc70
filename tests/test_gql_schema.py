"""The committed schema and the README's examples cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsgraph.serve import print_schema
from tests.gql_fixtures import Api, api, newsroom

__all__ = ["api", "newsroom"]

ROOT = Path(__file__).resolve().parents[1]
README_EXAMPLES = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == print_schema(), (
        "schema.graphql is stale: run `newsgraph schema > schema.graphql`"
    )


def test_readme_has_graphql_examples() -> None:
    assert len(README_EXAMPLES) >= 6


@pytest.mark.parametrize("example", README_EXAMPLES)
def test_readme_example_runs_without_errors(
    api: Api, newsroom: dict[str, str], example: str
) -> None:
    api.query(example)
