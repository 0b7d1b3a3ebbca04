"""deploy/docker-compose.yml against the Compose Specification's JSON schema (tests/data/compose-spec),
the cross-references the schema cannot see, and `docker compose config` where the Compose plugin is
installed (this machine's docker CLI has none and no daemon). Broken copies must fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
ENV = {"MYSQL_PASSWORD": "x", "KYRIOS_JWT_SECRET": "x" * 64, "GRAFANA_ADMIN_PASSWORD": "x"}


def compose_plugin() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    done = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def problems(path: Path) -> list[str]:
    """What is wrong with the Compose file at `path` (empty: nothing)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    if found:
        return found
    services: dict[str, Any] = document["services"]
    volumes = set(document.get("volumes") or {})
    for name, service in services.items():
        for needed in service.get("depends_on") or {}:
            if needed not in services:
                found.append(f"{name}: depends on an undefined service {needed}")
        for mount in service.get("volumes") or []:
            source = mount.split(":")[0]
            if source.startswith("."):
                if not (path.parent / source).exists():
                    found.append(f"{name}: mounts {source}, which does not exist")
            elif source not in volumes:
                found.append(f"{name}: mounts an undeclared volume {source}")
    if compose_plugin():
        command = ["docker", "compose", "-f", str(path), "config", "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=ENV)
        found += [done.stderr] if done.returncode else []
    return found


def test_the_compose_file_is_valid() -> None:
    assert problems(COMPOSE) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("  redis:\n    image:", "  redis:\n    imag:"),  # not a Compose key
        ("      - redis:/data", "      - cache:/data"),  # an undeclared volume
        ("      - ./prometheus:", "      - ./prometheus-rules:"),  # a directory that is not there
    ],
)
def test_a_broken_compose_file_fails(tmp_path: Path, old: str, new: str) -> None:
    broken = tmp_path / "deploy" / "docker-compose.yml"
    shutil.copytree(DEPLOY, broken.parent)
    text = COMPOSE.read_text()
    assert old in text
    broken.write_text(text.replace(old, new, 1))
    assert problems(broken) != []


def test_the_stack_has_every_part() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"app", "standby", "bots", "mysql", "redis", "prometheus", "grafana"} <= set(services)
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["app"]["environment"]["KYRIOS_MODE"] == "production"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = scrape["scrape_configs"][0]["static_configs"][0]["targets"]
    assert all(target.split(":")[0] in services for target in targets)
