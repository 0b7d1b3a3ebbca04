"""`/wallet link|verify|show|unlink|config`, and the guard that gates features behind a wallet.

A role change a command makes is recorded in its transaction and published on `ROLE_CHANGES`
after the commit; the gateway's wallet cog applies it through the Discord port.
"""

from __future__ import annotations

from typing import Annotated

from kyrios.core.errors import InvalidInput
from kyrios.core.features import Feature
from kyrios.features.wallet import service
from kyrios.features.wallet.chains import Chain
from kyrios.features.wallet.models import WalletChallenge
from kyrios.features.wallet.service import ROLE_CHANGES, RoleChange
from kyrios.slash.invocation import RoleRef
from kyrios.slash.options import Opt
from kyrios.slash.registry import CommandSet, Context
from kyrios.slash.reply import Button, ButtonStyle, Colour, Embed, Reply

commands = CommandSet(Feature.WALLET)


async def require_wallet(ctx: Context, feature: Feature) -> None:
    """The manifest's guard: a gated feature's command needs a verified wallet where required."""
    await service.check_requirement(ctx.session, ctx.guild_id, ctx.user_id, feature)


def publish(ctx: Context, change: RoleChange | None) -> None:
    """Have the gateway apply a role change once this command has committed."""
    if change is not None:
        ctx.publish_after_commit(ROLE_CHANGES, change.to_message())


def sign_page(ctx: Context, challenge: WalletChallenge) -> str:
    """The app's page where the member signs `challenge` with their wallet."""
    return f"{ctx.site_url.rstrip('/')}/wallet/sign/{challenge.nonce}"


@commands.slash("wallet link", "Link a crypto wallet by signing a one-time message (free, no transaction)")
async def link(
    ctx: Context,
    chain: Annotated[Chain, Opt("The wallet's chain")],
    address: Annotated[str, Opt("The wallet's address", max_length=64)],
) -> Reply:
    """Issue a challenge for `address`; an address already verified by the caller just counts here."""
    issued = await service.issue_challenge(
        ctx.session,
        guild_id=ctx.guild_id,
        user_id=ctx.user_id,
        chain=chain,
        address=address,
        site_url=ctx.site_url,
        now=ctx.now,
    )
    if not isinstance(issued, WalletChallenge):
        publish(ctx, await service.grant_role(ctx.session, ctx.guild_id, ctx.user_id))
        return Reply(
            content=ctx.t(
                "✅ {address} is already your verified wallet; it counts on this server too.",
                address=issued.address,
            ),
            ephemeral=True,
        )
    url = sign_page(ctx, issued)
    embed = Embed(
        title=ctx.t("🔏 Sign to link your {chain} wallet", chain=chain.value),
        description=ctx.t(
            "Open the signing page and sign with the wallet {address}, or sign this exact message"
            " yourself and paste the signature into `/wallet verify`. Signing is free and sends no"
            " transaction. The message expires {at:R} and works once.",
            address=issued.address,
            at=issued.expires_at,
        ),
        colour=Colour.INFO,
    )
    embed.add_field(ctx.t("Message to sign"), f"```\n{issued.message}\n```")
    embed.add_field(ctx.t("Signing page"), url)
    return Reply(
        embeds=[embed],
        buttons=[[Button(ctx.t("Open the signing page"), style=ButtonStyle.LINK, url=url)]],
        ephemeral=True,
    )


@commands.slash("wallet verify", "Paste the signature of your wallet challenge")
async def verify(
    ctx: Context,
    signature: Annotated[
        str, Opt("The signature your wallet made (hex, or base58 for Solana)", max_length=200)
    ],
    challenge: Annotated[
        str | None, Opt("The challenge's nonce (default: your latest)", max_length=32)
    ] = None,
) -> Reply:
    """Verify the signature; the wallet becomes the caller's, on every server."""
    done = await service.verify(
        ctx.session,
        signature=signature,
        nonce=challenge,
        user_id=ctx.user_id,
        now=ctx.now,
        channel_id=ctx.inv.channel_id,
    )
    publish(ctx, done.role)
    text = ctx.t(
        "✅ Verified: {address} ({chain}) is your wallet, on every server you are in.",
        address=done.address,
        chain=done.chain.value,
    )
    if done.role is not None:
        text += "\n" + ctx.t("You get the role <@&{role_id}>.", role_id=str(done.role.role_id))
    return Reply(content=text, ephemeral=True)


