"""The wallet signing page in a real browser, with a test wallet injected into the page.

The injected provider answers like MetaMask (`eth_requestAccounts`, `personal_sign`) or Phantom
(`connect`, `signMessage`); it returns a signature computed in Python with a key made in the
test, and only for the exact bytes of the challenge's message, so the page must send those.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import base58
import pytest

from kyrios.features.wallet.chains import Chain
from kyrios.runtime import Runtime
from kyrios.web.main import create_app
from tests.features.wallet_keys import message_in, new_wallet
from tests.helpers import invoke, text_of
from tests.web.browser import artifacts_dir, chromium, live_server, require_browser

if TYPE_CHECKING:
    from playwright.async_api import Browser, ViewportSize

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}

ETHEREUM = """
window.kyriosSigned = [];
window.ethereum = {
  request: async ({ method, params }) => {
    if (method === "eth_requestAccounts") return [ADDRESS.toLowerCase()];
    if (method === "personal_sign") {
      window.kyriosSigned.push(params);
      if (params[0] !== EXPECTED) throw new Error("not the challenge's bytes");
      return SIGNATURE;
    }
    throw new Error("unsupported " + method);
  },
};
"""
SOLANA = """
window.kyriosSigned = [];
window.solana = {
  publicKey: { toString: () => ADDRESS },
  connect: async () => ({ publicKey: { toString: () => ADDRESS } }),
  signMessage: async (bytes, display) => {
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    window.kyriosSigned.push([hex, display]);
    if (hex !== EXPECTED) throw new Error("not the challenge's bytes");
    return { signature: Uint8Array.from(SIGNATURE), publicKey: window.solana.publicKey };
  },
};
"""


@pytest.fixture
async def browser(database_url: str) -> AsyncIterator[Browser]:
    require_browser(database_url)
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("chain", list(Chain))
async def test_the_member_signs_with_the_injected_wallet(
    runtime: Runtime, browser: Browser, chain: Chain, tmp_path: Path
) -> None:
    async with live_server(create_app(runtime)) as base:
        runtime.registry.site_url = base  # the message names the page's own domain, as SIWE wants
        wallet = new_wallet(chain)
        reply = await invoke(runtime, "wallet link", chain=chain.value, address=wallet.address)
        message = message_in(reply)
        url = reply.buttons[0][0].url
        assert url is not None and url.startswith(base + "/wallet/sign/")
        signature = wallet.sign(message)
        if chain is Chain.ETH:
            script = ETHEREUM.replace("EXPECTED", json.dumps("0x" + message.encode().hex()))
            script = script.replace("SIGNATURE", json.dumps(signature))
        else:
            script = SOLANA.replace("EXPECTED", json.dumps(message.encode().hex()))
            script = script.replace("SIGNATURE", json.dumps(list(base58.b58decode(signature))))
        script = script.replace("ADDRESS", json.dumps(wallet.address))

        errors: list[str] = []
        for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
            context = await browser.new_context(viewport=viewport)
            await context.add_init_script(script)
            page = await context.new_page()
            page.set_default_timeout(5_000)
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            await page.wait_for_selector("body[data-ready='1']")
            assert await page.locator("#message").text_content() == message
            assert wallet.address in (await page.locator("#intro").text_content() or "")
            if name == "desktop":
                await page.locator("#sign").click()
                await page.locator("#status.alert-success").wait_for()
                assert wallet.address in (await page.locator("#status").text_content() or "")
                assert len(await page.evaluate("window.kyriosSigned")) == 1
            else:  # the challenge is used now: the page says so and offers no signing
                await page.locator("#status.alert-warning").wait_for()
                assert "already used" in (await page.locator("#status").text_content() or "")
                assert await page.locator("#sign").is_disabled()
            await page.screenshot(
                path=str(artifacts_dir(tmp_path) / f"wallet-{chain}-{name}.png"), full_page=True
            )
            assert errors == []
            await context.close()
    shown = text_of(await invoke(runtime, "wallet show"))
    assert wallet.address in shown
