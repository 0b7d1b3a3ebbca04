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

/** A chart in `element`; `load(symbol, interval)` draws history, `update(bar)` the live bar. */
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
  let shown = null;

  return {
    candles,
    async load(symbol, interval) {
      const page = await api(`/api/v1/candles/${encodeURIComponent(symbol)}?interval=${interval}&limit=1000`);
      shown = interval;
      candles.setData(page.candles.map(price));
      volumes.setData(page.candles.map(volume));
      chart.timeScale().fitContent();
    },
    update(bar, interval) {
      if (interval !== shown) return; // a poll that began before the interval switch
      const data = candles.data();
      if (data.length && bar.time < data[data.length - 1].time) return;
      candles.update(price(bar));
      volumes.update(volume(bar));
    },
  };
}
