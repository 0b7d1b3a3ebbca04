"""`create_app(runtime)`: the FastAPI application of one runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kyrios import __version__
from kyrios.runtime import Runtime
from kyrios.web import interactions, ops


def create_app(runtime: Runtime) -> FastAPI:
    """Build the web app: interactions endpoint and operations routes."""
    verifier = interactions.SignatureVerifier(
        runtime.settings.discord_public_key, runtime.settings.interaction_max_age_seconds
    )
    followups = interactions.FollowUpSender(
        runtime.settings.discord_api_base, runtime.settings.discord_application_id
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await followups.aclose()

    app = FastAPI(title="Kyrios", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.followups = followups
    app.include_router(interactions.build_router(runtime, verifier, followups))
    app.include_router(ops.build_router(runtime))
    return app
