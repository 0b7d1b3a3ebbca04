"""Each agent's decisions from hand-made views: what it sends, at which prices, within its budget."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from kyrios.bots.agents import (
    MarketMaker,
    MomentumTrader,
    NoiseTrader,
    RateLimit,
    ValueTrader,
    Whale,
    rmsc4_mix,
)
from kyrios.bots.agents.base import ceil_tick, floor_tick
from kyrios.bots.market_view import (
    Action,
    Cancel,
    Level,
    MarketView,
    OpenOrder,
    PlaceLimit,
    PlaceMarket,
    Replace,
    TradePrint,
)
from kyrios.exchange.engine import Side

TICK = 5


def view(
    *,
    time: float = 0.0,
    bid: int | None = 9_995,
    ask: int | None = 10_005,
    fair: float | None = 10_000.0,
    position: int = 0,
    open_orders: tuple[OpenOrder, ...] = (),
    trades: tuple[TradePrint, ...] = (),
) -> MarketView:
    return MarketView(
        symbol="ACME",
        time=time,
        tick_size_cents=TICK,
        bids=() if bid is None else (Level(bid, 10), Level(bid - TICK, 20)),
        asks=() if ask is None else (Level(ask, 10), Level(ask + TICK, 20)),
        trades=trades,
        open_orders=open_orders,
        position=position,
        fair_value_cents=fair,
    )


def placed(actions: list[Action]) -> list[PlaceLimit]:
    """The limit orders among the actions, a replacement's new order included."""
    return [a.new if isinstance(a, Replace) else a for a in actions if isinstance(a, PlaceLimit | Replace)]


def resting(orders: list[PlaceLimit]) -> tuple[OpenOrder, ...]:
    return tuple(OpenOrder(o.client_order_id, o.side, o.price_cents, o.quantity, o.quantity) for o in orders)


