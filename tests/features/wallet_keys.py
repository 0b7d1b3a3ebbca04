"""Wallet keys made in the test, signing exactly what a wallet would: EIP-191 for ETH, ed25519 for SOL."""

from __future__ import annotations

from dataclasses import dataclass

import base58
from eth_account import Account
from eth_account.messages import encode_defunct
from nacl.signing import SigningKey

from kyrios.features.wallet.chains import Chain
from kyrios.slash.reply import Reply


@dataclass(frozen=True)
class KeyPair:
    """A key pair of one chain: its address as the wallet shows it, and `sign(message) -> text`."""

    chain: Chain
    address: str
    secret: bytes

    def sign(self, message: str) -> str:
        """The signature a wallet returns: `personal_sign` hex (ETH), base58 of 64 bytes (SOL)."""
        if self.chain is Chain.ETH:
            signed = Account.sign_message(encode_defunct(text=message), private_key=self.secret)
            return "0x" + bytes(signed.signature).hex()
        signature = SigningKey(self.secret).sign(message.encode("utf-8")).signature
        return base58.b58encode(signature).decode()


def eth_wallet() -> KeyPair:
    """A fresh Ethereum key."""
    account = Account.create()
    return KeyPair(Chain.ETH, account.address, bytes(account.key))


def sol_wallet() -> KeyPair:
    """A fresh Solana (ed25519) key."""
    key = SigningKey.generate()
    return KeyPair(Chain.SOL, base58.b58encode(bytes(key.verify_key)).decode(), bytes(key))


def new_wallet(chain: Chain) -> KeyPair:
    """A fresh key of `chain`."""
    return eth_wallet() if chain is Chain.ETH else sol_wallet()


def message_in(reply: Reply) -> str:
    """The message `/wallet link` asks to sign, as the member reads it in the reply."""
    field = next(f for f in reply.embeds[0].fields if "```" in f.value)
    return field.value.removeprefix("```\n").removesuffix("\n```")


def nonce_of(message: str) -> str:
    """The `Nonce:` line's value."""
    return next(line.split(": ", 1)[1] for line in message.splitlines() if line.startswith("Nonce: "))
