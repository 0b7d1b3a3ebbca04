"""The wallet signing page's API: what the page shows, and the same checks `/wallet verify` makes.

No sign-in: the unguessable nonce names the challenge, and only the wallet's key can make the
signature; refusals use the web layer's one error shape, in the request's language.
"""

from __future__ import annotations

from kyrios.features.wallet.chains import Chain
from kyrios.features.wallet.service import ROLE_CHANGES
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from tests.features.wallet_keys import eth_wallet, message_in, new_wallet, nonce_of, sol_wallet
from tests.helpers import invoke, text_of
from tests.web.auth_helpers import client


async def issue(runtime: Runtime, chain: Chain = Chain.ETH) -> tuple[object, str]:
    wallet = new_wallet(chain)
    reply = await invoke(runtime, "wallet link", chain=chain.value, address=wallet.address)
    assert not reply.is_error, text_of(reply)
    return wallet, message_in(reply)


async def test_the_page_shows_the_challenge_and_verifies_its_signature(runtime: Runtime) -> None:
    await invoke(runtime, "wallet config", admin=True, role=777)
    wallet = sol_wallet()
    reply = await invoke(runtime, "wallet link", chain="SOL", address=wallet.address)
    message = message_in(reply)
    nonce = nonce_of(message)
    async with client(create_app(runtime)) as http:
        page = await http.get(f"/wallet/sign/{nonce}")
        assert page.status_code == 200 and "/static/js/wallet.js" in page.text
        shown = (await http.get(f"/api/v1/wallet/challenges/{nonce}")).json()
        assert shown["message"] == message and shown["address"] == wallet.address and shown["chain"] == "SOL"
        assert not shown["used"] and not shown["expired"]

        forged = await http.post(
            "/api/v1/wallet/verify",
            json={"nonce": nonce, "signature": sol_wallet().sign(message)},
            headers={"Accept-Language": "ja"},
        )
        assert forged.status_code == 422
        assert forged.json()["error"]["code"] == "invalid" and "署名" in forged.json()["error"]["message"]

        with runtime.bus.subscribe(ROLE_CHANGES) as changes:
            done = await http.post(
                "/api/v1/wallet/verify", json={"nonce": nonce, "signature": wallet.sign(message)}
            )
            assert done.status_code == 200, done.text
            assert done.json() == {"chain": "SOL", "address": wallet.address}
            _, change = changes.queue.get_nowait()
            assert dict(change) == {"guild_id": 1, "user_id": 42, "role_id": 777, "add": True}

        again = await http.post(
            "/api/v1/wallet/verify", json={"nonce": nonce, "signature": wallet.sign(message)}
        )
        assert again.status_code == 409 and "already used" in again.json()["error"]["message"]
        assert (await http.get(f"/api/v1/wallet/challenges/{nonce}")).json()["used"]
        missing = await http.get("/api/v1/wallet/challenges/nope")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert wallet.address in text_of(await invoke(runtime, "wallet show"))


async def test_a_malformed_signature_is_refused_clearly(runtime: Runtime) -> None:
    wallet = eth_wallet()
    message = message_in(await invoke(runtime, "wallet link", chain="ETH", address=wallet.address))
    async with client(create_app(runtime)) as http:
        bad = await http.post(
            "/api/v1/wallet/verify", json={"nonce": nonce_of(message), "signature": "hello"}
        )
        assert bad.status_code == 422 and "130 hexadecimal digits" in bad.json()["error"]["message"]
        too_long = await http.post(
            "/api/v1/wallet/verify", json={"nonce": nonce_of(message), "signature": "0" * 500}
        )
        assert too_long.status_code == 422
    assert "No verified wallet" in text_of(await invoke(runtime, "wallet show"))