@commands.slash("wallet show", "Your verified wallets and this server's wallet rules")
async def show(ctx: Context) -> Reply:
    """The caller's wallets, and whether this guild requires one."""
    wallets = await service.links(ctx.session, ctx.user_id)
    rules = await service.settings(ctx.session, ctx.guild_id)
    chains = service.allowed_chains(rules)
    embed = Embed(title=ctx.t("👛 Your wallets"), colour=Colour.INFO)
    if wallets:
        embed.description = "\n".join(
            ctx.t(
                "{chain} `{address}` verified {at:R}{note}",
                chain=w.chain.value,
                address=w.address,
                at=w.verified_at,
                note="" if w.chain in chains else ctx.t(" (not accepted on this server)"),
            )
            for w in wallets
        )
    else:
        embed.description = ctx.t("No verified wallet yet. Link one with `/wallet link`.")
    embed.add_field(ctx.t("Chains on this server"), ", ".join(chains) or "-", inline=True)
    gated = ", ".join(service.gated_features(rules))
    embed.add_field(
        ctx.t("Wallet required"),
        ctx.t("Yes, for {features}", features=gated) if rules.required else ctx.t("No"),
        inline=True,
    )
    if rules.role_id is not None:
        embed.add_field(ctx.t("Role for a verified wallet"), f"<@&{rules.role_id}>", inline=True)
    return Reply.embed(embed, ephemeral=True)


@commands.slash("wallet unlink", "Unlink one of your verified wallets")
async def unlink(ctx: Context, address: Annotated[str, Opt("The wallet's address", max_length=64)]) -> Reply:
    """Forget the wallet everywhere; roles no other wallet of the caller earns are taken back."""
    done = await service.unlink(ctx.session, ctx.user_id, address)
    for change in done.roles:
        publish(ctx, change)
    text = ctx.t("🗑️ {address} ({chain}) is no longer linked.", address=done.address, chain=done.chain.value)
    if done.roles:
        text += "\n" + ctx.tn(
            "Its wallet role goes on {n} server.", "Its wallet role goes on {n} servers.", len(done.roles)
        )
    return Reply(content=text, ephemeral=True)


@commands.slash("wallet config", "Set this server's wallet rules (admins)", admin=True, always_on=True)
async def config(
    ctx: Context,
    required: Annotated[
        bool | None, Opt("Whether members need a verified wallet for the gated features")
    ] = None,
    chains: Annotated[str | None, Opt("Accepted chains, comma-separated: ETH, SOL", max_length=20)] = None,
    role: Annotated[RoleRef | None, Opt("Role given to members with a verified wallet")] = None,
    features: Annotated[
        str | None, Opt("Features that need a wallet, comma-separated (none named: all)", max_length=200)
    ] = None,
    no_role: Annotated[bool | None, Opt("Stop giving a role for a verified wallet")] = None,
) -> Reply:
    """Change any rule given and show the rules in force."""
    changes: dict[str, object] = {}
    if required is not None:
        changes["required"] = required
    if chains is not None:
        names = [name.strip().upper() for name in chains.split(",") if name.strip()]
        unknown = [name for name in names if name not in Chain.__members__]
        if unknown or not names:
            raise InvalidInput("Chains are ETH and SOL, comma-separated; got `{chains}`.", chains=chains)
        changes["allowed_chains"] = ",".join(c.value for c in Chain if c.value in names)
    if role is not None and no_role:
        raise InvalidInput("You both set a role and asked for none; choose one.")
    if role is not None:
        changes["role_id"] = role.id
    if no_role:
        changes["role_id"] = None
    if features is not None:
        changes["gated_features"] = service.parse_features(features)
    rules = (
        await service.configure(ctx.session, ctx.guild_id, now=ctx.now, **changes)
        if changes
        else await service.settings(ctx.session, ctx.guild_id)
    )
    lines = [
        ctx.t("Chains: {chains}", chains=", ".join(service.allowed_chains(rules))),
        ctx.t("Wallet required for: {features}", features=", ".join(service.gated_features(rules)))
        if rules.required
        else ctx.t("A wallet is not required."),
        ctx.t("Role: <@&{role_id}>", role_id=str(rules.role_id)) if rules.role_id else ctx.t("Role: none"),
    ]
    return Reply(content="\n".join(lines), ephemeral=True)
