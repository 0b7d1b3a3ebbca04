"""Addresses and signatures of the chains a wallet can be linked on: pure functions, no I/O.

ETH: an address is 20 bytes as `0x` + 40 hex digits; mixed case must be its EIP-55 checksum (all
lower or all upper case carries none). A signature is EIP-191 `personal_sign` (65 bytes r‖s‖v);
the signer is recovered with eth-account and must be the address being linked.
SOL: an address is the base58 of a 32-byte ed25519 public key (a point on the curve: an address
off it, e.g. a program-derived one, has no key that could sign). A signature is 64 bytes of
ed25519 over the exact message bytes, checked with PyNaCl.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import StrEnum

import base58
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak
from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kyrios.core.errors import InvalidInput


class Chain(StrEnum):
    """A chain a wallet can be linked on."""

    ETH = "ETH"
    SOL = "SOL"


CHAIN_IDS = {Chain.ETH: "1", Chain.SOL: "mainnet"}
"""The `Chain ID` line of the sign-in message: EIP-155 mainnet for Ethereum, SIWS's name for Solana."""
ACCOUNT_NAMES = {Chain.ETH: "Ethereum", Chain.SOL: "Solana"}

ETH_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ETH_SIGNATURE = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


@dataclass(frozen=True, slots=True)
class Address:
    """A valid address: its chain, its canonical text (ETH checksummed) and its raw key bytes in hex.

    `key_hex` is what uniqueness is decided on: the same wallet in any spelling is one key, and a
    case-insensitive database collation cannot merge two base58 addresses differing in case.
    """

    chain: Chain
    text: str
    key_hex: str


def eip55(hex40: str) -> str:
    """The EIP-55 checksummed spelling of 40 hex digits (any case)."""
    lower = hex40.lower()
    digest = keccak(text=lower).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def parse_address(chain: Chain, text: str) -> Address:
    """Validate `text` as an address of `chain`; `InvalidInput` saying what is wrong otherwise."""
    text = text.strip()
    if chain is Chain.ETH:
        if not ETH_ADDRESS.match(text):
            raise InvalidInput(
                "An Ethereum address is 0x followed by 40 hexadecimal digits; got `{address}`.",
                address=text[:64],
            )
        digits = text[2:]
        checksummed = eip55(digits)
        mixed = digits != digits.lower() and digits != digits.upper()
        if mixed and text != checksummed:
            raise InvalidInput(
                "`{address}` fails its EIP-55 checksum (a mistyped letter?). Copy it again from your wallet.",
                address=text,
            )
        return Address(chain, checksummed, digits.lower())
    try:
        raw = base58.b58decode(text.encode("ascii"), alphabet=base58.BITCOIN_ALPHABET) if text else b""
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise InvalidInput(
            "A Solana address is the base58 text of a 32-byte public key; got `{address}`.", address=text[:64]
        )
    if not crypto_core_ed25519_is_valid_point(raw):
        raise InvalidInput(
            "`{address}` is not a wallet's public key (no key can sign for it), so it cannot be linked.",
            address=text,
        )
    return Address(chain, text, raw.hex())


def signature_bytes(chain: Chain, text: str) -> bytes:
    """A pasted or posted signature as bytes: ETH as hex; SOL as base58, hex or base64."""
    text = text.strip()
    if chain is Chain.ETH:
        if ETH_SIGNATURE.match(text):
            return bytes.fromhex(text.removeprefix("0x"))
        raise InvalidInput("An Ethereum signature is 0x followed by 130 hexadecimal digits (65 bytes).")
    for decode in (_hex, _base58, _base64):
        raw = decode(text)
        if raw is not None and len(raw) == 64:
            return raw
    raise InvalidInput("A Solana signature is 64 bytes, written in base58, hex or base64.")


def _hex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        return None


def _base58(text: str) -> bytes | None:
    try:
        return base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def signed_by(address: Address, message: str, signature: bytes) -> bool:
    """True when `signature` over `message` was made by `address`'s key (and only then).

    ETH recovers the signer and compares it with the address being linked: a valid signature by
    any other key is refused (the classic bug is to trust whatever address comes back).
    """
    data = message.encode("utf-8")
    if address.chain is Chain.ETH:
        try:
            signer: str = Account.recover_message(encode_defunct(primitive=data), signature=signature)
        except Exception:  # eth-account raises several kinds for malformed r, s or v
            return False
        return signer.lower() == "0x" + address.key_hex
    try:
        VerifyKey(bytes.fromhex(address.key_hex)).verify(data, signature)
    except (BadSignatureError, ValueError):
        return False
    return True
