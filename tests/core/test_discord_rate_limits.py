"""The REST port's rate-limit bookkeeping, on a clock the test moves."""

from __future__ import annotations

import asyncio

import httpx

from kyrios.core.discord_api import ApiCall
from kyrios.core.discord_rest import MAX_BUCKETS, Bucket, RateLimits, RestDiscordPort


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


def spent(bucket_hash: str = "abc", reset_after: str = "2.5") -> httpx.Response:
    return answer(
        X_RateLimit_Bucket=bucket_hash, X_RateLimit_Remaining="0", X_RateLimit_Reset_After=reset_after
    )


def test_a_spent_bucket_waits_until_its_window_resets() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    route = "POST /channels/{channel_id}/messages"
    bucket = limits.bucket(route, "10")
    assert bucket.delay(clock()) == 0  # nothing known yet
    limits.learn(route, "10", bucket, spent())
    clock.now += 1.0
    assert bucket.delay(clock()) == 1.5
    clock.now += 1.5
    assert bucket.delay(clock()) == 0
    assert limits.bucket(route, "11").delay(clock.now - 2) == 0  # another channel has its own bucket


def test_routes_that_share_discord_s_bucket_share_one_per_resource() -> None:
    limits = RateLimits(Clock())
    edit, delete = (
        "PATCH /channels/{channel_id}/messages/{message_id}",
        "DELETE /channels/{channel_id}/messages/{message_id}",
    )
    first = limits.bucket(edit, "10")
    limits.learn(edit, "10", first, spent("shared"))
    second = limits.bucket(delete, "10")
    limits.learn(delete, "10", second, spent("shared"))
    assert limits.bucket(delete, "10") is first is limits.bucket(edit, "10")
    assert limits.bucket(edit, "11") is not first


def test_a_429_does_not_overwrite_the_bucket_counts() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    bucket = Bucket()
    limits.learn("GET /x", "", bucket, answer(429, X_RateLimit_Remaining="0", X_RateLimit_Reset_After="60"))
    assert bucket.delay(clock()) == 0  # the retry waits the 429's own retry_after instead


def test_a_global_pause_holds_everything_but_interaction_responses() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    limits.pause_everything(3.0)
    limits.pause_everything(1.0)  # a shorter one does not cut the longer pause short
    clock.now += 1.0
    assert limits.global_delay() == 2.0
    clock.now += 2.0
    assert limits.global_delay() == 0
    callback = ApiCall(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        {"interaction_id": 1, "interaction_token": "t"},
    )
    followup = ApiCall(
        "POST", "/webhooks/{webhook_id}/{webhook_token}", {"webhook_id": 9, "webhook_token": "t"}
    )
    message = ApiCall("POST", "/channels/{channel_id}/messages", {"channel_id": 10})
    assert callback.exempt_from_global_limit and followup.exempt_from_global_limit
    assert not message.exempt_from_global_limit
    assert (message.major, followup.major, message.path) == ("10", "9+t", "/channels/10/messages")


def test_busy_buckets_do_not_make_each_new_bucket_sweep_them_all() -> None:
    limits = RateLimits(Clock())
    route = "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original"
    busy = [limits.bucket(route, f"999+token-{n}") for n in range(MAX_BUCKETS)]
    for bucket in busy:
        bucket.remaining, bucket.reset_at = 0, 1e9  # spent for a long time: not idle, kept
    limits.bucket(route, "999+one-more")  # the map is full: one sweep, nothing to forget
    kept = len(limits._buckets)
    assert kept == MAX_BUCKETS + 1
    for n in range(MAX_BUCKETS - 2):  # up to twice the size after the sweep: no sweep at all
        limits.bucket(route, f"999+later-{n}")
    assert len(limits._buckets) == kept + MAX_BUCKETS - 2
    for bucket in busy:
        bucket.remaining = None  # idle again
    limits.bucket(route, "999+sweeper")
    limits.bucket(route, "999+after")
    assert len(limits._buckets) < MAX_BUCKETS  # the next sweep forgot the idle ones


async def test_the_rest_port_keeps_at_most_max_connections_requests_in_flight() -> None:
    in_flight = most = 0
    gate, two_started = asyncio.Event(), asyncio.Event()

    async def discord(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == 2:
            two_started.set()
        await gate.wait()
        in_flight -= 1
        return httpx.Response(200, json={"id": "1", "channel_id": "10", "content": "ok"})

    port = RestDiscordPort(None, api_base="https://discord.test/api/v10", max_connections=2)
    port._client = httpx.AsyncClient(transport=httpx.MockTransport(discord))
    try:
        sends = [asyncio.create_task(port.followup(999, f"token-{n}", {"content": "ok"})) for n in range(5)]
        await asyncio.wait_for(two_started.wait(), timeout=5)
        await asyncio.sleep(0.05)  # time for a third request to start, were it allowed to
        assert (in_flight, most) == (2, 2)
        gate.set()
        assert [message.content for message in await asyncio.gather(*sends)] == ["ok"] * 5
    finally:
        await port.aclose()
    assert most == 2
