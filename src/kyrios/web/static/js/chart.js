// The candlestick + volume chart (Lightweight Charts v5, vendored): history from REST, the newest bar live.

import {
  CandlestickSeries,
  HistogramSeries,
  createChart,
} from "/static/vendor/lightweight-charts-5.2.1/lightweight-charts.standalone.production.mjs";
import { api } from "./common.js";

const UP = "#198754";
const DOWN = "#dc3545";

function price(bar) {
  return {
    time: bar.time,
    open: bar.open_cents / 100,
    high: bar.high_cents / 100,
    low: bar.low_cents / 100,
    close: bar.close_cents / 100,
  };
}

function volume(bar) {
  return { time: bar.time, value: bar.volume, color: bar.close_cents >= bar.open_cents ? UP : DOWN };
}

const SECONDS = { "1m": 60, "5m": 300, "1h": 3600, "1d": 86_400 };
const PAGE = 1000;

/** The bars of `minutes` (1-minute bars) starting in [start, start + seconds) as one bar, or null. */
function combine(minutes, start, seconds) {
  const bars = [...minutes.values()].filter((bar) => bar.time >= start && bar.time < start + seconds);
  if (!bars.length) return null;
  bars.sort((a, b) => a.time - b.time);
  return {
    time: start,
    open_cents: bars[0].open_cents,
    high_cents: Math.max(...bars.map((bar) => bar.high_cents)),
    low_cents: Math.min(...bars.map((bar) => bar.low_cents)),
    close_cents: bars[bars.length - 1].close_cents,
    volume: bars.reduce((sum, bar) => sum + bar.volume, 0),
  };
}

/**
 * A chart in `element`: `load(symbol, interval)` draws the history from REST, `live(bar)` takes a
 * 1-minute bar (from `candles:SYM:1m`) and redraws the newest bar of the shown interval from the
 * 1-minute bars of its period (those from REST when it was loaded, then the live ones).
 */
export function priceChart(element) {
  const chart = createChart(element, {
    autoSize: true,
    layout: { attributionLogo: true },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
  });
  const volumes = chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "" });
  volumes.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const minutes = new Map(); // 1-minute bars by start time: the newest period's, and live ones
  let seconds = null; // the shown interval's, null until history is drawn
  let loads = 0;

  /** Keep the fuller of two versions of one minute (a bar only grows within its minute). */
  function remember(bar) {
    const known = minutes.get(bar.time);
    if (!known || bar.volume >= known.volume) minutes.set(bar.time, bar);
  }

  /** Redraw the bar of the period holding `time` unless it is older than the newest drawn. */
  function redraw(time) {
    if (seconds === null) return;
    const start = time - (time % seconds);
    const data = candles.data();
    if (data.length && start < data[data.length - 1].time) return;
    const bar = combine(minutes, start, seconds);
    if (!bar) return;
    candles.update(price(bar));
    volumes.update(volume(bar));
  }

  async function oneMinuteBars(path, start) {
    const found = [];
    for (let from = start; ; ) {
      const page = await api(`${path}?interval=1m&start=${from}&limit=${PAGE}`);
      found.push(...page.candles);
      if (page.candles.length < PAGE) return found;
      from = page.candles[page.candles.length - 1].time + 60;
    }
  }

  return {
    candles,
    volumes,
    async load(symbol, interval) {
      const load = (loads += 1);
      const path = `/api/v1/candles/${encodeURIComponent(symbol)}`;
      const page = await api(`${path}?interval=${interval}&limit=${PAGE}`);
      const newest = page.candles.length ? page.candles[page.candles.length - 1].time : null;
      const seeds = newest !== null && interval !== "1m" ? await oneMinuteBars(path, newest) : [];
      if (load !== loads) return; // the interval changed meanwhile: a later load draws
      seeds.forEach(remember);
      seconds = SECONDS[interval];
      candles.setData(page.candles.map(price));
      volumes.setData(page.candles.map(volume));
      const latest = Math.max(-1, ...minutes.keys());
      if (latest >= 0) redraw(latest);
      chart.timeScale().fitContent();
    },
    live(bar) {
      remember(bar);
      for (const time of minutes.keys()) if (time < bar.time - 2 * 86_400) minutes.delete(time);
      redraw(bar.time);
    },
  };
}
