"""The public `graphql-http` audit (GraphQL over HTTP spec) passes with no failure or warning.

The audit is the reference implementation's own list (`serverAudits`), installed by npm into
`tests/http_audit` (`make test` runs `npm ci` there); a small Node script runs it against our
real server and prints JSON. MUST failures are "error", SHOULD are "warn", MAY are "notice":
we accept none of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.gql_fixtures import Api, api

__all__ = ["api"]

AUDIT = Path(__file__).parent / "http_audit"


def test_graphql_http_audit_has_no_failures_or_warnings(api: Api) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test installs it when root)")
    if not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.skip("graphql-http is not installed: run `npm ci` in tests/http_audit (make test)")
    url = str(api.client.base_url.join("/graphql"))
    done = subprocess.run(
        [node, str(AUDIT / "audit.mjs"), url],
        capture_output=True, text=True, timeout=60, check=False, cwd=AUDIT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) > 40, results  # the whole list ran
    problems = [f"{r['status']} {r['id']} {r['name']}: {r.get('reason')}" for r in results]
    problems = [p for p, r in zip(problems, results, strict=True) if r["status"] != "ok"]
    assert not problems, "\n".join(problems)
