"""The `ExchangeClient` across processes, over Redis Streams.

`StreamClient` (any process that does not run the exchange) adds each command to the owner's
command stream: the operation, its arguments as JSON, a correlation id, the key of a reply list
and a deadline. `StreamServer` (the process holding the exchange lease) reads the stream as the
one consumer of a consumer group, runs each command through its `InProcessClient`, pushes the
reply onto the reply list (which expires) and only then acknowledges the entry. The caller
waits on the list (BLPOP) until its timeout.

Arguments and results are (de)serialised with pydantic from `ExchangeClient`'s own signatures,
so the views (pydantic models, dataclasses, named tuples) travel as JSON and come back as the
same types. A `DomainError` travels as its class, message id and values, and the caller raises
the same error a local call would.

Invariants:
- an entry is acknowledged only after its command returned, i.e. after the owner's commit;
  an owner that dies before that leaves it pending, and the next owner (the same consumer
  name) runs it first, unless its caller's deadline has passed: a stale command is dropped
  unanswered (its caller already gave up and was told it may not have happened);
- a caller that gets no answer in time raises `NoAnswer` and retries nothing by itself; an
  order retried with the same `client_order_id` is the original (the exchange dedups it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from datetime import datetime
from functools import cache
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.ext.asyncio import AsyncSession

from kyrios.core.clock import Clock
from kyrios.core.db import Database
from kyrios.core.errors import DomainError, Unavailable
from kyrios.core.i18n import N_, LazyText
from kyrios.exchange.client import DatabaseReads, ExchangeClient, InProcessClient
from kyrios.exchange.engine import Depth
from kyrios.exchange.models import AssetStatus, Role
from kyrios.exchange.owner import ExchangeUnavailable
from kyrios.exchange.rules import ExchangeRules
from kyrios.exchange.schemas import AssetListing, AssetView, OrderRequest, OrderView, PortfolioView, UserView

log = logging.getLogger(__name__)

PREFIX = "kyrios:exchange:"
GROUP = "owner"
CONSUMER = "owner"  # one consumer: a new owner inherits its predecessor's pending entries
DEFAULT_TIMEOUT = 5.0
REPLY_TTL_SECONDS = 60
STREAM_MAXLEN = 100_000
CONCURRENCY = 256
NO_ANSWER = N_(
    "The exchange did not answer in time ({seconds} s), so it is not known whether this was done. "
    "Check your orders before trying again."
)
OWNER_FAILED = N_("The exchange could not carry this out; nothing was changed. Try again.")
NOT_ACROSS = N_(
    "Points and cash move together only in the process that runs the exchange, and this one does "
    "not, so nothing was changed. Ask an admin to run this command where the exchange runs."
)

OPERATIONS = frozenset(
    {
        "submit_order",
        "cancel_order",
        "cancel_all",
        "orders",
        "portfolio",
        "depth",
        "create_asset",
        "set_status",
        "create_user",
        "deposit",
        "withdraw",
        "change_rules",
        "rebuild_candles",
        "trader",
    }
)
"""What goes to the owner: every write, and the reads the owner answers better (its live book,
its rules). The other reads come from the database here, as `DatabaseReads` answers them."""


class NoAnswer(Unavailable):
    """The owner did not answer before the timeout (none runs, or it is overloaded)."""


@cache
def _signature(operation: str) -> tuple[dict[str, TypeAdapter[Any]], TypeAdapter[Any]]:
    """The adapters of `operation`'s parameters and of its result, from `ExchangeClient`."""
    hints = get_type_hints(getattr(ExchangeClient, operation))
    result = hints.pop("return")
    return {name: TypeAdapter(hint) for name, hint in hints.items()}, TypeAdapter(result)


