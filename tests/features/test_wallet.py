"""`/wallet`: a wallet is linked only by a signature of its own key over the exact one-time challenge.

Keys are made in the test (eth-account, PyNaCl) and sign real challenges; every forgery a wallet
bot meets is tried: a garbage signature, another key's valid signature (the classic bug), a
signature over another message, another domain, another chain, an expired and a replayed one.
A refusal changes nothing: no link, and the member's challenge still works.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kyrios.core.bus import Subscription
from kyrios.core.clock import FrozenClock
from kyrios.features.wallet.chains import Chain
from kyrios.features.wallet.models import WalletChallenge, WalletLink, WalletRoleGrant
from kyrios.features.wallet.service import ROLE_CHANGES
from kyrios.runtime import Runtime
from kyrios.slash.invocation import Actor, Invocation, Source
from kyrios.slash.reply import Reply
from tests.features.wallet_keys import KeyPair, eth_wallet, message_in, new_wallet, nonce_of, sol_wallet
from tests.helpers import count_rows, invoke, text_of

ROLE = 555


async def challenge_for(runtime: Runtime, wallet: KeyPair, **kw: Any) -> str:
    """`/wallet link` for the wallet: the message the member is asked to sign."""
    reply = await invoke(runtime, "wallet link", chain=wallet.chain.value, address=wallet.address, **kw)
    assert not reply.is_error, text_of(reply)
    return message_in(reply)


async def linked(runtime: Runtime, user_id: int | None = None) -> list[tuple[int, str]]:
    async with runtime.db.read() as session:
        rows = await session.scalars(select(WalletLink))
        return [(r.user_id, r.address) for r in rows if user_id is None or r.user_id == user_id]


@pytest.mark.parametrize("chain", list(Chain))
async def test_a_signed_challenge_links_the_wallet(runtime: Runtime, chain: Chain) -> None:
    wallet = new_wallet(chain)
    reply = await invoke(runtime, "wallet link", chain=chain.value, address=wallet.address)
    message = message_in(reply)
    lines = message.splitlines()
    account = "Ethereum" if chain is Chain.ETH else "Solana"
    assert lines[0] == f"127.0.0.1:8000 wants you to sign in with your {account} account:"
    assert lines[1] == wallet.address
    assert "Discord user 42" in lines[3]
    assert f"URI: http://127.0.0.1:8000/wallet/sign/{nonce_of(message)}" in lines
    assert "Version: 1" in lines and ("Chain ID: 1" if chain is Chain.ETH else "Chain ID: mainnet") in lines
    assert "Issued At: 2026-03-01T12:00:00Z" in lines and "Expiration Time: 2026-03-01T12:10:00Z" in lines
    assert len(nonce_of(message)) >= 8 and nonce_of(message).isalnum()
    assert reply.buttons[0][0].url == f"http://127.0.0.1:8000/wallet/sign/{nonce_of(message)}"
    assert reply.ephemeral

    done = await invoke(runtime, "wallet verify", signature=wallet.sign(message))
    assert not done.is_error, text_of(done)
    assert "Verified" in text_of(done)
    assert await linked(runtime) == [(42, wallet.address)]
    shown = text_of(await invoke(runtime, "wallet show"))
    assert wallet.address in shown and chain.value in shown


async def test_an_eth_address_in_lower_case_is_linked_in_its_checksummed_spelling(runtime: Runtime) -> None:
    wallet = eth_wallet()
    reply = await invoke(runtime, "wallet link", chain="ETH", address=wallet.address.lower())
    message = message_in(reply)
    assert message.splitlines()[1] == wallet.address  # EIP-55, as SIWE requires
    assert not (await invoke(runtime, "wallet verify", signature=wallet.sign(message))).is_error
    assert await linked(runtime) == [(42, wallet.address)]


async def refused(runtime: Runtime, signature: str, says: str, **kw: Any) -> None:
    reply = await invoke(runtime, "wallet verify", signature=signature, **kw)
    assert reply.is_error and says in text_of(reply), text_of(reply)
    assert await linked(runtime) == []


@pytest.mark.parametrize("chain", list(Chain))
async def test_forgeries_are_refused_and_leave_the_challenge_usable(runtime: Runtime, chain: Chain) -> None:
    wallet = new_wallet(chain)
    message = await challenge_for(runtime, wallet)
    other = new_wallet(chain)
    not_theirs = "is not " + wallet.address
    # another key's perfectly valid signature of the exact message: the classic wallet-bot bug
    await refused(runtime, other.sign(message), not_theirs)
    # a forged signature of the right shape
    forged = "0x" + "ab" * 65 if chain is Chain.ETH else "cd" * 64
    await refused(runtime, forged, not_theirs)
    # the right key over a different message, another domain, another chain
    await refused(runtime, wallet.sign(message.replace(nonce_of(message), "A" * 20)), not_theirs)
    await refused(runtime, wallet.sign("I agree to anything"), not_theirs)
    await refused(runtime, wallet.sign(message.replace("127.0.0.1:8000", "kyrios.evil.example")), not_theirs)
    chain_line = "Chain ID: 1" if chain is Chain.ETH else "Chain ID: mainnet"
    await refused(runtime, wallet.sign(message.replace(chain_line, "Chain ID: 5")), not_theirs)
    # a signature of the other chain's kind is not even read as one
    foreign = new_wallet(Chain.SOL if chain is Chain.ETH else Chain.ETH).sign(message)
    await refused(runtime, foreign, "signature")
    assert await count_rows(runtime, WalletChallenge, used_at=None) == 1

    done = await invoke(runtime, "wallet verify", signature=wallet.sign(message))
    assert not done.is_error, text_of(done)
    assert await linked(runtime) == [(42, wallet.address)]


async def test_an_expired_challenge_is_refused(runtime: Runtime, clock: FrozenClock) -> None:
    wallet = eth_wallet()
    message = await challenge_for(runtime, wallet)
    clock.advance(timedelta(minutes=10))
    await refused(runtime, wallet.sign(message), "expired")
    assert "/wallet link" in text_of(await invoke(runtime, "wallet verify", signature=wallet.sign(message)))


async def test_a_used_challenge_cannot_be_replayed(runtime: Runtime) -> None:
    wallet = eth_wallet()
    message = await challenge_for(runtime, wallet)
    signature = wallet.sign(message)
    assert not (await invoke(runtime, "wallet verify", signature=signature)).is_error
    again = await invoke(runtime, "wallet verify", signature=signature, challenge=nonce_of(message))
    assert again.is_error and "already used" in text_of(again)
    # nor by another member who saw the signature
    stolen = await invoke(
        runtime, "wallet verify", user_id=43, signature=signature, challenge=nonce_of(message)
    )
    assert stolen.is_error and "no such wallet challenge" in text_of(stolen)
    assert await linked(runtime) == [(42, wallet.address)]


async def test_a_wallet_belongs_to_one_user(runtime: Runtime) -> None:
    wallet = sol_wallet()
    first = await challenge_for(runtime, wallet, user_id=42)
    second = await challenge_for(runtime, wallet, user_id=43)  # asked before 42 verified
    assert not (await invoke(runtime, "wallet verify", user_id=42, signature=wallet.sign(first))).is_error
    # the key's holder signs 43's challenge too: the wallet is 42's already
    taken = await invoke(runtime, "wallet verify", user_id=43, signature=wallet.sign(second))
    assert taken.is_error and "already linked to another Discord account" in text_of(taken)
    asked = await invoke(runtime, "wallet link", user_id=43, chain="SOL", address=wallet.address)
    assert asked.is_error and "already linked to another Discord account" in text_of(asked)
    assert await linked(runtime) == [(42, wallet.address)]


@pytest.mark.parametrize(
    ("chain", "address", "says"),
    [
        ("ETH", "0x1234", "0x followed by 40 hexadecimal digits"),
        ("ETH", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x followed by 40"),
        ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55 checksum"),
        ("SOL", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "32-byte public key"),
        ("SOL", "3mJr7AoUXx2Wqd", "32-byte public key"),
        ("SOL", "11111111111111111111111111111111", "not a wallet's public key"),
        ("SOL", "O0Il" * 11, "32-byte public key"),
    ],
)
async def test_bad_addresses_are_refused_and_change_nothing(
    runtime: Runtime, chain: str, address: str, says: str
) -> None:
    reply = await invoke(runtime, "wallet link", chain=chain, address=address)
    assert reply.is_error and says in text_of(reply), text_of(reply)
    assert await count_rows(runtime, WalletChallenge) == 0


async def test_refusals_speak_japanese(runtime: Runtime) -> None:
    inv = Invocation(
        actor=Actor(id=42, name="user42"),
        guild_id=1,
        channel_id=10,
        command="wallet link",
        options={"chain": "ETH", "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"},
        source=Source.CONSOLE,
        locale="ja",
    )
    reply = await runtime.registry.dispatch(inv)
    assert reply.is_error and "EIP-55" in text_of(reply) and "チェックサム" in text_of(reply)


async def test_the_guild_chooses_its_chains(runtime: Runtime) -> None:
    shown = await invoke(runtime, "wallet config", admin=True, chains="sol")
    assert "Chains: SOL" in text_of(shown)
    eth = await invoke(runtime, "wallet link", chain="ETH", address=eth_wallet().address)
    assert eth.is_error and "SOL only" in text_of(eth)
    bad = await invoke(runtime, "wallet config", admin=True, chains="BTC")
    assert bad.is_error and "ETH and SOL" in text_of(bad)
    member = await invoke(runtime, "wallet config", chains="ETH")
    assert member.is_error and "server admins" in text_of(member)
    assert "Chains: SOL" in text_of(await invoke(runtime, "wallet config", admin=True))


async def verify_new(
    runtime: Runtime, chain: Chain = Chain.ETH, *, guild_id: int = 1
) -> tuple[KeyPair, Reply]:
    wallet = new_wallet(chain)
    message = await challenge_for(runtime, wallet, guild_id=guild_id)
    return wallet, await invoke(runtime, "wallet verify", guild_id=guild_id, signature=wallet.sign(message))


async def test_a_required_wallet_gates_the_chosen_features_in_every_guild(runtime: Runtime) -> None:
    shown = await invoke(runtime, "wallet config", admin=True, guild_id=2, required=True, features="economy")
    assert "Wallet required for: economy" in text_of(shown)
    gated = await invoke(runtime, "points balance", guild_id=2)
    assert gated.is_error and "/wallet link" in text_of(gated) and "verified wallet" in text_of(gated)
    assert (await invoke(runtime, "profile", guild_id=2)).is_error  # /profile follows the economy
    assert not (await invoke(runtime, "points balance", guild_id=1)).is_error  # guild 1 requires nothing

    _, done = await verify_new(runtime, guild_id=1)  # verified in guild 1, never signs in guild 2
    assert not done.is_error
    assert not (await invoke(runtime, "points balance", guild_id=2)).is_error
    assert not (await invoke(runtime, "wallet show", guild_id=2)).is_error


async def test_only_an_allowed_chain_counts(runtime: Runtime) -> None:
    await verify_new(runtime, Chain.SOL)
    await invoke(runtime, "wallet config", admin=True, guild_id=2, required=True, chains="ETH")
    gated = await invoke(runtime, "points balance", guild_id=2)
    assert gated.is_error and "(ETH)" in text_of(gated)
    assert "not accepted on this server" in text_of(await invoke(runtime, "wallet show", guild_id=2))


def role_changes(sub: Subscription) -> list[dict[str, object]]:
    found = []
    while not sub.queue.empty():
        found.append(dict(sub.queue.get_nowait()[1]))
    return found


async def test_the_guild_role_comes_with_verification_and_goes_with_unlink(runtime: Runtime) -> None:
    await invoke(runtime, "wallet config", admin=True, role=ROLE)
    await invoke(runtime, "wallet config", admin=True, guild_id=2, role=ROLE + 1)
    with runtime.bus.subscribe(ROLE_CHANGES) as sub:
        wallet, done = await verify_new(runtime)
        assert f"<@&{ROLE}>" in text_of(done)
        assert role_changes(sub) == [{"guild_id": 1, "user_id": 42, "role_id": ROLE, "add": True}]
        # in guild 2 the verified address counts without signing, and brings guild 2's role
        again = await invoke(runtime, "wallet link", guild_id=2, chain="ETH", address=wallet.address)
        assert "already your verified wallet" in text_of(again) and not again.embeds
        assert role_changes(sub) == [{"guild_id": 2, "user_id": 42, "role_id": ROLE + 1, "add": True}]
        assert await count_rows(runtime, WalletRoleGrant) == 2

        bad = await invoke(runtime, "wallet unlink", address="0x" + "0" * 40)
        assert bad.is_error and "no verified wallet" in text_of(bad)
        assert role_changes(sub) == [] and await count_rows(runtime, WalletRoleGrant) == 2

        gone = await invoke(runtime, "wallet unlink", address=wallet.address.lower())
        assert not gone.is_error and "2 servers" in text_of(gone)
        assert role_changes(sub) == [
            {"guild_id": 1, "user_id": 42, "role_id": ROLE, "add": False},
            {"guild_id": 2, "user_id": 42, "role_id": ROLE + 1, "add": False},
        ]
    assert await linked(runtime) == [] and await count_rows(runtime, WalletRoleGrant) == 0


async def test_another_wallet_keeps_the_role(runtime: Runtime) -> None:
    await invoke(runtime, "wallet config", admin=True, role=ROLE)
    first, _ = await verify_new(runtime, Chain.ETH)
    await verify_new(runtime, Chain.SOL)
    gone = await invoke(runtime, "wallet unlink", address=first.address)
    assert not gone.is_error and "role" not in text_of(gone)
    assert await count_rows(runtime, WalletRoleGrant) == 1


async def test_open_challenges_are_limited(runtime: Runtime, clock: FrozenClock) -> None:
    for _ in range(5):
        await challenge_for(runtime, eth_wallet())
    sixth = await invoke(runtime, "wallet link", chain="ETH", address=eth_wallet().address)
    assert sixth.is_error and "5 unsigned challenges" in text_of(sixth)
    clock.advance(timedelta(minutes=10))
    await challenge_for(runtime, eth_wallet())


async def test_gated_features_must_exist(runtime: Runtime) -> None:
    bad = await invoke(runtime, "wallet config", admin=True, features="gacha, teleport")
    assert bad.is_error and "teleport" in text_of(bad) and "gacha" in text_of(bad)
    both = await invoke(runtime, "wallet config", admin=True, role=ROLE, no_role=True)
    assert both.is_error
    assert "A wallet is not required" in text_of(await invoke(runtime, "wallet config", admin=True))


async def test_racing_verifications_link_the_wallet_once(runtime: Runtime) -> None:
    wallet = sol_wallet()
    first = await challenge_for(runtime, wallet, user_id=42)
    second = await challenge_for(runtime, wallet, user_id=43)
    replies = await asyncio.gather(
        invoke(runtime, "wallet verify", user_id=42, signature=wallet.sign(first)),
        invoke(runtime, "wallet verify", user_id=43, signature=wallet.sign(second)),
        invoke(runtime, "wallet verify", user_id=42, signature=wallet.sign(first), challenge=nonce_of(first)),
    )
    winners = [reply for reply in replies if not reply.is_error]
    assert len(winners) == 1, [text_of(reply) for reply in replies]
    owner = await linked(runtime)
    assert len(owner) == 1 and owner[0][1] == wallet.address
    for reply in replies:
        if reply.is_error:
            assert "already" in text_of(reply), text_of(reply)


async def test_old_challenges_are_cleared_when_the_user_asks_again(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await challenge_for(runtime, eth_wallet())
    clock.advance(timedelta(days=1, minutes=11))
    await challenge_for(runtime, eth_wallet(), user_id=43)  # another user's request clears nothing of 42's
    assert await count_rows(runtime, WalletChallenge, user_id=42) == 1
    await challenge_for(runtime, eth_wallet())
    assert await count_rows(runtime, WalletChallenge, user_id=42) == 1
