"""Wallet linking: a member proves they hold a wallet's key by signing a one-time challenge.

Invariants: a challenge is used at most once (claimed by a conditional update), only before it
expires, only for the address and chain it names, and only with a signature by that address's key
over its exact stored message; a wallet (chain + key) is linked to at most one user (unique key),
and counts in every guild whose allowed chains include it; a role grant row exists exactly while
the guild's wallet role should be on the member, and every change of one is returned as a
`RoleChange` for the caller to publish after commit (the gateway applies it through the port).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.bus import Message
from kyrios.core.db import insert_ignore
from kyrios.core.errors import Conflict, Forbidden, InvalidInput, NotFound, OnCooldown
from kyrios.core.features import SWITCHABLE, Feature
from kyrios.features.achievements import service as achievements
from kyrios.features.achievements.catalogue import Stat
from kyrios.features.guild_settings import service as guild_settings
from kyrios.features.wallet.chains import Address, Chain, parse_address, signature_bytes, signed_by
from kyrios.features.wallet.message import sign_in_message
from kyrios.features.wallet.models import WalletChallenge, WalletLink, WalletRoleGrant, WalletSettings

CHALLENGE_TTL = timedelta(minutes=10)
CHALLENGE_KEPT = timedelta(days=1)
"""How long an expired challenge is kept (to say "expired" rather than "no such challenge")."""
MAX_OPEN_CHALLENGES = 5
"""Live (unused, unexpired) challenges one user may hold: enough for retries, not for flooding."""
MAX_WALLETS = 10
NONCE_ALPHABET = string.ascii_letters + string.digits
NONCE_LENGTH = 20  # EIP-4361 asks for at least 8 alphanumerics; 20 is ~119 bits
ROLE_CHANGES = "wallet:roles"
"""The bus channel role changes go out on, after their transaction committed."""
STATEMENT = "Link this wallet to Discord user {user_id} on Kyrios. Signing is free and sends no transaction."
LINK_HELP = "`/wallet link chain:{chain} address:…`"


@dataclass(frozen=True, slots=True)
class RoleChange:
    """Put (`add`) or take off a guild's wallet role on a member."""

    guild_id: int
    user_id: int
    role_id: int
    add: bool

    def to_message(self) -> Message:
        """Its bus message."""
        return {"guild_id": self.guild_id, "user_id": self.user_id, "role_id": self.role_id, "add": self.add}

    @classmethod
    def from_message(cls, data: Message) -> RoleChange:
        """Read a bus message back."""
        return cls(int(data["guild_id"]), int(data["user_id"]), int(data["role_id"]), bool(data["add"]))


@dataclass(frozen=True, slots=True)
class Verified:
    """A wallet now linked to `user_id`, and the role change it brings in the challenge's guild."""

    user_id: int
    chain: Chain
    address: str
    role: RoleChange | None


@dataclass(frozen=True, slots=True)
class Unlinked:
    """A wallet no longer linked, and the roles that go with it."""

    chain: Chain
    address: str
    roles: list[RoleChange]


async def settings(session: AsyncSession, guild_id: int) -> WalletSettings:
    """The guild's wallet rules (defaults: not required, ETH and SOL, no role, every feature)."""
    return await guild_settings.slice_settings(session, WalletSettings, guild_id)


def allowed_chains(rules: WalletSettings) -> tuple[Chain, ...]:
    """The chains a guild accepts, in `Chain` order."""
    names = {name.strip().upper() for name in rules.allowed_chains.split(",")}
    return tuple(chain for chain in Chain if chain.value in names)


def gated_features(rules: WalletSettings) -> tuple[Feature, ...]:
    """The features a required wallet gates (all switchable ones but the wallet's when none is named)."""
    names = {name.strip() for name in rules.gated_features.split(",") if name.strip()}
    return tuple(f for f in SWITCHABLE if f is not Feature.WALLET and (not names or f.value in names))


def parse_features(text: str) -> str:
    """`"gacha, rumble"` → `"gacha,rumble"`; an unknown or ungateable name is refused."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    known = [f.value for f in SWITCHABLE if f is not Feature.WALLET]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(
            "{names} cannot need a wallet; the features are: {known}.",
            names=", ".join(unknown),
            known=", ".join(known),
        )
    return ",".join(dict.fromkeys(names))


async def configure(session: AsyncSession, guild_id: int, *, now: datetime, **changes: Any) -> WalletSettings:
    """Change the guild's wallet rules (`required`, `allowed_chains`, `role_id`, `gated_features`)."""
    return await guild_settings.change_slice_settings(session, WalletSettings, guild_id, now=now, **changes)


