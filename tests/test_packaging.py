"""newsgraph installs under its own name only, so it lives beside graphql-python's `gql` client.

Our `gql/`, `ingest/` and `db/` folders are installed as `newsgraph.gql`, `newsgraph.ingest` and
`newsgraph.db` (through the `newsgraph/<name>` links to them); a wheel that put a top-level
`gql` package into site-packages would overwrite the client's.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_installs_everything_under_newsgraph(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("newsgraph-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"newsgraph"}
    for package in ("db", "gql", "ingest"):
        assert f"newsgraph/{package}/__init__.py" in names
        assert f"newsgraph/{package}/py.typed" in names
    assert "newsgraph/gql/schema.py" in names


def test_the_gql_client_and_newsgraph_import_side_by_side(tmp_path: Path) -> None:
    """Run where a user would: outside the checkout, so only installed packages are found."""
    script = (
        "from gql import Client, gql\n"
        "from graphql import build_schema\n"
        "from newsgraph.gql.schema import print_sdl\n"
        "client = Client(schema=build_schema(print_sdl()))\n"
        "document = gql('{ articles(first: 1) { totalCount } }')\n"
        "assert not client.validate(document)\n"
        "import gql as client_package, newsgraph.gql as ours\n"
        "assert 'newsgraph' not in client_package.__file__, client_package.__file__\n"
        "assert ours.__name__ == 'newsgraph.gql'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
