"""Agents against a live exchange in wall-clock time: one asyncio task per agent, one fair value.

Each `Bot` is an agent trading one symbol through its own `Transport` (its API key, over REST).
`BotRunner.run(seconds)` steps the fair-value model every `step` seconds and wakes each agent
at the times it asks for (`first_wake`, `next_wake`, in the runner's clock): it observes, acts
and executes. A failed call (the exchange restarting, a timeout) is counted and the agent tries
again at its next wake, so the bots outlive a short outage. `stats` counts what happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from kyrios.bots.agents.base import Agent
from kyrios.bots.fair_value import FairValueModel
from kyrios.bots.market_view import Transport
from kyrios.bots.rest_transport import RestTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Bot:
    """One agent trading `symbol` through its own transport."""

    agent: Agent
    symbol: str
    transport: Transport


@dataclass
class RunStats:
    """What the bots did: wakes, actions sent, refusals by code, failed calls."""

    wakes: int = 0
    actions: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    errors: int = 0


class BotRunner:
    """Runs bots against the exchange until `run`'s time is up or the task is cancelled."""

    def __init__(
        self,
        model: FairValueModel,
        bots: Sequence[Bot],
        *,
        step: float = 1.0,
        depth: int = 10,
        tape: int = 50,
        clock: Callable[[], float] = time.time,
        on_step: Callable[[RunStats], None] | None = None,
    ) -> None:
        self.model = model
        self.bots = list(bots)
        self.step = step
        self.depth = depth
        self.tape = tape
        self.clock = clock
        self.on_step = on_step
        self.stats = RunStats()

    async def run(self, seconds: float | None = None) -> RunStats:
        """Run for `seconds` (None: until cancelled); return the stats."""
        start = self.clock()
        end = None if seconds is None else start + seconds
        tasks = [asyncio.create_task(self._drive(bot, start, end)) for bot in self.bots]
        tasks.append(asyncio.create_task(self._step_model(end)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.stats

    async def _step_model(self, end: float | None) -> None:
        while end is None or self.clock() < end:
            await asyncio.sleep(self.step)
            self.model.step(self.step)
            if self.on_step is not None:
                self.on_step(self.stats)

    async def _drive(self, bot: Bot, start: float, end: float | None) -> None:
        agent = bot.agent
        wake = agent.first_wake(start)
        while end is None or wake < end:
            await asyncio.sleep(max(0.0, wake - self.clock()))
            self.stats.wakes += 1
            try:
                view = await bot.transport.observe(bot.symbol, depth=self.depth, trades=self.tape)
                actions = agent.act(view)
                refusals = await bot.transport.execute(bot.symbol, actions)
            except (httpx.HTTPError, OSError) as error:
                self.stats.errors += 1
                log.warning("bot %s: %s", agent.name, error)
            else:
                self.stats.actions += len(actions)
                self.stats.refusals.update(refusal.code for refusal in refusals)
            wake = max(agent.next_wake(wake), self.clock())


async def run_live(
    url: str,
    model: FairValueModel,
    placements: Sequence[tuple[Agent, str, str]],
    *,
    seconds: float | None = None,
    on_step: Callable[[RunStats], None] | None = None,
) -> RunStats:
    """Run `(agent, symbol, api_key)` placements against the exchange at `url` over REST."""
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
        bots = [
            Bot(agent, symbol, RestTransport(http, key, oracle=model.price))
            for agent, symbol, key in placements
        ]
        return await BotRunner(model, bots, on_step=on_step).run(seconds)
