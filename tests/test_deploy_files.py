"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from newsgraph.cli import build_parser
from newsgraph.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
# Litestream reads these itself (README, Scaling out); they are not newsgraph settings.
AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def cli_commands() -> dict[str, set[str]]:
    """Every subcommand and the flags it accepts."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    choices: dict[str, Any] = subparsers.choices  # type: ignore[assignment]
    return {
        name: {flag for action in sub._actions for flag in action.option_strings}
        for name, sub in choices.items()
    }


def test_compose_has_a_newsgraph_service_serving_with_content_read_only_and_db_on_a_volume() -> (
    None
):
    data = compose()
    service = data["services"]["newsgraph"]
    assert service["command"][:2] == ["newsgraph", "serve"]
    volumes = service["volumes"]
    content = next(v for v in volumes if v.split(":")[1] == "/content")
    assert content.endswith(":ro")
    db_volume = next(v for v in volumes if v.split(":")[1] == "/data")
    assert db_volume.split(":")[0] in data["volumes"]
    assert service["environment"]["NEWSGRAPH_DB"].startswith("/data/")
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])


def ours() -> dict[str, Any]:
    """The services built from this repository (the others are stock images, e.g. the store)."""
    return {name: s for name, s in compose()["services"].items() if s.get("build") == "."}


def test_every_compose_command_exists_in_the_cli_with_its_flags() -> None:
    commands = cli_commands()
    for name, service in ours().items():
        argv = service["command"]
        assert argv[0] == "newsgraph", name
        assert argv[1] in commands, f"{name}: unknown command {argv[1]}"
        for flag in (a.split("=")[0] for a in argv[2:] if a.startswith("--")):
            assert flag in commands[argv[1]], f"{name}: {argv[1]} has no {flag}"


def test_every_compose_environment_variable_is_a_setting() -> None:
    known = {setting.env for setting in SETTINGS} | AWS_CREDENTIALS
    for name, service in ours().items():
        unknown = set(service.get("environment", {})) - known
        assert not unknown, f"{name}: unknown settings {unknown}"


def test_the_split_profile_runs_one_watcher_and_api_replicas_without_watching() -> None:
    services = compose()["services"]
    assert services["watcher"]["command"] == ["newsgraph", "watch"]
    assert services["api"]["command"] == ["newsgraph", "serve", "--no-watch"]
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["watcher"]["profiles"] == services["api"]["profiles"] == ["split"]


def test_the_replicated_profile_runs_a_writer_a_store_and_two_read_only_replicas() -> None:
    services = compose()["services"]
    profile = {name for name, s in services.items() if s.get("profiles") == ["replicated"]}
    assert {"writer", "replica", "s3"} <= profile
    writer, replica = services["writer"]["command"], services["replica"]["command"]
    assert writer[:2] == ["newsgraph", "watch"]
    url = writer[writer.index("--replicate-to") + 1]
    assert url.startswith("s3://") and "endpoint=http://s3:" in url
    assert replica[:2] == ["newsgraph", "serve"]
    assert replica[replica.index("--replica-of") + 1] == url  # both sides name one store
    assert services["replica"]["deploy"]["replicas"] >= 2
    writer_volumes = {v.split(":")[0] for v in services["writer"]["volumes"]}
    assert not writer_volumes & set(services["replica"]["volumes"])  # nothing shared but S3
    for side in ("writer", "replica"):
        assert set(services[side]["environment"]) >= AWS_CREDENTIALS
    assert any(kind == "RUN" and "[replication]" in arg for kind, arg in dockerfile())


def dockerfile() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_is_slim_non_root_installs_the_package_and_has_a_healthcheck() -> None:
    instructions = dockerfile()
    kinds = [kind for kind, _ in instructions]
    assert instructions[0][0] == "FROM" and "slim" in instructions[0][1]
    user = [arg for kind, arg in instructions if kind == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert any(kind == "RUN" and "pip install" in arg for kind, arg in instructions)
    assert "HEALTHCHECK" in kinds and "/healthz" in dict(instructions)["HEALTHCHECK"]
    copied = {shlex.split(arg)[0] for kind, arg in instructions if kind == "COPY"}
    for package in ("db", "gql", "ingest", "newsgraph", "pyproject.toml"):
        assert package in copied and (ROOT / package).exists()


def test_dockerfile_command_is_a_cli_command() -> None:
    cmd = [arg for kind, arg in dockerfile() if kind == "CMD"][-1]
    argv = yaml.safe_load(cmd)
    assert argv[0] == "newsgraph" and argv[1] in cli_commands()
