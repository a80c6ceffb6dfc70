"""Settings come from flags, NEWSGRAPH_* variables, newsgraph.toml and defaults, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsgraph.cli import main
from newsgraph.config import ConfigError, Settings, resolve


def test_defaults_apply_when_nothing_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings, origin = resolve({}, environ={})
    assert settings == Settings()
    assert set(origin.values()) == {"default"}


def test_flag_beats_environment_beats_file_beats_default(tmp_path: Path) -> None:
    toml = tmp_path / "newsgraph.toml"
    toml.write_text('[newsgraph]\nport = 7000\nhost = "0.0.0.0"\ndebounce_ms = 80\n')
    environ = {"NEWSGRAPH_PORT": "7100", "NEWSGRAPH_HOST": "127.0.0.2"}
    settings, origin = resolve({"port": 7200}, environ=environ, config_file=toml)
    assert (settings.port, settings.host, settings.debounce_ms, settings.poll) == (
        7200, "127.0.0.2", 80, False,
    )  # fmt: skip
    assert (origin["port"], origin["host"], origin["debounce_ms"], origin["poll"]) == (
        "flag", "environment", str(toml), "default",
    )  # fmt: skip


def test_unknown_keys_are_errors_in_the_file_and_the_environment(tmp_path: Path) -> None:
    toml = tmp_path / "newsgraph.toml"
    toml.write_text("prot = 8000\n")
    with pytest.raises(ConfigError, match="unknown setting 'prot'"):
        resolve({}, environ={}, config_file=toml)
    with pytest.raises(ConfigError, match="NEWSGRAPH_PROT"):
        resolve({}, environ={"NEWSGRAPH_PROT": "1"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSGRAPH_PORT", "eighty", "port"),
        ("NEWSGRAPH_POLL", "maybe", "expected true or false"),
        ("NEWSGRAPH_LOG_FORMAT", "xml", "expected one of text, json"),
        ("NEWSGRAPH_DEBOUNCE_MS", "-5", "must not be negative"),
    ],
)
def test_bad_values_name_the_source_and_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        resolve({}, environ={name: value})
    assert name in str(caught.value)


def test_list_settings_accept_comma_separated_environment_values() -> None:
    settings, _ = resolve({}, environ={"NEWSGRAPH_EXCLUDE": "_learning/**, drafts/**"})
    assert settings.exclude == ("_learning/**", "drafts/**")


def test_config_command_prints_toml_that_loads_back_to_the_same_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSGRAPH_EXCLUDE", "_learning/**")
    assert main(["config", "--port", "9001", "--no-watch"]) == 0
    printed = capsys.readouterr().out
    assert "port = 9001  # flag" in printed
    assert 'exclude = [\n    "_learning/**",\n]  # environment' in printed
    saved = tmp_path / "saved.toml"
    saved.write_text(printed)
    reloaded, _ = resolve({}, environ={}, config_file=saved)
    assert (reloaded.port, reloaded.watch, reloaded.exclude) == (9001, False, ("_learning/**",))


def test_a_broken_config_file_is_a_clear_error_with_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = \n")
    assert main(["config", "--config", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_config_output_escapes_control_characters_and_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values with control characters, quotes and backslashes come back exactly (tomllib)."""
    monkeypatch.chdir(tmp_path)
    odd = ("drafts/\x01\x7f*.md", 'a "quoted"\\name\n\ttab.md')
    content = tmp_path / 'odd "content"\\dir'
    argv = ["config", "--content", str(content)]
    for pattern in odd:
        argv += ["--exclude", pattern]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    saved = tmp_path / "saved.toml"
    saved.write_text(printed, encoding="utf-8")
    reloaded, _ = resolve({}, environ={}, config_file=saved)
    assert reloaded.exclude == odd
    assert reloaded.content == content


def test_an_unreadable_glob_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a valid glob"):
        resolve({"exclude": ("drafts/**", "\\")}, environ={})
