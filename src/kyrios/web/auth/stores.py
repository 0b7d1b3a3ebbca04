"""Where refresh sessions live: the database (the embedded default), or Redis when it is configured.

Both keep the same rules (`sessions.py`): tokens only as their SHA-256, rotation on use, a reused
rotated token revokes its family, logout revokes the family, expiry on the runtime's clock. In
Redis a token is a hash `kyrios:auth:token:<sha256>` (state live/rotated/revoked, family, account,
expiry; its key expires with it) and a family a set of its tokens' hashes; rotation and
revocation are Lua scripts, so each is atomic against concurrent requests.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Protocol

from redis.asyncio import Redis

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.web.auth import sessions
from kyrios.web.auth.sessions import Account, Refusal, token_hash


class RefreshStore(Protocol):
    """Opens, rotates and revokes refresh tokens."""

    async def open(self, account: Account) -> str: ...
    async def rotate(self, token: str) -> tuple[Account, str] | Refusal: ...
    async def revoke(self, token: str) -> bool: ...
    async def aclose(self) -> None: ...


class DatabaseStore:
    """Refresh sessions in `auth_session`."""

    def __init__(self, db: Database, clock: Clock, lifetime: timedelta) -> None:
        self.db, self.clock, self.lifetime = db, clock, lifetime

    async def open(self, account: Account) -> str:
        now = self.clock.now()
        return await self.db.run(
            lambda session: sessions.open_session(session, account, now=now, lifetime=self.lifetime)
        )

    async def rotate(self, token: str) -> tuple[Account, str] | Refusal:
        now = self.clock.now()
        return await self.db.run(
            lambda session: sessions.rotate(session, token, now=now, lifetime=self.lifetime)
        )

    async def revoke(self, token: str) -> bool:
        now = self.clock.now()
        return await self.db.run(lambda session: sessions.revoke(session, token, now=now))

    async def aclose(self) -> None:
        return None


_REVOKE_FAMILY = """
local function revoke_family(prefix, family)
  for _, member in ipairs(redis.call('SMEMBERS', prefix .. 'family:' .. family)) do
    local key = prefix .. 'token:' .. member
    if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'state', 'revoked') end
  end
end
"""

_ROTATE = (
    _REVOKE_FAMILY
    + """
local prefix, now, new_hash, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local f = redis.call('HMGET', KEYS[1], 'state', 'family', 'expires', 'account_id', 'discord_id', 'name')
if not f[1] or tonumber(f[3]) <= now then return {'unknown'} end
if f[1] == 'rotated' then revoke_family(prefix, f[2]) return {'reused'} end
if f[1] ~= 'live' then return {'unknown'} end
redis.call('HSET', KEYS[1], 'state', 'rotated')
local new_key = prefix .. 'token:' .. new_hash
redis.call('HSET', new_key, 'state', 'live', 'family', f[2], 'expires', tostring(now + ttl),
           'account_id', f[4], 'discord_id', f[5], 'name', f[6])
redis.call('EXPIRE', new_key, ttl)
redis.call('SADD', prefix .. 'family:' .. f[2], new_hash)
redis.call('EXPIRE', prefix .. 'family:' .. f[2], ttl)
return {'ok', f[4], f[5], f[6]}
"""
)

_REVOKE = (
    _REVOKE_FAMILY
    + """
local family = redis.call('HGET', KEYS[1], 'family')
if not family then return 0 end
revoke_family(ARGV[1], family)
return 1
"""
)


class RedisStore:
    """Refresh sessions in Redis (connected at first use, closed by `aclose`)."""

    def __init__(self, url: str, clock: Clock, lifetime: timedelta, *, prefix: str = "kyrios:auth:") -> None:
        self.url, self.clock, self.lifetime, self.prefix = url, clock, lifetime, prefix
        self._redis: Redis | None = None

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.url, decode_responses=True)
        return self._redis

    def _key(self, token: str) -> str:
        return f"{self.prefix}token:{token_hash(token)}"

    async def open(self, account: Account) -> str:
        token, family = secrets.token_urlsafe(32), secrets.token_hex(16)
        ttl = int(self.lifetime.total_seconds())
        expires = int(self.clock.now().timestamp()) + ttl
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hset(
                self._key(token),
                mapping={
                    "state": "live",
                    "family": family,
                    "expires": expires,
                    "account_id": account.account_id,
                    "discord_id": account.discord_id,
                    "name": account.name,
                },
            )
            pipe.expire(self._key(token), ttl)
            pipe.sadd(f"{self.prefix}family:{family}", token_hash(token))
            pipe.expire(f"{self.prefix}family:{family}", ttl)
            await pipe.execute()
        return token

    async def rotate(self, token: str) -> tuple[Account, str] | Refusal:
        new_token = secrets.token_urlsafe(32)
        now, ttl = int(self.clock.now().timestamp()), int(self.lifetime.total_seconds())
        result: list[Any] = await self._client().eval(
            _ROTATE, 1, self._key(token), self.prefix, now, token_hash(new_token), ttl
        )
        if result[0] == "reused":
            return Refusal.REUSED
        if result[0] != "ok":
            return Refusal.UNKNOWN
        return Account(int(result[1]), int(result[2]), str(result[3])), new_token

    async def revoke(self, token: str) -> bool:
        revoked: int = await self._client().eval(_REVOKE, 1, self._key(token), self.prefix)
        return revoked == 1

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def store_for(db: Database, clock: Clock, lifetime: timedelta, redis_url: str | None) -> RefreshStore:
    """Redis when the deployment has it, else the database."""
    if redis_url:
        return RedisStore(redis_url, clock, lifetime)
    return DatabaseStore(db, clock, lifetime)