async def links(session: AsyncSession, user_id: int) -> list[WalletLink]:
    """A user's verified wallets, oldest first."""
    rows = await session.scalars(
        select(WalletLink)
        .where(WalletLink.user_id == user_id)
        .order_by(WalletLink.verified_at, WalletLink.id)
    )
    return list(rows)


async def _link_of(session: AsyncSession, address: Address) -> WalletLink | None:
    return await session.scalar(
        select(WalletLink).where(WalletLink.chain == address.chain, WalletLink.key_hex == address.key_hex)
    )


async def has_wallet(session: AsyncSession, user_id: int, chains: tuple[Chain, ...]) -> bool:
    """True when the user has a verified wallet on one of `chains`."""
    if not chains:
        return False
    found = await session.scalar(
        select(WalletLink.id).where(WalletLink.user_id == user_id, WalletLink.chain.in_(chains)).limit(1)
    )
    return found is not None


async def check_requirement(session: AsyncSession, guild_id: int, user_id: int, feature: Feature) -> None:
    """Refuse `feature` to a member without a verified wallet where the guild requires one for it."""
    if feature is Feature.WALLET:
        return
    rules = await settings(session, guild_id)
    if not rules.required or feature not in gated_features(rules):
        return
    chains = allowed_chains(rules)
    if await has_wallet(session, user_id, chains):
        return
    raise Forbidden(
        "This server needs a verified wallet ({chains}) for {feature}. Link one with {command}, sign the"
        " message on the page it links to (or paste the signature into `/wallet verify`), then try again.",
        chains=", ".join(chains),
        feature=feature.value,
        command=LINK_HELP.format(chain=(chains or (Chain.ETH,))[0].value),
    )


def _check_chain(rules: WalletSettings, chain: Chain) -> None:
    chains = allowed_chains(rules)
    if chain not in chains:
        raise InvalidInput(
            "This server links wallets on {chains} only, not {chain}.",
            chains=", ".join(chains) or "-",
            chain=chain.value,
        )


def _new_nonce() -> str:
    return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(NONCE_LENGTH))


