"""Addresses and signatures of ETH and SOL, against the specifications' own vectors and real keys."""

from __future__ import annotations

import base64

import base58
import pytest
from nacl.bindings import crypto_core_ed25519_is_valid_point

from kyrios.core.errors import InvalidInput
from kyrios.features.wallet.chains import Chain, parse_address, signature_bytes, signed_by
from tests.features.wallet_keys import eth_wallet, sol_wallet

EIP55_VECTORS = (  # eips.ethereum.org/EIPS/eip-55: all caps, all lower, normal
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
)


@pytest.mark.parametrize("vector", EIP55_VECTORS)
def test_eip55_vectors_are_accepted_and_one_changed_letter_is_not(vector: str) -> None:
    parsed = parse_address(Chain.ETH, vector)
    assert parsed.text.lower() == vector.lower() and parsed.key_hex == vector[2:].lower()
    if vector[2:] not in (vector[2:].lower(), vector[2:].upper()):  # mixed case carries a checksum
        assert parsed.text == vector
        letter = next(i for i, c in enumerate(vector) if i > 1 and c.isalpha())
        flipped = vector[:letter] + vector[letter].swapcase() + vector[letter + 1 :]
        with pytest.raises(InvalidInput, match="EIP-55"):
            parse_address(Chain.ETH, flipped)


def test_a_solana_address_must_be_a_32_byte_curve_point() -> None:
    wallet = sol_wallet()
    assert parse_address(Chain.SOL, f"  {wallet.address} ").text == wallet.address
    with pytest.raises(InvalidInput, match="32-byte"):
        parse_address(Chain.SOL, base58.b58encode(b"\x01" * 31).decode())
    off_curve = next(
        raw for raw in (bytes([n]) * 32 for n in range(2, 256)) if not crypto_core_ed25519_is_valid_point(raw)
    )
    with pytest.raises(InvalidInput, match="no key can sign"):
        parse_address(Chain.SOL, base58.b58encode(off_curve).decode())


def test_a_solana_signature_may_be_base58_hex_or_base64() -> None:
    wallet = sol_wallet()
    raw = base58.b58decode(wallet.sign("hello"))
    for text in (base58.b58encode(raw).decode(), raw.hex(), base64.b64encode(raw).decode()):
        assert signature_bytes(Chain.SOL, text) == raw
    assert signed_by(parse_address(Chain.SOL, wallet.address), "hello", raw)
    assert not signed_by(parse_address(Chain.SOL, wallet.address), "hello!", raw)


def test_an_eth_signature_must_recover_the_address_being_linked() -> None:
    wallet, other = eth_wallet(), eth_wallet()
    signature = signature_bytes(Chain.ETH, wallet.sign("hello"))
    assert len(signature) == 65 and signature[-1] in (27, 28)
    assert signed_by(parse_address(Chain.ETH, wallet.address), "hello", signature)
    assert not signed_by(parse_address(Chain.ETH, other.address), "hello", signature)
    assert not signed_by(parse_address(Chain.ETH, wallet.address), "hello", b"\x00" * 65)
    with pytest.raises(InvalidInput, match="130 hexadecimal"):
        signature_bytes(Chain.ETH, "0x1234")
