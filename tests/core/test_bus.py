"""The in-process bus: ordered delivery per subscriber, and a slow subscriber loses old messages, flagged."""

from __future__ import annotations

from kyrios.core.bus import OVERFLOW, InMemoryBus


async def test_subscribers_get_their_channels_in_order() -> None:
    bus = InMemoryBus()
    with bus.subscribe("trades:ACME", "book:ACME") as sub, bus.subscribe("trades:BOLT") as other:
        bus.publish_many(
            [("trades:ACME", {"seq": 1}), ("book:ACME", {"seq": 2}), ("trades:BOLT", {"seq": 3})]
        )
        assert await sub.get() == ("trades:ACME", {"seq": 1})
        assert await sub.get() == ("book:ACME", {"seq": 2})
        assert await other.get() == ("trades:BOLT", {"seq": 3})
        assert sub.queue.empty()
    bus.publish("trades:ACME", {"seq": 4})  # nobody listens any more: dropped silently
    assert sub.queue.empty()


async def test_a_full_subscriber_loses_the_oldest_and_is_told() -> None:
    bus = InMemoryBus()
    with bus.subscribe("c", max_queue=4) as sub:
        for seq in range(6):
            bus.publish("c", {"seq": seq})
        received = [sub.queue.get_nowait()[1] for _ in range(sub.queue.qsize())]
    assert OVERFLOW in received
    assert received[-1] == {"seq": 5}
    assert len(received) <= 4
