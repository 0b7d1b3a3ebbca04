"""The one-time challenge a wallet signs: Sign-In with Ethereum (EIP-4361), the same template for Solana.

The text is built once, stored with the challenge, and the signature is checked over exactly the
stored bytes; nothing the signer sends back is parsed or trusted. So a signature over a message
that differs anywhere (another domain, chain id, nonce, address, time) does not verify.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from kyrios.features.wallet.chains import ACCOUNT_NAMES, CHAIN_IDS, Chain


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as EIP-4361 writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def domain_of(site_url: str) -> str:
    """The RFC 3986 authority of the app's address (`host[:port]`): the message's `domain`."""
    return urlsplit(site_url).netloc or site_url


def sign_in_message(
    *,
    site_url: str,
    chain: Chain,
    address: str,
    statement: str,
    nonce: str,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    """The EIP-4361 message (for Solana: SIWS, the same lines with "Solana account")."""
    uri = site_url.rstrip("/") + "/wallet/sign/" + nonce
    return "\n".join(
        (
            f"{domain_of(site_url)} wants you to sign in with your {ACCOUNT_NAMES[chain]} account:",
            address,
            "",
            statement,
            "",
            f"URI: {uri}",
            "Version: 1",
            f"Chain ID: {CHAIN_IDS[chain]}",
            f"Nonce: {nonce}",
            f"Issued At: {iso(issued_at)}",
            f"Expiration Time: {iso(expires_at)}",
        )
    )