def quiet_maker(**options: float) -> MarketMaker:
    return MarketMaker("mm", seed=1, observation_noise=0.0, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ views and budgets


def test_a_view_derives_the_touch_mid_spread_and_a_reference_price() -> None:
    both = view()
    assert both.best_bid == Level(9_995, 10) and both.best_ask == Level(10_005, 10)
    assert both.mid_cents == 10_000 and both.spread_cents == 10
    assert both.reference_price() == 10_000
    tape = (TradePrint(1.0, 9_990, 3, Side.SELL),)
    one_sided = view(ask=None, trades=tape)
    assert one_sided.mid_cents is None and one_sided.spread_cents is None
    assert one_sided.last_price_cents == 9_990 and one_sided.reference_price() == 9_990
    assert view(ask=None).reference_price() == 9_995
    assert view(bid=None, ask=None).reference_price() is None


def test_a_rate_limit_admits_a_prefix_within_its_bucket_and_refills_with_time() -> None:
    limit = RateLimit(per_second=2, burst=4)
    orders: list[Action] = [Cancel(f"c{n}") for n in range(6)]
    assert len(limit.admit(0.0, orders)) == 4
    assert limit.admit(0.0, orders) == []
    assert len(limit.admit(1.0, orders)) == 2
    replace = Replace("c1", PlaceLimit("c2", Side.BUY, 100, 1))
    assert limit.admit(1.5, [replace]) == []  # one request saved, a replace costs two
    assert limit.admit(2.0, [replace, Cancel("c3")]) == [replace]
    assert len(limit.admit(100.0, orders)) == 4  # never more than the burst saved
    with pytest.raises(ValueError):
        RateLimit(per_second=0, burst=1)


def test_tick_rounding_stays_on_the_grid_and_above_zero() -> None:
    assert floor_tick(10_004.9, TICK) == 10_000 and ceil_tick(10_000.1, TICK) == 10_005
    assert floor_tick(10_000.0, TICK) == 10_000 == ceil_tick(10_000.0, TICK)
    assert floor_tick(-3.0, TICK) == TICK and ceil_tick(0.2, TICK) == TICK


def test_the_rmsc4_mix_has_its_proportions_and_unique_names() -> None:
    agents = rmsc4_mix(1)
    kinds = [agent.kind for agent in agents]
    assert kinds.count("market_maker") == 2 and kinds.count("value") == 102
    assert kinds.count("momentum") == 12 and kinds.count("noise") == 1000 and kinds.count("whale") == 1
    assert len({agent.name for agent in agents}) == len(agents)


# ------------------------------------------------------------------ market maker


def test_the_market_maker_quotes_both_sides_around_fair_value_on_the_grid() -> None:
    orders = placed(quiet_maker(levels=3).decide(view(bid=None, ask=None)))
    bids = sorted((o for o in orders if o.side is Side.BUY), key=lambda o: -o.price_cents)
    asks = sorted((o for o in orders if o.side is Side.SELL), key=lambda o: o.price_cents)
    assert [o.price_cents for o in bids] == [9_995, 9_990, 9_985]
    assert [o.price_cents for o in asks] == [10_005, 10_010, 10_015]
    assert [o.quantity for o in bids] == [20, 40, 60] == [o.quantity for o in asks]
    assert len({o.client_order_id for o in orders}) == 6


def test_inventory_skews_the_quotes_away_from_the_side_it_holds() -> None:
    def touch(position: int) -> tuple[int, int]:
        orders = placed(quiet_maker(levels=1, skew_ticks_per_unit=0.05).decide(view(position=position)))
        bid = next(o.price_cents for o in orders if o.side is Side.BUY)
        ask = next(o.price_cents for o in orders if o.side is Side.SELL)
        return bid, ask

    flat, long, short = touch(0), touch(100), touch(-100)
    assert long[0] < flat[0] and long[1] < flat[1]  # long: cheaper to buy from it, it bids lower
    assert short[0] > flat[0] and short[1] > flat[1]
    assert flat[1] - long[1] == 5 * TICK  # 100 units × 0.05 ticks


def test_at_its_inventory_limit_the_market_maker_stops_buying() -> None:
    orders = placed(
        quiet_maker(levels=2, max_inventory=100, skew_ticks_per_unit=0.0).decide(view(position=90))
    )
    assert all(o.side is Side.SELL for o in orders) and len(orders) == 2


def test_the_spread_widens_with_volatility() -> None:
    calm, jumpy = quiet_maker(volatility_weight=0.2), quiet_maker(volatility_weight=0.2)
    for step in range(30):
        calm.decide(view(time=step))
        swing = 40 * TICK if step % 2 else -40 * TICK
        jumpy.decide(view(time=step, bid=9_995 + swing, ask=10_005 + swing))
    assert calm.half_spread_ticks(TICK) == pytest.approx(0.5)
    assert jumpy.half_spread_ticks(TICK) > 5 * calm.half_spread_ticks(TICK)
    assert jumpy.half_spread_ticks(TICK) <= jumpy.max_half_spread_ticks


def test_quotes_in_place_stay_and_moved_ones_are_replaced_asks_first_on_a_rise() -> None:
    maker = quiet_maker(levels=2, estimate_weight=1.0)
    first = placed(maker.decide(view()))
    assert maker.decide(view(time=1, open_orders=resting(first))) == []
    actions = maker.decide(view(time=2, fair=10_100.0, open_orders=resting(first)))
    assert all(isinstance(a, Replace) for a in actions) and len(actions) == 4
    sides = [a.new.side for a in actions if isinstance(a, Replace)]
    assert sides == [Side.SELL, Side.SELL, Side.BUY, Side.BUY]
    assert {a.client_order_id for a in actions if isinstance(a, Replace)} == {
        o.client_order_id for o in first
    }
    falling = maker.decide(view(time=3, fair=9_900.0, open_orders=resting(placed(actions))))
    assert [a.new.side for a in falling if isinstance(a, Replace)][:2] == [Side.BUY, Side.BUY]


def test_the_market_maker_cancels_orders_it_does_not_want_and_tops_up_filled_quotes() -> None:
    maker = quiet_maker(levels=1)
    first = placed(maker.decide(view()))
    stranger = OpenOrder("mm-old", Side.BUY, 9_000, 5, 5)
    bid = next(o for o in first if o.side is Side.BUY)
    ask = next(o for o in first if o.side is Side.SELL)
    mostly_filled = OpenOrder(bid.client_order_id, Side.BUY, bid.price_cents, bid.quantity, 2)
    intact = OpenOrder(ask.client_order_id, Side.SELL, ask.price_cents, ask.quantity, ask.quantity)
    actions = maker.decide(view(time=1, open_orders=(stranger, mostly_filled, intact)))
    assert actions[0] == Cancel("mm-old")
    assert len(actions) == 2 and isinstance(actions[1], Replace)
    assert actions[1].client_order_id == bid.client_order_id and actions[1].new.quantity == bid.quantity


def test_the_market_makers_error_wanders_slowly_instead_of_jumping_each_wake() -> None:
    """Its look at a constant oracle: N(0, noise²) overall, yet the same error from wake to wake."""
    noise = 0.001
    maker, again = (MarketMaker(name, seed=5, observation_noise=noise, noise_memory=30.0) for name in "mm")
    errors = []
    for second in range(20_000):
        maker.decide(view(time=float(second)))
        again.decide(view(time=float(second)))
        assert maker.error == again.error  # seeded
        errors.append(maker.error)
    mean = statistics.fmean(errors)
    assert statistics.pstdev(errors) == pytest.approx(noise, rel=0.2)
    changes = [b - a for a, b in itertools.pairwise(errors)]
    # An OU step of 1 s with memory 30 s moves it by about √(2/30) of its spread, not √2 of it.
    assert statistics.pstdev(changes) == pytest.approx(noise * math.sqrt(1 - math.exp(-2 / 30)), rel=0.1)
    lag_one = sum((a - mean) * (b - mean) for a, b in itertools.pairwise(errors))
    assert lag_one / sum((e - mean) ** 2 for e in errors) > 0.9


def test_without_any_price_the_market_maker_waits() -> None:
    assert quiet_maker().decide(view(bid=None, ask=None, fair=None)) == []


# ------------------------------------------------------------------ the others


def test_the_whale_sends_a_large_market_order_protected_within_its_walk() -> None:
    whale = Whale("whale", seed=1, min_quantity=300, max_quantity=300, max_walk=0.01)
    sides = set()
    for step in range(40):
        (order,) = whale.decide(view(time=step))
        assert isinstance(order, PlaceMarket) and order.quantity == 300
        assert order.protection_price_cents is not None and order.protection_price_cents % TICK == 0
        expected = 10_100 if order.side is Side.BUY else 9_900
        assert order.protection_price_cents == expected
        sides.add(order.side)
    assert sides == {Side.BUY, Side.SELL}
    heavy = [whale.decide(view(position=2_900))[0] for _ in range(40)]
    assert sum(isinstance(o, PlaceMarket) and o.side is Side.SELL for o in heavy) > 30
    assert whale.decide(view(bid=None, ask=None)) == []


def test_noise_traders_place_near_the_touch_and_cancel_expired_orders() -> None:
    trader = NoiseTrader("noise", seed=4, market_probability=0.0, max_offset_ticks=3, order_ttl=60)
    orders = [o for step in range(50) for o in trader.decide(view(time=step)) if isinstance(o, PlaceLimit)]
    assert len(orders) == 50
    for order in orders:
        assert order.price_cents % TICK == 0 and 1 <= order.quantity <= trader.max_quantity
        if order.side is Side.BUY:
            assert 9_995 - 3 * TICK <= order.price_cents <= 9_995
        else:
            assert 10_005 <= order.price_cents <= 10_005 + 3 * TICK
    fresh = NoiseTrader("noise", seed=5, market_probability=0.0, order_ttl=60)
    first = placed(fresh.decide(view(time=0)))
    second = placed(fresh.decide(view(time=30, open_orders=resting(first))))
    both_open = resting(first + second)
    assert not [a for a in fresh.decide(view(time=59, open_orders=both_open)) if isinstance(a, Cancel)]
    expired = [a for a in fresh.decide(view(time=60, open_orders=both_open)) if isinstance(a, Cancel)]
    assert expired == [Cancel(first[0].client_order_id)]


def test_noise_traders_wake_more_often_after_a_big_move_and_less_in_a_lull() -> None:
    def intervals(trader: NoiseTrader, at: float) -> float:
        return statistics.fmean(trader.next_wake(at) - at for _ in range(2_000))

    trader = NoiseTrader("noise", seed=3, wake_interval=60.0, max_excitement=4.0)
    calm = NoiseTrader("noise", seed=3, wake_interval=60.0, max_excitement=0.0)
    mid = 10_000
    for step in range(1, 200):  # a market that moves a tick every minute: the usual
        mid += TICK if step % 2 else -TICK
        for agent in (trader, calm):
            agent.decide(view(time=60.0 * step, bid=mid - TICK, ask=mid + TICK))
    assert intervals(trader, 12_000) == pytest.approx(60.0, rel=0.1)
    for agent in (trader, calm):  # then a jump of 20 ticks in a minute
        agent.decide(view(time=12_000.0, bid=mid + 19 * TICK, ask=mid + 21 * TICK))
    assert trader.excitement == 4.0  # clamped
    assert intervals(trader, 12_000) == pytest.approx(15.0, rel=0.1)
    assert calm.excitement == 1.0 and intervals(calm, 12_000) == pytest.approx(60.0, rel=0.1)
    trader.decide(view(time=12_600.0, bid=mid + 19 * TICK, ask=mid + 21 * TICK))  # ten still minutes
    assert trader.excitement == 0.25


def test_noise_traders_send_market_orders_only_into_a_book_with_the_other_side() -> None:
    trader = NoiseTrader("noise", seed=4, market_probability=1.0)
    assert all(isinstance(a, PlaceMarket) for step in range(20) for a in trader.decide(view(time=step)))
    assert all(not trader.decide(view(time=step, bid=None, ask=None)) for step in range(20))


def test_value_traders_take_liquidity_towards_fair_value_and_rest_otherwise() -> None:
    def first_order(fair: float, position: int = 0) -> PlaceLimit | None:
        orders = placed(
            ValueTrader("value", seed=2, observation_noise=0.0).decide(view(fair=fair, position=position))
        )
        return orders[0] if orders else None

    cheap = first_order(10_200.0)
    assert cheap is not None and (cheap.side, cheap.price_cents) == (Side.BUY, 10_005)
    dear = first_order(9_800.0)
    assert dear is not None and (dear.side, dear.price_cents) == (Side.SELL, 9_995)
    fair_up = first_order(10_002.0)
    assert fair_up is not None and (fair_up.side, fair_up.price_cents) == (Side.BUY, 9_995)
    assert first_order(10_200.0, position=150) is None  # at its limit


def test_value_traders_withdraw_their_last_order_and_ignore_a_market_without_an_oracle() -> None:
    trader = ValueTrader("value", seed=2)
    old = OpenOrder("value-1", Side.BUY, 9_990, 5, 5)
    assert trader.decide(view(open_orders=(old,)))[0] == Cancel("value-1")
    assert trader.decide(view(fair=None)) == []


def test_momentum_traders_follow_a_crossover_once_their_window_is_full() -> None:
    trader = MomentumTrader("momentum", seed=3, short_window=2, long_window=5, threshold=0.0001)
    rising = [10_000 + 20 * step for step in range(5)]
    actions = [
        trader.decide(view(time=step, bid=price - TICK, ask=price + TICK))
        for step, price in enumerate(rising)
    ]
    assert actions[:4] == [[], [], [], []]
    (buy,) = actions[4]
    assert isinstance(buy, PlaceMarket) and buy.side is Side.BUY
    assert buy.protection_price_cents is not None and buy.protection_price_cents % TICK == 0
    falling = [10_080 - 40 * step for step in range(1, 4)]
    last = [
        trader.decide(view(time=10 + step, bid=p - TICK, ask=p + TICK)) for step, p in enumerate(falling)
    ][-1]
    assert len(last) == 1 and isinstance(last[0], PlaceMarket) and last[0].side is Side.SELL
    flat = MomentumTrader("flat", seed=3, short_window=2, long_window=5)
    assert all(flat.decide(view(time=step)) == [] for step in range(10))


def test_an_agent_is_deterministic_from_its_seed_and_name() -> None:
    def run(seed: int, name: str) -> list[Action]:
        trader = NoiseTrader(name, seed=seed)
        return [action for step in range(30) for action in trader.decide(view(time=step))]

    assert run(1, "noise-1") == run(1, "noise-1")
    assert run(1, "noise-1") != run(2, "noise-1")
    assert run(1, "noise-1") != run(1, "noise-2")


def test_act_keeps_within_the_budget() -> None:
    maker = MarketMaker("mm", seed=1, levels=5, rate_limit=RateLimit(per_second=1, burst=4))
    assert len(maker.act(view())) == 4
    assert maker.act(view(time=0.5)) == []
