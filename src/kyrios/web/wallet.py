"""The wallet signing page and its two API routes (no sign-in: the nonce and the signature are the proof).

`/wallet/sign/{nonce}` is the page `/wallet link` links to: it shows the challenge's message, asks
the browser's wallet to sign it (`personal_sign` through an injected Ethereum provider, or
`signMessage` of an injected Solana one) and posts the signature. `GET
/api/v1/wallet/challenges/{nonce}` is what the page shows; `POST /api/v1/wallet/verify` checks the
signature with the same service `/wallet verify` uses, and publishes the role change after commit.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from kyrios.features.wallet import service
from kyrios.features.wallet.service import ROLE_CHANGES
from kyrios.runtime import Runtime
from kyrios.web.errors import error_responses
from kyrios.web.pages import STATIC_DIR


class ChallengeView(BaseModel):
    """A challenge as the signing page shows it."""

    nonce: str
    chain: str
    address: str
    message: str
    expires_at: datetime
    used: bool
    expired: bool


class VerifyRequest(BaseModel):
    """A signature of a challenge's message: hex for ETH; base58, hex or base64 for SOL."""

    nonce: str = Field(max_length=64)
    signature: str = Field(max_length=200)


class VerifiedView(BaseModel):
    """The wallet now linked."""

    chain: str
    address: str


def build_router(runtime: Runtime) -> APIRouter:
    """The signing page and its API, on one runtime."""
    router = APIRouter(responses=error_responses(400, 404, 409, 422))

    @router.get("/wallet/sign/{nonce}", include_in_schema=False)
    async def sign_page(nonce: str) -> FileResponse:
        return FileResponse(STATIC_DIR / "wallet.html")  # the module reads the nonce from the path

    @router.get("/api/v1/wallet/challenges/{nonce}", tags=["wallet"])
    async def get_challenge(nonce: str) -> ChallengeView:
        """The message to sign, its address and chain, and whether it can still be used."""
        async with runtime.db.read() as session:
            found = await service.challenge(session, nonce)
        return ChallengeView(
            nonce=found.nonce,
            chain=found.chain.value,
            address=found.address,
            message=found.message,
            expires_at=found.expires_at,
            used=found.used_at is not None,
            expired=runtime.clock.now() >= found.expires_at,
        )

    @router.post("/api/v1/wallet/verify", tags=["wallet"])
    async def verify(body: VerifyRequest) -> VerifiedView:
        """Link the challenge's wallet to its Discord user if the signature is that wallet's."""
        now = runtime.clock.now()
        done = await runtime.db.run(
            lambda session: service.verify(session, signature=body.signature, nonce=body.nonce, now=now)
        )
        if done.role is not None:
            runtime.bus.publish(ROLE_CHANGES, done.role.to_message())
        return VerifiedView(chain=done.chain.value, address=done.address)

    return router
