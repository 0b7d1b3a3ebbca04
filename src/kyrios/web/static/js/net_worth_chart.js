// The net-worth area chart of the portfolio page (Lightweight Charts v5, vendored): points from
// `/api/v1/me/net-worth`, UTC seconds, cents shown as money.

import {
  AreaSeries,
  createChart,
} from "/static/vendor/lightweight-charts-5.2.1/lightweight-charts.standalone.production.mjs";
import { money } from "./common.js";

const UP = "#198754";
const DOWN = "#dc3545";

/** A chart in `element`; `draw(history)` shows a `NetWorthHistory`, green when its change is ≥ 0. */
export function netWorthChart(element) {
  const chart = createChart(element, {
    autoSize: true,
    layout: { attributionLogo: true },
    localization: { priceFormatter: (value) => money(Math.round(value * 100)) },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const area = chart.addSeries(AreaSeries, { lineWidth: 2, priceFormat: { type: "price", precision: 2, minMove: 0.01 } });
  return {
    area,
    draw(history) {
      const colour = history.change_cents >= 0 ? UP : DOWN;
      area.applyOptions({ lineColor: colour, topColor: `${colour}66`, bottomColor: `${colour}08` });
      area.setData(history.points.map((point) => ({ time: point.time, value: point.net_worth_cents / 100 })));
      chart.timeScale().fitContent();
    },
  };
}
