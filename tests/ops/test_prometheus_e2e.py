"""A real Prometheus scrapes a running Kyrios server and fires the error-rate alert of alerts.yml.

The server is `kyrios up`'s web app under uvicorn in its own process, on a SQLite file; Prometheus
is Debian's, in a temporary directory, scraping every second and evaluating every second the
shipped rule with a short `for:`. Commands are made to fail for real (a table they write is
renamed away under the running server), and the alert is watched through Prometheus's HTTP API
going pending, then firing.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kyrios.testing.interactions import InteractionSigner, command_payload
from tests.core.test_sqlite_busy import HOST, free_port, migrated, start_server, wait_ready

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
ALERT = "KyriosCommandErrorRate"
FOR = "3s"
"""The alert's `for:` here (5m in alerts.yml): long enough to see it pending, short enough for a test."""


def short_rule_file(directory: Path) -> Path:
    """alerts.yml's error-rate rule, unchanged but for its `for:`."""
    rules: dict[str, Any] = yaml.safe_load(RULES.read_text())
    (rule,) = (r for group in rules["groups"] for r in group["rules"] if r.get("alert") == ALERT)
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "e2e", "rules": [{**rule, "for": FOR}]}]}))
    return path


@asynccontextmanager
async def prometheus(directory: Path, target: str) -> AsyncIterator[httpx.AsyncClient]:
    """Prometheus scraping `target` every second; a client of its HTTP API."""
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(short_rule_file(directory))],
        "scrape_configs": [{"job_name": "kyrios", "static_configs": [{"targets": [target]}]}],
    }
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        "prometheus",
        f"--config.file={directory / 'prometheus.yml'}",
        f"--storage.tsdb.path={directory / 'data'}",
        f"--web.listen-address={HOST}:{port}",
        "--log.level=warn",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=10) as api:
            async with asyncio.timeout(30):
                while True:
                    assert process.returncode is None, f"prometheus exited with {process.returncode}"
                    try:
                        if (await api.get("/-/ready")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            yield api
    finally:
        process.terminate()
        await process.wait()


async def alert_state(api: httpx.AsyncClient) -> str | None:
    """The error-rate alert's state (`pending`, `firing`) as Prometheus reports it, None when inactive."""
    alerts = (await api.get("/api/v1/alerts")).json()["data"]["alerts"]
    states = [alert["state"] for alert in alerts if alert["labels"]["alertname"] == ALERT]
    return states[0] if states else None


async def test_prometheus_sees_the_error_rate_alert_fire(
    tmp_path: Path, signer: InteractionSigner, dialect: str
) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite leg only: the test starts its own SQLite-backed server and Prometheus")
    if shutil.which("prometheus") is None:
        pytest.skip("needs Debian's prometheus package")
    path = tmp_path / "kyrios.db"
    await migrated(path)
    port = free_port()
    server = await start_server(path, signer, port)
    users = itertools.count(1000)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            await wait_ready(client, server)

            async def daily() -> dict[str, Any]:
                body, headers = signer.sign(command_payload("daily", user_id=next(users)))
                response = await client.post("/interactions", content=body, headers=headers)
                assert response.status_code == 200
                answer: dict[str, Any] = response.json()
                return answer

            assert "flags" not in (await daily())["data"]  # works: a public reply
            async with prometheus(tmp_path, f"{HOST}:{port}") as api:
                with sqlite3.connect(path) as conn:  # from now on every claim fails inside Kyrios
                    conn.execute("ALTER TABLE economy_ledger RENAME TO economy_ledger_gone")
                seen: list[str] = []
                async with asyncio.timeout(40):
                    while "firing" not in seen:
                        failed = await daily()
                        assert failed["data"]["flags"] == 64  # an ephemeral "something went wrong"
                        state = await alert_state(api)
                        if state is not None and state not in seen:
                            seen.append(state)
                        await asyncio.sleep(0.2)
                assert seen == ["pending", "firing"]
                query = {"query": 'kyrios_commands_total{command="daily",door="http",outcome="error"}'}
                result = (await api.get("/api/v1/query", params=query)).json()["data"]["result"]
                assert float(result[0]["value"][1]) >= 1
    finally:
        server.terminate()
        await server.wait()
