"""The README is the user's manual: every command, flag and setting must be in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsgraph.config import SETTINGS
from tests.test_deploy_files import cli_commands

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli_commands()))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"newsgraph {command}" in README


@pytest.mark.parametrize(
    ("command", "flag"),
    sorted(
        (command, flag)
        for command, flags in cli_commands().items()
        for flag in flags
        if flag not in ("-h", "--help") and not flag.startswith("--no-")
    ),
)
def test_every_cli_flag_is_documented(command: str, flag: str) -> None:
    assert f"`{flag}" in README or f" {flag} " in README or f"{flag}`" in README, flag


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_configuration_table(setting: object) -> None:
    from newsgraph.config import Setting

    assert isinstance(setting, Setting)
    row = next((line for line in README.splitlines() if line.startswith(f"| `{setting.name}`")), "")
    assert row, f"no configuration row for {setting.name}"
    assert f"`{setting.env}`" in row and setting.flag in row


def test_the_two_commands_are_in_the_quick_start() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make serve" in quick_start and "make test" in quick_start


def test_the_example_article_in_the_readme_parses() -> None:
    from newsgraph.ingest.parse import parse_article

    block = README.split("```markdown\n", 1)[1].split("```", 1)[0]
    article = parse_article(block, path="_news/2024-03-01-robots.md")
    assert (article.slug, article.topics, len(article.related)) == (
        "robots", ("Robotics", "Recycling"), 1,
    )  # fmt: skip
    assert article.body == "Optional Markdown body, searchable."
