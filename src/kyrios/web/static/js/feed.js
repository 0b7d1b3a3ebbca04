// The page's live data, behind one seam: today it polls REST every second; the /ws socket
// (`book:SYM`, `trades:SYM`, `candles:SYM:1m`, `ticker`) can replace `poll` without touching the pages.

import { api } from "./common.js";

const PERIOD_MS = 1000;

/**
 * Call `handlers` with fresh data for `symbol` until the returned `stop()`:
 * `depth(DepthView)`, `trades(TradesPage)`, `candle(CandleView)` (the newest bar of `interval()`),
 * `ticker(TickerEntry)` and `error(ApiError)`.
 */
export function follow(symbol, interval, handlers) {
  let timer = null;
  let stopped = false;
  const path = encodeURIComponent(symbol);
  async function poll() {
    try {
      const [depth, trades, candles, ticker] = await Promise.all([
        api(`/api/v1/depth/${path}?levels=15`),
        api(`/api/v1/trades/${path}?limit=30`),
        api(`/api/v1/candles/${path}?interval=${interval()}&limit=2`),
        api("/api/v1/ticker"),
      ]);
      if (stopped) return;
      handlers.depth(depth);
      handlers.trades(trades);
      candles.candles.forEach((bar) => handlers.candle(bar, candles.interval));
      const mine = ticker.find((entry) => entry.symbol === symbol);
      if (mine) handlers.ticker(mine);
    } catch (err) {
      if (!stopped) handlers.error(err);
    }
    if (!stopped) timer = setTimeout(poll, PERIOD_MS);
  }
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Call `onTicker(list of TickerEntry)` every second until `stop()`. */
export function followTicker(onTicker, onError) {
  let timer = null;
  let stopped = false;
  async function poll() {
    try {
      const ticker = await api("/api/v1/ticker");
      if (!stopped) onTicker(ticker);
    } catch (err) {
      if (!stopped) onError(err);
    }
    if (!stopped) timer = setTimeout(poll, PERIOD_MS);
  }
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
