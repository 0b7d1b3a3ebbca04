"""Simultaneous answers to one challenge: exactly one battle, paid once (the conditional update).

Real concurrent requests: signed Discord interactions POSTed at the same time to the app served by
uvicorn over TCP, and a burst of presses through the registry; then simultaneous challenges of one
member, of whom at most one may hold them.
"""

from __future__ import annotations

import asyncio

import httpx

from kyrios.features.economy.models import EconomyLedger, Reason
from kyrios.features.rumble.models import BattleStatus, RumbleBattle
from kyrios.runtime import Runtime
from kyrios.testing.interactions import InteractionSigner, component_payload
from kyrios.web.main import create_app
from tests.features.test_rumble import accept_id, battles
from tests.helpers import assert_ledger_balanced, count_rows, invoke, press
from tests.web.ws_helpers import served


async def test_two_accepts_over_http_at_once_fight_one_battle(
    runtime: Runtime, signer: InteractionSigner
) -> None:
    for user in (42, 43):
        await invoke(runtime, "give", admin=True, user=str(user), amount=1_000)
    custom_id = accept_id(await invoke(runtime, "rumble challenge", member="<@43>", stake=200))
    async with served(create_app(runtime)) as ws_url:
        base = ws_url.replace("ws://", "http://")
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:

            async def accept() -> dict[str, object]:
                body, headers = signer.sign(component_payload(custom_id, user_id=43))
                response = await http.post("/interactions", content=body, headers=headers)
                assert response.status_code == 200, response.text
                answer: dict[str, object] = response.json()
                return answer

            answers = await asyncio.gather(*(accept() for _ in range(2)))
    updates = [a for a in answers if a["type"] == 7]
    refusals = [a for a in answers if a["type"] == 4]
    assert len(updates) == 1 and len(refusals) == 1, answers
    assert "already answered" in str(refusals[0]["data"])
    [battle] = await battles(runtime)
    assert battle.status is BattleStatus.FOUGHT
    assert await count_rows(runtime, EconomyLedger, reason=Reason.RUMBLE_STAKE) == 2
    assert await count_rows(runtime, EconomyLedger, reason=Reason.RUMBLE_WIN) == 1
    await assert_ledger_balanced(runtime)


async def test_a_burst_of_presses_fights_once(runtime: Runtime) -> None:
    custom_id = accept_id(await invoke(runtime, "rumble challenge", member="<@43>"))
    replies = await asyncio.gather(*(press(runtime, custom_id, user_id=43) for _ in range(20)))
    assert sum(not r.is_error for r in replies) == 1
    assert all("already answered" in (r.content or "") for r in replies if r.is_error)
    assert await count_rows(runtime, RumbleBattle, status=BattleStatus.FOUGHT) == 1
    assert await count_rows(runtime, EconomyLedger) == 2  # one win, one loss
    await assert_ledger_balanced(runtime)


async def test_simultaneous_challenges_of_one_member_leave_one_pending(runtime: Runtime) -> None:
    replies = await asyncio.gather(
        *(invoke(runtime, "rumble challenge", user_id=100 + i, member="<@43>") for i in range(10))
    )
    assert sum(not r.is_error for r in replies) == 1
    assert all("already in a rumble challenge" in (r.content or "") for r in replies if r.is_error)
    assert await count_rows(runtime, RumbleBattle) == 1