def _encode_value(value: Any) -> Any:
    """A message value as JSON: times and nested texts tagged so they come back as they were."""
    if isinstance(value, datetime):
        return {"$time": value.isoformat()}
    if isinstance(value, LazyText):
        return {"$text": value.msgid, "params": {k: _encode_value(v) for k, v in value.params.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "$time" in value:
        return datetime.fromisoformat(value["$time"])
    if isinstance(value, dict) and "$text" in value:
        return LazyText(value["$text"], {k: _decode_value(v) for k, v in value["params"].items()})
    return value


def encode_error(error: DomainError) -> dict[str, Any]:
    """The error's class, kind, message id and values."""
    return {
        "class": f"{type(error).__module__}.{type(error).__qualname__}",
        "kind": error.kind,
        "message": error.text.msgid,
        "params": {k: _encode_value(v) for k, v in error.text.params.items()},
    }


def _error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        kind = pending.pop()
        found[f"{kind.__module__}.{kind.__qualname__}"] = kind
        pending.extend(kind.__subclasses__())
    return found


def decode_error(payload: dict[str, Any]) -> DomainError:
    """The `DomainError` the owner raised: its own class when this process knows it (only
    `DomainError` subclasses are looked up, nothing is imported), else one of its kind."""
    classes = _error_classes()
    kind = classes.get(payload["class"])
    if kind is None:
        kind = next((c for c in classes.values() if c.kind == payload["kind"]), DomainError)
    params = {k: _decode_value(v) for k, v in payload["params"].items()}
    error = kind.__new__(kind)
    DomainError.__init__(error, payload["message"], **params)  # bypass subclasses' own signatures
    return error


class StreamClient(DatabaseReads):
    """The client of a process that does not run the exchange: commands go to the owner over Redis."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        redis: Redis,
        *,
        prefix: str = PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(db, clock)
        self.redis = redis
        self.stream = prefix + "commands"
        self.reply_prefix = prefix + "reply:"
        self.timeout = timeout

    async def send(self, operation: str, **arguments: Any) -> str:
        """Add one command to the owner's stream; returns the key its reply will be pushed to."""
        parameters, _ = _signature(operation)
        encoded = {
            name: parameters[name].dump_python(value, mode="json") for name, value in arguments.items()
        }
        correlation = uuid.uuid4().hex
        reply = self.reply_prefix + correlation
        deadline_ms = int((time.time() + self.timeout) * 1000)
        await self.redis.xadd(
            self.stream,
            {
                "id": correlation,
                "op": operation,
                "args": json.dumps(encoded),
                "reply": reply,
                "deadline": deadline_ms,
            },
            maxlen=STREAM_MAXLEN,
            approximate=True,
        )
        return reply

    async def receive(self, operation: str, reply: str) -> Any:
        """The result of the command whose reply goes to `reply`, or the owner's error raised here."""
        answer = await self.redis.blpop([reply], timeout=self.timeout)
        if answer is None:
            raise NoAnswer(NO_ANSWER, seconds=self.timeout)
        payload = json.loads(answer[1])
        if "error" in payload:
            raise decode_error(payload["error"])
        _, result = _signature(operation)
        return result.validate_python(payload["result"])

    async def call(self, operation: str, **arguments: Any) -> Any:
        """Run `operation` at the owner and wait for its answer."""
        return await self.receive(operation, await self.send(operation, **arguments))

    async def submit_order(self, user_id: int, request: OrderRequest) -> OrderView:
        """Place an order at the owner; returns once it is durable there."""
        result: OrderView = await self.call("submit_order", user_id=user_id, request=request)
        return result

    async def cancel_order(
        self, user_id: int, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """Cancel one of the user's open orders, named by id or by client order id."""
        result: OrderView = await self.call(
            "cancel_order", user_id=user_id, order_id=order_id, client_order_id=client_order_id
        )
        return result

    async def cancel_all(self, user_id: int, symbol: str) -> list[OrderView]:
        """Cancel every open order of the user in `symbol`; returns the ones canceled."""
        result: list[OrderView] = await self.call("cancel_all", user_id=user_id, symbol=symbol)
        return result

    async def orders(
        self, user_id: int, *, symbol: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[OrderView]:
        """The user's orders, newest first."""
        result: list[OrderView] = await self.call(
            "orders", user_id=user_id, symbol=symbol, open_only=open_only, limit=limit
        )
        return result

    async def portfolio(self, user_id: int) -> PortfolioView:
        """Cash, reserved cash and positions, graded by the rules the owner runs."""
        result: PortfolioView = await self.call("portfolio", user_id=user_id)
        return result

    async def depth(self, symbol: str, levels: int = 10) -> Depth:
        """The aggregated book of `symbol`, from the owner's live book."""
        result: Depth = await self.call("depth", symbol=symbol, levels=levels)
        return result

    async def create_asset(self, listing: AssetListing) -> AssetView:
        """List a symbol."""
        result: AssetView = await self.call("create_asset", listing=listing)
        return result

    async def set_status(self, symbol: str, status: AssetStatus) -> None:
        """Halt or resume a symbol."""
        await self.call("set_status", symbol=symbol, status=status)

    async def create_user(self, username: str, *, role: Role, discord_id: int | None = None) -> UserView:
        """Open an account."""
        result: UserView = await self.call("create_user", username=username, role=role, discord_id=discord_id)
        return result

    async def deposit(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Give a user game cash; returns the free cash after."""
        result: int = await self.call("deposit", user_id=user_id, amount_cents=amount_cents, detail=detail)
        return result

    async def withdraw(self, user_id: int, amount_cents: int, *, detail: str = "") -> int:
        """Take free game cash from a user; returns the free cash after."""
        result: int = await self.call("withdraw", user_id=user_id, amount_cents=amount_cents, detail=detail)
        return result

    async def change_rules(self, **changes: Any) -> ExchangeRules:
        """Change some of the admin's rules; returns the rules now in force."""
        result: ExchangeRules = await self.call("change_rules", changes=changes)
        return result

    async def rebuild_candles(self, symbol: str | None = None) -> int:
        """Recompute candles at the owner (refused there while it trades)."""
        result: int = await self.call("rebuild_candles", symbol=symbol)
        return result

    async def trader(self, discord_id: int, name: str) -> UserView:
        """The Discord user's account, opened by the owner at first use."""
        result: UserView = await self.call("trader", discord_id=discord_id, name=name)
        return result

    async def deposit_within(
        self,
        session: AsyncSession,
        discord_id: int,
        name: str,
        amount_cents: int,
        *,
        now: datetime,
        detail: str,
    ) -> int:
        """Refused: the caller's transaction cannot travel to another process."""
        raise ExchangeUnavailable(NOT_ACROSS)

    async def withdraw_within(
        self, session: AsyncSession, discord_id: int, amount_cents: int, *, now: datetime, detail: str
    ) -> int:
        """Refused: the caller's transaction cannot travel to another process."""
        raise ExchangeUnavailable(NOT_ACROSS)


class StreamServer:
    """The owner's side: runs the commands of its stream through `client`, one task each."""

    def __init__(
        self,
        redis: Redis,
        client: InProcessClient,
        *,
        prefix: str = PREFIX,
    ) -> None:
        self.redis = redis
        self.client = client
        self.stream = prefix + "commands"
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def start(self) -> None:
        """Create the consumer group (once per stream) and start serving."""
        await self._group()
        self._task = asyncio.create_task(self._serve())

    async def _group(self) -> None:
        """Create the stream and its consumer group unless they exist."""
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)

    async def aclose(self) -> None:
        """Stop reading; let the commands in flight finish (their entries are acknowledged)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self) -> None:
        pending, cursor = True, "0"  # first what a previous owner left unacknowledged, then new ones
        while True:
            try:
                batches: Any = await self.redis.xreadgroup(  # RESP2: [(stream, [(id, fields)])]
                    GROUP, CONSUMER, {self.stream: cursor}, count=100, block=None if pending else 1000
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away or lost the stream: keep trying, entries wait there
                log.exception("reading the exchange's command stream failed")
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await self._group()  # NOGROUP: the stream was deleted (a flushed Redis)
                continue
            entries = [entry for _, items in batches for entry in items]
            if pending and not entries:
                pending, cursor = False, ">"  # XREADGROUP ">" never re-delivers the pending ones
                continue
            for entry_id, fields in entries:
                if pending:
                    cursor = entry_id.decode()
                if not fields:
                    continue  # a pending entry trimmed away meanwhile
                await self._slots.acquire()
                task = asyncio.create_task(self._run(entry_id, fields))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _run(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            reply = fields[b"reply"].decode()
            if int(fields[b"deadline"]) < time.time() * 1000:
                log.warning("dropped an exchange command past its caller's deadline (%s)", fields[b"op"])
            else:
                payload = await self._execute(fields[b"op"].decode(), json.loads(fields[b"args"]))
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.rpush(reply, json.dumps(payload))
                    pipe.expire(reply, REPLY_TTL_SECONDS)
                    await pipe.execute()
            await self.redis.xack(self.stream, GROUP, entry_id)
            await self.redis.xdel(self.stream, entry_id)
        except Exception:
            log.exception("an exchange command from the stream failed to run")
        finally:
            self._slots.release()

    async def _execute(self, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run one command; returns {"result": …} or {"error": …} (a domain error, or `OWNER_FAILED`)."""
        if operation not in OPERATIONS:
            return {"error": encode_error(Unavailable(OWNER_FAILED))}
        parameters, result = _signature(operation)
        try:
            decoded = {name: parameters[name].validate_python(value) for name, value in arguments.items()}
            method = getattr(self.client, operation)
            if operation == "change_rules":
                value = await method(**decoded["changes"])
            else:
                value = await method(**decoded)
        except DomainError as error:
            return {"error": encode_error(error)}
        except Exception:
            log.exception("exchange command %s failed", operation)
            return {"error": encode_error(Unavailable(OWNER_FAILED))}
        return {"result": result.dump_python(value, mode="json")}
