"""Clients are compiled against `schema.graphql`: it must match the code, and it may only
break a query when the README's changelog says so.

Every version of `schema.graphql` in the git history, then the working tree's, then what the
code builds, is compared with the one before it using graphql-core's `find_breaking_changes`;
each breaking change must be named (by its `Type.field` coordinate) in the `## Changelog`
section. Dangerous changes (new enum values, changed defaults) are reported, not failed.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from newsgraph.serve import print_schema

ROOT = Path(__file__).resolve().parents[1]
# "Field Article.slug was removed.", "Argument Query.article(path:) ...", "Article was removed."
_FIELD = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_]\w*")
_NAME = re.compile(r"[A-Za-z_]\w*")


def changelog() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^## Changelog\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert found, "README.md needs a `## Changelog` section"
    return found.group(1)


def unrecorded_breaking_changes(old_sdl: str, new_sdl: str, log: str) -> list[str]:
    """Breaking changes from `old_sdl` to `new_sdl` whose coordinate `log` does not name."""
    old, new = build_schema(old_sdl), build_schema(new_sdl)
    for danger in find_dangerous_changes(old, new):
        print(f"dangerous schema change: {danger.description}")  # shown with `pytest -rA`
    missing = []
    for change in find_breaking_changes(old, new):
        coordinate = _FIELD.search(change.description) or _NAME.match(change.description)
        name = coordinate.group(0) if coordinate else change.description
        if not re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", log):
            missing.append(change.description)
    return missing


def committed_versions() -> list[str]:
    """`schema.graphql` as each commit of main's own line that touched it left it, oldest first.

    `--first-parent`: a branch merged into main lands as one step; walking every commit would
    interleave branches' versions (one branch's file without another's new field reads as a
    removal).
    """
    command = ["git", "log", "--first-parent", "--reverse", "--format=%H", "--", "schema.graphql"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if run.returncode != 0:  # not a git checkout (an unpacked sdist): nothing to compare
        return []
    return [_git("show", f"{commit}:schema.graphql") for commit in run.stdout.split()]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_schema_file_is_exactly_what_newsgraph_schema_prints() -> None:
    command = [sys.executable, "-m", "newsgraph", "schema"]
    printed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert printed == print_schema()
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == printed, "schema.graphql is stale: run `newsgraph schema > schema.graphql`"


def test_every_breaking_change_in_the_schema_history_is_in_the_changelog() -> None:
    versions = [
        *committed_versions(),
        (ROOT / "schema.graphql").read_text(encoding="utf-8"),
        print_schema(),
    ]
    log = changelog()
    missing = [
        change
        for old, new in itertools.pairwise(versions)
        for change in unrecorded_breaking_changes(old, new, log)
    ]
    assert missing == [], "breaking schema changes missing from the README's changelog"


_OLD = "type Query { article(path: String): Article }\ntype Article { title: String slug: String }"
_NEW = "type Query { article(path: String!): Article }\ntype Article { title: String! }"


def test_a_breaking_change_needs_its_changelog_entry() -> None:
    assert sorted(unrecorded_breaking_changes(_OLD, _NEW, "- Added `Article.titles`.")) == [
        "Argument Query.article(path:) has changed type from String to String!.",
        "Field Article.slug was removed.",
    ]
    log = "- Removed `Article.slug` (use path). `Query.article(path:)` is now required."
    assert unrecorded_breaking_changes(_OLD, _NEW, log) == []
    # Back again: widening an output type to nullable breaks clients; relaxing an argument not.
    assert unrecorded_breaking_changes(_NEW, _OLD, "") == [
        "Field Article.title changed type from String! to String."
    ]