async def issue_challenge(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    chain: Chain,
    address: str,
    site_url: str,
    now: datetime,
) -> WalletChallenge | WalletLink:
    """A new challenge for `address`, or the user's existing link when it is already theirs."""
    rules = await settings(session, guild_id)
    _check_chain(rules, chain)
    parsed = parse_address(chain, address)
    existing = await _link_of(session, parsed)
    if existing is not None:
        if existing.user_id != user_id:
            raise Conflict("This wallet is already linked to another Discord account.")
        return existing
    if len(await links(session, user_id)) >= MAX_WALLETS:
        raise Conflict("You have {n} wallets linked, the most allowed. Unlink one first.", n=MAX_WALLETS)
    await session.execute(  # the user's old challenges are of no use any more
        delete(WalletChallenge).where(
            WalletChallenge.user_id == user_id, WalletChallenge.expires_at < now - CHALLENGE_KEPT
        )
    )
    open_now = await session.scalar(
        select(func.count())
        .select_from(WalletChallenge)
        .where(
            WalletChallenge.user_id == user_id,
            WalletChallenge.used_at.is_(None),
            WalletChallenge.expires_at > now,
        )
    )
    if (open_now or 0) >= MAX_OPEN_CHALLENGES:
        raise OnCooldown(
            "You have {n} unsigned challenges open. Sign one, or wait until they expire (10 minutes).",
            n=open_now,
        )
    nonce = _new_nonce()
    challenge = WalletChallenge(
        nonce=nonce,
        guild_id=guild_id,
        user_id=user_id,
        chain=chain,
        address=parsed.text,
        message=sign_in_message(
            site_url=site_url,
            chain=chain,
            address=parsed.text,
            statement=STATEMENT.format(user_id=user_id),
            nonce=nonce,
            issued_at=now,
            expires_at=now + CHALLENGE_TTL,
        ),
        issued_at=now,
        expires_at=now + CHALLENGE_TTL,
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def challenge(session: AsyncSession, nonce: str) -> WalletChallenge:
    """The challenge with this nonce (`NotFound` otherwise)."""
    found = await session.scalar(select(WalletChallenge).where(WalletChallenge.nonce == nonce[:64]))
    if found is None:
        raise NotFound("There is no such wallet challenge. Run `/wallet link` to get a new one.")
    return found


async def _latest_challenge(session: AsyncSession, user_id: int) -> WalletChallenge:
    found = await session.scalar(
        select(WalletChallenge)
        .where(WalletChallenge.user_id == user_id, WalletChallenge.used_at.is_(None))
        .order_by(WalletChallenge.issued_at.desc(), WalletChallenge.id.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound("You have no open wallet challenge. Run `/wallet link` first.")
    return found


async def verify(
    session: AsyncSession,
    *,
    signature: str,
    now: datetime,
    nonce: str | None = None,
    user_id: int | None = None,
    channel_id: int | None = None,
) -> Verified:
    """Check `signature` against a challenge (by nonce, else `user_id`'s latest) and link its wallet.

    `user_id` (a command's caller) must be the challenge's owner. Nothing changes on a refusal: a
    wrong signature does not use the challenge up, so a forger cannot burn the member's. The
    `wallet_verified` achievement it unlocks in the challenge's guild is announced in `channel_id`.
    """
    if nonce is not None:
        found = await challenge(session, nonce)
        if user_id is not None and found.user_id != user_id:
            raise NotFound("There is no such wallet challenge. Run `/wallet link` to get a new one.")
    elif user_id is not None:
        found = await _latest_challenge(session, user_id)
    else:
        raise InvalidInput("Say which challenge the signature is for.")
    if found.used_at is not None:
        raise Conflict("This challenge was already used. Run `/wallet link` for a new one.")
    if now >= found.expires_at:
        raise Conflict(
            "This challenge expired {at:R}. Run `/wallet link` for a new one.", at=found.expires_at
        )
    address = parse_address(found.chain, found.address)
    if not signed_by(address, found.message, signature_bytes(found.chain, signature)):
        raise InvalidInput(
            "The signature is not {address}'s signature of this challenge's message. Sign the exact"
            " message with that wallet.",
            address=found.address,
        )
    claimed = await session.execute(
        update(WalletChallenge)
        .where(WalletChallenge.id == found.id, WalletChallenge.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This challenge was already used. Run `/wallet link` for a new one.")
    # Insert-or-ignore, then a locking read: of two members racing for one wallet exactly one gets
    # it, and the other learns whose it is from the committed row, not from an older snapshot.
    values = {
        "chain": found.chain,
        "key_hex": address.key_hex,
        "address": address.text,
        "user_id": found.user_id,
        "verified_at": now,
    }
    await session.execute(insert_ignore(session, WalletLink, values))
    owner = await session.scalar(
        select(WalletLink.user_id)
        .where(WalletLink.chain == address.chain, WalletLink.key_hex == address.key_hex)
        .with_for_update()
    )
    if owner != found.user_id:
        raise Conflict("This wallet is already linked to another Discord account.")
    await achievements.observe(
        session,
        guild_id=found.guild_id,
        user_id=found.user_id,
        stats={Stat.WALLETS_VERIFIED: 1},
        now=now,
        channel_id=channel_id,
    )
    role = await grant_role(session, found.guild_id, found.user_id)
    return Verified(found.user_id, found.chain, address.text, role)


async def grant_role(session: AsyncSession, guild_id: int, user_id: int) -> RoleChange | None:
    """Record the guild's wallet role on a member holding a wallet it accepts; the change to apply."""
    rules = await settings(session, guild_id)
    if rules.role_id is None or not await has_wallet(session, user_id, allowed_chains(rules)):
        return None
    grant = await session.get(WalletRoleGrant, (guild_id, user_id))
    if grant is None:
        session.add(WalletRoleGrant(guild_id=guild_id, user_id=user_id, role_id=rules.role_id))
    else:
        grant.role_id = rules.role_id
    await session.flush()
    return RoleChange(guild_id, user_id, rules.role_id, add=True)


async def unlink(session: AsyncSession, user_id: int, address: str) -> Unlinked:
    """Forget one of the user's wallets; take back the roles no remaining wallet earns."""
    target = None
    for chain in Chain:
        try:
            parsed = parse_address(chain, address)
        except InvalidInput:
            continue
        found = await _link_of(session, parsed)
        if found is not None and found.user_id == user_id:
            target = found
    if target is None:
        raise NotFound(
            "You have no verified wallet `{address}`. `/wallet show` lists yours.", address=address[:64]
        )
    chain, text = target.chain, target.address
    await session.delete(target)
    await session.flush()
    removed: list[RoleChange] = []
    grants = await session.scalars(select(WalletRoleGrant).where(WalletRoleGrant.user_id == user_id))
    for grant in list(grants):
        if not await has_wallet(session, user_id, allowed_chains(await settings(session, grant.guild_id))):
            removed.append(RoleChange(grant.guild_id, user_id, grant.role_id, add=False))
    for change in removed:
        await session.execute(
            delete(WalletRoleGrant).where(
                WalletRoleGrant.guild_id == change.guild_id, WalletRoleGrant.user_id == user_id
            )
        )
    return Unlinked(chain, text, removed)
