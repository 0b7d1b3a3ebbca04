"""Wallet linking through the gateway door, and its role applied through the Discord port.

The real bot answers `/wallet link` and `/wallet verify` from the emulator; the verification's role
change goes out on the bus after commit, and the wallet cog puts the role on the member (and takes
it off at `/wallet unlink`), whichever door verified: a slash command or the signing page's API.
"""

from __future__ import annotations

from typing import Any

from kyrios.gateway.intents import intents_for
from kyrios.runtime import Runtime
from kyrios.testing.emulator import DiscordEmulator, running_bot
from kyrios.web.main import create_app
from tests.features.wallet_keys import eth_wallet, nonce_of, sol_wallet
from tests.helpers import invoke
from tests.web.auth_helpers import client


async def answer(emu: DiscordEmulator, path: str, options: dict[str, Any]) -> dict[str, Any]:
    """The bot's reply to a slash command sent over the gateway."""
    sent = await emu.run_command(path, options)
    callback = await emu.wait_for_callback(sent["id"])
    assert callback["type"] == 4, callback
    data: dict[str, Any] = callback["data"]
    return data


def challenge_in(reply: dict[str, Any]) -> str:
    field = next(f for f in reply["embeds"][0]["fields"] if "```" in f["value"])
    message: str = field["value"].removeprefix("```\n").removesuffix("\n```")
    return message


async def test_verifying_by_command_gives_the_role_and_unlinking_takes_it(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    role = emu.add_role(1, "Holder")
    assert not (await invoke(runtime, "wallet config", admin=True, role=role.id)).is_error
    wallet = eth_wallet()
    async with running_bot(emu, runtime, intents=intents_for(["wallet"])):
        link = await answer(emu, "wallet link", {"chain": "ETH", "address": wallet.address})
        assert link["flags"] & 64 and link["components"][0]["components"][0]["url"].endswith(
            "/wallet/sign/" + nonce_of(challenge_in(link))
        )
        done = await answer(emu, "wallet verify", {"signature": wallet.sign(challenge_in(link))})
        assert "Verified" in done["content"]
        put = await emu.wait_for_request("PUT", f"/guilds/1/members/42/roles/{role.id}")
        assert put.reason is not None and "wallet" in put.reason
        assert role.id in emu.member(1, 42).roles

        gone = await answer(emu, "wallet unlink", {"address": wallet.address})
        assert "no longer linked" in gone["content"]
        await emu.wait_for_request("DELETE", f"/guilds/1/members/42/roles/{role.id}")
        assert role.id not in emu.member(1, 42).roles


async def test_verifying_on_the_signing_page_gives_the_role(
    discord_emulator: DiscordEmulator, runtime: Runtime
) -> None:
    emu = discord_emulator
    role = emu.add_role(1, "Holder")
    await invoke(runtime, "wallet config", admin=True, role=role.id)
    wallet = sol_wallet()
    async with running_bot(emu, runtime, intents=intents_for(["wallet"])):
        link = await answer(emu, "wallet link", {"chain": "SOL", "address": wallet.address})
        message = challenge_in(link)
        async with client(create_app(runtime)) as http:
            posted = await http.post(
                "/api/v1/wallet/verify", json={"nonce": nonce_of(message), "signature": wallet.sign(message)}
            )
            assert posted.status_code == 200, posted.text
        await emu.wait_for_request("PUT", f"/guilds/1/members/42/roles/{role.id}")
        assert role.id in emu.member(1, 42).roles
